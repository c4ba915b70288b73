"""Writing the index: one write job per stored or deleted resource.

The only module that inserts, updates or deletes patients, studies, series and
instances. It keeps each level's counts (`num_series`, `num_instances`) and a
study's ModalitiesInStudy current, removes parents left empty by a deletion,
and appends to the change log.

Each job is a generator of statements (`core.db.run_write`): on SQLite it runs
whole in the database thread and shares a commit with the jobs that arrived
meanwhile; on PostgreSQL it runs in a transaction of its own. Rows are locked
in one order, patient, study, series, instance, so that concurrent jobs on
PostgreSQL wait for each other instead of deadlocking.

Callers hold the file side: `index_instance` runs after the file is durable
under its final name; the files of a deletion are removed after
`delete_resource` has committed.
"""

from __future__ import annotations

import datetime
from collections.abc import Generator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pacsbox.core.db import Sql, run_write
from pacsbox.core.errors import NotFound
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.store.parse import ParsedInstance, fold_person_name
from pacsbox.pacs.tables import Instance, Patient

__all__ = ["IndexStatus", "Origin", "announce_stable", "delete_resource", "index_instance", "stored_instance"]

Steps = Generator[Sql, Any, Any]


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


def _one(sql: str, *args: Any) -> Generator[Sql, Any, dict[str, Any] | None]:
    rows = yield Sql(sql, args)
    return rows[0] if rows else None


Change = tuple[str, Level, str]
"""A change log entry: its type, the resource's level and public ID."""


def _change(change_type: str, level: Level, public_id: str, now: datetime.datetime) -> Steps:
    yield from _changes([(change_type, level, public_id)], now)


def _changes(changes: list[Change], now: datetime.datetime) -> Steps:
    """The entries appended to the change log in one statement, in order."""
    rows = ", ".join(["({}, {}, {}, {})"] * len(changes))
    args = tuple(value for kind, level, public_id in changes for value in (kind, level.value, public_id, now))
    yield Sql(f"INSERT INTO changes (change_type, resource_type, public_id, date) VALUES {rows}", args)


_STORED_INSTANCE = "SELECT id, public_id, path, series, checksum, file_size FROM instances WHERE sop_uid = {}"


async def stored_instance(sop_uid: str) -> dict[str, Any] | None:
    """The index row of an instance by SOP Instance UID (public_id, path, checksum...)."""
    rows = await Instance.raw(_STORED_INSTANCE, sop_uid)
    return rows[0] if rows else None


def _patient_values(p: ParsedInstance) -> tuple[Any, ...]:
    return (p.patient_id, p.patient_name, fold_person_name(p.patient_name), p.birth_date, p.sex)


def _study_values(p: ParsedInstance) -> tuple[Any, ...]:
    """The study's columns, the patient's name, folded name, birth date and sex among them (its own copy)."""
    return (
        p.study_date, p.study_time, p.accession_number, p.study_description,
        p.referring_physician, fold_person_name(p.referring_physician), p.study_id, *_patient_values(p)[1:],
    )


def _series_values(p: ParsedInstance) -> tuple[Any, ...]:
    return (p.modality, p.series_number, p.series_description, p.series_date, p.series_time, p.body_part)


_PATIENT_COLUMNS = ("patient_id", "patient_name", "patient_name_key", "birth_date", "sex")
_STUDY_COLUMNS = (
    "study_date", "study_time", "accession_number", "description",
    "referring_physician", "referring_physician_key", "study_id",
    "patient_name", "patient_name_key", "patient_birth_date", "patient_sex",
)
_INSERT_STUDY = (
    f"INSERT INTO studies (public_id, patient, study_uid, {', '.join(_STUDY_COLUMNS)}, modalities, num_series,"
    f" num_instances, last_update) VALUES ({', '.join(['{}'] * (3 + len(_STUDY_COLUMNS)))}, '', 0, 1, {{}})"
    " ON CONFLICT (study_uid) DO NOTHING RETURNING id"
)
_SERIES_COLUMNS = ("modality", "series_number", "description", "series_date", "series_time", "body_part")


def _assignments(columns: tuple[str, ...]) -> str:
    return ", ".join(f"{column} = {{}}" for column in columns)


def _patient(p: ParsedInstance, now: datetime.datetime, changes: list[Change]) -> Generator[Sql, Any, int]:
    values = _patient_values(p)
    row = yield from _one(f"SELECT id, {', '.join(_PATIENT_COLUMNS)} FROM patients WHERE public_id = {{}}", p.ids.patient)
    if row is None:
        row = yield from _one(
            "INSERT INTO patients (public_id, patient_id, patient_name, patient_name_key, birth_date, sex, last_update)"
            " VALUES ({}, {}, {}, {}, {}, {}, {}) ON CONFLICT (public_id) DO NOTHING RETURNING id",
            p.ids.patient, *values, now,
        )
        if row is None:  # another job inserted it meanwhile (PostgreSQL)
            return (yield from _patient(p, now, changes))
        changes.append(("NewPatient", Level.PATIENT, p.ids.patient))
    elif tuple(row[c] for c in _PATIENT_COLUMNS) != values:
        yield Sql(f"UPDATE patients SET {_assignments(_PATIENT_COLUMNS)}, last_update = {{}} WHERE id = {{}}",
                  (*values, now, row["id"]))
    return int(row["id"])


def _unstable(table: str, row: dict[str, Any]) -> Steps:
    """A stable study or series that receives an instance is unstable again.

    A statement of its own, run only then: setting the indexed `stable` column
    in every instance's update, even to the value it had, rewrote a page of its
    index each time.
    """
    if row["stable"]:
        yield Sql(f"UPDATE {table} SET stable = FALSE WHERE id = {{}}", (row["id"],))


def _study(
    p: ParsedInstance, patient: int, now: datetime.datetime, changes: list[Change]
) -> Generator[Sql, Any, tuple[int, str]]:
    """The study row, its instance count raised (the job now holds its lock), created or brought up to date.

    Returns its id and its ModalitiesInStudy as they stand under that lock.
    """
    values = _study_values(p)
    row = yield from _one(
        "UPDATE studies SET num_instances = num_instances + 1, last_update = {} WHERE study_uid = {}"
        f" RETURNING id, modalities, stable, {', '.join(_STUDY_COLUMNS)}",
        now, p.study_uid,
    )
    if row is None:
        row = yield from _one(
            _INSERT_STUDY, p.ids.study, patient, p.study_uid, *values, now,
        )
        if row is None:
            return (yield from _study(p, patient, now, changes))
        changes.append(("NewStudy", Level.STUDY, p.ids.study))
        return int(row["id"]), ""
    yield from _unstable("studies", row)
    if tuple(row[c] for c in _STUDY_COLUMNS) != values:
        yield Sql(f"UPDATE studies SET {_assignments(_STUDY_COLUMNS)} WHERE id = {{}}", (*values, row["id"]))
    return int(row["id"]), str(row["modalities"])


def _joined_modalities(modalities: set[str]) -> str:
    """ModalitiesInStudy as the studies table holds it: `\\CT\\MR\\`, sorted, empty when none."""
    ordered = sorted(m for m in modalities if m)
    return "\\" + "\\".join(ordered) + "\\" if ordered else ""


def _modalities(study: int) -> Steps:
    """ModalitiesInStudy recomputed from the study's series (a series deleted, or its modality changed)."""
    rows = yield Sql("SELECT DISTINCT modality FROM series WHERE study = {} AND modality != ''", (study,))
    yield Sql("UPDATE studies SET modalities = {} WHERE id = {}", (_joined_modalities({r["modality"] for r in rows}), study))


def _series(
    p: ParsedInstance, study: int, modalities: str, now: datetime.datetime, changes: list[Change]
) -> Generator[Sql, Any, tuple[int, int]]:
    """The series row, its instance count raised, or created (and counted in its study, whose `modalities`
    were read under the study's lock), or brought up to date; returns its id and instance count."""
    values = _series_values(p)
    row = yield from _one(
        "UPDATE series SET num_instances = num_instances + 1, last_update = {} WHERE series_uid = {}"
        f" RETURNING id, stable, num_instances, {', '.join(_SERIES_COLUMNS)}",
        now, p.series_uid,
    )
    if row is None:
        row = yield from _one(
            "INSERT INTO series (public_id, study, series_uid, modality, series_number, description, series_date,"
            " series_time, body_part, num_instances, last_update) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, 1, {})"
            " ON CONFLICT (series_uid) DO NOTHING RETURNING id",
            p.ids.series, study, p.series_uid, *values, now,
        )
        if row is None:
            return (yield from _series(p, study, modalities, now, changes))
        joined = _joined_modalities({*modalities.strip("\\").split("\\"), p.modality})
        yield Sql("UPDATE studies SET num_series = num_series + 1, modalities = {} WHERE id = {}", (joined, study))
        changes.append(("NewSeries", Level.SERIES, p.ids.series))
        return int(row["id"]), 1
    yield from _unstable("series", row)
    stored = tuple(row[c] for c in _SERIES_COLUMNS)
    if stored != values:
        yield Sql(f"UPDATE series SET {_assignments(_SERIES_COLUMNS)} WHERE id = {{}}", (*values, row["id"]))
        if stored[0] != p.modality:
            yield from _modalities(study)
    return int(row["id"]), int(row["num_instances"])


def _instance_values(p: ParsedInstance, path: str, size: int, checksum: str, origin: Origin, now: datetime.datetime) -> tuple[Any, ...]:
    return (
        p.sop_class_uid, p.instance_number, p.number_of_frames, p.transfer_syntax, size, checksum, path, now,
        origin.kind, origin.aet[:16], origin.address, origin.user, p.metadata,
    )


def _completes(series: int, expected: int) -> Generator[Sql, Any, bool]:
    """Whether the series now holds instances numbered 1 to `expected`, each once and nothing else
    (`series_status` says Complete), counted in the index rather than read row by row."""
    row = yield from _one(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT instance_number) AS distinct_n, MIN(instance_number) AS low,"
        " MAX(instance_number) AS high FROM instances WHERE series = {} AND instance_number IS NOT NULL",
        series,
    )
    return bool(row) and row["n"] == row["distinct_n"] == expected and row["low"] >= 1 and row["high"] <= expected


def _index_steps(
    p: ParsedInstance, path: str, size: int, checksum: str, origin: Origin
) -> Generator[Sql, Any, tuple[IndexStatus, str | None]]:
    now = _now()
    existing = yield from _one(_STORED_INSTANCE, p.sop_uid)
    if existing is not None and existing["public_id"] == p.ids.instance:
        yield Sql(
            "UPDATE instances SET sop_class_uid = {}, instance_number = {}, number_of_frames = {},"
            " transfer_syntax = {}, file_size = {}, checksum = {}, path = {}, received_at = {}, origin = {},"
            " origin_aet = {}, origin_address = {}, origin_user = {}, metadata = {} WHERE id = {}",
            (*_instance_values(p, path, size, checksum, origin, now), existing["id"]),
        )
        return IndexStatus.ALREADY_STORED, None
    obsolete = None
    if existing is not None:  # the same SOP Instance UID under another patient, study or series: moved
        obsolete = existing["path"]
        yield from _delete_rows(Level.INSTANCE, existing["public_id"], now)
    changes: list[Change] = []
    patient = yield from _patient(p, now, changes)
    study, modalities = yield from _study(p, patient, now, changes)
    series, count = yield from _series(p, study, modalities, now, changes)
    yield Sql(
        "INSERT INTO instances (public_id, series, sop_uid, sop_class_uid, instance_number,"
        " number_of_frames, transfer_syntax, file_size, checksum, path, received_at, origin, origin_aet,"
        " origin_address, origin_user, metadata)"
        " VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        (p.ids.instance, series, p.sop_uid, *_instance_values(p, path, size, checksum, origin, now)),
    )
    changes.append(("NewInstance", Level.INSTANCE, p.ids.instance))
    changes.reverse()  # Orthanc logs the instance first, then the series, study, patient
    # Only a series holding as many instances as expected can be complete: the count query runs then alone.
    if count == p.expected_instances and (yield from _completes(series, count)):
        changes.append(("CompletedSeries", Level.SERIES, p.ids.series))
    yield from _changes(changes, now)
    return IndexStatus.SUCCESS, obsolete


async def index_instance(
    p: ParsedInstance, *, path: str, size: int, checksum: str, origin: Origin
) -> tuple[IndexStatus, str | None]:
    """Record a stored instance; returns its status and a file path that is no longer used.

    A SOP Instance UID already indexed is replaced in place (same file path),
    or, if its patient, study or series changed, moved: the old row goes and
    the old file path is returned for removal after the commit.
    """
    return await run_write(Patient._meta.db, lambda: _index_steps(p, path, size, checksum, origin))


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


def _delete_rows(level: Level, public_id: str, now: datetime.datetime) -> Generator[Sql, Any, list[str]]:
    row = yield from _one(f"SELECT id FROM {_TABLE[level]} WHERE public_id = {{}}", public_id)
    if row is None:
        raise NotFound(f"{level.value} {public_id} is not stored here")
    key = row["id"]
    ancestors = yield from _one(_ANCESTORS_OF[level], *([key] if level is not Level.PATIENT else []))
    if ancestors and ancestors["study"] is not None:  # the study's lock first, as a store takes it
        yield Sql("UPDATE studies SET last_update = {} WHERE id = {}", (now, ancestors["study"]))
    paths = [r["path"] for r in (yield Sql(_FILES_OF[level], (key,)))]
    yield Sql(f"DELETE FROM {_TABLE[level]} WHERE id = {{}}", (key,))
    yield from _change("Deleted", level, public_id, now)
    if ancestors:
        yield from _recount(ancestors["series"], ancestors["study"], ancestors["patient"], now)
    return paths


def _drop_if_empty(level: Level, key: int, children: str, now: datetime.datetime) -> Generator[Sql, Any, bool]:
    """Delete row `key` of `level` when no row of `children` refers to it; True if deleted."""
    if (yield from _one(children, key)):
        return False
    public = yield from _one(f"SELECT public_id FROM {_TABLE[level]} WHERE id = {{}}", key)
    yield Sql(f"DELETE FROM {_TABLE[level]} WHERE id = {{}}", (key,))
    if public:
        yield from _change("Deleted", level, public["public_id"], now)
    return True


def _recount(series: int | None, study: int | None, patient: int | None, now: datetime.datetime) -> Steps:
    """Counts of the ancestors of something deleted, recomputed; ancestors left empty removed."""
    if series is not None and not (yield from _drop_if_empty(
        Level.SERIES, series, "SELECT 1 AS x FROM instances WHERE series = {} LIMIT 1", now
    )):
        yield Sql(
            "UPDATE series SET num_instances = (SELECT COUNT(*) FROM instances WHERE series = {}),"
            " last_update = {} WHERE id = {}",
            (series, now, series),
        )
    if study is not None and not (yield from _drop_if_empty(
        Level.STUDY, study, "SELECT 1 AS x FROM series WHERE study = {} LIMIT 1", now
    )):
        yield Sql(
            "UPDATE studies SET num_series = (SELECT COUNT(*) FROM series WHERE study = {}),"
            " num_instances = (SELECT COALESCE(SUM(num_instances), 0) FROM series WHERE study = {}),"
            " last_update = {} WHERE id = {}",
            (study, study, now, study),
        )
        yield from _modalities(study)
    if patient is not None:
        yield from _drop_if_empty(Level.PATIENT, patient, "SELECT 1 AS x FROM studies WHERE patient = {} LIMIT 1", now)


async def delete_resource(level: Level, public_id: str) -> list[str]:
    """Remove a resource, its descendants and any parent left empty; returns the file paths to remove.

    Raises:
        NotFound: no such resource.
    """
    return await run_write(Patient._meta.db, lambda: _delete_rows(level, public_id, _now()))


_UNSTABLE_BEFORE = (
    "SELECT 1 AS x FROM studies WHERE stable = FALSE AND last_update < {}"
    " UNION ALL SELECT 1 AS x FROM series WHERE stable = FALSE AND last_update < {} LIMIT 1"
)


def _stable_steps(cutoff: datetime.datetime, now: datetime.datetime) -> Generator[Sql, Any, int]:
    studies = yield Sql(
        "UPDATE studies SET stable = TRUE WHERE stable = FALSE AND last_update < {} RETURNING id, public_id, patient",
        (cutoff,),
    )
    series = yield Sql(
        "UPDATE series SET stable = TRUE WHERE stable = FALSE AND last_update < {} RETURNING id, public_id", (cutoff,)
    )
    patients: list[dict[str, Any]] = []
    if studies:  # a patient is stable once its last unstable study is
        keys = sorted({row["patient"] for row in studies})
        patients = yield Sql(
            f"SELECT id, public_id FROM patients p WHERE id IN ({', '.join('{}' for _ in keys)})"
            " AND NOT EXISTS (SELECT 1 FROM studies t WHERE t.patient = p.id AND t.stable = FALSE)",
            tuple(keys),
        )
    changes: list[Change] = [
        (kind, level, row["public_id"])
        for kind, level, rows in (
            ("StableSeries", Level.SERIES, series), ("StableStudy", Level.STUDY, studies),
            ("StablePatient", Level.PATIENT, patients),
        )
        for row in sorted(rows, key=lambda row: row["id"])
    ]
    if changes:
        yield from _changes(changes, now)
    return len(changes)


async def announce_stable(age: float) -> int:
    """Mark stable the studies and series that received no instance for `age` seconds, and the patients
    whose studies all are, each with its `StableSeries`, `StableStudy` or `StablePatient` change, as
    Orthanc announces them after its StableAge; returns how many were announced.

    A new instance makes its series and study unstable again (`_study`, `_series`).
    """
    now = _now()
    cutoff = now - datetime.timedelta(seconds=age)
    if not await Instance.raw(_UNSTABLE_BEFORE, cutoff, cutoff):  # the usual answer: a read, no write job
        return 0
    return int(await run_write(Patient._meta.db, lambda: _stable_steps(cutoff, now)))

