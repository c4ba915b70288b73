"""The checksum a stored file's row records, and the check of a file against it, for rows of every version."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import blake3
import pytest

from pacsbox.pacs.store.digests import matches_checksum
from pacsbox.pacs.store.files import file_checksum, make_durable

SLICE = 512 * 1024 + 316


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    path = tmp_path / "instance.dcm"
    path.write_bytes(os.urandom(SLICE))
    return path


def test_the_recorded_checksum_is_blake3_of_the_file_whether_hashed_in_memory_or_read_back(stored: Path) -> None:
    expected = blake3.blake3(stored.read_bytes()).hexdigest(24)
    assert file_checksum(stored.read_bytes()) == expected
    assert make_durable(stored, stored.read_bytes()) == expected
    assert make_durable(stored) == expected  # read back 1 MB at a time


def test_rows_of_every_version_verify_and_a_changed_byte_fails_each(stored: Path) -> None:
    data = stored.read_bytes()
    rows = {
        "blake3": blake3.blake3(data).hexdigest(24),
        "sha256": hashlib.sha256(data).hexdigest(),  # rows of Dec 4 to 5 2026
        "md5": hashlib.md5(data).hexdigest(),  # rows before
    }
    assert {name: matches_checksum(stored, checksum) for name, checksum in rows.items()} == dict.fromkeys(rows, True)
    stored.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert {name: matches_checksum(stored, checksum) for name, checksum in rows.items()} == dict.fromkeys(rows, False)


def test_a_row_without_a_checksum_of_a_known_length_matches_nothing(stored: Path) -> None:
    whole = blake3.blake3(stored.read_bytes()).hexdigest()  # 64 digits: read as a SHA-256, which it is not
    for checksum in ("", whole[:40], whole):
        assert not matches_checksum(stored, checksum)
