"""Orthanc's JSON forms of a dataset, made from the DICOM JSON (PS3.18 F.2) kept in the index at ingest.

Full form (`/instances/{id}/tags`), keyed by lower-case `gggg,eeee`:

    {"0010,0010": {"Name": "PatientName", "Type": "String", "Value": "Doe^Jane"},
     "0008,1140": {"Name": "ReferencedImageSequence", "Type": "Sequence", "Value": [{...}, ...]},
     "7fe0,0010": {"Name": "PixelData", "Type": "Null", "Value": null},
     "0020,4000": {"Name": "ImageComments", "Type": "TooLong", "Value": null}}

Every value is a string: multiple values joined with a backslash, person
names as `Alphabetic=Ideographic=Phonetic`, attribute tags as `gggg,eeee`,
numbers in their shortest form (the stored JSON keeps decimal strings as
numbers, so `5.000000` reads back as `5`). Binary values are `Null`, strings
longer than `MAX_STRING` characters `TooLong`, as Orthanc answers. Private
elements carry their `PrivateCreator`; their name is Orthanc's
`Unknown Tag & Data`; retired attributes are named `RETIRED_<keyword>`, as
Orthanc (DCMTK's dictionary) names them, but for the main DICOM tags that
Orthanc names itself (`OtherPatientIDs`). The simplified form maps names to
values; the short form maps tags to values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydicom.datadict import dictionary_is_retired, keyword_for_tag

from pacsbox.pacs.rest.params import flag

__all__ = ["MAX_STRING", "element_text", "full_tags", "short_tags", "simplified_tags", "tags_in_asked_form"]

MAX_STRING = 256
"""Longest string value shown (Orthanc's limit for `/tags`)."""

_BINARY_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN"}
_UNKNOWN = "Unknown Tag & Data"
_TRAILING_PADDING = 0xFFFCFFFC
_MAIN_TAG_NAMES = {0x00101000: "OtherPatientIDs"}
"""Main DICOM tags that Orthanc names itself although the dictionary has them retired."""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _text(vr: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):  # a person name's component groups
        groups = [value.get(key, "") for key in ("Alphabetic", "Ideographic", "Phonetic")]
        while groups and not groups[-1]:
            groups.pop()
        return "=".join(groups)
    if vr == "AT" and isinstance(value, str) and len(value) == 8:
        return f"{value[:4]},{value[4:]}".lower()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return str(value) if isinstance(value, int) else _number(value)


def element_text(element: dict[str, Any]) -> str | None:
    """A non-sequence element as Orthanc shows it; None for binary or bulk values."""
    vr = element.get("vr", "UN")
    if vr in _BINARY_VRS or "BulkDataURI" in element or "InlineBinary" in element:
        return None
    return "\\".join(_text(vr, value) for value in element.get("Value", []))


def _creators(dataset: dict[str, Any]) -> dict[tuple[int, int], str]:
    """Private creator of each (group, block) reserved in this dataset."""
    found = {}
    for key, element in dataset.items():
        tag = int(key, 16)
        group, number = tag >> 16, tag & 0xFFFF
        if group % 2 and 0x10 <= number <= 0xFF:
            found[(group, number)] = element_text(element) or ""
    return found


def _public_name(tag: int) -> str:
    keyword = keyword_for_tag(tag)
    if not keyword:
        return _UNKNOWN
    if tag in _MAIN_TAG_NAMES:
        return _MAIN_TAG_NAMES[tag]
    return f"RETIRED_{keyword}" if dictionary_is_retired(tag) else keyword


def _entry(tag: int, element: dict[str, Any], creators: dict[tuple[int, int], str]) -> dict[str, Any]:
    group, number = tag >> 16, tag & 0xFFFF
    entry: dict[str, Any] = {}
    if group % 2:
        entry["Name"] = "PrivateCreator" if 0x10 <= number <= 0xFF else _UNKNOWN
        if number > 0xFF and (group, number >> 8) in creators:
            entry["PrivateCreator"] = creators[(group, number >> 8)]
    else:
        entry["Name"] = _public_name(tag)
    if element.get("vr") == "SQ":
        entry["Type"], entry["Value"] = "Sequence", [full_tags(item) for item in element.get("Value", [])]
        return entry
    text = element_text(element)
    if text is None:
        entry["Type"], entry["Value"] = "Null", None
    elif len(text) > MAX_STRING:
        entry["Type"], entry["Value"] = "TooLong", None
    else:
        entry["Type"], entry["Value"] = "String", text
    return entry


def full_tags(dataset: dict[str, Any], *, file_meta: bool = False) -> dict[str, Any]:
    """Orthanc's full form of a DICOM JSON dataset (file meta, group lengths and trailing padding left out).

    With `file_meta`, `dataset` is a file's meta information: all of it is kept, its group length too.
    """
    creators = _creators(dataset)
    out = {}
    for key in sorted(dataset):
        tag = int(key, 16)
        if not file_meta and (tag >> 16 == 0x0002 or tag & 0xFFFF == 0 or tag == _TRAILING_PADDING):
            continue
        out[f"{tag >> 16:04x},{tag & 0xFFFF:04x}"] = _entry(tag, dataset[key], creators)
    return out


def _plain(entry: dict[str, Any], key: str) -> Any:
    if entry["Type"] == "Sequence":
        return [simplified_tags(item) if key == "Name" else short_tags(item) for item in entry["Value"]]
    return entry["Value"]


def simplified_tags(full: dict[str, Any]) -> dict[str, Any]:
    """Name -> value form of `full_tags` output (`/simplified-tags`, `/tags?simplify`)."""
    return {entry["Name"]: _plain(entry, "Name") for entry in full.values()}


def short_tags(full: dict[str, Any]) -> dict[str, Any]:
    """`gggg,eeee` -> value form of `full_tags` output (`/tags?short`)."""
    return {key: _plain(entry, "key") for key, entry in full.items()}


def tags_in_asked_form(query: Mapping[str, str], full: dict[str, Any]) -> dict[str, Any]:
    """`full` as `?simplify` (names) or `?short` (tags) asks, else unchanged: the forms of every tags route."""
    if flag(query, "simplify"):
        return simplified_tags(full)
    if flag(query, "short"):
        return short_tags(full)
    return full
