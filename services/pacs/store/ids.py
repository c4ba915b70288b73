"""Orthanc's resource identifiers, so that clients written for Orthanc find our resources.

Orthanc names a patient, study, series or instance by the SHA-1 of its UIDs
joined with `|`, printed as five dash-separated groups of eight hex digits
(the `DicomInstanceHasher` of Orthanc's core). The values are stripped of
surrounding spaces first, as Orthanc does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Level", "ResourceIds", "orthanc_id"]


class Level(StrEnum):
    """Resource levels, named as Orthanc's REST API names them."""

    PATIENT = "Patient"
    STUDY = "Study"
    SERIES = "Series"
    INSTANCE = "Instance"

    @property
    def plural(self) -> str:
        """The REST collection name: patients, studies, series, instances."""
        return {"Patient": "patients", "Study": "studies", "Series": "series", "Instance": "instances"}[self.value]

    @classmethod
    def from_name(cls, name: str) -> Level:
        """`Level` from any spelling Orthanc clients use: `Study`, `study`, `studies`, `STUDY`."""
        for level in cls:
            if name.lower() in (level.value.lower(), level.plural):
                return level
        raise ValueError(f"unknown level {name!r}: expected Patient, Study, Series or Instance")


def orthanc_id(*values: str) -> str:
    """`orthanc_id("pid", "1.2.3")` -> `"xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx-xxxxxxxx"`."""
    digest = hashlib.sha1("|".join(v.strip() for v in values).encode()).hexdigest()
    return "-".join(digest[i : i + 8] for i in range(0, 40, 8))


@dataclass(frozen=True)
class ResourceIds:
    """The four Orthanc identifiers of one instance and its parents."""

    patient: str
    study: str
    series: str
    instance: str

    @classmethod
    def of(cls, patient_id: str, study_uid: str, series_uid: str, sop_uid: str) -> ResourceIds:
        return cls(
            patient=orthanc_id(patient_id),
            study=orthanc_id(patient_id, study_uid),
            series=orthanc_id(patient_id, study_uid, series_uid),
            instance=orthanc_id(patient_id, study_uid, series_uid, sop_uid),
        )
