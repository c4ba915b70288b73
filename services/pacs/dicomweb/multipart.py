"""Reading a `multipart/related` body as it streams in, part by part.

A part is held in memory up to `files.IN_MEMORY_MAX` bytes and streamed into
a temporary file beyond (`files.IncomingPart`), with only a delimiter's length
kept back to find the next boundary: a large part never sits in memory. Limits:
the number of parts (`PACSBOX_MULTIPART_MAX_PARTS`), the whole body
(`PACSBOX_MAX_BODY_SIZE`) and the size of a part's header section.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from pacsbox.core.errors import BadRequest, PayloadTooLarge
from pacsbox.pacs.store.files import IncomingPart, Storage, WrittenFile

__all__ = ["Part", "boundary_of", "iter_parts"]

_MAX_HEADER_BYTES = 16 * 1024


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]
    """Lower-case header names."""
    content: bytes | WrittenFile
    """The part's bytes, or its temporary file when it was larger than `files.IN_MEMORY_MAX`."""

    def discard(self) -> None:
        """Remove what is left of a part nobody stores."""
        if isinstance(self.content, WrittenFile):
            self.content.path.unlink(missing_ok=True)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def content_type_parameters(value: str) -> tuple[str, dict[str, str]]:
    """`multipart/related; type="application/dicom"; boundary=x` -> media type and parameters."""
    media, *rest = value.split(";")
    params = {}
    for item in rest:
        key, _, val = item.partition("=")
        params[key.strip().lower()] = val.strip().strip('"')
    return media.strip().lower(), params


def boundary_of(content_type: str) -> str:
    media, params = content_type_parameters(content_type)
    boundary = params.get("boundary", "")
    if media != "multipart/related" or not boundary:
        raise BadRequest("expected Content-Type multipart/related with a boundary")
    if len(boundary) > 200:
        raise BadRequest("multipart boundary longer than 200 characters")
    return boundary


def _parse_headers(block: bytes) -> dict[str, str]:
    headers = {}
    for line in block.decode("latin-1").split("\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(f"malformed part header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return headers


def _state_after_boundary(after: bytes | bytearray) -> str:
    """`--` closes the body, CRLF opens a part's headers; anything else is malformed."""
    if after == b"--":
        return "done"
    if after == b"\r\n":
        return "headers"
    raise BadRequest("malformed multipart boundary line")


async def iter_parts(
    chunks: AsyncIterator[bytes], boundary: str, storage: Storage, *, max_parts: int, max_size: int
) -> AsyncIterator[Part]:
    """Yield each complete part of the body; temporary files of unfinished parts are removed.

    Raises:
        BadRequest: no opening boundary, a malformed header, or a body that ends before the closing boundary.
        PayloadTooLarge: more than `max_parts` parts or `max_size` bytes.
    """
    dash = b"--" + boundary.encode("latin-1")
    delimiter = b"\r\n" + dash
    buffer = bytearray()
    total = 0
    state = "preamble"
    target: IncomingPart | None = None
    headers: dict[str, str] = {}
    count = 0
    source = chunks.__aiter__()
    finished = False
    try:
        while True:
            progressed = True
            while progressed:
                progressed = False
                if state == "preamble":
                    at = buffer.find(dash)
                    if at >= 0 and len(buffer) >= at + len(dash) + 2:
                        state = _state_after_boundary(buffer[at + len(dash): at + len(dash) + 2])
                        del buffer[: at + len(dash) + 2]
                        progressed = True
                    elif at < 0 and len(buffer) > len(dash):
                        del buffer[: len(buffer) - len(dash)]
                elif state == "headers":
                    end = buffer.find(b"\r\n\r\n")
                    if buffer.startswith(b"\r\n"):  # a part without headers
                        headers = {}
                        del buffer[:2]
                    elif end >= 0:
                        headers = _parse_headers(bytes(buffer[:end]))
                        del buffer[: end + 4]
                    elif len(buffer) > _MAX_HEADER_BYTES:
                        raise BadRequest(f"part headers longer than {_MAX_HEADER_BYTES} bytes")
                    else:
                        continue
                    count += 1
                    if count > max_parts:
                        raise PayloadTooLarge(f"more than {max_parts} parts (PACSBOX_MULTIPART_MAX_PARTS)")
                    target = storage.incoming()
                    state = "body"
                    progressed = True
                elif state == "body":
                    assert target is not None
                    at = buffer.find(delimiter)
                    if at >= 0 and len(buffer) >= at + len(delimiter) + 2:
                        target.write(memoryview(buffer)[:at])
                        state = _state_after_boundary(buffer[at + len(delimiter): at + len(delimiter) + 2])
                        del buffer[: at + len(delimiter) + 2]
                        content = target.finish()
                        target = None
                        yield Part(headers, content)
                        progressed = True
                    elif at < 0:
                        keep = len(delimiter) + 1
                        if len(buffer) > keep:
                            target.write(memoryview(buffer)[: len(buffer) - keep])
                            del buffer[: len(buffer) - keep]
            if state == "done" or finished:
                break
            try:
                chunk = await source.__anext__()
            except StopAsyncIteration:
                finished = True
                continue
            total += len(chunk)
            if total > max_size:
                raise PayloadTooLarge(f"body larger than {max_size} bytes (PACSBOX_MAX_BODY_SIZE)")
            buffer += chunk
        if state == "preamble":
            raise BadRequest(f"no multipart boundary {boundary!r} found in the body")
        if state != "done":
            raise BadRequest(f"multipart body ended before its closing boundary (after {count} part(s))")
    finally:
        if target is not None:
            target.discard()
