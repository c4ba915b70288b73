"""Response bodies streamed from stored files: multipart/related (RFC 2387, PS3.18 8.7.1) or a single part.

Nothing is assembled in memory but the small parts. The body is planned as a
list of segments (literal bytes, spans of stored files, parts computed on
demand). When every size is known (no part computed on demand) the response
carries a Content-Length, and where the server offers it (`core.zero_copy`)
the whole body is handed to the socket: stored files go out with `sendfile`,
never read into the process. Otherwise file segments of at most `CHUNK`
bytes are read in a worker thread a batch ahead of the socket, each read
straight into the bytes object that is sent. A small body already in memory
(a frame or two) goes out in one piece, without the streaming machinery.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from litestar import Response
from litestar.response import Stream
from litestar.response.base import ASGIResponse
from litestar.types import Receive, Scope, Send

from pacsbox.core.zero_copy import SEND_FILES
from pacsbox.pacs.store.retrieve import FileSpan, Payload

__all__ = ["CHUNK", "multipart_response", "single_response"]

CHUNK = 4 << 20
"""Most bytes read in one batch, and the largest file segment."""

Segment = bytes | FileSpan | Callable[[], Awaitable[bytes]]


def _segments(body: bytes | FileSpan | Callable[[], Awaitable[bytes]]) -> list[Segment]:
    if not isinstance(body, FileSpan):
        return [body]
    return [
        FileSpan(body.path, body.offset + start, min(CHUNK, body.length - start)) for start in range(0, body.length, CHUNK)
    ]


def _reads_files(batch: list[bytes | FileSpan] | Callable[[], Awaitable[bytes]] | None) -> bool:
    return isinstance(batch, list) and any(isinstance(segment, FileSpan) for segment in batch)


def _plan(payloads: Sequence[Payload], boundary: str | None) -> list[Segment]:
    """The body as segments; consecutive literal bytes are merged."""
    out: list[Segment] = []

    def add(segment: Segment) -> None:
        if isinstance(segment, bytes) and out and isinstance(out[-1], bytes) and len(segment) < 65536:
            out[-1] += segment
        elif not isinstance(segment, bytes) or segment:
            out.append(segment)

    for number, payload in enumerate(payloads):
        if boundary is not None:
            head = ("\r\n" if number else "") + f"--{boundary}\r\nContent-Type: {payload.content_type}\r\n"
            if payload.location:
                head += f"Content-Location: {payload.location}\r\n"
            add((head + "\r\n").encode())
        for segment in _segments(payload.body):
            add(segment)
    if boundary is not None:
        add(f"\r\n--{boundary}--\r\n".encode())
    return out


def _length(segments: list[Segment]) -> int | None:
    total = 0
    for segment in segments:
        if isinstance(segment, bytes):
            total += len(segment)
        elif isinstance(segment, FileSpan):
            total += segment.length
        else:
            return None
    return total


def _read(batch: list[bytes | FileSpan]) -> list[bytes]:
    """Literal bytes as they are, file spans read (one copy, into the bytes that are sent)."""
    out = []
    for segment in batch:
        if isinstance(segment, bytes):
            out.append(segment)
            continue
        fd = os.open(segment.path, os.O_RDONLY)
        try:
            data = os.pread(fd, segment.length, segment.offset)
        finally:
            os.close(fd)
        if len(data) != segment.length:
            raise OSError(f"{segment.path} changed while it was being sent")
        out.append(data)
    return out


def _batches(segments: list[Segment]) -> list[list[bytes | FileSpan] | Callable[[], Awaitable[bytes]]]:
    batches: list[list[bytes | FileSpan] | Callable[[], Awaitable[bytes]]] = []
    current: list[bytes | FileSpan] = []
    size = 0
    for segment in segments:
        if not isinstance(segment, (bytes, FileSpan)):
            if current:
                batches.append(current)
                current, size = [], 0
            batches.append(segment)
            continue
        length = len(segment) if isinstance(segment, bytes) else segment.length
        if current and size + length > CHUNK:
            batches.append(current)
            current, size = [], 0
        current.append(segment)
        size += length
    if current:
        batches.append(current)
    return batches


async def _stream(segments: list[Segment]) -> AsyncIterator[bytes]:
    """The segments as bytes; file batches are read in a worker thread, the next one while this one is sent."""
    loop = asyncio.get_running_loop()
    batches = _batches(segments)

    def start(batch: list[bytes | FileSpan] | Callable[[], Awaitable[bytes]] | None) -> asyncio.Future | None:
        return loop.run_in_executor(None, _read, batch) if _reads_files(batch) else None

    pending = start(batches[0]) if batches else None
    for index, batch in enumerate(batches):
        current, pending = pending, start(batches[index + 1] if index + 1 < len(batches) else None)
        if current is not None:
            for data in await current:
                yield data
        elif isinstance(batch, list):
            for data in batch:
                yield data  # type: ignore[misc]  # literal bytes only
        else:
            yield await batch()


class _FileBody(Stream):
    """A body of literal bytes and file spans: handed to the socket whole where the server offers `SEND_FILES`,
    streamed in batches otherwise."""

    def __init__(self, segments: list[bytes | FileSpan], *, media_type: str, headers: dict[str, str]) -> None:
        super().__init__(_stream(segments), media_type=media_type, headers=headers)
        self.segments = segments

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> ASGIResponse:
        streamed = super().to_asgi_response(*args, **kwargs)
        segments = self.segments

        async def respond(scope: Scope, receive: Receive, send: Send) -> None:
            send_files = (scope.get("extensions") or {}).get(SEND_FILES)
            if send_files is None or streamed.is_head_response:
                await streamed(scope, receive, send)
                return
            await streamed.start_response(send)
            await send_files(segments)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            await streamed.after_response()

        return respond  # type: ignore[return-value]  # litestar only calls it


async def _response(
    payloads: Sequence[Payload], boundary: str | None, media_type: str, headers: dict[str, str]
) -> Response | Stream:
    segments = _plan(payloads, boundary)
    literal = [s for s in segments if isinstance(s, bytes)]
    if len(literal) == len(segments) and sum(map(len, literal)) <= CHUNK:
        return Response(b"".join(literal), media_type=media_type, headers=headers)
    length = _length(segments)
    if length is None:
        return Stream(_stream(segments), media_type=media_type, headers=headers)
    headers = {**headers, "Content-Length": str(length)}
    return _FileBody(segments, media_type=media_type, headers=headers)  # type: ignore[arg-type]  # sizes known: no callables


async def multipart_response(payloads: Sequence[Payload], part_type: str) -> Response | Stream:
    """`multipart/related; type="<part_type>"` streaming each payload as one part, in order."""
    boundary = uuid.uuid4().hex
    return await _response(payloads, boundary, f'multipart/related; type="{part_type}"; boundary={boundary}', {})


async def single_response(payload: Payload) -> Response | Stream:
    """One payload as the whole body, with its own Content-Type."""
    headers = {"Content-Location": payload.location} if payload.location else {}
    return await _response([payload], None, payload.content_type, headers)
