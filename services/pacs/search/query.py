"""Running a search: a typed `SearchQuery` in, matches with their attribute values out.

The route (QIDO-RS, `/tools/find`) or the DIMSE handler parses what the
client sent into a `SearchQuery`; this module is the only one that turns it
into SQL. Attributes the index does not hold (an `includefield` such as
Rows) are read from the stored DICOM JSON of the instance, or, at study and
series level, of the first instance of each match: only those elements, cut
out by the database, unless the whole dataset is asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pacsbox.core.errors import BadRequest
from pacsbox.pacs.search.attributes import ATTRIBUTES, LEVEL_DEPTH, Attribute, at_level
from pacsbox.pacs.search.matching import condition_for
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.store.resources import LEVEL_ALIAS as _ALIAS
from pacsbox.pacs.store.resources import LEVEL_FROM as _FROM
from pacsbox.pacs.tables import Instance

__all__ = ["Filter", "Match", "SearchQuery", "search"]

_REPRESENTATIVE = {
    Level.STUDY: "SELECT s.study AS owner, MIN(i.id) AS first FROM instances i JOIN series s ON i.series = s.id"
    " WHERE s.study IN ({ids}) GROUP BY s.study",
    Level.SERIES: "SELECT i.series AS owner, MIN(i.id) AS first FROM instances i WHERE i.series IN ({ids}) GROUP BY i.series",
    Level.PATIENT: "SELECT t.patient AS owner, MIN(i.id) AS first FROM instances i JOIN series s ON i.series = s.id"
    " JOIN studies t ON s.study = t.id WHERE t.patient IN ({ids}) GROUP BY t.patient",
}


@dataclass(frozen=True)
class Filter:
    attribute: Attribute
    value: str
    name: str = ""
    """How the client named the key (for error messages)."""


@dataclass(frozen=True)
class SearchQuery:
    level: Level
    filters: tuple[Filter, ...] = ()
    fuzzy: bool = False
    case_sensitive: bool | None = None
    limit: int | None = None
    offset: int = 0
    public_ids: tuple[str, ...] = ()
    """Only these resources (Orthanc IDs), when given: REST reads resources it already knows."""


@dataclass
class Match:
    """One matching resource: its Orthanc ID and the values of the requested attributes by tag."""

    level: Level
    public_id: str
    values: dict[int, Any] = field(default_factory=dict)
    metadata: dict[str, Any] | None = None
    """DICOM JSON of the instance (or first instance) when attributes outside the index were asked for."""
    row_id: int = 0


_MAX_ROWS = 2**63 - 1
"""The largest LIMIT or OFFSET SQLite and PostgreSQL take (a 64-bit signed integer)."""


def _attributes_for(level: Level, tags: Iterable[int]) -> list[Attribute]:
    depth = LEVEL_DEPTH[level]
    chosen = []
    for tag in tags:
        attribute = ATTRIBUTES.get(tag)
        if attribute and LEVEL_DEPTH[attribute.level] <= depth:
            chosen.append(at_level(attribute, level))
    return chosen


async def search(query: SearchQuery, return_tags: Iterable[int], *, extra_tags: bool = False) -> list[Match]:
    """Matches of `query` with the values of `return_tags`.

    Args:
        query: what to match.
        return_tags: tags whose values are wanted; indexed ones come from the index, the others from the
            stored DICOM JSON (`Match.metadata` holds those elements).
        extra_tags: load the whole stored DICOM JSON (`includefield=all`, REST documents).

    Raises:
        BadRequest: a key of a level below the query's, or a value that cannot be matched.
    """
    if query.offset > _MAX_ROWS:  # past every row an index can hold; SQL integers stop there
        return []
    tags = list(dict.fromkeys(return_tags))
    wanted = _attributes_for(query.level, tags)
    alias = _ALIAS[query.level]
    columns = [f"{alias}.id AS row_id", f"{alias}.public_id AS public_id"]
    columns += [f"{a.column} AS a_{a.hex.lower()}" for a in wanted]
    stored = None if extra_tags else [tag for tag in tags if tag not in ATTRIBUTES]
    if query.level is Level.INSTANCE:
        columns += _stored_columns(stored)
    conditions, args = [], []
    for item in query.filters:
        if LEVEL_DEPTH[item.attribute.level] > LEVEL_DEPTH[query.level]:
            raise BadRequest(
                f"{item.name or item.attribute.keyword} is a {item.attribute.level.value} attribute;"
                f" it cannot be matched at {query.level.value} level"
            )
        condition = condition_for(
            at_level(item.attribute, query.level), item.value,
            name=item.name, fuzzy=query.fuzzy, case_sensitive=query.case_sensitive,
        )
        if condition is not None:
            conditions.append(f"({condition.sql})")
            args.extend(condition.args)
    if query.public_ids:
        conditions.append(f"{alias}.public_id IN ({', '.join('{}' for _ in query.public_ids)})")
        args.extend(query.public_ids)
    sql = f"SELECT {', '.join(columns)} FROM {_FROM[query.level]}"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    sql += f" ORDER BY {alias}.id"
    if query.limit is not None:
        sql += " LIMIT {}"
        args.append(min(query.limit, _MAX_ROWS))
    if query.offset:
        sql += " LIMIT -1" if query.limit is None and _is_sqlite() else ""
        sql += " OFFSET {}"
        args.append(query.offset)
    rows = await Instance.raw(sql, *args)
    matches = [
        Match(
            level=query.level,
            public_id=row["public_id"],
            values={a.tag: row[f"a_{a.hex.lower()}"] for a in wanted},
            metadata=_stored_json(row, stored) if query.level is Level.INSTANCE else None,
            row_id=row["row_id"],
        )
        for row in rows
    ]
    if query.level is not Level.INSTANCE and matches and stored != []:
        await _attach_representative_metadata(query.level, matches, stored)
    return matches


def _is_sqlite() -> bool:
    return Instance._meta.db.engine_type == "sqlite"


_UNREADABLE = ("NaN", "Infinity", "\\u0000")
"""Text of a stored header (Python's JSON) that the database cannot read as JSON: NaN and Infinity (a DS or FD
value) are not JSON, and PostgreSQL refuses a document holding \\u0000. Such headers are read here instead."""


def _stored_columns(stored: list[int] | None) -> list[str]:
    """Columns reading the stored DICOM JSON of instance `i`: all of it (`stored` None), or only the elements
    of `stored`, each cut out by the database as its own JSON text, so a search does not carry and parse
    every match's whole header (the whole one comes only when the database cannot read it)."""
    if stored is None:
        return ["i.metadata AS metadata"]
    if not stored:
        return []
    if _is_sqlite():
        readable, element = "json_valid(i.metadata)", "json_extract(i.metadata, '$.\"{}\"')"
    else:
        readable = " AND ".join(["i.metadata != ''", *(f"strpos(i.metadata, '{text}') = 0" for text in _UNREADABLE)])
        element = "(i.metadata::json -> '{}')::text"
    columns = [f"CASE WHEN {readable} THEN NULL ELSE NULLIF(i.metadata, '') END AS metadata"]
    return columns + [f"CASE WHEN {readable} THEN {element.format(f'{tag:08X}')} END AS m_{tag:08x}" for tag in stored]


def _stored_json(row: dict[str, Any], stored: list[int] | None) -> dict[str, Any] | None:
    if row.get("metadata"):
        whole = json.loads(row["metadata"])
        if stored is None:
            return whole
        return {key: whole[key] for key in (f"{tag:08X}" for tag in stored) if key in whole}
    if stored is None:
        return None
    return {f"{tag:08X}": json.loads(row[f"m_{tag:08x}"]) for tag in stored if row.get(f"m_{tag:08x}") is not None}


async def _attach_representative_metadata(level: Level, matches: list[Match], stored: list[int] | None) -> None:
    by_id = {m.row_id: m for m in matches}
    ids = ", ".join(str(int(i)) for i in by_id)
    rows = await Instance.raw(
        f"SELECT x.owner AS owner, {', '.join(_stored_columns(stored))} FROM instances i"
        f" JOIN ({_REPRESENTATIVE[level].format(ids=ids)}) x ON i.id = x.first"
    )
    for row in rows:
        by_id[row["owner"]].metadata = _stored_json(row, stored)
