"""Running a service's app with uvicorn on a socket bound beforehand (so that processes can share it)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from litestar import Litestar

from pacsbox.core.shared_accept import ConnectionShare, SharedAcceptor
from pacsbox.core.zero_copy import with_file_sending

__all__ = ["bind", "serve"]

_BACKLOG = 2048
IDLE_CONNECTION_SECONDS = 75
"""How long a kept-alive connection may sit idle before the service closes it: longer than its clients keep one
(nginx's upstream connections 60 s, httpx 5 s), so the client closes first. With uvicorn's 5 s a request sent
on a connection the service was closing at that moment was reset: nginx retries only idempotent requests, so an
upload could fail with 502, and a test client saw `Connection reset by peer`."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host:port`, inheritable by the processes the service starts.

    Raises:
        OSError: the address is taken or not this machine's.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(_BACKLOG)
    sock.set_inheritable(True)
    return sock


def serve(app: Litestar, sock: socket.socket, *, sends_files: bool = False, share: ConnectionShare | None = None) -> None:
    """Serve `app` on `sock` until SIGINT or SIGTERM; requests still running get 10 s to end.

    With `sends_files`, responses may hand file-backed bodies to the socket (`core.zero_copy`); the other
    services' requests (the front's token checks among them) skip that wrapper. With `share`, this process is
    one of several accepting on `sock`, and takes its share of the connections (`core.shared_accept`)."""
    config = uvicorn.Config(with_file_sending(app) if sends_files else app, log_config=None, access_log=False,
                            timeout_graceful_shutdown=10, backlog=_BACKLOG, timeout_keep_alive=IDLE_CONNECTION_SECONDS)
    server = uvicorn.Server(config) if share is None else _SharingServer(config, share)
    server.run(sockets=[sock])


class _SharingServer(uvicorn.Server):
    """uvicorn's server with its listener replaced by a `SharedAcceptor`, and connections counted as they end."""

    def __init__(self, config: uvicorn.Config, share: ConnectionShare) -> None:
        super().__init__(config)
        self._share = share

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        assert sockets is not None and len(sockets) == 1
        await super().startup(sockets=[])  # the app's start-up; uvicorn listens on nothing of its own
        connections = self.server_state.connections

        class Counted(self.config.http_protocol_class):  # type: ignore[name-defined,misc]
            def connection_lost(self, exc: Exception | None) -> None:
                super().connection_lost(exc)
                acceptor.publish()

        def protocol() -> asyncio.Protocol:
            made: asyncio.Protocol = Counted(config=self.config, server_state=self.server_state,
                                             app_state=self.lifespan.state)
            return made

        acceptor = SharedAcceptor(sockets[0], self._share, protocol, lambda: len(connections))
        server: Any = acceptor
        self.servers.append(server)  # uvicorn closes it on shutdown, as it would its own server
