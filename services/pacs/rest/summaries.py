"""What a resource's instances add up to and have in common, as Orthanc reports it.

    GET /{level}/{id}/statistics    counts below the resource and the bytes of its files
    GET /{level}/{id}/shared-tags   the attributes every instance below has with one value; ?simplify or ?short

`{level}` is `patients`, `studies` or `series` (statistics: `instances` too).
Counts are those of the levels below the resource's own (a study counts its
series and instances). Sizes are strings and MB counts, as in `/statistics`:
files are stored uncompressed, so every size is the same. Shared tags are
those of Orthanc's full form (`/instances/{id}/tags`) whose type is String
and whose value is the same in every instance; sequences, binary and too-long
values are never shared, as in Orthanc.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.handlers import HTTPRouteHandler

from pacsbox.core.errors import NotFound
from pacsbox.pacs.rest.tags import full_tags, tags_in_asked_form
from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.store.reader import find_instances_of
from pacsbox.pacs.store.resources import Statistics, read_resource_statistics

__all__ = ["SUMMARY_ROUTES", "size_fields"]

_MB = 1024 * 1024
_COUNTS = {Level.PATIENT: ("studies", "series", "instances"), Level.STUDY: ("series", "instances"),
           Level.SERIES: ("instances",), Level.INSTANCE: ()}


def size_fields(prefixes: tuple[str, ...], size: int) -> dict[str, str | int]:
    """`{prefix}Size` as a string of bytes and `{prefix}SizeMB` as whole MiB, for each prefix."""
    fields: dict[str, str | int] = {}
    for prefix in prefixes:
        fields[f"{prefix}Size"], fields[f"{prefix}SizeMB"] = str(size), size // _MB
    return fields


def _statistics(level: Level, stats: Statistics) -> dict[str, str | int]:
    counts: dict[str, str | int] = {f"Count{name.capitalize()}": getattr(stats, name) for name in _COUNTS[level]}
    return counts | size_fields(("Disk", "Uncompressed", "DicomDisk", "DicomUncompressed"), stats.disk_size)


def _shared(datasets: list[dict[str, Any]]) -> dict[str, Any]:
    """The String entries of the full form that every dataset has, with one value."""
    shared: dict[str, Any] | None = None
    for dataset in datasets:
        strings = {key: entry for key, entry in full_tags(dataset).items() if entry["Type"] == "String"}
        shared = strings if shared is None else {k: e for k, e in shared.items() if strings.get(k) == e}
    return shared or {}


def _statistics_route(level: Level) -> HTTPRouteHandler:
    @get(f"/{level.plural}/{{public_id:str}}/statistics", operation_id=f"Get{level.value}Statistics")
    async def statistics(public_id: FromPath[str]) -> dict[str, str | int]:
        """Counts below the resource and the size of its files."""
        return _statistics(level, await read_resource_statistics(level, public_id))

    return statistics


def _shared_tags_route(level: Level) -> HTTPRouteHandler:
    @get(f"/{level.plural}/{{public_id:str}}/shared-tags", operation_id=f"Get{level.value}SharedTags")
    async def shared_tags(
        request: Request, store: NamedDependency[InstanceStore], public_id: FromPath[str]
    ) -> dict[str, Any]:
        """The attributes with one value across every instance of the resource."""
        found = await find_instances_of(store.storage.root, level, [public_id], with_metadata=True)
        if not found:
            raise NotFound(f"{level.value} {public_id} is not stored here")
        tags = _shared([json.loads(instance.metadata) if instance.metadata else {} for instance in found])
        return tags_in_asked_form(request.query_params, tags)

    return shared_tags


SUMMARY_ROUTES = [
    *(_statistics_route(level) for level in Level),
    *(_shared_tags_route(level) for level in (Level.PATIENT, Level.STUDY, Level.SERIES)),
]
