"""`POST /tools/find`: Orthanc's search, on the one matcher QIDO-RS and C-FIND use (`pacsbox.pacs.search`).

    {"Level": "Study", "Query": {"PatientName": "DOE*", "StudyDate": "20240101-20241231"},
     "Expand": true, "Limit": 100, "Since": 0, "CaseSensitive": false, "RequestedTags": ["StudyDescription"]}

`Level` is Patient, Study, Series or Instance (any case, or the plural).
`Query` maps keywords (or `gggg,eeee` tags) of that level or the levels above
it to DICOM query values: wildcards `*` and `?`, ranges `A-B`, `A-`, `-B` for
dates and times, lists separated by `\\`. `CaseSensitive` defaults to false,
as in Orthanc. `Since` skips that many matches, `Limit` (0: none) caps them,
and `PACSBOX_SEARCH_MAX_RESULTS` caps every answer. The answer lists Orthanc
IDs, or with `Expand` each resource's description, plus `RequestedTags`
when asked. A malformed body, an unknown level or an attribute pacsbox cannot
match is a 400 naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK

from pacsbox.core.errors import BadRequest
from pacsbox.core.settings import Settings
from pacsbox.pacs.rest.documents import describe_resources, tag_values
from pacsbox.pacs.search import Filter, SearchQuery, attribute_for, parse_field, search
from pacsbox.pacs.search.attributes import ATTRIBUTES
from pacsbox.pacs.store.ids import Level

__all__ = ["FindRequest", "find_resources", "parse_find"]

MAX_BODY = 1 << 20
"""Largest `/tools/find` body read (a query is a few hundred bytes)."""


@dataclass(frozen=True)
class FindRequest:
    query: SearchQuery
    expand: bool
    requested: tuple[str, ...]
    """Keywords of RequestedTags."""


def _tag_name(name: str) -> str:
    """`0010,0010` -> `00100010`; keywords unchanged."""
    return name.replace(",", "") if len(name) == 9 and name[4] == "," else name


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise BadRequest(f'"{key}" should be true or false, not {json.dumps(value)}')
    return value


def _count(body: dict[str, Any], key: str) -> int:
    value = body.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequest(f'"{key}" should be a non-negative integer, not {json.dumps(value)}')
    return value


def _filters(query: Any) -> list[Filter]:
    if not isinstance(query, dict):
        raise BadRequest('"Query" is missing or is not a JSON object of attribute -> value')
    filters = []
    for name, value in query.items():
        if not isinstance(value, str):
            raise BadRequest(f'"Query": the value of {name} should be a string, not {json.dumps(value)}')
        attribute = attribute_for(_tag_name(name))
        if attribute is None:
            known = parse_field(_tag_name(name)) is not None
            raise BadRequest(f'"Query": {name} is {"not an attribute pacsbox can search on" if known else "not a DICOM keyword or tag"}')
        filters.append(Filter(attribute, value, name))
    return filters


def _requested(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest('"RequestedTags" should be a list of DICOM keywords or tags')
    keywords = []
    for name in value:
        field = parse_field(_tag_name(name))
        if field is None or field.keyword == field.hex:
            raise BadRequest(f'"RequestedTags": {name} is not a DICOM keyword or tag of the dictionary')
        keywords.append(field.keyword)
    return tuple(keywords)


def parse_find(body: Any, max_results: int) -> FindRequest:
    """The typed search behind a `/tools/find` body.

    Raises:
        BadRequest: the body is not a find request, naming the field at fault.
    """
    if not isinstance(body, dict):
        raise BadRequest("the body should be a JSON object with Level and Query")
    if not isinstance(body.get("Level"), str):
        raise BadRequest('"Level" is missing or is not a string: expected Patient, Study, Series or Instance')
    try:
        level = Level.from_name(body["Level"])
    except ValueError as error:
        raise BadRequest(f'"Level": {error}') from None
    if body.get("Labels"):
        raise BadRequest('"Labels": pacsbox keeps no labels, so it cannot match them')
    limit = _count(body, "Limit")
    query = SearchQuery(
        level=level,
        filters=tuple(_filters(body.get("Query"))),
        case_sensitive=_flag(body, "CaseSensitive"),
        limit=min(limit, max_results) if limit else max_results,
        offset=_count(body, "Since"),
    )
    return FindRequest(query, _flag(body, "Expand"), _requested(body.get("RequestedTags", [])))


async def _json_body(request: Request) -> Any:
    data = await request.body()
    try:
        return json.loads(data)
    except ValueError as error:
        raise BadRequest(f"the body is not valid JSON: {error}") from None


async def find_resources(find: FindRequest) -> list[Any]:
    """IDs of the matches, or their descriptions (with RequestedTags) when expanded."""
    tags = [field.tag for field in map(parse_field, find.requested) if field is not None]
    extra = any(tag not in ATTRIBUTES for tag in tags)
    matches = await search(find.query, tags, extra_tags=extra)
    if not find.expand:
        return [match.public_id for match in matches]
    documents = await describe_resources(find.query.level, [match.public_id for match in matches])
    if find.requested:
        by_id = {match.public_id: match for match in matches}
        for document in documents:
            document["RequestedTags"] = tag_values(by_id[document["ID"]], find.requested)
    return documents


@post("/tools/find", operation_id="Find", status_code=HTTP_200_OK, request_max_body_size=MAX_BODY)
async def tools_find(request: Request, settings: NamedDependency[Settings]) -> list[Any]:
    """Resources of one level matching the query."""
    find = parse_find(await _json_body(request), settings.limits.search_max_results)
    return await find_resources(find)
