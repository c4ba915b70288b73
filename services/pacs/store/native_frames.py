"""Native frames located from what the index knows, without parsing the stored file's header.

The index keeps each instance's transfer syntax, file size and DICOM JSON
(`metadata.py`, made at ingest). For a little-endian native grey instance
whose pixel data is the file's last element, as nearly every writer leaves
it, the pixel value is the file's last `rows x columns x bits / 8 x frames`
bytes (padded to even) and the element's header sits just before them. One
12-byte read checks that header (tag, VR, length); when it does not match (a
trailing element, another layout) the caller parses the header instead, so a
frame is never cut from the wrong bytes.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from typing import Any

from pacsbox.core.errors import NotFound
from pacsbox.pacs.store.reader import StoredInstance

__all__ = ["NativeLayout", "native_layout", "read_native_frames"]

_IMPLICIT_LE, _EXPLICIT_LE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"
_PIXEL_TAG = b"\xe0\x7f\x10\x00"


@dataclass(frozen=True)
class NativeLayout:
    """Where an instance's native frames lie, as the index describes them."""

    offset: int
    """Of the pixel value in the file, if the pixel data is the last element."""
    frame_length: int
    frames: int
    explicit: bool

    def element_headers(self) -> tuple[int, set[bytes]]:
        """(file offset, what is there) of the pixel data element's header if this layout holds."""
        length = struct.pack("<I", self.frame_length * self.frames + self.frame_length * self.frames % 2)
        if self.explicit:
            return self.offset - 12, {_PIXEL_TAG + vr + b"\x00\x00" + length for vr in (b"OW", b"OB")}
        return self.offset - 8, {_PIXEL_TAG + length}


def _number(attributes: dict[str, Any], tag: str) -> int | None:
    try:
        return int(attributes[tag]["Value"][0])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def native_layout(instance: StoredInstance) -> NativeLayout | None:
    """The layout of a native little-endian grey instance (fetched `with_metadata`), or None for any other."""
    if instance.transfer_syntax not in (_IMPLICIT_LE, _EXPLICIT_LE) or not instance.metadata:
        return None
    try:
        attributes = json.loads(instance.metadata)
    except ValueError:
        return None
    if "7FE00010" not in attributes or _number(attributes, "00280002") not in (None, 1):
        return None
    rows, columns, bits = (_number(attributes, tag) for tag in ("00280010", "00280011", "00280100"))
    frames = _number(attributes, "00280008") or 1
    if not rows or not columns or bits not in (8, 16, 32) or frames < 1:
        return None
    frame_length = rows * columns * bits // 8
    total = frame_length * frames + frame_length * frames % 2
    if total > instance.file_size:
        return None
    return NativeLayout(instance.file_size - total, frame_length, frames, instance.transfer_syntax == _EXPLICIT_LE)


def read_native_frames(instance: StoredInstance, numbers: list[int], *, most_bytes: int) -> list[bytes] | None:
    """Frames `numbers` (from 1) read where the index says they are; None when it cannot say for sure.

    None also when they would take more than `most_bytes`: the caller reads
    those off the event loop.

    Raises:
        NotFound: a frame number past the instance's last frame.
    """
    layout = native_layout(instance)
    if layout is None or layout.frame_length * len(numbers) > most_bytes:
        return None
    missing = [n for n in numbers if n > layout.frames]
    if missing:
        raise NotFound(f"instance {instance.sop_uid} has {layout.frames} frame(s): no frame {missing[0]}")
    where, expected = layout.element_headers()
    fd = os.open(instance.path, os.O_RDONLY)
    try:
        if os.fstat(fd).st_size != instance.file_size:
            return None  # not the file the index describes (being replaced): let its header decide
        if os.pread(fd, 12 if layout.explicit else 8, where) not in expected:
            return None
        frames = [os.pread(fd, layout.frame_length, layout.offset + (n - 1) * layout.frame_length) for n in numbers]
    finally:
        os.close(fd)
    if any(len(frame) != layout.frame_length for frame in frames):
        return None
    return frames
