"""Sending file-backed response bodies with `sendfile(2)`, under uvicorn.

Through ASGI's `send`, every byte of a body is read into a Python bytes object and copied again into the
connection's write buffer: a 158 MB series cost the pacs process a saturated core. `with_file_sending` wraps an
ASGI app and offers, on each HTTP request served by uvicorn over plain TCP, the scope extension `SEND_FILES`: a
coroutine that sends a whole body given as literal bytes and spans of files. Literal bytes are written to the
socket, spans go from the page cache to the socket with `os.sendfile`, never entering the process.

The app sends `http.response.start` with a Content-Length as usual, awaits the extension with the body, then
sends the final empty `http.response.body`. The system calls run in a worker thread (a span's pages may have to
come from disk) until the socket's buffer is full; the event loop then waits until the socket takes more, so a
slow client holds no thread.

This leans on two attributes of uvicorn's request cycle (the `__self__` of its `send`): `transport`, the
connection, and `expected_content_length`, its count of the body still owed. Where either is missing (another
server, TLS) the extension is not offered and the app sends through `send`.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

__all__ = ["SEND_FILES", "FileGone", "Span", "with_file_sending"]

SEND_FILES = "pacsbox.send_files"
"""The scope extension: `await scope["extensions"][SEND_FILES](segments)` sends `segments` as the whole body."""

_DISCONNECTED = {errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN}


class Span(Protocol):
    """`length` bytes of the file at `path`, from `offset`."""

    path: Path
    offset: int
    length: int


class FileGone(OSError):
    """A file ended before its span did: it changed while it was being sent (the connection is closed)."""


ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]
SendFiles = Callable[[Sequence["bytes | Span"]], Awaitable[None]]


def with_file_sending(app: ASGIApp) -> ASGIApp:
    """`app`, with `SEND_FILES` offered on every plain-TCP HTTP request uvicorn serves."""

    async def wrapped(scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope["type"] == "http":
            send_files = _send_files_for(send)
            if send_files is not None:
                scope["extensions"] = {**(scope.get("extensions") or {}), SEND_FILES: send_files}
        await app(scope, receive, send)

    return wrapped


def _send_files_for(send: Any) -> SendFiles | None:
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(cycle, "expected_content_length"):
        return None
    if transport.get_extra_info("sslcontext") is not None or transport.get_extra_info("socket") is None:
        return None

    async def send_files(segments: Sequence[bytes | Span]) -> None:
        total = sum(len(s) if isinstance(s, bytes) else s.length for s in segments)
        if cycle.expected_content_length != total:
            raise RuntimeError(f"the body is {total} bytes, the response announced {cycle.expected_content_length}")
        loop = asyncio.get_running_loop()
        sock = socket.socket(fileno=os.dup(transport.get_extra_info("socket").fileno()))  # ours, to wait on
        try:
            sock.setblocking(False)
            while transport.get_write_buffer_size():  # the status line and headers, still on their way
                await _writable(loop, sock)
                await asyncio.sleep(0)  # the transport's own writer runs
            delivered = await _send(loop, sock, segments)
        finally:
            sock.close()
        cycle.expected_content_length = 0
        if not delivered:  # the client went away: the response is over, as when `send` finds the connection lost
            transport.close()

    return send_files


async def _send(loop: asyncio.AbstractEventLoop, sock: socket.socket, segments: Sequence[bytes | Span]) -> bool:
    """Send `segments` on the connection; False when the client went away before the end."""
    position = _Position()
    while not await loop.run_in_executor(None, _send_until_full, sock, segments, position):
        await _writable(loop, sock)
    return not position.gone


class _Position:
    """How far a body has gone: the segment, the bytes of it sent, and whether the client went away."""

    def __init__(self) -> None:
        self.index = 0
        self.within = 0
        self.gone = False

    def advance(self, count: int, length: int) -> None:
        self.within += count
        if self.within == length:
            self.index += 1
            self.within = 0


def _send_until_full(sock: socket.socket, segments: Sequence[bytes | Span], position: _Position) -> bool:
    """Send from `position` until the body is out (True) or the socket's buffer is full (False).

    A client gone ends the body too (True, `position.gone` set); a file shorter than its span raises `FileGone`.
    """
    try:
        while position.index < len(segments):
            segment = segments[position.index]
            last = position.index == len(segments) - 1
            if isinstance(segment, bytes):
                flags = 0 if last else socket.MSG_MORE  # a part's header goes out with the part's first bytes
                count = sock.send(memoryview(segment)[position.within:], flags)
                position.advance(count, len(segment))
                continue
            with open(segment.path, "rb", buffering=0) as file:
                index = position.index
                while position.index == index:
                    remaining = segment.length - position.within
                    count = _send_span(sock, file.fileno(), segment.offset + position.within, remaining)
                    if count == 0:
                        raise FileGone(f"{segment.path} ended {remaining} bytes early; it changed while being sent")
                    position.advance(count, segment.length)
        return True
    except BlockingIOError:
        return False
    except OSError as error:
        if error.errno not in _DISCONNECTED:
            raise
        position.gone = True
        return True


_NO_SENDFILE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP}
"""What `sendfile` answers for a file system that cannot send from its files (some FUSE mounts)."""
_READ_INSTEAD = 1 << 20


def _send_span(sock: socket.socket, file_fd: int, offset: int, count: int) -> int:
    """Up to `count` bytes of the file from `offset` sent; 0 at the file's end. Read and sent where the file
    system refuses `sendfile`."""
    try:
        return os.sendfile(sock.fileno(), file_fd, offset, count)
    except OSError as error:
        if error.errno not in _NO_SENDFILE:
            raise
    data = os.pread(file_fd, min(count, _READ_INSTEAD), offset)
    return sock.send(data) if data else 0


async def _writable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    """Returns when the socket takes more bytes, or the connection failed (the next send then says how)."""
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_writer(sock.fileno(), lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_writer(sock.fileno())
