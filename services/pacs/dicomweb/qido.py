"""QIDO-RS (PS3.18 10.6): searching studies, series and instances.

The route parses the query string into a `SearchQuery` (keys by keyword or
tag, `limit`, `offset`, `fuzzymatching`, `includefield`), runs it, and answers
`application/dicom+json`. An unknown key, a key outside the index with a value
to match, or a malformed control parameter is a 400 naming it; a key outside
the index with an empty value (universal matching) is only returned, as with
`includefield`. More matches than `PACSBOX_SEARCH_MAX_RESULTS` are cut there
with a `Warning: 299` header, as the standard allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from pacsbox.core.errors import BadRequest, NotAcceptable
from pacsbox.core.settings import Settings
from pacsbox.pacs.dicomweb.urls import dicomweb_root
from pacsbox.pacs.search import DEFAULT_FIELDS, Filter, SearchQuery, attribute_for, dicom_json, parse_field, search
from pacsbox.pacs.search.attributes import ATTRIBUTES
from pacsbox.pacs.store.ids import Level

__all__ = ["QidoController"]

DICOM_JSON = "application/dicom+json"
_CONTROL = {"limit", "offset", "fuzzymatching", "includefield", "orderby"}
_ACCEPTABLE = {DICOM_JSON, "application/json", "application/*", "*/*"}
_RETRIEVE_URL = 0x00081190
_AVAILABILITY = 0x00080056
_UID = {Level.STUDY: 0x0020000D, Level.SERIES: 0x0020000E, Level.INSTANCE: 0x00080018}
_UID_NAMES = {Level.STUDY: "StudyInstanceUID", Level.SERIES: "SeriesInstanceUID", Level.INSTANCE: "SOPInstanceUID"}
_ABOVE = {Level.STUDY: (), Level.SERIES: (Level.STUDY,), Level.INSTANCE: (Level.SERIES, Level.STUDY)}


@dataclass(frozen=True)
class QidoRequest:
    query: SearchQuery
    tags: tuple[int, ...]
    include_all: bool


def _check_accept(request: Request) -> None:
    accept = request.headers.get("accept", "")
    if not accept:
        return
    offered = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    if not offered & _ACCEPTABLE:
        raise NotAcceptable(f"QIDO-RS answers {DICOM_JSON}; Accept was {accept!r}")


def _non_negative(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise BadRequest(f"{name}={value!r}: expected a non-negative integer")
    return number


def parse_qido(level: Level, params: list[tuple[str, str]], scope: dict[Level, str], max_results: int) -> QidoRequest:
    """The typed query behind a QIDO-RS URL; `scope` holds the UIDs of the path."""
    filters = [Filter(ATTRIBUTES[_UID[lvl]], uid, _UID_NAMES[lvl]) for lvl, uid in scope.items()]
    requested: list[int] = []
    include_all, fuzzy, limit, offset = False, False, None, 0
    for name, value in params:
        if name == "limit":
            limit = _non_negative(name, value)
        elif name == "offset":
            offset = _non_negative(name, value)
        elif name == "fuzzymatching":
            if value.lower() not in ("true", "false"):
                raise BadRequest(f"fuzzymatching={value!r}: expected true or false")
            fuzzy = value.lower() == "true"
        elif name == "includefield":
            for item in filter(None, (v.strip() for v in value.split(","))):
                if item == "all":
                    include_all = True
                    continue
                field = parse_field(item)
                if field is None:
                    raise BadRequest(f"includefield={item!r}: not a DICOM keyword or tag")
                requested.append(field.tag)
        elif name == "orderby":
            continue  # optional in PS3.18; results come in storage order
        else:
            attribute = attribute_for(name)
            if attribute is None:
                field = parse_field(name)
                if field is not None and value.strip() in ("", "*"):  # universal matching: a return key only
                    requested.append(field.tag)
                    continue
                reason = "not an attribute pacsbox can search on" if field else "not a DICOM keyword or tag"
                raise BadRequest(f"{name}: {reason}")
            filters.append(Filter(attribute, value, name))
            requested.append(attribute.tag)
    tags = list(DEFAULT_FIELDS[level])
    for above in _ABOVE[level]:  # keys of the levels the path does not fix (PS3.18 10.6.3.3)
        tags += [_UID[above]] + ([] if above in scope else list(DEFAULT_FIELDS[above]))
    tags += requested
    window = min(limit, max_results) if limit is not None else max_results
    query = SearchQuery(level=level, filters=tuple(filters), fuzzy=fuzzy, limit=window + 1, offset=offset)
    return QidoRequest(query, tuple(dict.fromkeys(tags)), include_all)


def _retrieve_url(root: str, level: Level, item: dict[str, Any]) -> str:
    def uid(tag: int) -> str:
        return item.get(f"{tag:08X}", {}).get("Value", [""])[0]

    url = f"{root}/studies/{uid(_UID[Level.STUDY])}"
    if level in (Level.SERIES, Level.INSTANCE):
        url += f"/series/{uid(_UID[Level.SERIES])}"
    if level is Level.INSTANCE:
        url += f"/instances/{uid(_UID[Level.INSTANCE])}"
    return url


async def _answer(request: Request, settings: Settings, level: Level, scope: dict[Level, str]) -> Response:
    _check_accept(request)
    qido = parse_qido(level, list(request.query_params.multi_items()), scope, settings.limits.search_max_results)
    matches = await search(qido.query, qido.tags, extra_tags=qido.include_all)
    window = (qido.query.limit or 1) - 1
    headers = {}
    if len(matches) > window:
        matches = matches[:window]
        if window == settings.limits.search_max_results:
            headers["Warning"] = f'299 pacsbox "There are more than {window} matches; narrow the query or page with offset"'
    root = dicomweb_root(request, settings)
    body = []
    for match in matches:
        item = dicom_json(match, qido.tags, include_all=qido.include_all, dicomweb_root=root)
        item[f"{_RETRIEVE_URL:08X}"] = {"vr": "UR", "Value": [_retrieve_url(root, level, item)]}
        item[f"{_AVAILABILITY:08X}"] = {"vr": "CS", "Value": ["ONLINE"]}
        body.append(dict(sorted(item.items())))
    return Response(body, media_type=DICOM_JSON, headers=headers)


class QidoController(Controller):
    path = "/"
    tags = ["QIDO-RS"]

    @get("/studies", operation_id="SearchForStudies")
    async def search_for_studies(self, request: Request, settings: NamedDependency[Settings]) -> Response:
        """Studies matching the query keys."""
        return await _answer(request, settings, Level.STUDY, {})

    @get("/series", operation_id="SearchForAllSeries")
    async def search_for_all_series(self, request: Request, settings: NamedDependency[Settings]) -> Response:
        """Series of any study matching the query keys."""
        return await _answer(request, settings, Level.SERIES, {})

    @get("/studies/{study:str}/series", operation_id="SearchForSeries")
    async def search_for_series(
        self, request: Request, settings: NamedDependency[Settings], study: FromPath[str]
    ) -> Response:
        """Series of one study."""
        return await _answer(request, settings, Level.SERIES, {Level.STUDY: study})

    @get("/instances", operation_id="SearchForAllInstances")
    async def search_for_all_instances(self, request: Request, settings: NamedDependency[Settings]) -> Response:
        """Instances of any study matching the query keys."""
        return await _answer(request, settings, Level.INSTANCE, {})

    @get("/studies/{study:str}/instances", operation_id="SearchForStudyInstances")
    async def search_for_study_instances(
        self, request: Request, settings: NamedDependency[Settings], study: FromPath[str]
    ) -> Response:
        """Instances of one study."""
        return await _answer(request, settings, Level.INSTANCE, {Level.STUDY: study})

    @get("/studies/{study:str}/series/{series:str}/instances", operation_id="SearchForInstances")
    async def search_for_instances(
        self, request: Request, settings: NamedDependency[Settings], study: FromPath[str], series: FromPath[str]
    ) -> Response:
        """Instances of one series."""
        return await _answer(request, settings, Level.INSTANCE, {Level.STUDY: study, Level.SERIES: series})
