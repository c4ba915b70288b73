"""ZIP archives of DICOM files (REST upload, `pacsbox import`), read defensively.

Limits (`PACSBOX_ZIP_*`) are checked on the central directory before anything
is extracted, and again while inflating, since a hostile archive can lie about
its sizes. Member names are reported to the user but never used as paths: each
member is inflated into a fresh temporary file.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pacsbox.core.errors import BadRequest, PayloadTooLarge
from pacsbox.core.settings import LimitSettings
from pacsbox.pacs.store.files import Storage, WrittenFile

__all__ = ["ZipMember", "is_zip", "iter_zip"]

_CHUNK = 1 << 20
_RATIO_FLOOR = 1 << 20
"""Members smaller than this are not ratio-checked (a small blank image compresses well)."""


_DAMAGED = (
    zipfile.BadZipFile, zlib.error, struct.error, RuntimeError, NotImplementedError,
    OSError, EOFError, ValueError, UnicodeError,
)
"""What the zipfile module raises on damaged or unsupported archives (encrypted, bad CRC, bad streams)."""


@dataclass(frozen=True)
class ZipMember:
    name: str
    written: WrittenFile | None
    error: str = ""


_ZIP_MAGIC = b"PK\x03\x04"


def is_zip(source: Path | bytes) -> bool:
    """Whether a file (its path, or its bytes) starts as a ZIP archive does."""
    if isinstance(source, bytes):
        return source.startswith(_ZIP_MAGIC)
    with open(source, "rb") as stream:
        return stream.read(4) == _ZIP_MAGIC


def _check_directory(archive: zipfile.ZipFile, limits: LimitSettings) -> list[zipfile.ZipInfo]:
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > limits.zip_max_entries:
        raise PayloadTooLarge(f"ZIP holds {len(members)} entries, over the limit of {limits.zip_max_entries} (PACSBOX_ZIP_MAX_ENTRIES)")
    total = 0
    for info in members:
        if info.file_size > limits.zip_max_entry_size:
            raise PayloadTooLarge(f"ZIP entry {info.filename!r} inflates to {info.file_size} bytes, over PACSBOX_ZIP_MAX_ENTRY_SIZE")
        if info.file_size > _RATIO_FLOOR and info.file_size > limits.zip_max_ratio * max(info.compress_size, 1):
            raise PayloadTooLarge(f"ZIP entry {info.filename!r} has a compression ratio over PACSBOX_ZIP_MAX_RATIO ({limits.zip_max_ratio})")
        total += info.file_size
    if total > limits.zip_max_total_size:
        raise PayloadTooLarge(f"ZIP inflates to {total} bytes, over PACSBOX_ZIP_MAX_TOTAL_SIZE")
    return members


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, storage: Storage) -> WrittenFile:
    target = storage.new_file()
    try:
        with archive.open(info) as source:
            while chunk := source.read(_CHUNK):
                target.write(chunk)
                if target.size > info.file_size:  # the directory lied about the size
                    raise PayloadTooLarge(f"ZIP entry {info.filename!r} inflates beyond its declared size")
        return target.finish()
    except BaseException:
        target.discard()
        raise


def iter_zip(source: Path | bytes, storage: Storage, limits: LimitSettings) -> Iterator[ZipMember]:
    """Each member of the ZIP (its path, or its bytes) inflated to a temporary file, or the reason it was not.

    Raises:
        BadRequest: not a readable ZIP.
        PayloadTooLarge: the archive breaks one of the limits (nothing was extracted).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except _DAMAGED as error:
        raise BadRequest(f"not a readable ZIP archive: {error}") from None
    with archive:
        for info in _check_directory(archive, limits):
            try:
                yield ZipMember(info.filename, _inflate(archive, info, storage))
            except PayloadTooLarge:
                raise
            except _DAMAGED as error:
                yield ZipMember(info.filename, None, f"cannot extract: {error}")
