"""Reading and clearing the change log that `pacsbox.pacs.store.index` appends to (Orthanc's `/changes`).

Clearing keeps the sequence going, as Orthanc does: the next change is
numbered after the last one cleared, and an empty log's `last` is that
last number. SQLite numbers a row one past the highest left in the table,
so the latest change stays as a `CLEARED` row that no read shows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.store.resources import timestamp
from pacsbox.pacs.tables import Change

__all__ = ["ChangePage", "ChangeRow", "clear_changes", "read_changes"]

CLEARED = "Cleared"
"""Change type of the row that keeps the sequence number of a cleared log."""


@dataclass(frozen=True)
class ChangeRow:
    seq: int
    change_type: str
    """NewPatient, NewStudy, NewSeries, NewInstance, CompletedSeries, Deleted or Stable*."""
    level: Level
    public_id: str
    date: datetime.datetime


@dataclass(frozen=True)
class ChangePage:
    changes: list[ChangeRow]
    done: bool
    """No change follows the last one of this page."""
    last: int
    """Sequence number of the last change of the page; of the whole log when the page is empty."""


async def read_changes(*, since: int = 0, limit: int = 100, last_only: bool = False) -> ChangePage:
    """Changes after sequence number `since`, oldest first, at most `limit`; or only the latest one."""
    if last_only:
        rows = await Change.raw(
            "SELECT seq, change_type, resource_type, public_id, date FROM changes WHERE change_type <> {}"
            " ORDER BY seq DESC LIMIT 1", CLEARED,
        )
    else:
        rows = await Change.raw(
            "SELECT seq, change_type, resource_type, public_id, date FROM changes WHERE seq > {} AND change_type <> {}"
            " ORDER BY seq LIMIT {}", since, CLEARED, limit + 1,
        )
    done = last_only or len(rows) <= limit
    changes = [
        ChangeRow(r["seq"], r["change_type"], Level(r["resource_type"]), r["public_id"], timestamp(r["date"]))
        for r in rows[: 1 if last_only else limit]
    ]
    if changes:
        last = changes[-1].seq
    else:
        (top,) = await Change.raw("SELECT COALESCE(MAX(seq), 0) AS seq FROM changes")
        last = top["seq"]
    return ChangePage(changes, done and limit > 0, last)


async def clear_changes() -> None:
    """Remove every change logged so far; changes logged meanwhile stay."""
    (top,) = await Change.raw("SELECT MAX(seq) AS seq FROM changes")
    if top["seq"] is None:
        return
    await Change.raw("DELETE FROM changes WHERE seq < {}", top["seq"])
    await Change.raw("UPDATE changes SET change_type = {} WHERE seq = {}", CLEARED, top["seq"])
