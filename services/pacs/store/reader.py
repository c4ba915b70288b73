"""Reading what is stored: instances located by UID, with their files and metadata.

Every door that hands stored instances out (WADO-RS, WADO-URI, REST, C-GET,
C-MOVE, send jobs) locates them here. A UID that matches nothing raises
`NotFound` naming the level and UID at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pacsbox.core.errors import NotFound
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.tables import Instance

__all__ = ["StoredInstance", "find_instance_by_id", "find_instances", "find_instances_of"]

_COLUMNS = (
    "i.public_id, i.sop_uid, i.sop_class_uid, i.transfer_syntax, i.path, i.file_size, i.checksum,"
    " i.number_of_frames, i.instance_number, s.series_uid, t.study_uid"
)
_FROM = " FROM instances i JOIN series s ON i.series = s.id JOIN studies t ON s.study = t.id"


@dataclass(frozen=True)
class StoredInstance:
    public_id: str
    sop_uid: str
    sop_class_uid: str
    series_uid: str
    study_uid: str
    transfer_syntax: str
    path: Path
    """Absolute path of the stored file."""
    file_size: int
    checksum: str
    number_of_frames: int
    instance_number: int | None
    metadata: str = ""
    """Instance DICOM JSON as stored (`pacsbox:bulk/` placeholders), when asked for."""


async def find_instances(
    storage_root: Path,
    study_uid: str | None = None,
    series_uid: str | None = None,
    sop_uid: str | None = None,
    *,
    with_metadata: bool = False,
) -> list[StoredInstance]:
    """Instances of a study, series or single instance, in series then instance-number order.

    Raises:
        NotFound: nothing is stored under these UIDs (the message names the most specific one).
    """
    conditions, args = [], []
    for column, value in (("t.study_uid", study_uid), ("s.series_uid", series_uid), ("i.sop_uid", sop_uid)):
        if value is not None:
            conditions.append(f"{column} = {{}}")
            args.append(value)
    if not conditions:
        raise ValueError("find_instances needs at least one UID")
    columns = _COLUMNS + (", i.metadata" if with_metadata else "")
    rows = await Instance.raw(
        f"SELECT {columns}{_FROM} WHERE {' AND '.join(conditions)}"
        " ORDER BY s.series_number, s.series_uid, i.instance_number, i.sop_uid",
        *args,
    )
    if not rows:
        level, uid = next(
            (name, value) for name, value in (("instance", sop_uid), ("series", series_uid), ("study", study_uid)) if value
        )
        raise NotFound(f"no {level} {uid} is stored here")
    return [_stored(storage_root, r) for r in rows]


async def find_instance_by_id(storage_root: Path, public_id: str, *, with_metadata: bool = False) -> StoredInstance:
    """The instance of an Orthanc ID.

    Raises:
        NotFound: no instance has this ID.
    """
    columns = _COLUMNS + (", i.metadata" if with_metadata else "")
    rows = await Instance.raw(f"SELECT {columns}{_FROM} WHERE i.public_id = {{}}", public_id)
    if not rows:
        raise NotFound(f"Instance {public_id} is not stored here")
    return _stored(storage_root, rows[0])


_ID_COLUMN = {Level.PATIENT: "p.public_id", Level.STUDY: "t.public_id", Level.SERIES: "s.public_id", Level.INSTANCE: "i.public_id"}


async def find_instances_of(
    storage_root: Path, level: Level, public_ids: list[str], *, with_metadata: bool = False, limit: int | None = None
) -> list[StoredInstance]:
    """Instances of resources named by Orthanc ID (C-MOVE, C-GET, send jobs), in series then instance order.

    With `limit`, only the first `limit` of them.
    """
    if not public_ids:
        return []
    placeholders = ", ".join("{}" for _ in public_ids)
    join = " JOIN patients p ON t.patient = p.id" if level is Level.PATIENT else ""
    columns = _COLUMNS + (", i.metadata" if with_metadata else "")
    rows = await Instance.raw(
        f"SELECT {columns}{_FROM}{join} WHERE {_ID_COLUMN[level]} IN ({placeholders})"
        " ORDER BY s.series_number, s.series_uid, i.instance_number, i.sop_uid"
        + (f" LIMIT {int(limit)}" if limit is not None else ""),
        *public_ids,
    )
    return [_stored(storage_root, r) for r in rows]


def _stored(storage_root: Path, r: dict) -> StoredInstance:
    return StoredInstance(
        public_id=r["public_id"], sop_uid=r["sop_uid"], sop_class_uid=r["sop_class_uid"],
        series_uid=r["series_uid"], study_uid=r["study_uid"], transfer_syntax=r["transfer_syntax"],
        path=storage_root / r["path"], file_size=r["file_size"], checksum=r["checksum"],
        number_of_frames=r["number_of_frames"], instance_number=r["instance_number"],
        metadata=r.get("metadata", "") or "",
    )
