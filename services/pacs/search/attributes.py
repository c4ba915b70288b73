"""The attributes pacsbox can match and return without opening a file, per query level.

Each `Attribute` names the index column holding it. A query at one level may
match attributes of that level and of the levels above it (a series query may
match PatientName); the default return keys of PS3.18 tables 10.6.3-3 to -5
are listed per level in `DEFAULT_FIELDS`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword

from pacsbox.pacs.store.ids import Level

__all__ = ["ATTRIBUTES", "Attribute", "DEFAULT_FIELDS", "LEVEL_DEPTH", "Field", "at_level", "attribute_for", "parse_field"]

LEVEL_DEPTH = {Level.PATIENT: 0, Level.STUDY: 1, Level.SERIES: 2, Level.INSTANCE: 3}


@dataclass(frozen=True)
class Attribute:
    keyword: str
    tag: int
    vr: str
    level: Level
    column: str
    """SQL expression over the aliases p (patients), t (studies), s (series), i (instances)."""
    fuzzy_column: str = ""
    """Folded person-name words (PN only)."""
    computed: bool = False
    """Returned, not stored by the client (counts, ModalitiesInStudy): matched specially or not at all."""

    @property
    def hex(self) -> str:
        return f"{self.tag:08X}"


def _attr(keyword: str, level: Level, column: str, **extra: object) -> Attribute:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    return Attribute(keyword, tag, dictionary_VR(tag), level, column, **extra)  # type: ignore[arg-type]


_P, _T, _S, _I = Level.PATIENT, Level.STUDY, Level.SERIES, Level.INSTANCE

ATTRIBUTES: dict[int, Attribute] = {
    a.tag: a
    for a in (
        _attr("PatientName", _P, "p.patient_name", fuzzy_column="p.patient_name_key"),
        _attr("PatientID", _P, "p.patient_id"),
        _attr("PatientBirthDate", _P, "p.birth_date"),
        _attr("PatientSex", _P, "p.sex"),
        _attr("NumberOfPatientRelatedStudies", _P, "(SELECT COUNT(*) FROM studies x WHERE x.patient = p.id)", computed=True),
        _attr("NumberOfPatientRelatedSeries", _P, "(SELECT COALESCE(SUM(x.num_series), 0) FROM studies x WHERE x.patient = p.id)",
              computed=True),
        _attr("NumberOfPatientRelatedInstances", _P,
              "(SELECT COALESCE(SUM(x.num_instances), 0) FROM studies x WHERE x.patient = p.id)", computed=True),
        _attr("StudyInstanceUID", _T, "t.study_uid"),
        _attr("StudyDate", _T, "t.study_date"),
        _attr("StudyTime", _T, "t.study_time"),
        _attr("AccessionNumber", _T, "t.accession_number"),
        _attr("StudyDescription", _T, "t.description"),
        _attr("ReferringPhysicianName", _T, "t.referring_physician", fuzzy_column="t.referring_physician_key"),
        _attr("StudyID", _T, "t.study_id"),
        _attr("ModalitiesInStudy", _T, "t.modalities", computed=True),
        _attr("NumberOfStudyRelatedSeries", _T, "t.num_series", computed=True),
        _attr("NumberOfStudyRelatedInstances", _T, "t.num_instances", computed=True),
        _attr("SeriesInstanceUID", _S, "s.series_uid"),
        _attr("Modality", _S, "s.modality"),
        _attr("SeriesNumber", _S, "s.series_number"),
        _attr("SeriesDescription", _S, "s.description"),
        _attr("SeriesDate", _S, "s.series_date"),
        _attr("SeriesTime", _S, "s.series_time"),
        _attr("BodyPartExamined", _S, "s.body_part"),
        _attr("NumberOfSeriesRelatedInstances", _S, "s.num_instances", computed=True),
        _attr("SOPInstanceUID", _I, "i.sop_uid"),
        _attr("SOPClassUID", _I, "i.sop_class_uid"),
        _attr("InstanceNumber", _I, "i.instance_number"),
        _attr("NumberOfFrames", _I, "i.number_of_frames"),
    )
}

_BY_KEYWORD = {a.keyword: a for a in ATTRIBUTES.values()}

_STUDY_COPIES: dict[int, Attribute] = {
    a.tag: replace(a, column=column, fuzzy_column=fuzzy)
    for a, column, fuzzy in (
        (_BY_KEYWORD["PatientName"], "t.patient_name", "t.patient_name_key"),
        (_BY_KEYWORD["PatientBirthDate"], "t.patient_birth_date", ""),
        (_BY_KEYWORD["PatientSex"], "t.patient_sex", ""),
    )
}
"""Patient attributes as each study holds them. Studies that share a PatientID (an empty one, in
anonymised data) may name different people: a query at study level or below matches and returns
the study's own, as its instances give them; a patient-level query, the patient's latest."""


def at_level(attribute: Attribute, level: Level) -> Attribute:
    """The attribute as a query at `level` matches and returns it (the study's copy of a patient attribute)."""
    if level is Level.PATIENT:
        return attribute
    return _STUDY_COPIES.get(attribute.tag, attribute)


def attribute_for(name: str) -> Attribute | None:
    """The indexed attribute named by keyword (`PatientName`) or tag (`00100010`), or None."""
    if name in _BY_KEYWORD:
        return _BY_KEYWORD[name]
    tag = parse_field(name)
    return ATTRIBUTES.get(tag.tag) if tag else None


@dataclass(frozen=True)
class Field:
    """A requested return key: a tag, and the indexed attribute holding it when there is one."""

    tag: int
    keyword: str

    @property
    def hex(self) -> str:
        return f"{self.tag:08X}"


@lru_cache(maxsize=4096)  # bounded: clients choose the names, and unseen ones would grow it forever
def parse_field(name: str) -> Field | None:
    """`Field` for a keyword or an 8-digit hex tag; None when it names no attribute."""
    text = name.strip()
    if len(text) == 8 and all(c in "0123456789abcdefABCDEF" for c in text):
        tag = int(text, 16)
        return Field(tag, keyword_for_tag(tag) or text.upper())
    tag = tag_for_keyword(text)
    return Field(tag, text) if tag is not None else None


def _tags(*keywords: str) -> tuple[int, ...]:
    return tuple(tag_for_keyword(k) for k in keywords)  # type: ignore[misc]


_PATIENT_FIELDS = _tags("PatientName", "PatientID", "PatientBirthDate", "PatientSex")
_STUDY_FIELDS = _tags(
    "StudyDate", "StudyTime", "AccessionNumber", "ModalitiesInStudy", "ReferringPhysicianName",
    "StudyDescription", "StudyInstanceUID", "StudyID", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances",
    "TimezoneOffsetFromUTC",
)
_SERIES_FIELDS = _tags(
    "Modality", "SeriesDescription", "SeriesInstanceUID", "SeriesNumber", "SeriesDate", "SeriesTime",
    "NumberOfSeriesRelatedInstances", "TimezoneOffsetFromUTC",
)
_INSTANCE_FIELDS = _tags(
    "SOPClassUID", "SOPInstanceUID", "InstanceNumber", "NumberOfFrames", "Rows", "Columns", "BitsAllocated",
    "TimezoneOffsetFromUTC",
)

DEFAULT_FIELDS: dict[Level, tuple[int, ...]] = {
    Level.PATIENT: (*_PATIENT_FIELDS, tag_for_keyword("NumberOfPatientRelatedStudies")),  # type: ignore[misc]
    Level.STUDY: (*_PATIENT_FIELDS, *_STUDY_FIELDS),
    Level.SERIES: _SERIES_FIELDS,
    Level.INSTANCE: _INSTANCE_FIELDS,
}
"""Return keys per level (PS3.18 10.6.3.3); keys of the levels above join when a query is not scoped to them.
TimezoneOffsetFromUTC, "present if known" at every level, is read from the stored (first) instance."""
