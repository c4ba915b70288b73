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
from collections.abc import Callable
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
from pacsbox.pacs.store.header_walk import WalkedHeader, walk_header
from pacsbox.pacs.store.metadata import instance_metadata, walked_metadata
from pacsbox.pacs.store.raw_values import SharedValues, convert, plain_values
from pacsbox.pacs.store.series_status import expected_instances

__all__ = ["ParsedInstance", "dicom3_date", "dicom3_time", "fold_person_name", "parse_instance", "parse_walked"]

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


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, pydicom.multival.MultiValue | list):  # a list: several values `plain_values` read
        return "\\".join(str(v) for v in value).strip()
    return str(value).strip(" \x00")


def _converted_text(raw: RawDataElement, encoding: tuple[str, ...]) -> str:
    values = plain_values(raw.VR, raw.value, encoding)
    if values is None:
        return _value_text(convert(raw, encoding).value)
    return _value_text(values if len(values) > 1 else values[0])


_SHARED_TEXTS = SharedValues(_converted_text, max_entries=4096)

TextOf = Callable[[int], "str | None"]
"""The text of a tag's value in one instance; None when the instance lacks the tag."""


def _text(ds: Dataset, tag: int) -> str:
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


def _dataset_texts(ds: Dataset) -> TextOf:
    return lambda tag: _text(ds, tag) if tag in ds else None


def _walked_texts(header: WalkedHeader) -> TextOf:
    def text_of(tag: int) -> str | None:
        if tag not in header.elements:
            return None
        shared = header.shared(_SHARED_TEXTS, tag)
        return shared if shared is not None else _text(header.dataset(), tag)

    return text_of


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
    Bytes in the common encoding are walked without pydicom's reader
    (`header_walk`); anything that walk does not mirror exactly is read by pydicom.

    Raises:
        InvalidDicom: not DICOM, truncated header, a length past the end of the file, or a required
            UID missing or malformed.
    """
    if isinstance(source, bytes):
        return parse_walked(source) or _parse(io.BytesIO(source), len(source))
    with open(source, "rb") as stream:
        return _parse(stream, os.fstat(stream.fileno()).st_size)


def parse_walked(data: bytes) -> ParsedInstance | None:
    """The instance `parse_instance` makes of `data`, from `walk_header`; None where pydicom must read it.

    Everything the walk cannot answer as pydicom's reading would (a refusal included: its message is
    pydicom's path's to give) is left to that reading.
    """
    try:
        header = walk_header(data)
        if header is None:
            return None
        text_of = _walked_texts(header)
        return _instance(
            text_of, _uids(text_of), header.transfer_syntax, True,
            lambda study, series, sop: walked_metadata(header, header.transfer_syntax, study, series, sop),
        )
    except Exception:  # the reading below decides, and words any refusal
        return None


def _parse(stream: BinaryIO, size: int) -> ParsedInstance:
    try:
        ds = pydicom.dcmread(stream, defer_size=1024, force=True)
    except (InvalidDicomError, EOFError, ValueError, KeyError, TypeError, OverflowError) as error:
        raise InvalidDicom(f"not a readable DICOM file: {error}") from None
    except Exception as error:  # pydicom raises many kinds on hostile input; all mean "unreadable"
        raise InvalidDicom(f"not a readable DICOM file: {type(error).__name__}: {error}") from None
    check_lengths(stream, size, ds.file_meta, meta=True)
    has_meta = bool(ds.file_meta) and "TransferSyntaxUID" in ds.file_meta
    text_of = _dataset_texts(ds)
    try:
        uids = _uids(text_of)
    except Exception as error:
        raise InvalidDicom(f"not a readable DICOM file: {error}") from None
    if not has_meta and not uids["SOPClassUID"] and not uids["SOPInstanceUID"]:
        raise InvalidDicom("not a DICOM file: no DICM marker and no SOP Class or Instance UID")
    transfer_syntax = _transfer_syntax(ds)
    if transfer_syntax != DeflatedExplicitVRLittleEndian:  # inflated offsets are not file offsets
        check_lengths(stream, size, ds, meta=False)
    return _instance(
        text_of, uids, transfer_syntax, has_meta,
        lambda study, series, sop: instance_metadata(ds, transfer_syntax, study, series, sop),
    )


def _uids(text_of: TextOf) -> dict[str, str]:
    return {keyword: text_of(_tag(keyword)) or "" for keyword in _REQUIRED_UIDS}


def _instance(
    text_of: TextOf, uids: dict[str, str], transfer_syntax: str, has_meta: bool,
    metadata: Callable[[str, str, str], str],
) -> ParsedInstance:
    """The one place the index's attributes are read: from the texts of one instance's values by tag.

    Raises:
        InvalidDicom: a required UID missing or malformed, or a header whose DICOM JSON cannot be made.
    """
    for keyword, value in uids.items():
        if not value:
            raise InvalidDicom(f"{keyword} is missing: not a storable DICOM instance")
        if not _UID.match(value):
            raise InvalidDicom(f"{keyword} {value[:80]!r} is not a valid UID")

    def text(keyword: str) -> str:
        return text_of(_tag(keyword)) or ""

    def number(keyword: str) -> int | None:
        value = text(keyword)
        try:
            return int(float(value)) if value else None
        except ValueError:
            return None

    def date(keyword: str) -> str:  # DA as the index holds it: `yyyymmdd`, the pre-3.0 form rewritten
        return dicom3_date(text(keyword))[:8]

    def time(keyword: str) -> str:  # TM as the index holds it: `hhmmss.frac`, the pre-3.0 form rewritten
        return dicom3_time(text(keyword))[:16]

    patient_id = text("PatientID")
    ids = ResourceIds.of(patient_id, uids["StudyInstanceUID"], uids["SeriesInstanceUID"], uids["SOPInstanceUID"])
    frames = number("NumberOfFrames")
    try:
        metadata_json = metadata(uids["StudyInstanceUID"], uids["SeriesInstanceUID"], uids["SOPInstanceUID"])
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
        patient_name=text("PatientName"),
        birth_date=date("PatientBirthDate"),
        sex=text("PatientSex")[:16],
        study_date=date("StudyDate"),
        study_time=time("StudyTime"),
        accession_number=text("AccessionNumber"),
        study_description=text("StudyDescription"),
        referring_physician=text("ReferringPhysicianName"),
        study_id=text("StudyID"),
        modality=text("Modality")[:16],
        series_number=number("SeriesNumber"),
        series_description=text("SeriesDescription"),
        series_date=date("SeriesDate"),
        series_time=time("SeriesTime"),
        body_part=text("BodyPartExamined"),
        instance_number=number("InstanceNumber"),
        number_of_frames=frames if frames and frames > 0 else 1,
        has_file_meta=has_meta,
        metadata=metadata_json,
        expected_instances=expected_instances(lambda keyword: text_of(_tag(keyword))),
    )
