"""Orthanc's JSON description of a patient, study, series or instance (`GET /{level}/{id}`, `?expand`).

MainDicomTags are Orthanc's default main tags of each level. Indexed values
come from the index (what searches match), the others from the DICOM JSON
stored at ingest for the instance (or, above it, the first instance). A tag
absent from the stored dataset is absent from MainDicomTags, as in Orthanc.
`IsStable` turns true once no instance arrived for `PACSBOX_STABLE_AGE`
seconds (`store.stability`). A series' ExpectedNumberOfInstances comes from its first instance's main tags
and its `Status` from its instance numbers (`store.series_status`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from pydicom.datadict import tag_for_keyword

from pacsbox.core.dicom import text_values
from pacsbox.core.errors import NotFound
from pacsbox.pacs.rest.tags import element_text
from pacsbox.pacs.search import ATTRIBUTES, Match, SearchQuery, search
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.store.resources import ResourceRow, instance_numbers, read_resource_rows
from pacsbox.pacs.store.series_status import expected_instances, series_status

__all__ = ["MAIN_TAGS", "describe_resource", "describe_resources", "file_uuid", "orthanc_date", "tag_values"]

MAIN_TAGS: dict[Level, tuple[str, ...]] = {
    Level.PATIENT: ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "OtherPatientIDs"),
    Level.STUDY: (
        "StudyDate", "StudyTime", "StudyID", "StudyDescription", "AccessionNumber", "StudyInstanceUID",
        "RequestedProcedureDescription", "InstitutionName", "RequestingPhysician", "ReferringPhysicianName",
    ),
    Level.SERIES: (
        "SeriesDate", "SeriesTime", "Modality", "Manufacturer", "StationName", "SeriesDescription",
        "BodyPartExamined", "SequenceName", "ProtocolName", "SeriesNumber", "CardiacNumberOfImages",
        "ImagesInAcquisition", "NumberOfTemporalPositions", "NumberOfSlices", "NumberOfTimeSlices",
        "SeriesInstanceUID", "ImageOrientationPatient", "SeriesType", "OperatorsName",
        "PerformedProcedureStepDescription", "AcquisitionDeviceProcessingDescription", "ContrastBolusAgent",
    ),
    Level.INSTANCE: (
        "InstanceCreationDate", "InstanceCreationTime", "AcquisitionNumber", "ImageIndex", "InstanceNumber",
        "NumberOfFrames", "TemporalPositionIdentifier", "SOPInstanceUID", "ImagePositionPatient",
        "ImageComments", "ImageOrientationPatient",
    ),
}
"""Orthanc's default main DICOM tags per level."""

_BATCH = 500
"""IDs per query (SQLite allows a limited number of parameters)."""
_CHILDREN = {Level.PATIENT: "Studies", Level.STUDY: "Series", Level.SERIES: "Instances"}
_PARENT = {Level.STUDY: "ParentPatient", Level.SERIES: "ParentStudy", Level.INSTANCE: "ParentSeries"}
_FILE_NAMESPACE = uuid.UUID("1f6bdc5e-6a43-4b4a-9d1e-2f0c2bb0b3a1")


def _tags(keywords: Iterable[str]) -> list[int]:
    return [tag_for_keyword(k) for k in keywords]  # type: ignore[misc]


def file_uuid(relative_path: str) -> str:
    """The UUID Orthanc gives an instance's file (`FileUuid`, the attachment's `Uuid`): one per stored path."""
    return str(uuid.uuid5(_FILE_NAMESPACE, relative_path))


def orthanc_date(row: ResourceRow) -> str:
    """Orthanc's timestamp form, `YYYYMMDDTHHMMSS` (UTC)."""
    return row.last_update.strftime("%Y%m%dT%H%M%S")


def tag_values(match: Match, keywords: Iterable[str]) -> dict[str, str | None]:
    """Values of `keywords` in Orthanc's string form, from the index or else the stored DICOM JSON.

    A tag the stored dataset lacks is left out, as Orthanc leaves it out;
    binary values are None. Computed tags (counts, ModalitiesInStudy) are
    in no stored dataset: they come from the index, multiple values joined
    with a backslash (`CT\\MR`).
    """
    stored = match.metadata
    out: dict[str, str | None] = {}
    for keyword in keywords:
        tag = tag_for_keyword(keyword)
        indexed = match.values.get(tag)  # type: ignore[arg-type]
        attribute = ATTRIBUTES.get(tag)  # type: ignore[arg-type]
        if attribute is not None and attribute.computed:
            if indexed is not None:
                out[keyword] = "\\".join(text_values(str(indexed)))
            continue
        if stored is None:  # no stored dataset to consult: the index alone
            if indexed is not None:
                out[keyword] = str(indexed)
            continue
        element = stored.get(f"{tag:08X}")
        if element is None or element.get("vr") == "SQ":
            continue
        out[keyword] = str(indexed) if indexed not in (None, "") else element_text(element)
    return out


def _document(level: Level, row: ResourceRow, match: Match) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "ID": row.public_id,
        "Type": level.value,
        "IsStable": row.stable,
        "LastUpdate": orthanc_date(row),
        "Labels": [],
        "MainDicomTags": tag_values(match, MAIN_TAGS[level]),
    }
    if level in _PARENT:
        doc[_PARENT[level]] = row.parent
    if level in _CHILDREN:
        doc[_CHILDREN[level]] = list(row.children)
    if level is Level.STUDY:
        doc["PatientMainDicomTags"] = tag_values(match, MAIN_TAGS[Level.PATIENT])
    if level is Level.SERIES:
        doc["ExpectedNumberOfInstances"] = expected_instances(doc["MainDicomTags"].get)
    if level is Level.INSTANCE:
        doc["FileSize"] = row.file_size
        doc["FileUuid"] = file_uuid(row.path)
        doc["IndexInSeries"] = row.instance_number
    return doc


async def describe_resources(level: Level, public_ids: list[str]) -> list[dict[str, Any]]:
    """Orthanc's description of each known resource of `public_ids`, in that order (unknown IDs left out)."""
    keywords = MAIN_TAGS[level] + (MAIN_TAGS[Level.PATIENT] if level is Level.STUDY else ())
    documents: list[dict[str, Any]] = []
    for start in range(0, len(public_ids), _BATCH):
        batch = public_ids[start : start + _BATCH]
        rows = await read_resource_rows(level, batch)
        query = SearchQuery(level=level, public_ids=tuple(batch))
        matches = {m.public_id: m for m in await search(query, _tags(keywords), extra_tags=True)}
        found = [_document(level, rows[i], matches[i]) for i in batch if i in rows and i in matches]
        if level is Level.SERIES:
            numbers = await instance_numbers([doc["ID"] for doc in found])
            for doc in found:
                doc["Status"] = series_status(doc["ExpectedNumberOfInstances"], numbers[doc["ID"]])
        documents += found
    return documents


async def describe_resource(level: Level, public_id: str) -> dict[str, Any]:
    """Orthanc's description of one resource.

    Raises:
        NotFound: no such resource.
    """
    found = await describe_resources(level, [public_id])
    if not found:
        raise NotFound(f"{level.value} {public_id} is not stored here")
    return found[0]
