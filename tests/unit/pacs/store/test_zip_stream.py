"""`zip_stream`: an archive produced chunk by chunk that zipfile reads back whole."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from pacsbox.pacs.store.zip_stream import CHUNK, ZipEntry, zip_stream
from tests.support.aio import run


async def collect(entries: list[ZipEntry]) -> list[bytes]:
    return [chunk async for chunk in zip_stream(entries)]


def test_files_of_every_size_come_back_identical(tmp_path: Path) -> None:
    contents = {"empty.dcm": b"", "small.dcm": b"DICM" * 10, "large.dcm": os.urandom(CHUNK + 12345)}
    entries = []
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
        entries.append(ZipEntry(f"folder/{name}", tmp_path / name, len(data)))
    chunks = run(collect(entries))
    assert max(len(c) for c in chunks) <= CHUNK + 1024  # never the whole archive at once
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
        assert archive.testzip() is None
        assert {n: archive.read(n) for n in archive.namelist()} == {f"folder/{k}": v for k, v in contents.items()}


def test_a_file_that_changed_size_stops_the_archive(tmp_path: Path) -> None:
    (tmp_path / "shrunk.dcm").write_bytes(b"12345")
    with pytest.raises(OSError, match="changed"):
        run(collect([ZipEntry("shrunk.dcm", tmp_path / "shrunk.dcm", 10)]))
