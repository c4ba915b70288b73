"""Orthanc's `/modalities` routes: remote DICOM servers, and echo, query, retrieve and send against them.

    GET    /modalities                  names (`?expand`: name -> configuration)
    GET    /modalities/{name}           its configuration (also at .../configuration)
    PUT    /modalities/{name}           create or replace from Orthanc's JSON plus pacsbox's fields
    DELETE /modalities/{name}
    POST   /modalities/{name}/echo      C-ECHO, with the round trip in seconds
    POST   /modalities/{name}/query     C-FIND: {"Level", "Query": {key: value}}; answers DICOM JSON
    POST   /modalities/{name}/move      C-MOVE into pacsbox (or to "TargetAet"): a job
    POST   /modalities/{name}/get       C-GET into pacsbox: a job
    POST   /modalities/{name}/retrieve  the remote's retrieve mode: a job
    POST   /modalities/{name}/store     C-STORE of Orthanc IDs: a job

Writes (every PUT, DELETE and POST) need a token that may edit.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from pacsbox.core.app import editor_only
from pacsbox.core.errors import BadRequest, NotFound
from pacsbox.core.settings import Settings
from pacsbox.pacs.dimse import DicomListener, RemoteServer, RetrieveMode, scu
from pacsbox.pacs.dimse.identifiers import request_identifier
from pacsbox.pacs.dimse.remotes import delete_remote, get_remote, list_remotes, save_remote
from pacsbox.pacs.jobs import JobRunner, get_job
from pacsbox.pacs.jobs.retrieve import retrieve
from pacsbox.pacs.jobs.send import send
from pacsbox.pacs.search import DEFAULT_FIELDS
from pacsbox.pacs.store import InstanceStore, Level
from pacsbox.pacs.store.reader import StoredInstance, find_instances_of

__all__ = ["MODALITY_ROUTES"]

_UID_KEYS = {
    Level.PATIENT: ("PatientID",),
    Level.STUDY: ("StudyInstanceUID",),
    Level.SERIES: ("StudyInstanceUID", "SeriesInstanceUID"),
    Level.INSTANCE: ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"),
}


MAX_BODY = 1 << 20
"""A remote server's description or a query: a longer body is refused (413)."""


async def _body(request: Request) -> Any:
    """The JSON body: its route reads at most `MAX_BODY` bytes (`request_max_body_size`)."""
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        raise BadRequest("body: expected JSON") from None


def _level(body: dict[str, Any]) -> Level:
    try:
        return Level.from_name(str(body.get("Level", "")))
    except ValueError as error:
        raise BadRequest(f"Level: {error}") from None


@get("/modalities", operation_id="ListModalities")
async def list_modalities(request: Request) -> Any:
    """Names of the remote servers; `?expand` maps each name to its configuration."""
    remotes = await list_remotes()
    if "expand" in request.query_params:
        return {r.name: r.to_json() for r in remotes}
    return [r.name for r in remotes]


@get(["/modalities/{name:str}", "/modalities/{name:str}/configuration"], operation_id="GetModality")
async def get_modality(name: FromPath[str]) -> dict[str, Any]:
    """One remote server's configuration."""
    return (await get_remote(name)).to_json()


@put("/modalities/{name:str}", operation_id="PutModality", guards=[editor_only], request_max_body_size=MAX_BODY)
async def put_modality(name: FromPath[str], request: Request) -> dict[str, Any]:
    """Create or replace a remote server; a bad field is a 400 naming it."""
    remote = RemoteServer.from_json(name, await _body(request))
    await save_remote(remote)
    return remote.to_json()


@delete("/modalities/{name:str}", operation_id="DeleteModality", guards=[editor_only], status_code=HTTP_200_OK)
async def delete_modality(name: FromPath[str]) -> dict[str, Any]:
    """Forget a remote server (its AE title stops being known to the SCP)."""
    await delete_remote(name)
    return {}


@post("/modalities/{name:str}/echo", operation_id="EchoModality", guards=[editor_only], status_code=HTTP_200_OK)
async def echo_modality(name: FromPath[str], settings: NamedDependency[Settings]) -> dict[str, Any]:
    """C-ECHO; 503 naming the remote when it cannot be reached or refuses."""
    remote = await get_remote(name)
    seconds = await asyncio.to_thread(scu.echo, remote, settings)
    return {"Status": "Success", "RoundTripSeconds": round(seconds, 6)}


@post("/modalities/{name:str}/query", operation_id="QueryModality", guards=[editor_only], status_code=HTTP_200_OK,
      request_max_body_size=MAX_BODY)
async def query_modality(name: FromPath[str], request: Request, settings: NamedDependency[Settings]) -> Response:
    """C-FIND at Study, Series or Instance (or Patient) level with QIDO-like keys; answers the matches as DICOM JSON."""
    body = await _body(request)
    if not isinstance(body, dict) or not isinstance(body.get("Query", {}), dict):
        raise BadRequest('body: expected {"Level": ..., "Query": {key: value}}')
    level = _level(body)
    identifier = request_identifier(level, body.get("Query", {}), returned=DEFAULT_FIELDS[level])
    remote = await get_remote(name)
    matches = await asyncio.to_thread(scu.find, remote, settings, identifier)
    return Response([m.to_json_dict() for m in matches], media_type="application/dicom+json")


def _retrieve_identifiers(body: Any) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("Resources"), list) or not body["Resources"]:
        raise BadRequest('body: expected {"Level": ..., "Resources": [{"StudyInstanceUID": ...}, ...]}')
    level = _level(body)
    identifiers = []
    for resource in body["Resources"]:
        if not isinstance(resource, dict) or not all(resource.get(k) for k in _UID_KEYS[level]):
            raise BadRequest(f"Resources: each {level.value} needs {', '.join(_UID_KEYS[level])}")
        identifiers.append(request_identifier(level, resource))
    return identifiers


async def _started(jobs: JobRunner, public_id: str, body: Any) -> dict[str, Any]:
    if isinstance(body, dict) and body.get("Synchronous") is True:
        await jobs.wait(public_id)
        return await get_job(public_id)
    return {"ID": public_id, "Path": f"/jobs/{public_id}"}


async def _retrieve(
    name: str, mode: RetrieveMode | None, request: Request, settings: Settings, store: InstanceStore,
    jobs: JobRunner, listener: DicomListener,
) -> dict[str, Any]:
    body = await _body(request)
    identifiers = _retrieve_identifiers(body)
    remote = await get_remote(name)
    mode = mode or remote.retrieve_mode
    target = str(body.get("TargetAet", "")).strip()
    content = {"RemoteModality": name, "Mode": mode.value, "Level": body["Level"], "Resources": body["Resources"]}
    if target:
        content["TargetAet"] = target

    async def work(control: Any) -> dict[str, Any]:
        return await retrieve(
            control, remote=remote, mode=mode, identifiers=identifiers, settings=settings, store=store,
            listener=listener, target=target,
        )

    return await _started(jobs, await jobs.submit("DicomRetrieve", content, work), body)


@post("/modalities/{name:str}/move", operation_id="MoveFromModality", guards=[editor_only], status_code=HTTP_200_OK,
      request_max_body_size=MAX_BODY)
async def move_from_modality(
    name: FromPath[str], request: Request, settings: NamedDependency[Settings], store: NamedDependency[InstanceStore],
    jobs: NamedDependency[JobRunner], listener: NamedDependency[DicomListener]
) -> dict[str, Any]:
    """C-MOVE job: into pacsbox (our AE), or to `TargetAet`. Body: {"Level", "Resources", "TargetAet"?, "Synchronous"?}."""
    return await _retrieve(name, RetrieveMode.MOVE, request, settings, store, jobs, listener)


@post("/modalities/{name:str}/get", operation_id="GetFromModality", guards=[editor_only], status_code=HTTP_200_OK,
      request_max_body_size=MAX_BODY)
async def get_from_modality(
    name: FromPath[str], request: Request, settings: NamedDependency[Settings], store: NamedDependency[InstanceStore],
    jobs: NamedDependency[JobRunner], listener: NamedDependency[DicomListener]
) -> dict[str, Any]:
    """C-GET job into pacsbox. Body: {"Level", "Resources", "Synchronous"?}."""
    return await _retrieve(name, RetrieveMode.GET, request, settings, store, jobs, listener)


@post("/modalities/{name:str}/retrieve", operation_id="RetrieveFromModality", guards=[editor_only],
      status_code=HTTP_200_OK, request_max_body_size=MAX_BODY)
async def retrieve_from_modality(
    name: FromPath[str], request: Request, settings: NamedDependency[Settings], store: NamedDependency[InstanceStore],
    jobs: NamedDependency[JobRunner], listener: NamedDependency[DicomListener]
) -> dict[str, Any]:
    """Retrieve job into pacsbox with the remote server's retrieve mode (C-MOVE or C-GET)."""
    return await _retrieve(name, None, request, settings, store, jobs, listener)


async def _instances_of(store: InstanceStore, public_ids: list[str]) -> list[StoredInstance]:
    """Instances of Orthanc IDs at any level. Raises: NotFound naming the first unknown ID."""
    found: dict[str, StoredInstance] = {}
    for public_id in public_ids:
        for level in (Level.STUDY, Level.SERIES, Level.INSTANCE, Level.PATIENT):
            instances = await find_instances_of(store.storage.root, level, [public_id])
            if instances:
                found.update((i.public_id, i) for i in instances)
                break
        else:
            raise NotFound(f"Resources: no patient, study, series or instance {public_id} is stored here")
    return list(found.values())


@post("/modalities/{name:str}/store", operation_id="StoreToModality", guards=[editor_only], status_code=HTTP_200_OK,
      request_max_body_size=MAX_BODY)
async def store_to_modality(
    name: FromPath[str], request: Request, settings: NamedDependency[Settings], store: NamedDependency[InstanceStore],
    jobs: NamedDependency[JobRunner]
) -> dict[str, Any]:
    """C-STORE job of Orthanc IDs (any level). Body: an ID, a list of IDs, or {"Resources": [...], "Synchronous"?}."""
    body = await _body(request)
    ids = body.get("Resources") if isinstance(body, dict) else body
    ids = [ids] if isinstance(ids, str) else ids
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise BadRequest('body: expected an Orthanc ID, a list of them, or {"Resources": [...]}')
    remote = await get_remote(name)
    instances = await _instances_of(store, ids)
    content = {"RemoteModality": name, "Resources": ids, "InstancesCount": len(instances)}

    async def work(control: Any) -> dict[str, Any]:
        return await send(control, remote=remote, instances=instances, settings=settings)

    return await _started(jobs, await jobs.submit("DicomStore", content, work), body)


MODALITY_ROUTES = [
    list_modalities, get_modality, put_modality, delete_modality, echo_modality, query_modality,
    move_from_modality, get_from_modality, retrieve_from_modality, store_to_modality,
]
