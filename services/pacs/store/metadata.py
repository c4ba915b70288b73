"""DICOM JSON (PS3.18 F.2) of an instance's header, made once at ingest.

Values longer than `BULK_THRESHOLD` bytes of a binary VR, and the pixel data
always, are replaced by a BulkDataURI. The URI is stored with the placeholder
`pacsbox:bulk/` in front of `studies/{study}/series/{series}/instances/{sop}/bulk/{tag}`;
`public_metadata` puts the DICOMweb root in its place when it is served, so a
change of URL prefix needs no re-indexing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset

from pacsbox.pacs.store.header_walk import WalkedHeader
from pacsbox.pacs.store.raw_values import SharedValues, convert, person_name_json, plain_values

__all__ = ["BULK_PLACEHOLDER", "BULK_THRESHOLD", "entry_of", "instance_metadata", "public_metadata", "walked_metadata"]

log = logging.getLogger(__name__)

BULK_PLACEHOLDER = "pacsbox:bulk/"
BULK_THRESHOLD = 1024
_PIXEL_TAGS = {0x7FE00008: "OF", 0x7FE00009: "OD", 0x7FE00010: "OW"}
_BINARY_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN"}


def _without_empty_values(attribute: dict[str, Any]) -> dict[str, Any]:
    """PS3.18 F.2.5: an empty attribute (an empty sequence too) has no "Value", an empty value among
    several is null; pydicom writes `[]` and `""`. Sequence items are made so in place, at any depth."""
    values = attribute.get("Value")
    if values is None:
        return attribute
    if not values:
        del attribute["Value"]
    elif attribute.get("vr") == "SQ":
        for item in values:
            for member in item.values():
                _without_empty_values(member)
    elif "" in values:
        attribute["Value"] = [None if value == "" else value for value in values]
    return attribute


def _element_json(element: DataElement, base: str) -> dict[str, Any]:
    def bulk(elem: DataElement) -> str:
        return f"{base}{elem.tag:08X}"

    try:
        return _without_empty_values(
            element.to_json_dict(bulk_data_element_handler=bulk, bulk_data_threshold=BULK_THRESHOLD)
        )
    except Exception as error:  # one unreadable value must not lose the whole header
        log.debug("attribute %08X not representable in JSON: %s", element.tag, error)
        return {"vr": element.VR}


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _plain_json(vr: str, values: list[str]) -> dict[str, Any]:
    """What `_element_json` makes of an element whose values `plain_values` read."""
    if values == [""]:
        return {"vr": vr}
    value: list[Any] = [person_name_json(name) for name in values] if vr == "PN" else values
    return _without_empty_values({"vr": vr, "Value": value})


def _converted_entry(raw: RawDataElement, encoding: tuple[str, ...]) -> str:
    values = plain_values(raw.VR, raw.value, encoding)
    member = _element_json(convert(raw, encoding), "") if values is None else _plain_json(raw.VR, values)
    return f'"{raw.tag:08X}":' + _dumps(member)


_SHARED_ENTRIES = SharedValues(_converted_entry, max_entries=8192)


def entry_of(ds: Dataset, tag: int, base: str) -> str | None:
    """`"ggggeeee":{...}`, the attribute's member of the instance's DICOM JSON object; None when unreadable."""
    shared = _SHARED_ENTRIES.of(ds, tag)
    if shared is not None:
        return shared
    try:
        element = ds[tag]
    except Exception as error:
        log.debug("attribute %08X unreadable: %s", tag, error)
        return None
    return f'"{tag:08X}":' + _dumps(_element_json(element, base))


def instance_metadata(ds: Dataset, transfer_syntax: str, study: str, series: str, sop: str) -> str:
    """The instance's DICOM JSON object as a compact string.

    Short values are converted once per distinct raw value (`raw_values`).
    """
    elements = ((tag, getattr(element, "VR", None)) for tag, element in ds._dict.items())
    return _metadata(elements, lambda tag, base: entry_of(ds, tag, base), transfer_syntax, study, series, sop)


def walked_metadata(header: WalkedHeader, transfer_syntax: str, study: str, series: str, sop: str) -> str:
    """What `instance_metadata` makes of the dataset pydicom reads, from a header `walk_header` read."""

    def entry(tag: int, base: str) -> str | None:
        shared = header.shared(_SHARED_ENTRIES, tag)
        return shared if shared is not None else entry_of(header.dataset(), tag, base)

    elements = ((tag, record[0]) for tag, record in header.elements.items())
    return _metadata(elements, entry, transfer_syntax, study, series, sop)


def _metadata(
    elements: Iterable[tuple[int, str | None]], entry: Callable[[int, str], str | None], transfer_syntax: str,
    study: str, series: str, sop: str,
) -> str:
    """The JSON object of the top-level `elements` ((tag, VR) in file order), each member but the pixel data
    made by `entry(tag, bulk data URI base)`."""
    base = f"{BULK_PLACEHOLDER}studies/{study}/series/{series}/instances/{sop}/bulk/"
    parts = ['"00020010":' + _dumps({"vr": "UI", "Value": [transfer_syntax]})]
    for tag, vr in elements:
        if tag in _PIXEL_TAGS:
            vr = vr or _PIXEL_TAGS[tag]
            element_json = {"vr": vr if vr in _BINARY_VRS else _PIXEL_TAGS[tag], "BulkDataURI": f"{base}{tag:08X}"}
            parts.append(f'"{tag:08X}":' + _dumps(element_json))
            continue
        if tag >> 16 == 0x0002 or tag & 0xFFFF == 0:
            continue  # file meta lives outside the dataset; group lengths are retired
        member = entry(tag, base)
        if member is not None:
            parts.append(member)
    return "{" + ",".join(parts) + "}"


def public_metadata(stored: str, dicomweb_root: str) -> str:
    """Stored JSON text with its BulkDataURIs pointing at `dicomweb_root` (e.g. `/zhiva/pacs`)."""
    return stored.replace(f'"{BULK_PLACEHOLDER}', f'"{dicomweb_root.rstrip("/")}/')
