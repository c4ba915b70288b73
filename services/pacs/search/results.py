"""A match as a DICOM JSON dataset: what QIDO-RS answers and C-FIND converts to its identifier."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydicom.datadict import dictionary_VR

from pacsbox.core.dicom import element
from pacsbox.pacs.search.attributes import ATTRIBUTES, LEVEL_DEPTH
from pacsbox.pacs.search.levels import level_of
from pacsbox.pacs.search.query import Match
from pacsbox.pacs.store.metadata import BULK_PLACEHOLDER

__all__ = ["dicom_json"]

_SPECIFIC_CHARACTER_SET = 0x00080005


def _vr(tag: int) -> str:
    attribute = ATTRIBUTES.get(tag)
    if attribute:
        return attribute.vr
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def _public(value: dict[str, Any], dicomweb_root: str) -> dict[str, Any]:
    uri = value.get("BulkDataURI")
    if isinstance(uri, str) and uri.startswith(BULK_PLACEHOLDER):
        return {**value, "BulkDataURI": f"{dicomweb_root}/{uri.removeprefix(BULK_PLACEHOLDER)}"}
    return value


def dicom_json(
    match: Match, tags: Iterable[int], *, include_all: bool = False, dicomweb_root: str = ""
) -> dict[str, Any]:
    """DICOM JSON of `match` holding `tags` (and, with `include_all`, every stored attribute of the match's
    level and those above it: a study's, not its first instance's; see `levels`).

    Indexed values win over stored JSON (they are what was matched). Values are
    UTF-8 text, so SpecificCharacterSet is always ISO_IR 192.
    """
    out: dict[str, Any] = {}
    stored = match.metadata or {}
    if include_all:
        depth = LEVEL_DEPTH[match.level]
        out.update(
            (key, _public(value, dicomweb_root)) for key, value in stored.items()
            if not key.startswith("0002") and LEVEL_DEPTH[level_of(int(key, 16))] <= depth
        )
    for tag in tags:
        key = f"{tag:08X}"
        if tag in match.values:
            out[key] = element(_vr(tag), match.values[tag])
        elif key in stored:
            out[key] = _public(stored[key], dicomweb_root)
    out["00080005"] = {"vr": "CS", "Value": ["ISO_IR 192"]}
    return dict(sorted(out.items()))
