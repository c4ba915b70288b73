"""The DICOM JSON kept at ingest equals pydicom's conversion of every element, for every pydicom test file,
with PS3.18 F.2.5's empty values (which pydicom writes as `[]` and `""`).

`instance_metadata` reuses the JSON of short values already seen in other
instances; this checks that the reuse never changes an answer, across the
character sets, VRs and broken headers of pydicom's own test files.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pydicom
import pytest

from pacsbox.pacs.store.metadata import BULK_PLACEHOLDER, BULK_THRESHOLD, instance_metadata

TEST_FILES = sorted(p for p in (Path(pydicom.__file__).parent / "data" / "test_files").rglob("*") if p.is_file())
_PIXEL = {0x7FE00008, 0x7FE00009, 0x7FE00010}


def _read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path, defer_size=1024, force=True)


def _pydicom_json(ds: pydicom.Dataset, base: str) -> dict[str, Any]:
    """Each element through pydicom's own `to_json_dict`; pixel data and group lengths are checked elsewhere."""
    out: dict[str, Any] = {}
    for tag in ds.keys():
        if tag in _PIXEL or tag.group == 0x0002 or tag.element == 0:
            continue
        try:
            element = ds[tag]
        except Exception:  # unreadable: left out
            continue
        try:
            out[f"{tag:08X}"] = element.to_json_dict(
                bulk_data_element_handler=lambda e: f"{base}{e.tag:08X}", bulk_data_threshold=BULK_THRESHOLD
            )
        except Exception:  # a value with no JSON form: kept with its VR alone
            out[f"{tag:08X}"] = {"vr": element.VR}
    return out


def _empty_values_as_f25(node: Any) -> Any:
    """pydicom's JSON as F.2.5 has it: no `"Value": []`, and null for an empty value among several."""
    if isinstance(node, dict):
        return {key: _empty_values_as_f25(value) for key, value in node.items() if (key, value) != ("Value", [])}
    if isinstance(node, list):
        return [None if value == "" else _empty_values_as_f25(value) for value in node]
    return node


def _readable() -> list[Path]:
    files = []
    for path in TEST_FILES:
        try:
            _pydicom_json(_read(path), "")
        except Exception:
            continue
        files.append(path)
    return files


@pytest.mark.parametrize("path", _readable(), ids=lambda p: p.name)
def test_metadata_matches_pydicom_even_when_values_are_reused(path: Path) -> None:
    base = f"{BULK_PLACEHOLDER}studies/1/series/2/instances/3/bulk/"
    expected = _empty_values_as_f25(_pydicom_json(_read(path), base))
    for _ in range(2):  # the second pass answers short values from what the first one kept
        ours = json.loads(instance_metadata(_read(path), "1.2.840.10008.1.2.1", "1", "2", "3"))
        ours.pop("00020010")
        ours = {tag: value for tag, value in ours.items() if int(tag, 16) not in _PIXEL}
        assert ours == expected
