"""What the index records of an instance equals pydicom's reading of it, first time and when values are reused."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pydicom
import pytest

from pacsbox.core.errors import InvalidDicom
from pacsbox.pacs.store.parse import ParsedInstance, parse_instance

TEST_FILES = sorted(p for p in (Path(pydicom.__file__).parent / "data" / "test_files").rglob("*") if p.is_file())

FIELDS = {
    "patient_id": "PatientID", "patient_name": "PatientName", "study_uid": "StudyInstanceUID",
    "series_uid": "SeriesInstanceUID", "sop_uid": "SOPInstanceUID", "sop_class_uid": "SOPClassUID",
    "accession_number": "AccessionNumber", "study_description": "StudyDescription",
    "referring_physician": "ReferringPhysicianName", "study_id": "StudyID", "series_description": "SeriesDescription",
    "body_part": "BodyPartExamined",
}


def _pydicom_text(ds: pydicom.Dataset, keyword: str) -> str:
    """The value as pydicom gives it, multiple values joined with a backslash, padding removed."""
    try:
        value = ds[keyword].value if keyword in ds else None
    except Exception:
        return ""
    if value is None:
        return ""
    if isinstance(value, pydicom.multival.MultiValue):
        return "\\".join(str(v) for v in value).strip()
    return str(value).strip(" \x00")


def _parsed(path: Path) -> ParsedInstance | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return parse_instance(path)
        except InvalidDicom:
            return None


def _storable() -> list[Path]:
    return [path for path in TEST_FILES if _parsed(path) is not None]


@pytest.mark.parametrize("path", _storable(), ids=lambda p: p.name)
def test_indexed_values_match_pydicom(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, force=True)
    expected: dict[str, Any] = {field: _pydicom_text(ds, keyword) for field, keyword in FIELDS.items()}
    for _ in range(2):  # the second parse answers short values from what the first one kept
        parsed = _parsed(path)
        assert parsed is not None
        assert {field: getattr(parsed, field) for field in FIELDS} == expected
