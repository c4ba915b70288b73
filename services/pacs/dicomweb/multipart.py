"""Response bodies streamed from stored files: multipart/related (RFC 2387, PS3.18 8.7.1) or a single part.

Nothing is assembled in memory but the small parts: files are read in large
chunks in a worker thread, small files are coalesced so that each write to
the socket carries about `CHUNK` bytes, and a part computed on demand
(transcoded instance, rendered image) is produced only when the stream
reaches it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import anyio.to_thread
from litestar.response import Stream

from pacsbox.pacs.store.retrieve import FileSpan, Payload

__all__ = ["CHUNK", "multipart_response", "single_response"]

CHUNK = 4 << 20
"""Bytes per write: large enough that per-chunk overhead vanishes next to copying."""


def _read(span: FileSpan, offset: int, size: int) -> bytes:
    with open(span.path, "rb") as stream:
        stream.seek(offset)
        return stream.read(size)


def _size(span: FileSpan) -> int:
    if span.length is not None:
        return span.length
    return Path(span.path).stat().st_size - span.offset


async def _chunks(span: FileSpan) -> AsyncIterator[bytes]:
    """A file span in chunks of at most `CHUNK` bytes; a small file in one read."""
    size = await anyio.to_thread.run_sync(_size, span)
    done = 0
    while done < size:
        chunk = await anyio.to_thread.run_sync(_read, span, span.offset + done, min(CHUNK, size - done))
        if not chunk:
            raise OSError(f"{span.path} ended {size - done} bytes early")
        done += len(chunk)
        yield chunk


async def _body(payload: Payload) -> AsyncIterator[bytes]:
    body = payload.body
    if isinstance(body, bytes):
        yield body
    elif isinstance(body, FileSpan):
        async for chunk in _chunks(body):
            yield chunk
    else:
        yield await body()


async def _multipart(payloads: Iterable[Payload], boundary: str) -> AsyncIterator[bytes]:
    buffer = bytearray()
    for payload in payloads:
        buffer += f"--{boundary}\r\nContent-Type: {payload.content_type}\r\n".encode()
        if payload.location:
            buffer += f"Content-Location: {payload.location}\r\n".encode()
        buffer += b"\r\n"
        async for chunk in _body(payload):
            if len(chunk) >= CHUNK:
                if buffer:
                    yield bytes(buffer)
                    buffer.clear()
                yield chunk
            else:
                buffer += chunk
                if len(buffer) >= CHUNK:
                    yield bytes(buffer)
                    buffer.clear()
        buffer += b"\r\n"
    buffer += f"--{boundary}--\r\n".encode()
    yield bytes(buffer)


def multipart_response(payloads: list[Payload], part_type: str) -> Stream:
    """`multipart/related; type="<part_type>"` streaming each payload as one part, in order."""
    boundary = uuid.uuid4().hex
    return Stream(
        _multipart(payloads, boundary),
        media_type=f'multipart/related; type="{part_type}"; boundary={boundary}',
    )


def single_response(payload: Payload) -> Stream:
    """One payload as the whole body, with its own Content-Type."""
    headers = {"Content-Location": payload.location} if payload.location else None
    return Stream(_body(payload), media_type=payload.content_type, headers=headers)
