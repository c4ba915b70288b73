"""Digests of stored files computed on demand: Orthanc's MD5s, and the check of a file against its row.

The index records a BLAKE3 per file (`files.file_checksum`; rows written
before it hold a SHA-256 or an MD5, told apart by their length), not Orthanc's
MD5, so the MD5 that Orthanc's attachment routes answer is computed from the
file when asked.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pacsbox.pacs.store.files import CHECKSUM_SIZE, checksum_of

__all__ = ["file_digest", "matches_checksum"]

_EARLIER = {32: "md5", 64: "sha256"}
"""The hashlib algorithm of a checksum written by an earlier version, by its number of hex digits."""


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of the file at `path` (`algorithm`: a hashlib name). Blocking: run it off the event loop."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, algorithm).hexdigest()


def matches_checksum(path: Path, checksum: str) -> bool:
    """Whether the file at `path` still has the checksum its row records (BLAKE3, or an earlier row's SHA-256
    or MD5); a row without a checksum of a known length matches nothing."""
    if len(checksum) == 2 * CHECKSUM_SIZE:
        with open(path, "rb") as stream:
            return checksum_of(stream) == checksum
    algorithm = _EARLIER.get(len(checksum))
    return algorithm is not None and file_digest(path, algorithm) == checksum
