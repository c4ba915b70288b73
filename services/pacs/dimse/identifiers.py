"""C-FIND/C-MOVE/C-GET identifiers read as the shared `SearchQuery`, and matches written back as identifiers.

PS3.4 C.2.2.1: a key with a value is matched, an empty key asks for the
attribute to be returned. Keys pacsbox does not index are returned when the
stored metadata holds them, and not matched (PS3.4 C.2.2.1.1 allows an SCP not
to match optional keys). The matching itself is the QIDO-RS matcher.

A sequence key (PS3.4 C.2.2.2.6) is returned too: with no item, or one empty
item, as stored, every item whole; with item keys, every stored item holding
only those keys (nested sequences alike). Item key values are not matched.
A sequence the match does not hold comes back empty.
"""

from __future__ import annotations

from typing import Any

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from pacsbox.core.errors import BadRequest
from pacsbox.pacs.search import ATTRIBUTES, Attribute, Filter, Match, SearchQuery, dicom_json, parse_field
from pacsbox.pacs.search.attributes import LEVEL_DEPTH
from pacsbox.pacs.store.ids import Level

__all__ = ["LEVELS", "identifier_dataset", "parse_identifier", "query_level", "request_identifier", "retrieve_query"]

LEVELS = {"PATIENT": Level.PATIENT, "STUDY": Level.STUDY, "SERIES": Level.SERIES, "IMAGE": Level.INSTANCE}
_LEVEL_NAMES = {level: name for name, level in LEVELS.items()}
_QUERY_RETRIEVE_LEVEL = 0x00080052
_SPECIFIC_CHARACTER_SET = 0x00080005
_UIDS = {Level.PATIENT: 0x00100020, Level.STUDY: 0x0020000D, Level.SERIES: 0x0020000E, Level.INSTANCE: 0x00080018}
"""The unique key of each level (PS3.4 C.6.1.1 / C.6.2.1); PatientID for patients."""
_SKIPPED = {_QUERY_RETRIEVE_LEVEL, _SPECIFIC_CHARACTER_SET}
_MODALITIES_IN_STUDY = 0x00080061
_MODALITY = 0x00080060
"""A series attribute, yet many workstations send it in study-level queries (`Modality=MR`) meaning the
studies that hold such a series: it is matched as ModalitiesInStudy there, not ignored (every study)."""


def _vr(tag: int) -> str:
    if tag in ATTRIBUTES:
        return ATTRIBUTES[tag].vr
    try:
        return dictionary_VR(tag)
    except KeyError:
        return ""


def query_level(identifier: Dataset) -> Level:
    """Raises: BadRequest when QueryRetrieveLevel is missing or unknown."""
    name = str(identifier.get("QueryRetrieveLevel", "")).strip().upper()
    if name not in LEVELS:
        raise BadRequest(f"QueryRetrieveLevel {name!r}: expected PATIENT, STUDY, SERIES or IMAGE")
    return LEVELS[name]


def _text(value: Any) -> str:
    if isinstance(value, (MultiValue, list, tuple)):
        return "\\".join(str(v) for v in value)
    return "" if value is None else str(value)


def parse_identifier(identifier: Dataset, max_results: int) -> tuple[SearchQuery, tuple[int, ...]]:
    """The query an identifier asks, and the tags to return (the identifier's keys, in order).

    Raises:
        BadRequest: no valid QueryRetrieveLevel, or a value the matcher refuses.
    """
    level = query_level(identifier)
    filters, tags = [], []
    for element in identifier:
        tag = int(element.tag)
        if tag in _SKIPPED or element.tag.is_private:
            continue
        tags.append(tag)
        if element.VR == "SQ":  # returned (see `identifier_dataset`), not matched
            continue
        value = _text(element.value).strip()
        attribute = ATTRIBUTES.get(tag)
        if tag == _MODALITY and level is Level.STUDY:  # what a study-level Modality key means
            attribute = ATTRIBUTES[_MODALITIES_IN_STUDY]
        if value and value != "*" and attribute and _matched(attribute, level):
            filters.append(Filter(attribute, value, element.keyword or f"{tag:08X}"))
    unique = _UIDS[level]
    if unique not in tags:
        tags.append(unique)
    return SearchQuery(level=level, filters=tuple(filters), limit=max_results), tuple(tags)


def _matched(attribute: Attribute, level: Level) -> bool:
    """Whether a valued key is matched: of the query's level or above, and stored, or ModalitiesInStudy
    (computed, matched as any of the study's modalities); the counts are only returned."""
    if attribute.computed and attribute.tag != _MODALITIES_IN_STUDY:
        return False
    return LEVEL_DEPTH[attribute.level] <= LEVEL_DEPTH[level]


def retrieve_query(identifier: Dataset, max_results: int) -> SearchQuery:
    """The query a C-MOVE or C-GET identifier asks.

    PS3.4 C.4.2.1.4.1 and C.4.3.1.3.1: the identifier names what to retrieve
    by the unique key of its level (PatientID, StudyInstanceUID,
    SeriesInstanceUID or SOPInstanceUID), one value or a list of UIDs.
    Universal or wildcard values are refused: they would send whole parts of
    the archive.

    Raises:
        BadRequest: no valid QueryRetrieveLevel, no value or a wildcard in the unique key, or a value the
            matcher refuses.
    """
    query, _ = parse_identifier(identifier, max_results)
    unique = _UIDS[query.level]
    value = _text(identifier[unique].value).strip() if unique in identifier else ""
    if not value.strip("\\") or "*" in value or "?" in value:
        raise BadRequest(f"{keyword_for_tag(unique)} {value!r}: a retrieve names what it wants, without wildcards")
    return query


def _requested_items(stored: dict[str, Any], key: Dataset) -> dict[str, Any]:
    """A stored sequence (DICOM JSON) as a sequence key asks it: each item with only the key item's attributes,
    or whole when the key item names none (PS3.4 C.2.2.2.6)."""
    wanted = [element for element in key if not element.tag.is_private]
    if not wanted:
        return stored
    items = []
    for item in stored.get("Value") or []:
        kept = {}
        for element in wanted:
            name = f"{int(element.tag):08X}"
            value = item.get(name) if isinstance(item, dict) else None
            if value is None:
                if vr := _vr(int(element.tag)):
                    kept[name] = {"vr": vr}
            elif element.VR == "SQ" and element.value:
                kept[name] = _requested_items(value, element.value[0])
            else:
                kept[name] = value
        items.append(kept)
    return {**stored, "Value": items} if items else {"vr": "SQ"}


def identifier_dataset(
    match: Match, tags: tuple[int, ...], retrieve_aet: str, request: Dataset | None = None
) -> Dataset:
    """The C-FIND response identifier of one match: the asked keys, valued where known; sequence keys of
    `request` (the C-FIND identifier) cut to the item keys they name."""
    json = dicom_json(match, tags)
    json.pop(f"{_SPECIFIC_CHARACTER_SET:08X}", None)
    for element in request or ():
        name = f"{int(element.tag):08X}"
        if element.VR == "SQ" and element.value and name in json:
            json[name] = _requested_items(json[name], element.value[0])
    for tag in tags:
        if f"{tag:08X}" not in json and (vr := _vr(tag)):
            json[f"{tag:08X}"] = {"vr": vr}
    ds = Dataset.from_json(json)
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.QueryRetrieveLevel = _LEVEL_NAMES[match.level]
    ds.RetrieveAETitle = retrieve_aet
    return ds


def request_identifier(level: Level, keys: dict[str, Any], *, returned: tuple[int, ...] = ()) -> Dataset:
    """An identifier to send to a remote server: QueryRetrieveLevel, the `keys` (keyword or tag -> value),
    and `returned` tags asked with empty values.

    Raises:
        BadRequest: a key that names no DICOM attribute, or a value that is not text.
    """
    ds = Dataset()
    ds.QueryRetrieveLevel = _LEVEL_NAMES[level]
    for tag in returned:
        if (vr := _vr(tag)) and vr != "SQ":
            ds.add_new(tag, vr, None)
    for name, value in keys.items():
        field = parse_field(name)
        vr = _vr(field.tag) if field else ""
        if field is None or not vr or vr == "SQ":
            raise BadRequest(f"Query: {name!r} is not a DICOM keyword or tag of a single value")
        if not isinstance(value, (str, int)):
            raise BadRequest(f"Query: {name} must be text, got {value!r}")
        ds.add_new(field.tag, vr, str(value) if str(value) else None)
    return ds
