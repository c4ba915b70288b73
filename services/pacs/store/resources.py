"""Reading the index by Orthanc resource: lists, parents and children, counts, archive contents.

What the Orthanc-compatible REST API needs beyond DICOM attributes (those come
from `pacsbox.pacs.search`): the hierarchy of a resource, when it last
changed, the stored file of an instance, the instances under a resource (for
archives), storage statistics, and which ancestor survives a deletion.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from pacsbox.core.errors import NotFound
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.tables import Instance

__all__ = [
    "LEVEL_ALIAS",
    "LEVEL_FROM",
    "ArchiveFile",
    "ResourceRow",
    "Statistics",
    "ancestors",
    "archive_files",
    "descendant_ids",
    "first_existing",
    "instance_numbers",
    "list_resource_ids",
    "lookup_identifier",
    "read_resource_rows",
    "read_resource_statistics",
    "read_statistics",
    "timestamp",
]

LEVEL_ALIAS = {Level.PATIENT: "p", Level.STUDY: "t", Level.SERIES: "s", Level.INSTANCE: "i"}
"""The alias each level's table has in `LEVEL_FROM`."""
LEVEL_FROM = {
    Level.PATIENT: "patients p",
    Level.STUDY: "studies t JOIN patients p ON t.patient = p.id",
    Level.SERIES: "series s JOIN studies t ON s.study = t.id JOIN patients p ON t.patient = p.id",
    Level.INSTANCE: (
        "instances i JOIN series s ON i.series = s.id JOIN studies t ON s.study = t.id"
        " JOIN patients p ON t.patient = p.id"
    ),
}
"""Each level's table joined with those of the levels above it."""
_TABLE = {Level.PATIENT: "patients", Level.STUDY: "studies", Level.SERIES: "series", Level.INSTANCE: "instances"}
_PARENT = {Level.STUDY: ("patients", "patient"), Level.SERIES: ("studies", "study"), Level.INSTANCE: ("series", "series")}
_CHILD = {Level.PATIENT: ("studies", "patient", "c.id"), Level.STUDY: ("series", "study", "c.series_number, c.id"),
          Level.SERIES: ("instances", "series", "c.instance_number, c.id")}
_INSTANCE_COLUMNS = ", r.file_size AS file_size, r.path AS path, r.instance_number AS instance_number"
_UPDATED = {
    Level.PATIENT: "COALESCE((SELECT MAX(x.last_update) FROM studies x WHERE x.patient = r.id), r.last_update)",
    Level.INSTANCE: "r.received_at",
}
"""When a resource last changed: a patient when its latest study did (a new instance updates its study's
row, not the patient's: one row write less per instance)."""
_STABLE = {
    Level.PATIENT: "NOT EXISTS (SELECT 1 FROM studies x WHERE x.patient = r.id AND x.stable = FALSE)",
    Level.STUDY: "r.stable",
    Level.SERIES: "r.stable",
}
"""Whether a resource is stable (`index.announce_stable`); an instance always is."""


def timestamp(value: datetime.datetime | str) -> datetime.datetime:
    """A timestamp column as read back (SQLite gives text, PostgreSQL a datetime)."""
    return value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(value)


@dataclass(frozen=True)
class ResourceRow:
    """A resource's place in the hierarchy, and its file when it is an instance."""

    level: Level
    public_id: str
    parent: str | None
    children: tuple[str, ...]
    last_update: datetime.datetime
    file_size: int = 0
    path: str = ""
    """Instance file path relative to the storage folder."""
    instance_number: int | None = None
    stable: bool = True
    """No instance arrived for it for `PACSBOX_STABLE_AGE` seconds (an instance always is)."""


async def list_resource_ids(level: Level, *, offset: int = 0, limit: int | None = None) -> list[str]:
    """Orthanc IDs of every resource of `level`, oldest first, `offset` skipped, at most `limit`."""
    sql = f"SELECT public_id FROM {_TABLE[level]} ORDER BY id"
    args: list[int] = []
    if limit is not None:
        sql += " LIMIT {}"
        args.append(limit)
    elif offset:
        sql += " LIMIT -1" if Instance._meta.db.engine_type == "sqlite" else ""
    if offset:
        sql += " OFFSET {}"
        args.append(offset)
    return [row["public_id"] for row in await Instance.raw(sql, *args)]


def _placeholders(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join("{}" for _ in values)


async def read_resource_rows(level: Level, public_ids: list[str]) -> dict[str, ResourceRow]:
    """The rows of these resources by Orthanc ID; unknown IDs are absent from the answer."""
    if not public_ids:
        return {}
    columns = f"r.id AS id, r.public_id AS public_id, {_UPDATED.get(level, 'r.last_update')} AS updated"
    columns += f", {_STABLE.get(level, 'TRUE')} AS stable"
    joins = ""
    if level in _PARENT:
        table, column = _PARENT[level]
        columns += ", up.public_id AS parent"
        joins = f" JOIN {table} up ON r.{column} = up.id"
    if level is Level.INSTANCE:
        columns += _INSTANCE_COLUMNS
    rows = await Instance.raw(
        f"SELECT {columns} FROM {_TABLE[level]} r{joins} WHERE r.public_id IN ({_placeholders(public_ids)})",
        *public_ids,
    )
    children: dict[int, list[str]] = {row["id"]: [] for row in rows}
    if level in _CHILD and rows:
        table, column, order = _CHILD[level]
        keys = list(children)
        for child in await Instance.raw(
            f"SELECT c.{column} AS owner, c.public_id AS public_id FROM {table} c"
            f" WHERE c.{column} IN ({_placeholders([str(k) for k in keys])}) ORDER BY {order}",
            *keys,
        ):
            children[child["owner"]].append(child["public_id"])
    return {
        row["public_id"]: ResourceRow(
            level=level,
            public_id=row["public_id"],
            parent=row.get("parent"),
            children=tuple(children[row["id"]]),
            last_update=timestamp(row["updated"]),
            file_size=row.get("file_size") or 0,
            path=row.get("path") or "",
            instance_number=row.get("instance_number"),
            stable=bool(row["stable"]),
        )
        for row in rows
    }


async def instance_numbers(series_ids: list[str]) -> dict[str, list[int | None]]:
    """The InstanceNumber of every instance of these series, by series Orthanc ID."""
    numbers: dict[str, list[int | None]] = {public_id: [] for public_id in series_ids}
    if series_ids:
        for row in await Instance.raw(
            "SELECT s.public_id AS series, i.instance_number AS number FROM instances i"
            f" JOIN series s ON i.series = s.id WHERE s.public_id IN ({_placeholders(series_ids)})",
            *series_ids,
        ):
            numbers[row["series"]].append(row["number"])
    return numbers


_ANCESTORS = {
    Level.PATIENT: "SELECT NULL AS series, NULL AS study, NULL AS patient FROM patients r WHERE r.public_id = {}",
    Level.STUDY: (
        "SELECT NULL AS series, NULL AS study, p.public_id AS patient FROM studies r"
        " JOIN patients p ON r.patient = p.id WHERE r.public_id = {}"
    ),
    Level.SERIES: (
        "SELECT NULL AS series, t.public_id AS study, p.public_id AS patient FROM series r"
        " JOIN studies t ON r.study = t.id JOIN patients p ON t.patient = p.id WHERE r.public_id = {}"
    ),
    Level.INSTANCE: (
        "SELECT s.public_id AS series, t.public_id AS study, p.public_id AS patient FROM instances r"
        " JOIN series s ON r.series = s.id JOIN studies t ON s.study = t.id JOIN patients p ON t.patient = p.id"
        " WHERE r.public_id = {}"
    ),
}


async def ancestors(level: Level, public_id: str) -> list[tuple[Level, str]]:
    """The resource's ancestors, nearest first.

    Raises:
        NotFound: no such resource.
    """
    rows = await Instance.raw(_ANCESTORS[level], public_id)
    if not rows:
        raise NotFound(f"{level.value} {public_id} is not stored here")
    row = rows[0]
    chain = [(Level.SERIES, row["series"]), (Level.STUDY, row["study"]), (Level.PATIENT, row["patient"])]
    return [(lvl, value) for lvl, value in chain if value]


async def first_existing(resources: list[tuple[Level, str]]) -> tuple[Level, str] | None:
    """The first of `resources` still stored (after a deletion: the remaining ancestor)."""
    for level, public_id in resources:
        if await Instance.raw(f"SELECT 1 AS x FROM {_TABLE[level]} WHERE public_id = {{}}", public_id):
            return level, public_id
    return None


async def descendant_ids(level: Level, public_id: str, target: Level) -> list[str]:
    """Orthanc IDs of the resources of level `target` under a resource, oldest first.

    Raises:
        NotFound: no such resource (a stored resource always has descendants: empty parents are removed).
    """
    alias = LEVEL_ALIAS[target]
    rows = await Instance.raw(
        f"SELECT {alias}.public_id AS public_id FROM {LEVEL_FROM[target]}"
        f" WHERE {LEVEL_ALIAS[level]}.public_id = {{}} ORDER BY {alias}.id",
        public_id,
    )
    if not rows:
        raise NotFound(f"{level.value} {public_id} is not stored here")
    return [row["public_id"] for row in rows]


_IDENTIFIER = {
    Level.PATIENT: "patient_id", Level.STUDY: "study_uid", Level.SERIES: "series_uid", Level.INSTANCE: "sop_uid",
}


async def lookup_identifier(value: str) -> list[tuple[Level, str]]:
    """Resources whose PatientID, StudyInstanceUID, SeriesInstanceUID or SOPInstanceUID is `value`."""
    found = []
    for level, column in _IDENTIFIER.items():
        rows = await Instance.raw(f"SELECT public_id FROM {_TABLE[level]} WHERE {column} = {{}} ORDER BY id", value)
        found += [(level, row["public_id"]) for row in rows]
    return found


@dataclass(frozen=True)
class Statistics:
    patients: int
    studies: int
    series: int
    instances: int
    disk_size: int


async def read_statistics() -> Statistics:
    """Resource counts and the bytes of stored instance files."""
    (row,) = await Instance.raw(
        "SELECT (SELECT COUNT(*) FROM patients) AS patients, (SELECT COUNT(*) FROM studies) AS studies,"
        " (SELECT COUNT(*) FROM series) AS series, (SELECT COUNT(*) FROM instances) AS instances,"
        " (SELECT COALESCE(SUM(file_size), 0) FROM instances) AS disk_size"
    )
    return Statistics(**{key: int(value) for key, value in row.items()})


async def read_resource_statistics(level: Level, public_id: str) -> Statistics:
    """The studies, series and instances under a resource (itself included) and the bytes of their files.

    Raises:
        NotFound: no such resource.
    """
    (row,) = await Instance.raw(
        "SELECT COUNT(DISTINCT p.id) AS patients, COUNT(DISTINCT t.id) AS studies,"
        " COUNT(DISTINCT s.id) AS series, COUNT(*) AS instances, COALESCE(SUM(i.file_size), 0) AS disk_size"
        f" FROM {LEVEL_FROM[Level.INSTANCE]} WHERE {LEVEL_ALIAS[level]}.public_id = {{}}",
        public_id,
    )
    if not row["instances"]:
        raise NotFound(f"{level.value} {public_id} is not stored here")
    return Statistics(**{key: int(value) for key, value in row.items()})


@dataclass(frozen=True)
class ArchiveFile:
    """One instance file of an archive, with the attributes its entry name is made of."""

    path: str
    """Relative to the storage folder."""
    size: int
    patient: str
    patient_id: str
    patient_name: str
    study: str
    study_description: str
    accession_number: str
    series: str
    modality: str
    series_description: str


async def archive_files(level: Level, public_id: str) -> list[ArchiveFile]:
    """The instance files under a resource, by study, series and instance number.

    Raises:
        NotFound: no such resource.
    """
    rows = await Instance.raw(
        "SELECT i.path, i.file_size, p.public_id AS patient, p.patient_id, p.patient_name, t.public_id AS study,"
        " t.description AS study_description, t.accession_number, s.public_id AS series, s.modality,"
        " s.description AS series_description"
        f" FROM {LEVEL_FROM[Level.INSTANCE]} WHERE {LEVEL_ALIAS[level]}.public_id = {{}}"
        " ORDER BY t.id, s.series_number, s.id, i.instance_number, i.id",
        public_id,
    )
    if not rows:
        raise NotFound(f"{level.value} {public_id} is not stored here")
    return [
        ArchiveFile(
            path=r["path"], size=r["file_size"], patient=r["patient"], patient_id=r["patient_id"],
            patient_name=r["patient_name"], study=r["study"], study_description=r["study_description"],
            accession_number=r["accession_number"], series=r["series"], modality=r["modality"],
            series_description=r["series_description"],
        )
        for r in rows
    ]
