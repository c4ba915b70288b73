"""TLS seen from a client: a loopback server holding a certificate, and handshakes that verify it."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["client_context", "handshake", "serve_tls"]


def client_context(ca_file: Path, version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """A client that trusts only `ca_file`, checks names strictly, optionally pinned to one TLS version."""
    context = ssl.create_default_context(cafile=str(ca_file))
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    if version is not None:
        context.minimum_version = context.maximum_version = version
        if version < ssl.TLSVersion.TLSv1_2:
            context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer it; the server must refuse
    return context


def handshake(port: int, server_hostname: str, context: ssl.SSLContext, request: bytes = b"") -> tuple[str, bytes]:
    """Connect to 127.0.0.1:`port` as `server_hostname`; returns the TLS version and the first reply bytes."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        if request:
            tls.sendall(request)
        return tls.version() or "", tls.recv(4096)


@contextmanager
def serve_tls(cert: Path, key: Path) -> Iterator[int]:
    """A TLS server on a free loopback port answering `ok` to every handshake; yields the port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(10)
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"ok")
            except (ssl.SSLError, OSError):
                pass  # the client refused the certificate: that is what some tests expect

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
