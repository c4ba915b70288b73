"""Digests of stored files computed on demand: Orthanc's MD5s, and the check of a file against its row.

The index records a SHA-256 per file (`files.file_checksum`; rows written
before it, an MD5), not Orthanc's MD5, so the MD5 that Orthanc's attachment
routes answer is computed from the file when asked.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["file_digest", "matches_checksum"]

_CHUNK = 1 << 20


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of the file at `path` (`algorithm`: a hashlib name). Blocking: run it off the event loop."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def matches_checksum(path: Path, checksum: str) -> bool:
    """Whether the file at `path` still has the checksum its row records (SHA-256, or MD5 for older rows)."""
    return file_digest(path, "md5" if len(checksum) == 32 else "sha256") == checksum
