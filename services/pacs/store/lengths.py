"""Lengths that point past the end of a file, refused before anything trusts them.

pydicom reads a file whose File Meta Information Group Length, or whose last
element's length, runs past the end without complaint: it reads what is
there. A reader downstream that trusts the declared lengths (another PACS, a
viewer, an older toolkit) would read out of bounds, the meta-header class of
DICOM parser advisories. So pacsbox checks every length of the meta header
and of the dataset's top level against the file's size before it stores one,
and refuses a file that ends inside an element header (cut short, pydicom
would store it without that element: an image without its pixel data).
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO

from pydicom.dataset import Dataset

from pacsbox.core.errors import InvalidDicom

__all__ = ["check_lengths"]

_UNDEFINED = 0xFFFFFFFF
_ELEMENT_HEADER = 8
"""The shortest element header (tag and length, PS3.5 7.1): fewer bytes after the last element are what is
left of a cut one, which pydicom skips without a word."""
_META_START = 128 + 4
"""File Meta Information starts after the preamble and `DICM`; its first element is the group length."""
_GROUP_LENGTH = b"\x02\x00\x00\x00UL"
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
"""Explicit VRs with two reserved bytes and a 4-byte length (PS3.5 7.1.2)."""


def _value_span(stream: BinaryIO, element: Any, implicit: bool, little: bool) -> tuple[int, int] | None:
    """(value offset, declared length) of a top-level element, read or re-read from the file."""
    if getattr(element, "value_tell", None) is not None:  # still raw: pydicom kept both
        return element.value_tell, element.length
    if getattr(element, "file_tell", None) is None:
        return None
    stream.seek(element.file_tell)  # converted while reading: its length field is read again
    head = stream.read(12)
    endian = "<" if little else ">"
    if len(head) < 8 or struct.unpack_from(f"{endian}HH", head) != (element.tag.group, element.tag.element):
        return None  # not where pydicom said: nothing to check
    if implicit or not head[4:6].isalpha():
        return element.file_tell + 8, struct.unpack_from(f"{endian}L", head, 4)[0]
    if head[4:6] in _LONG_VRS:
        return (element.file_tell + 12, struct.unpack_from(f"{endian}L", head, 8)[0]) if len(head) == 12 else None
    return element.file_tell + 8, struct.unpack_from(f"{endian}H", head, 6)[0]


def _check_group_length(head: bytes, size: int) -> None:
    if len(head) < _META_START + 12 or head[128:_META_START] != b"DICM" or not head[_META_START:].startswith(_GROUP_LENGTH):
        return
    (group_length,) = struct.unpack_from("<L", head, _META_START + 8)
    if _META_START + 12 + group_length > size:
        raise InvalidDicom(f"File Meta Information Group Length {group_length} points past the end of the file ({size} bytes)")


def check_lengths(stream: BinaryIO, size: int, dataset: Dataset | None, *, meta: bool) -> None:
    """Refuse a length of `dataset`'s top level (the file meta with `meta=True`) that points past the file's end.

    Args:
        stream: the file (or its bytes) `dataset` was read from; read again where pydicom kept no offset.
        size: the file's size.

    Raises:
        InvalidDicom: naming the element, its length and the file's size.
    """
    implicit, little = False, True  # the meta header is always explicit VR little endian
    if meta:
        stream.seek(0)
        _check_group_length(stream.read(_META_START + 12), size)
    elif dataset is not None:
        encoding = dataset.original_encoding
        implicit, little = bool(encoding[0]), encoding[1] is not False
    last: tuple[int, int] = (-1, 0)
    for tag in dataset.keys() if dataset is not None else ():
        element = dataset.get_item(tag, keep_deferred=True)  # a deferred value stays unread
        span = _value_span(stream, element, implicit, little)
        if span is not None and span[0] > last[0]:
            last = span
        if span is None or span[1] == _UNDEFINED or span[0] + span[1] <= size:
            continue
        raise InvalidDicom(
            f"element ({element.tag.group:04X},{element.tag.element:04X}) declares {span[1]} bytes at "
            f"offset {span[0]}, past the end of the file ({size} bytes)"
        )
    if not meta and last[1] != _UNDEFINED and 0 < size - (last[0] + last[1]) < _ELEMENT_HEADER:
        raise InvalidDicom(
            f"the file ends {size - (last[0] + last[1])} bytes into an element header, after offset"
            f" {last[0] + last[1]}: it was cut short (a truncated upload or copy)"
        )
