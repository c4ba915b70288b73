"""Patients, studies, series and instances as Orthanc lists and describes them, and their deletion.

    GET    /{level}            Orthanc IDs, oldest first; ?expand (descriptions), ?since=N (skip N), ?limit=N
    GET    /{level}/{id}       the description (`pacsbox.pacs.rest.documents`); 404 for an unknown ID
    GET    /{level}/{id}/{lower level}    descriptions of its descendants (`/studies/{id}/instances`)
    GET    /{level}/{id}/{higher level}   description of its ancestor, singular (`/instances/{id}/study`)
    DELETE /{level}/{id}       files and rows removed, with parents left empty; answers the remaining ancestor

`{level}` is `patients`, `studies`, `series` or `instances`. A deletion needs a
caller allowed to edit (`editor_only`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_200_OK

from pacsbox.core.app import editor_only
from pacsbox.pacs.rest.documents import describe_resource, describe_resources
from pacsbox.pacs.rest.params import flag, non_negative
from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.ids import Level
from pacsbox.pacs.store.resources import ancestors, descendant_ids, first_existing, list_resource_ids

__all__ = ["RESOURCE_ROUTES"]


def _routes(level: Level) -> list[HTTPRouteHandler]:
    collection = f"/{level.plural}"

    @get(collection, operation_id=f"List{level.value}")
    async def list_resources(request: Request) -> list[Any]:
        """Every resource of the level (IDs, or descriptions with `?expand`)."""
        query = request.query_params
        since = non_negative(query, "since", 0) or 0
        ids = await list_resource_ids(level, offset=since, limit=non_negative(query, "limit"))
        return await describe_resources(level, ids) if flag(query, "expand") else ids

    @get(f"{collection}/{{public_id:str}}", operation_id=f"Get{level.value}")
    async def get_resource(public_id: FromPath[str]) -> dict[str, Any]:
        """One resource described as Orthanc does."""
        return await describe_resource(level, public_id)

    @delete(f"{collection}/{{public_id:str}}", operation_id=f"Delete{level.value}", guards=[editor_only],
            status_code=HTTP_200_OK)
    async def delete_resource(store: NamedDependency[InstanceStore], public_id: FromPath[str]) -> dict[str, Any]:
        """Delete the resource, its descendants and parents left empty; name the nearest ancestor left."""
        chain = await ancestors(level, public_id)
        await store.delete(level, public_id)
        remaining = await first_existing(chain)
        if remaining is None:
            return {"RemainingAncestor": None}
        kind, ancestor = remaining
        return {"RemainingAncestor": {"ID": ancestor, "Path": f"/{kind.plural}/{ancestor}", "Type": kind.value}}

    return [list_resources, get_resource, delete_resource]


def _descendants_route(level: Level, target: Level) -> HTTPRouteHandler:
    @get(f"/{level.plural}/{{public_id:str}}/{target.plural}", operation_id=f"{level.value}{target.value}Descendants")
    async def descendants(public_id: FromPath[str]) -> list[dict[str, Any]]:
        """Every resource of the lower level under this one, described."""
        return await describe_resources(target, await descendant_ids(level, public_id, target))

    return descendants


def _ancestor_route(level: Level, target: Level) -> HTTPRouteHandler:
    @get(f"/{level.plural}/{{public_id:str}}/{target.value.lower()}", operation_id=f"{level.value}{target.value}Ancestor")
    async def ancestor(public_id: FromPath[str]) -> dict[str, Any]:
        """The resource of the higher level this one belongs to, described."""
        chain = dict(await ancestors(level, public_id))
        return await describe_resource(target, chain[target])

    return ancestor


_DEPTH = list(Level)
RESOURCE_ROUTES = [
    *(handler for level in Level for handler in _routes(level)),
    *(_descendants_route(upper, lower) for upper in Level for lower in _DEPTH[_DEPTH.index(upper) + 1 :]),
    *(_ancestor_route(lower, upper) for lower in Level for upper in _DEPTH[: _DEPTH.index(lower)]),
]
