"""The common header read without pydicom's reader: explicit VR little endian, walked with `struct`.

Most instances arrive with a File Meta Information header whose transfer
syntax encodes the dataset as explicit VR little endian (Explicit VR Little
Endian and every encapsulated syntax). For those, `pydicom.dcmread` costs more
than everything else `parse` does: it converts the meta elements and builds
several datasets per file. `walk_header` instead walks the top-level elements of
the bytes and keeps, per tag, what pydicom's reader would have kept (VR,
length, value offset, value); the short values then come from the per-value
caches of `raw_values` with the very keys pydicom's elements give, and
`WalkedHeader.dataset` builds, only when a value needs it, the dataset pydicom
would have read, so every other value converts exactly as before.

The walk answers None, and the caller reads the file with pydicom, wherever it
meets anything it does not mirror exactly: no `DICM` prefix, an implicit, big
endian, deflated or private transfer syntax, an unknown VR, tags out of order
or repeated, an item or delimiter at the top level, an undefined length other
than a sequence's or encapsulated pixel data's, a length or header past the end
of the bytes, or bytes left over. Those files get pydicom's reading, and its
refusals, word for word.
"""

from __future__ import annotations

import functools
import io
import struct
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element, empty_value_for_VR
from pydicom.dataset import Dataset
from pydicom.filereader import read_sequence
from pydicom.tag import BaseTag
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
    PrivateTransferSyntaxes,
)
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32, STANDARD_VR
from pydicom.values import convert_string

from pacsbox.pacs.store.raw_values import SPECIFIC_CHARACTER_SET, SharedValues, is_shared

__all__ = ["WalkedHeader", "meta_transfer_syntax", "walk_header"]

T = TypeVar("T")

_META_START = 128 + 4
_HEADER = struct.Struct("<HH2sH")
_LENGTH = struct.Struct("<L")
_ITEM_HEADER = struct.Struct("<LL")
_VRS = {vr.encode(): vr.encode().decode() for vr in STANDARD_VR}
"""The VRs pydicom's reader knows, as the plain text it keeps for them."""
_LONG_VRS = {vr.encode().decode() for vr in EXPLICIT_VR_LENGTH_32}
_UNDEFINED = 0xFFFFFFFF
_DEFER_SIZE = 1024
"""`parse` reads with `defer_size=1024`: pixel data longer than this pydicom leaves unread (value None)."""
_PIXEL_DATA = 0x7FE00010
_PIXEL_TAGS = {0x7FE00008, 0x7FE00009, _PIXEL_DATA}
_ITEM, _SEQUENCE_DELIMITER = 0xE000FFFE, 0xE0DDFFFE
"""The item and sequence delimitation tags as `<L` reads their group and element."""
_NOT_READ = object()
"""The value of a long element, sliced from the bytes only when the dataset is built."""
_NOT_DIRECT_SYNTAXES = {
    ImplicitVRLittleEndian, ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian, *PrivateTransferSyntaxes,
}
"""The syntaxes pydicom's reader does not read as explicit VR little endian straight from the bytes."""

Record = tuple[str, int, int, Any]
"""(VR, declared length, value offset, value) of one top-level element."""


@dataclass
class WalkedHeader:
    """An instance's top level as pydicom's reader would have kept it, without its reader."""

    data: bytes
    transfer_syntax: str
    """The meta header's Transfer Syntax UID, as `parse` reports it."""
    elements: dict[int, Record]
    """The dataset's top-level elements by tag, in file order."""
    charset: str | list[str]
    """The character sets pydicom reads the dataset with (its `original_character_set`)."""
    encoding: tuple[str, ...]
    """`charset` as the key of `raw_values`."""
    _dataset: Dataset | None = field(default=None, repr=False)

    def shared(self, values: SharedValues[T], tag: int) -> T | None:
        """What `values` derives from element `tag`, as `SharedValues.of` answers for pydicom's dataset."""
        vr, length, offset, value = self.elements[tag]
        if value is _NOT_READ or not is_shared(vr, value):
            return None
        encoding = (default_encoding,) if tag == SPECIFIC_CHARACTER_SET else self.encoding
        return values.get(
            (tag, vr, value, False, True, encoding),
            lambda: RawDataElement(BaseTag(tag), vr, length, value, offset, False, True),
        )

    def dataset(self) -> Dataset:
        """The dataset `pydicom.dcmread` reads from these bytes (pixel data left unread the same way), made once."""
        if self._dataset is None:
            ds = Dataset({BaseTag(tag): self._element(tag, record) for tag, record in self.elements.items()})
            charset = self.charset if isinstance(self.charset, str) else [*self.charset]  # each dataset its own
            ds.set_original_encoding(False, True, charset)
            self._dataset = ds
        return self._dataset

    def _element(self, tag: int, record: Record) -> RawDataElement | DataElement:
        vr, length, offset, value = record
        if isinstance(value, DataElement):
            return value
        if value is _NOT_READ:  # pydicom defers any long value; pixel data is never read, so left unread here too
            value = None if tag in _PIXEL_TAGS and length > _DEFER_SIZE else self.data[offset:offset + length]
        return RawDataElement(BaseTag(tag), vr, length, value, offset, False, True)


def walk_header(data: bytes) -> WalkedHeader | None:
    """The header of `data`, or None where pydicom's own reading must decide (see the module docstring)."""
    size = len(data)
    meta = _meta(data)
    if meta is None or meta[0] in _NOT_DIRECT_SYNTAXES:
        return None
    transfer_syntax, pos = meta
    elements, end = _walk(data, pos, meta=False)
    if elements is None or end != size or not elements or next(iter(elements)) >> 16 <= 2:
        return None
    charset_record = elements.get(SPECIFIC_CHARACTER_SET)
    charset = _charset(charset_record[0], charset_record[3]) if charset_record else default_encoding
    encoding = (charset,) if isinstance(charset, str) else tuple(charset)
    return WalkedHeader(data, transfer_syntax, elements, charset, encoding)


def _walk(data: bytes, pos: int, *, meta: bool) -> tuple[dict[int, Record] | None, int]:
    """The elements from `pos` on: the meta group's (stopping at the first other group), or the dataset's."""
    size = len(data)
    elements: dict[int, Record] = {}
    last = -1
    while pos < size:
        if pos + 8 > size:
            return None, pos
        group, element, vr_bytes, length = _HEADER.unpack_from(data, pos)
        tag = group << 16 | element
        if meta and group != 2:
            break
        vr = _VRS.get(vr_bytes)
        if vr is None or tag <= last or group == 0xFFFE:
            return None, pos
        last = tag
        if vr in _LONG_VRS:
            if pos + 12 > size:
                return None, pos
            length = _LENGTH.unpack_from(data, pos + 8)[0]
            pos += 12
        else:
            pos += 8
        if length == _UNDEFINED:
            if meta:
                return None, pos
            record, pos = _undefined_length(data, tag, vr, pos, elements.get(SPECIFIC_CHARACTER_SET))
            if record is None:
                return None, pos
            elements[tag] = record
            continue
        end = pos + length
        if end > size:
            return None, pos
        if length == 0:
            value: Any = empty_value_for_VR(vr, raw=True)
        elif length > 256:  # never shared: `dataset` slices it if a value needs it
            value = _NOT_READ
        else:
            value = data[pos:end]
        if tag == SPECIFIC_CHARACTER_SET and length:  # read whatever its length, as pydicom does
            value = data[pos:end]
        elements[tag] = (vr, length, pos, value)
        pos = end
    return elements, pos


def _undefined_length(data: bytes, tag: int, vr: str, pos: int, charset: Record | None) -> tuple[Record | None, int]:
    """A sequence read as pydicom reads it, or encapsulated pixel data walked fragment by fragment to its delimiter.

    pydicom's reader hands a sequence the character sets of the Specific Character Set read before it
    (`charset`, the element's record), without the checks a dataset's own makes.
    """
    if vr == "SQ":
        stream = io.BytesIO(data)
        stream.seek(pos)
        encoding = convert_encodings(convert_string(charset[3] or b"", True)) if charset else default_encoding
        sequence = read_sequence(stream, False, True, _UNDEFINED, encoding)
        end = stream.tell()
        if end > len(data):
            return None, pos
        return ("SQ", _UNDEFINED, pos, DataElement(BaseTag(tag), vr, sequence, pos, is_undefined_length=True)), end
    if tag != _PIXEL_DATA or vr not in ("OB", "OW"):
        return None, pos
    start = cursor = pos
    while cursor + 8 <= len(data):
        item, length = _ITEM_HEADER.unpack_from(data, cursor)
        if item == _SEQUENCE_DELIMITER:
            content = cursor + 4 - start  # what pydicom counts against defer_size: fragments and the delimiter tag
            value = None if content >= _DEFER_SIZE else data[start:cursor]
            return (vr, _UNDEFINED, start, value), cursor + 8
        if item != _ITEM:
            return None, pos
        cursor += 8 + length
    return None, pos


def meta_transfer_syntax(data: bytes) -> str | None:
    """The Transfer Syntax UID of the File Meta Information of `data`, as `parse` reports it; None where the
    walk cannot tell (no `DICM` prefix, no such element, a meta header it does not mirror exactly)."""
    meta = _meta(data)
    return None if meta is None else meta[0]


def _meta(data: bytes) -> tuple[str, int] | None:
    """(transfer syntax, offset of the dataset) from the File Meta Information of `data`; None as above."""
    if len(data) < _META_START + 12 or data[128:_META_START] != b"DICM":
        return None
    if data[_META_START:_META_START + 6] == b"\x02\x00\x00\x00UL":  # `lengths` refuses a group length past the end
        if _META_START + 12 + _LENGTH.unpack_from(data, _META_START + 8)[0] > len(data):
            return None
    meta, pos = _walk(data, _META_START, meta=True)
    if meta is None or 0x00020010 not in meta:
        return None
    vr, _length, _offset, value = meta[0x00020010]
    if vr != "UI" or value is _NOT_READ:
        return None
    syntax = _syntax(value)
    return None if syntax is None else (syntax, pos)


@functools.lru_cache(maxsize=64)
def _syntax(value: bytes) -> str | None:
    """The transfer syntax text `parse` reports for a Transfer Syntax UID's bytes; None for no single UID."""
    uid = convert_raw_data_element(RawDataElement(BaseTag(0x00020010), "UI", len(value), value, 0, False, True)).value
    if not isinstance(uid, UID) or not uid:
        return None
    return str(uid).strip(" \x00")


@functools.lru_cache(maxsize=64)
def _charset(vr: str, value: bytes | None) -> str | list[str]:
    """The character sets pydicom decodes a dataset with, from its Specific Character Set element."""
    raw = RawDataElement(BaseTag(SPECIFIC_CHARACTER_SET), vr, len(value or b""), value, 0, False, True)
    return Dataset({BaseTag(SPECIFIC_CHARACTER_SET): raw})._character_set
