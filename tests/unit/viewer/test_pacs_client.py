"""The multipart stream of a series retrieve, split into parts whatever the chunk sizes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pacsbox.viewer.pacs_client import _iter_parts
from tests.support.aio import run

BOUNDARY = b"b0undary"
PARTS = [b"first\r\npart", b"", b"\r\n--b0undar not quite a delimiter", bytes(range(256)) * 40]


def body() -> bytes:
    out = b""
    for part in PARTS:
        out += b"--" + BOUNDARY + b"\r\nContent-Type: application/dicom\r\n\r\n" + part + b"\r\n"
    return out + b"--" + BOUNDARY + b"--\r\n"


async def split(data: bytes, size: int) -> list[bytes]:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), size):
            yield data[start : start + size]

    return [part async for part in _iter_parts(chunks(), BOUNDARY)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 11, 64, 1000, 100_000])
def test_parts_come_out_whole_whatever_the_chunks(size: int) -> None:
    assert run(split(body(), size)) == PARTS


def test_nothing_after_the_closing_delimiter_is_a_part() -> None:
    assert run(split(body() + b"--" + BOUNDARY + b"\r\n\r\nlate", 5)) == PARTS
