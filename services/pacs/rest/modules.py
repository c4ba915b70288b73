"""Parts of a stored dataset in Orthanc's tags forms: a DICOM module of a resource, a file's meta information.

    GET /patients/{id}/module          the Patient module (PS3.3 C.7.1.1) of the patient's first instance
    GET /studies/{id}/module           the General Study module (C.7.2.1) of the study's first instance
    GET /studies/{id}/module-patient   the Patient module, from the study's first instance
    GET /series/{id}/module            the General Series module (C.7.3.1) of the series' first instance
    GET /instances/{id}/module         the SOP Common module (C.12.1) of the instance
    GET /instances/{id}/header         the file meta information (PS3.10 7.1), group length included

Each answers Orthanc's full form (`pacsbox.pacs.rest.tags`); `?simplify` or
`?short` as `/instances/{id}/tags`. These are the routes and attribute lists
of Orthanc 1.10.1, with two differences: the series module names Largest
Pixel Value in Series (0028,0109), where Orthanc names the private
(0029,0109); and an ID of another level answers 404, where Orthanc answers
the module of that resource's first instance. "First instance" is in
series then instance number order (Orthanc takes whichever its index lists
first). The header leaves binary values out, as Orthanc does.
"""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.handlers import HTTPRouteHandler
from pydicom.datadict import tag_for_keyword

from pacsbox.core.errors import NotFound
from pacsbox.pacs.rest.tags import full_tags, tags_in_asked_form
from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.file_meta import read_file_meta
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.store.reader import find_instance_by_id, find_instances_of

__all__ = ["MODULE_ROUTES", "MODULES"]

_PATIENT = (
    "PatientName", "PatientID", "IssuerOfPatientID", "IssuerOfPatientIDQualifiersSequence", "PatientBirthDate",
    "PatientBirthTime", "PatientSex", "ReferencedPatientSequence", "OtherPatientIDs", "OtherPatientIDsSequence",
    "OtherPatientNames", "EthnicGroup", "PatientComments", "PatientSpeciesDescription", "PatientSpeciesCodeSequence",
    "PatientBreedDescription", "PatientBreedCodeSequence", "BreedRegistrationSequence", "ResponsiblePerson",
    "ResponsiblePersonRole", "ResponsibleOrganization", "PatientIdentityRemoved", "DeidentificationMethod",
    "DeidentificationMethodCodeSequence",
)
_STUDY = (
    "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "ReferringPhysicianIdentificationSequence",
    "StudyID", "AccessionNumber", "IssuerOfAccessionNumberSequence", "StudyDescription", "PhysiciansOfRecord",
    "PhysiciansOfRecordIdentificationSequence", "NameOfPhysiciansReadingStudy",
    "PhysiciansReadingStudyIdentificationSequence", "RequestingServiceCodeSequence", "ReferencedStudySequence",
    "ProcedureCodeSequence", "ReasonForPerformedProcedureCodeSequence",
)
_SERIES = (
    "Modality", "SeriesInstanceUID", "SeriesNumber", "Laterality", "SeriesDate", "SeriesTime",
    "PerformingPhysicianName", "PerformingPhysicianIdentificationSequence", "ProtocolName", "SeriesDescription",
    "SeriesDescriptionCodeSequence", "OperatorsName", "OperatorIdentificationSequence",
    "ReferencedPerformedProcedureStepSequence", "RelatedSeriesSequence", "BodyPartExamined", "PatientPosition",
    "SmallestPixelValueInSeries", "LargestPixelValueInSeries", "RequestAttributesSequence",
    "AnatomicalOrientationType", "PerformedProcedureStepID", "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartTime", "PerformedProcedureStepDescription", "PerformedProtocolCodeSequence",
    "CommentsOnThePerformedProcedureStep",
)
_SOP_COMMON = (
    "SOPClassUID", "SOPInstanceUID", "SpecificCharacterSet", "InstanceCreationDate", "InstanceCreationTime",
    "InstanceCreatorUID", "RelatedGeneralSOPClassUID", "OriginalSpecializedSOPClassUID",
    "CodingSchemeIdentificationSequence", "TimezoneOffsetFromUTC", "ContributingEquipmentSequence", "InstanceNumber",
    "SOPInstanceStatus", "SOPAuthorizationDateTime", "SOPAuthorizationComment",
    "AuthorizationEquipmentCertificationNumber", "EncryptedAttributesSequence", "OriginalAttributesSequence",
    "HL7StructuredDocumentReferenceSequence", "LongitudinalTemporalInformationModified", "MACParametersSequence",
)
"""Orthanc lists the Digital Signatures Sequence (FFFA,FFFA) too, but never shows it (DCMTK drops it)."""


def _keys(keywords: tuple[str, ...]) -> frozenset[str]:
    """DICOM JSON keys (`GGGGEEEE`) of `keywords`."""
    return frozenset(f"{tag_for_keyword(keyword):08X}" for keyword in keywords)


MODULES: dict[tuple[Level, str], frozenset[str]] = {
    (Level.PATIENT, "module"): _keys(_PATIENT),
    (Level.STUDY, "module"): _keys(_STUDY),
    (Level.STUDY, "module-patient"): _keys(_PATIENT),
    (Level.SERIES, "module"): _keys(_SERIES),
    (Level.INSTANCE, "module"): _keys(_SOP_COMMON),
}
"""The attributes each module route answers (Orthanc's lists, from PS3.3), as DICOM JSON keys."""


def _module_route(level: Level, route: str, keys: frozenset[str]) -> HTTPRouteHandler:
    @get(f"/{level.plural}/{{public_id:str}}/{route}", operation_id=f"Get{level.value}{route.title().replace('-', '')}")
    async def module(
        request: Request, store: NamedDependency[InstanceStore], public_id: FromPath[str]
    ) -> dict[str, Any]:
        """The module's attributes that the resource's first instance has."""
        found = await find_instances_of(store.storage.root, level, [public_id], with_metadata=True, limit=1)
        if not found:
            raise NotFound(f"{level.value} {public_id} is not stored here")
        dataset = json.loads(found[0].metadata) if found[0].metadata else {}
        part = {key: element for key, element in dataset.items() if key in keys}
        return tags_in_asked_form(request.query_params, full_tags(part))

    return module


@get("/instances/{public_id:str}/header", operation_id="GetInstanceHeader")
async def get_instance_header(
    request: Request, store: NamedDependency[InstanceStore], public_id: FromPath[str]
) -> dict[str, Any]:
    """The stored file's meta information (group 0002) but binary values."""
    instance = await find_instance_by_id(store.storage.root, public_id)
    meta = await anyio.to_thread.run_sync(read_file_meta, instance.path)
    tags = {key: entry for key, entry in full_tags(meta, file_meta=True).items() if entry["Type"] != "Null"}
    return tags_in_asked_form(request.query_params, tags)


MODULE_ROUTES = [*(_module_route(level, route, keys) for (level, route), keys in MODULES.items()), get_instance_header]
