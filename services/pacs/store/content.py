"""Browsing a stored file element by element, as Orthanc's `/instances/{id}/content/...` does.

A path alternates attribute tags and item indices: `300a-00b0/0/300a-0111/1/300a-0112`.
What it names is answered as Orthanc answers it:

- a dataset (the file, or an item of a sequence): the tags it holds, `gggg-eeee`,
  group lengths included, file meta information left out;
- a sequence: the indices of its items, from 0;
- the pixel data: the indices of its fragments, the basic offset table being 0
  (native pixel data is one fragment);
- any other element, or a fragment: its value bytes as the file holds them, binary
  numbers in little endian even from a big-endian file, and text with the trailing
  spaces DCMTK (so Orthanc) keeps: none, but one to make the length even.

A tag is written `gggg-eeee`, `gggg,eeee`, `ggggeeee` or as its keyword.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset

from pacsbox.core.errors import BadRequest, NotFound

__all__ = ["read_content"]

_PIXEL_DATA = 0x7FE00010
_UNDEFINED = 0xFFFFFFFF
_ITEM, _SEQUENCE_END = 0xE000FFFE, 0xE0DDFFFE
"""Item and sequence delimitation tags as read in little endian, group first."""
_WORD_SIZE = {"US": 2, "SS": 2, "OW": 2, "AT": 2, "UL": 4, "SL": 4, "FL": 4, "OF": 4, "OL": 4,
              "FD": 8, "OD": 8, "SV": 8, "UV": 8, "OV": 8}
"""Bytes per number of the binary VRs whose byte order a big-endian file reverses."""
_TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UR", "UT"}

Element = DataElement | RawDataElement


def _tag(segment: str) -> int:
    text = segment.replace("-", "").replace(",", "")
    if len(text) == 8:
        try:
            return int(text, 16)
        except ValueError:
            pass
    tag = tag_for_keyword(segment)
    if tag is None:
        raise BadRequest(f"{segment!r} is neither a tag (gggg-eeee) nor a DICOM keyword")
    return tag


def _tag_text(tag: int) -> str:
    return f"{tag >> 16:04x}-{tag & 0xFFFF:04x}"


def _vr(element: Element) -> str:
    if element.VR:
        return str(element.VR)
    try:
        return dictionary_VR(element.tag)
    except KeyError:
        return "UN"


def _raw(element: Element) -> bytes:
    """The value bytes; an element pydicom already decoded (SpecificCharacterSet) written back."""
    value = element.value
    if isinstance(value, bytes):
        return value
    if value is None:
        return b""
    values = [value] if isinstance(value, str) else value
    return "\\".join(str(v) for v in values).encode("latin-1")


def _value_bytes(element: Element, little_endian: bool) -> bytes:
    vr = _vr(element).split(" or ")[-1]
    data = _raw(element)
    if vr in _TEXT_VRS:
        data = data.rstrip(b" ")
        return data + b" " * (len(data) % 2)
    size = _WORD_SIZE.get(vr)
    if little_endian or not size or len(data) % size:
        return data
    return np.frombuffer(data, dtype=f">u{size}").astype(f"<u{size}").tobytes()


def _fragments(element: Element, little_endian: bool) -> list[bytes]:
    """The items of encapsulated pixel data (offset table first), or native pixel data as one."""
    data = _value_bytes(element, little_endian)
    if element.length != _UNDEFINED:
        return [data]
    items, offset = [], 0
    while offset + 8 <= len(data):
        tag, length = struct.unpack_from("<II", data, offset)
        offset += 8
        if tag != _ITEM:
            break  # the sequence delimiter
        items.append(data[offset : offset + length])
        offset += length
    return items


def _index(segment: str, count: int, what: str) -> int:
    if not segment.isdigit() or int(segment) >= count:
        raise NotFound(f"{what} has {count} item(s), numbered from 0: no item {segment!r}")
    return int(segment)


def _walk(dataset: Dataset, steps: Sequence[str]) -> list[str] | bytes:
    little_endian = dataset.original_encoding[1] is not False
    node: Dataset | list[Dataset] | list[bytes] | bytes = dataset
    where = "the file"
    for step in steps:
        if isinstance(node, Dataset):
            tag = _tag(step)
            element = node.get_item(tag)
            if element is None:
                raise NotFound(f"{where} has no attribute {_tag_text(tag)}")
            where = _tag_text(tag)
            if _vr(element) == "SQ":
                node = list(node[tag].value)
            elif tag == _PIXEL_DATA:
                node = _fragments(element, little_endian)
            else:
                node = _value_bytes(element, little_endian)
        elif isinstance(node, list):
            node = node[_index(step, len(node), where)]
            where = f"{where}/{step}"
        else:
            raise NotFound(f"{where} is a value, not a sequence: nothing below it")
    if isinstance(node, Dataset):
        return [_tag_text(int(tag)) for tag in sorted(node.keys())]
    if isinstance(node, list):
        return [str(index) for index in range(len(node))]
    return node


def read_content(path: Path, steps: Sequence[str]) -> list[str] | bytes:
    """What `steps` name in the file at `path`: a list of tags or indices, or value bytes.

    Blocking (reads the file): run it off the event loop.

    Raises:
        NotFound: a tag the dataset lacks, an index past the items, or a step below a value.
        BadRequest: a step that should be a tag and is not one.
    """
    dataset = pydicom.dcmread(path, force=True)
    return _walk(dataset, [step for step in steps if step])
