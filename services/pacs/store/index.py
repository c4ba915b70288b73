"""Writing the index: one transaction per stored or deleted resource.

The only module that inserts, updates or deletes patients, studies, series and
instances. It keeps each level's counts (`num_series`, `num_instances`) and a
study's ModalitiesInStudy current, removes parents left empty by a deletion,
and appends to the change log. Callers hold the file side: `index_instance`
runs after the file is durable under its final name; the files of a deletion
are removed after `delete_resource` has committed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pacsbox.core.db import statements_together, write_transaction
from pacsbox.core.errors import NotFound
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.store.parse import ParsedInstance, fold_person_name
from pacsbox.pacs.tables import Change, Instance, Patient, Series, Study

__all__ = ["IndexStatus", "Origin", "delete_resource", "index_instance", "stored_instance"]


class IndexStatus(StrEnum):
    """Orthanc's answer to a store: a new instance, or one it already had."""

    SUCCESS = "Success"
    ALREADY_STORED = "AlreadyStored"


@dataclass(frozen=True)
class Origin:
    """Where an instance came from, recorded with it."""

    kind: str
    """REST, DICOMweb, DIMSE or Import."""
    aet: str = ""
    address: str = ""
    user: str = ""


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


async def _one(sql: str, *args: Any) -> dict[str, Any] | None:
    rows = await Patient.raw(sql, *args)
    return rows[0] if rows else None


async def _change(change_type: str, level: Level, public_id: str, now: datetime.datetime) -> None:
    await Change.raw(
        "INSERT INTO changes (change_type, resource_type, public_id, date) VALUES ({}, {}, {}, {})",
        change_type, level.value, public_id, now,
    )


async def stored_instance(sop_uid: str) -> dict[str, Any] | None:
    """The index row of an instance by SOP Instance UID (public_id, path, checksum...)."""
    return await _one("SELECT id, public_id, path, series, checksum, file_size FROM instances WHERE sop_uid = {}", sop_uid)


def _patient_values(p: ParsedInstance) -> tuple[Any, ...]:
    return (p.patient_id, p.patient_name, fold_person_name(p.patient_name), p.birth_date, p.sex)


def _study_values(p: ParsedInstance) -> tuple[Any, ...]:
    return (
        p.study_date, p.study_time, p.accession_number, p.study_description,
        p.referring_physician, fold_person_name(p.referring_physician), p.study_id,
    )


def _series_values(p: ParsedInstance) -> tuple[Any, ...]:
    return (p.modality, p.series_number, p.series_description, p.series_date, p.series_time, p.body_part)


async def _known_parents(p: ParsedInstance) -> tuple[int, int, int] | None:
    """Patient, study and series rows in one query, when all three exist unchanged (the common case)."""
    row = await _one(
        "SELECT p.id AS p_id, p.public_id AS p_public, p.patient_id, p.patient_name, p.patient_name_key,"
        " p.birth_date, p.sex, t.id AS t_id, t.public_id AS t_public, t.study_date, t.study_time,"
        " t.accession_number, t.description AS t_description, t.referring_physician, t.referring_physician_key,"
        " t.study_id, s.id AS s_id, s.public_id AS s_public, s.modality, s.series_number,"
        " s.description AS s_description, s.series_date, s.series_time, s.body_part"
        " FROM series s JOIN studies t ON s.study = t.id JOIN patients p ON t.patient = p.id WHERE s.series_uid = {}",
        p.series_uid,
    )
    if row is None or (row["p_public"], row["t_public"], row["s_public"]) != (p.ids.patient, p.ids.study, p.ids.series):
        return None
    stored = (
        (row["patient_id"], row["patient_name"], row["patient_name_key"], row["birth_date"], row["sex"]),
        (row["study_date"], row["study_time"], row["accession_number"], row["t_description"],
         row["referring_physician"], row["referring_physician_key"], row["study_id"]),
        (row["modality"], row["series_number"], row["s_description"], row["series_date"], row["series_time"],
         row["body_part"]),
    )
    if stored != (_patient_values(p), _study_values(p), _series_values(p)):
        return None
    return row["p_id"], row["t_id"], row["s_id"]


async def _patient(p: ParsedInstance, now: datetime.datetime) -> int:
    values = _patient_values(p)
    row = await _one(
        "SELECT id, patient_id, patient_name, patient_name_key, birth_date, sex FROM patients WHERE public_id = {}",
        p.ids.patient,
    )
    if row is None:
        row = await _one(
            "INSERT INTO patients (public_id, patient_id, patient_name, patient_name_key, birth_date, sex, last_update)"
            " VALUES ({}, {}, {}, {}, {}, {}, {}) ON CONFLICT (public_id) DO NOTHING RETURNING id",
            p.ids.patient, *values, now,
        )
        if row is not None:
            await _change("NewPatient", Level.PATIENT, p.ids.patient, now)
            return row["id"]
        return await _patient(p, now)
    stored = (row["patient_id"], row["patient_name"], row["patient_name_key"], row["birth_date"], row["sex"])
    if stored != values:
        await Patient.raw(
            "UPDATE patients SET patient_id = {}, patient_name = {}, patient_name_key = {}, birth_date = {},"
            " sex = {}, last_update = {} WHERE id = {}",
            *values, now, row["id"],
        )
    return row["id"]


async def _study(p: ParsedInstance, patient: int, now: datetime.datetime) -> int:
    values = _study_values(p)
    row = await _one(
        "SELECT id, study_date, study_time, accession_number, description, referring_physician,"
        " referring_physician_key, study_id FROM studies WHERE study_uid = {}",
        p.study_uid,
    )
    if row is None:
        row = await _one(
            "INSERT INTO studies (public_id, patient, study_uid, study_date, study_time, accession_number,"
            " description, referring_physician, referring_physician_key, study_id, modalities, num_series,"
            " num_instances, last_update) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, '', 0, 0, {})"
            " ON CONFLICT (study_uid) DO NOTHING RETURNING id",
            p.ids.study, patient, p.study_uid, *values, now,
        )
        if row is not None:
            await _change("NewStudy", Level.STUDY, p.ids.study, now)
            return row["id"]
        return await _study(p, patient, now)
    stored = tuple(row[k] for k in (
        "study_date", "study_time", "accession_number", "description",
        "referring_physician", "referring_physician_key", "study_id",
    ))
    if stored != values:
        await Study.raw(
            "UPDATE studies SET study_date = {}, study_time = {}, accession_number = {}, description = {},"
            " referring_physician = {}, referring_physician_key = {}, study_id = {}, last_update = {} WHERE id = {}",
            *values, now, row["id"],
        )
    return row["id"]


async def _series(p: ParsedInstance, study: int, now: datetime.datetime) -> int:
    values = _series_values(p)
    row = await _one(
        "SELECT id, modality, series_number, description, series_date, series_time, body_part"
        " FROM series WHERE series_uid = {}",
        p.series_uid,
    )
    if row is None:
        row = await _one(
            "INSERT INTO series (public_id, study, series_uid, modality, series_number, description, series_date,"
            " series_time, body_part, num_instances, last_update) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, 0, {})"
            " ON CONFLICT (series_uid) DO NOTHING RETURNING id",
            p.ids.series, study, p.series_uid, *values, now,
        )
        if row is not None:
            await Study.raw("UPDATE studies SET num_series = num_series + 1 WHERE id = {}", study)
            await _refresh_modalities(study)
            await _change("NewSeries", Level.SERIES, p.ids.series, now)
            return row["id"]
        return await _series(p, study, now)
    stored = tuple(row[k] for k in ("modality", "series_number", "description", "series_date", "series_time", "body_part"))
    if stored != values:
        await Series.raw(
            "UPDATE series SET modality = {}, series_number = {}, description = {}, series_date = {},"
            " series_time = {}, body_part = {}, last_update = {} WHERE id = {}",
            *values, now, row["id"],
        )
        if stored[0] != p.modality:
            await _refresh_modalities(study)
    return row["id"]


async def _refresh_modalities(study: int) -> None:
    rows = await Series.raw("SELECT DISTINCT modality FROM series WHERE study = {} AND modality != ''", study)
    modalities = sorted(r["modality"] for r in rows)
    joined = "\\" + "\\".join(modalities) + "\\" if modalities else ""
    await Study.raw("UPDATE studies SET modalities = {} WHERE id = {}", joined, study)


async def index_instance(
    p: ParsedInstance, *, path: str, size: int, md5: str, origin: Origin
) -> tuple[IndexStatus, str | None]:
    """Record a stored instance; returns its status and a file path that is no longer used.

    A SOP Instance UID already indexed is replaced in place (same file path),
    or, if its patient, study or series changed, moved: the old row goes and
    the old file path is returned for removal after the commit.
    """
    now = _now()
    obsolete: str | None = None
    async with write_transaction(Patient._meta.db):
        # Statements that do not depend on each other are queued together: the
        # database thread runs them back to back without waiting for the event loop.
        existing, parents = await statements_together(
            Patient._meta.db, stored_instance(p.sop_uid), _known_parents(p)
        )
        if existing is not None and existing["public_id"] != p.ids.instance:
            obsolete = existing["path"]
            await _delete_rows(Level.INSTANCE, existing["public_id"], now)
            existing, parents = None, None
        if parents is None:
            patient = await _patient(p, now)
            study = await _study(p, patient, now)
            series = await _series(p, study, now)
        else:
            patient, study, series = parents
        columns = (
            p.sop_class_uid, p.instance_number, p.number_of_frames, p.transfer_syntax, size, md5, path, now,
            origin.kind, origin.aet[:16], origin.address, origin.user, p.metadata,
        )
        if existing is None:
            await statements_together(
                Patient._meta.db,
                Instance.raw(
                    "INSERT INTO instances (public_id, series, sop_uid, sop_class_uid, instance_number,"
                    " number_of_frames, transfer_syntax, file_size, checksum, path, received_at, origin, origin_aet,"
                    " origin_address, origin_user, metadata)"
                    " VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                    p.ids.instance, series, p.sop_uid, *columns,
                ).run(),
                Series.raw(
                    "UPDATE series SET num_instances = num_instances + 1, last_update = {} WHERE id = {}", now, series
                ).run(),
                Study.raw(
                    "UPDATE studies SET num_instances = num_instances + 1, last_update = {} WHERE id = {}", now, study
                ).run(),
                _change("NewInstance", Level.INSTANCE, p.ids.instance, now),
            )
            return IndexStatus.SUCCESS, obsolete
        await Instance.raw(
            "UPDATE instances SET sop_class_uid = {}, instance_number = {}, number_of_frames = {},"
            " transfer_syntax = {}, file_size = {}, checksum = {}, path = {}, received_at = {}, origin = {},"
            " origin_aet = {}, origin_address = {}, origin_user = {}, metadata = {} WHERE id = {}",
            *columns, existing["id"],
        )
        return IndexStatus.ALREADY_STORED, obsolete


_TABLE = {Level.PATIENT: "patients", Level.STUDY: "studies", Level.SERIES: "series", Level.INSTANCE: "instances"}
_FILES_OF = {
    Level.INSTANCE: "SELECT i.path FROM instances i WHERE i.id = {}",
    Level.SERIES: "SELECT i.path FROM instances i WHERE i.series = {}",
    Level.STUDY: "SELECT i.path FROM instances i JOIN series s ON i.series = s.id WHERE s.study = {}",
    Level.PATIENT: (
        "SELECT i.path FROM instances i JOIN series s ON i.series = s.id JOIN studies t ON s.study = t.id"
        " WHERE t.patient = {}"
    ),
}
_ANCESTORS_OF = {
    Level.INSTANCE: (
        "SELECT s.id AS series, t.id AS study, t.patient AS patient FROM instances i"
        " JOIN series s ON i.series = s.id JOIN studies t ON s.study = t.id WHERE i.id = {}"
    ),
    Level.SERIES: "SELECT NULL AS series, t.id AS study, t.patient AS patient FROM series s JOIN studies t ON s.study = t.id WHERE s.id = {}",
    Level.STUDY: "SELECT NULL AS series, NULL AS study, t.patient AS patient FROM studies t WHERE t.id = {}",
    Level.PATIENT: "SELECT NULL AS series, NULL AS study, NULL AS patient",
}


async def _delete_rows(level: Level, public_id: str, now: datetime.datetime) -> list[str]:
    row = await _one(f"SELECT id FROM {_TABLE[level]} WHERE public_id = {{}}", public_id)
    if row is None:
        raise NotFound(f"{level.value} {public_id} is not stored here")
    key = row["id"]
    paths = [r["path"] for r in await Instance.raw(_FILES_OF[level], key)]
    ancestors = await _one(_ANCESTORS_OF[level], *([key] if level is not Level.PATIENT else []))
    await Patient.raw(f"DELETE FROM {_TABLE[level]} WHERE id = {{}}", key)
    await _change("Deleted", level, public_id, now)
    if ancestors:
        await _recount(ancestors["series"], ancestors["study"], ancestors["patient"], now)
    return paths


async def _drop_if_empty(level: Level, key: int, children: str, now: datetime.datetime) -> bool:
    """Delete row `key` of `level` when no row of `children` refers to it; True if deleted."""
    if await _one(children, key):
        return False
    public = await _one(f"SELECT public_id FROM {_TABLE[level]} WHERE id = {{}}", key)
    await Patient.raw(f"DELETE FROM {_TABLE[level]} WHERE id = {{}}", key)
    if public:
        await _change("Deleted", level, public["public_id"], now)
    return True


async def _recount(series: int | None, study: int | None, patient: int | None, now: datetime.datetime) -> None:
    """Counts of the ancestors of something deleted, recomputed; ancestors left empty removed."""
    if series is not None and not await _drop_if_empty(
        Level.SERIES, series, "SELECT 1 AS x FROM instances WHERE series = {} LIMIT 1", now
    ):
        await Series.raw(
            "UPDATE series SET num_instances = (SELECT COUNT(*) FROM instances WHERE series = {}),"
            " last_update = {} WHERE id = {}",
            series, now, series,
        )
    if study is not None and not await _drop_if_empty(
        Level.STUDY, study, "SELECT 1 AS x FROM series WHERE study = {} LIMIT 1", now
    ):
        await Study.raw(
            "UPDATE studies SET num_series = (SELECT COUNT(*) FROM series WHERE study = {}),"
            " num_instances = (SELECT COALESCE(SUM(num_instances), 0) FROM series WHERE study = {}),"
            " last_update = {} WHERE id = {}",
            study, study, now, study,
        )
        await _refresh_modalities(study)
    if patient is not None:
        await _drop_if_empty(Level.PATIENT, patient, "SELECT 1 AS x FROM studies WHERE patient = {} LIMIT 1", now)


async def delete_resource(level: Level, public_id: str) -> list[str]:
    """Remove a resource, its descendants and any parent left empty; returns the file paths to remove.

    Raises:
        NotFound: no such resource.
    """
    async with write_transaction(Patient._meta.db):
        return await _delete_rows(level, public_id, _now())
