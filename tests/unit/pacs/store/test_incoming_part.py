"""Incoming instances: held in memory while small, streamed to a temporary file once past the limit."""

from __future__ import annotations

from pathlib import Path

from pacsbox.pacs.store.files import Storage, WrittenFile, zero_preamble

PART10 = b"\x07" * 128 + b"DICM" + bytes(range(256)) * 40


def _feed(storage: Storage, data: bytes, limit: int, chunk: int = 1000) -> bytes | WrittenFile:
    part = storage.incoming(limit)
    for start in range(0, len(data), chunk):
        part.write(data[start: start + chunk])
    return part.finish()


def test_a_part_within_the_limit_stays_in_memory_and_touches_no_file(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "storage")
    assert _feed(storage, PART10, limit=len(PART10)) == PART10
    assert not list(storage.tmp.iterdir())


def test_a_part_past_the_limit_is_streamed_to_a_temporary_file_with_its_preamble_zeroed(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "storage")
    content = _feed(storage, PART10, limit=5000)
    assert isinstance(content, WrittenFile)
    assert content.size == len(PART10)
    assert content.path.read_bytes() == bytes(128) + PART10[128:] == zero_preamble(PART10)


def test_a_discarded_part_leaves_no_temporary_file(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "storage")
    part = storage.incoming(100)
    part.write(PART10)
    part.discard()
    assert not list(storage.tmp.iterdir())


def test_only_a_part10_preamble_is_zeroed() -> None:
    assert zero_preamble(PART10) == bytes(128) + PART10[128:]
    raw_dataset = b"\x08\x00\x16\x00" + b"\x01" * 200  # no DICM marker: not a preamble, kept as it is
    assert zero_preamble(raw_dataset) == raw_dataset
