"""Reading an incoming file's header: the attributes the index needs, and its DICOM JSON.

Only the header is parsed: pixel data and other large values are left on disk
(`defer_size`), their position noted. A file that pydicom cannot read, or that
lacks the four UIDs every stored instance needs, is refused with `InvalidDicom`
naming what is wrong. So is a file whose File Meta Information Group Length or
any top-level element length points past its end (`lengths.check_lengths`).
"""

from __future__ import annotations

import functools
import io
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pydicom
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from pacsbox.core.errors import InvalidDicom
from pacsbox.pacs.store.ids import ResourceIds
from pacsbox.pacs.store.lengths import check_lengths
from pacsbox.pacs.store.metadata import instance_metadata
from pacsbox.pacs.store.raw_values import SharedValues, convert
from pacsbox.pacs.store.series_status import expected_instances

__all__ = ["ParsedInstance", "dicom3_date", "dicom3_time", "fold_person_name", "parse_instance"]

# Real-world headers break the standard in small ways: store them, do not warn per value.
pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE

_REQUIRED_UIDS = ("SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID")
_UID = re.compile(r"^[0-9A-Za-z._-]{1,64}$")
_LEGACY_DATE = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})$")
_LEGACY_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


@dataclass(frozen=True)
class ParsedInstance:
    """What the index stores about one instance, read from its header."""

    ids: ResourceIds
    sop_class_uid: str
    sop_uid: str
    study_uid: str
    series_uid: str
    transfer_syntax: str
    patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    study_date: str
    study_time: str
    accession_number: str
    study_description: str
    referring_physician: str
    study_id: str
    modality: str
    series_number: int | None
    series_description: str
    series_date: str
    series_time: str
    body_part: str
    instance_number: int | None
    number_of_frames: int
    has_file_meta: bool
    metadata: str
    """Instance DICOM JSON (PS3.18 F.2), bulk data as `pacsbox:bulk/...` BulkDataURIs."""
    expected_instances: int | None = None
    """How many instances its series should have, as its count tags say (`series_status`)."""


def fold_person_name(name: str) -> str:
    """` doe john ` from `Doe^John` or `Dóe^JOHN`: lower-case words without accents, space-delimited.

    Fuzzy matching (QIDO `fuzzymatching=true`) compares query words against these
    words as prefixes, so the key starts and ends with a space.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    words = [w for w in re.split(r"[\^=\s,]+", plain) if w]
    return " " + " ".join(words) + " " if words else ""


@functools.cache
def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    return tag


def dicom3_date(text: str) -> str:
    """`yyyymmdd` for the pre-3.0 form `yyyy.mm.dd` (PS3.5 6.2 asks readers to accept it); other text unchanged."""
    return _LEGACY_DATE.sub(r"\1\2\3", text)


def dicom3_time(text: str) -> str:
    """`hhmmss.frac` for the pre-3.0 form `hh:mm:ss.frac` (PS3.5 6.2); other text unchanged."""
    return text.replace(":", "") if _LEGACY_TIME.match(text) else text


def _date(ds: Dataset, keyword: str) -> str:
    """A DA value as the index holds it: `yyyymmdd`, the pre-3.0 form rewritten."""
    return dicom3_date(_text(ds, keyword))[:8]


def _time(ds: Dataset, keyword: str) -> str:
    """A TM value as the index holds it: `hhmmss.frac`, the pre-3.0 form rewritten."""
    return dicom3_time(_text(ds, keyword))[:16]


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, pydicom.multival.MultiValue):
        return "\\".join(str(v) for v in value).strip()
    return str(value).strip(" \x00")


def _converted_text(raw: RawDataElement, encoding: tuple[str, ...]) -> str:
    return _value_text(convert(raw, encoding).value)


_SHARED_TEXTS = SharedValues(_converted_text, max_entries=4096)


def _text(ds: Dataset, keyword: str) -> str:
    tag = _tag(keyword)
    shared = _SHARED_TEXTS.of(ds, tag)
    if shared is not None:
        return shared
    if tag not in ds:
        return ""
    try:
        value = ds[tag].value
    except Exception:  # a value pydicom cannot decode is indexed as empty, the file kept
        return ""
    return _value_text(value)


def _number(ds: Dataset, keyword: str) -> int | None:
    text = _text(ds, keyword)
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def _transfer_syntax(ds: Dataset) -> str:
    meta_ts = ds.file_meta.get("TransferSyntaxUID") if ds.file_meta else None
    if meta_ts:
        return str(meta_ts).strip(" \x00")
    implicit, little = ds.original_encoding
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little else ExplicitVRBigEndian


def parse_instance(source: Path | bytes) -> ParsedInstance:
    """Parse the header of a file, given by its path or as its whole bytes.

    From bytes, parsing makes no system call: each seek or read of a file
    would release the GIL and, with other threads busy, wait to take it back.

    Raises:
        InvalidDicom: not DICOM, truncated header, a length past the end of the file, or a required
            UID missing or malformed.
    """
    if isinstance(source, bytes):
        return _parse(io.BytesIO(source), len(source))
    with open(source, "rb") as stream:
        return _parse(stream, os.fstat(stream.fileno()).st_size)


def _parse(stream: BinaryIO, size: int) -> ParsedInstance:
    try:
        ds = pydicom.dcmread(stream, defer_size=1024, force=True)
    except (InvalidDicomError, EOFError, ValueError, KeyError, TypeError, OverflowError) as error:
        raise InvalidDicom(f"not a readable DICOM file: {error}") from None
    except Exception as error:  # pydicom raises many kinds on hostile input; all mean "unreadable"
        raise InvalidDicom(f"not a readable DICOM file: {type(error).__name__}: {error}") from None
    check_lengths(stream, size, ds.file_meta, meta=True)
    has_meta = bool(ds.file_meta) and "TransferSyntaxUID" in ds.file_meta
    try:
        uids = {k: _text(ds, k) for k in _REQUIRED_UIDS}
    except Exception as error:
        raise InvalidDicom(f"not a readable DICOM file: {error}") from None
    if not has_meta and not uids["SOPClassUID"] and not uids["SOPInstanceUID"]:
        raise InvalidDicom("not a DICOM file: no DICM marker and no SOP Class or Instance UID")
    if _transfer_syntax(ds) != DeflatedExplicitVRLittleEndian:  # inflated offsets are not file offsets
        check_lengths(stream, size, ds, meta=False)
    for keyword, value in uids.items():
        if not value:
            raise InvalidDicom(f"{keyword} is missing: not a storable DICOM instance")
        if not _UID.match(value):
            raise InvalidDicom(f"{keyword} {value[:80]!r} is not a valid UID")
    patient_id = _text(ds, "PatientID")
    ids = ResourceIds.of(patient_id, uids["StudyInstanceUID"], uids["SeriesInstanceUID"], uids["SOPInstanceUID"])
    transfer_syntax = _transfer_syntax(ds)
    frames = _number(ds, "NumberOfFrames")
    try:
        metadata = instance_metadata(ds, transfer_syntax, uids["StudyInstanceUID"], uids["SeriesInstanceUID"], uids["SOPInstanceUID"])
    except Exception as error:
        raise InvalidDicom(f"header cannot be read: {type(error).__name__}: {error}") from None
    return ParsedInstance(
        ids=ids,
        sop_class_uid=uids["SOPClassUID"],
        sop_uid=uids["SOPInstanceUID"],
        study_uid=uids["StudyInstanceUID"],
        series_uid=uids["SeriesInstanceUID"],
        transfer_syntax=transfer_syntax,
        patient_id=patient_id,
        patient_name=_text(ds, "PatientName"),
        birth_date=_date(ds, "PatientBirthDate"),
        sex=_text(ds, "PatientSex")[:16],
        study_date=_date(ds, "StudyDate"),
        study_time=_time(ds, "StudyTime"),
        accession_number=_text(ds, "AccessionNumber"),
        study_description=_text(ds, "StudyDescription"),
        referring_physician=_text(ds, "ReferringPhysicianName"),
        study_id=_text(ds, "StudyID"),
        modality=_text(ds, "Modality")[:16],
        series_number=_number(ds, "SeriesNumber"),
        series_description=_text(ds, "SeriesDescription"),
        series_date=_date(ds, "SeriesDate"),
        series_time=_time(ds, "SeriesTime"),
        body_part=_text(ds, "BodyPartExamined"),
        instance_number=_number(ds, "InstanceNumber"),
        number_of_frames=frames if frames and frames > 0 else 1,
        has_file_meta=has_meta,
        metadata=metadata,
        expected_instances=expected_instances(lambda keyword: _text(ds, keyword) if _tag(keyword) in ds else None),
    )
