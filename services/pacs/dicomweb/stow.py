"""STOW-RS (PS3.18 10.5): storing instances sent as `multipart/related; type="application/dicom"`.

Each part streams into a temporary file and goes through the one store path
as soon as it is complete, so a large upload never sits in memory. The answer
lists every stored instance (ReferencedSOPSequence) and every refused one with
its reason (FailedSOPSequence): 200 when all were stored, 202 when some
failed, 409 when none could be stored.
"""

from __future__ import annotations

from typing import Any

import asyncio
from collections.abc import Callable

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from pacsbox.core.app import Identity
from pacsbox.core.errors import Conflict, InvalidDicom, UnsupportedMediaType
from pacsbox.core.settings import Settings
from pacsbox.pacs.dicomweb.multipart import Part, boundary_of, content_type_parameters, iter_parts
from pacsbox.pacs.dicomweb.qido import DICOM_JSON
from pacsbox.pacs.dicomweb.urls import dicomweb_root
from pacsbox.pacs.store import InstanceStore, Origin
from pacsbox.pacs.store.inflate import request_body
from pacsbox.pacs.store.parse import ParsedInstance

__all__ = ["StowController"]

# Failure reasons (PS3.4 Annex B / PS3.18 10.5.3): the C-STORE status values.
CANNOT_UNDERSTAND = 0xC000
OUT_OF_RESOURCES = 0xA700
STUDY_MISMATCH = 0xA900  # the instance's StudyInstanceUID differs from the one in the URL


def _uid(value: Any) -> dict[str, Any]:
    return {"vr": "UI", "Value": [str(value)]} if value else {"vr": "UI"}


class StudyMismatch(Conflict):
    """An instance sent to `POST /studies/{study}` that belongs to another study."""

    def __init__(self, sop_class_uid: str, sop_uid: str, study_uid: str) -> None:
        super().__init__(f"instance {sop_uid} belongs to study {study_uid}")
        self.sop_class_uid, self.sop_uid = sop_class_uid, sop_uid


def _require_study(study: str) -> Callable[[ParsedInstance], None]:
    def check(parsed: ParsedInstance) -> None:
        if parsed.study_uid != study:
            raise StudyMismatch(parsed.sop_class_uid, parsed.sop_uid, parsed.study_uid)

    return check


def _check_media_type(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    media, params = content_type_parameters(content_type)
    if media != "multipart/related":
        raise UnsupportedMediaType(f"STOW-RS takes multipart/related; type=\"application/dicom\", not {media or 'no Content-Type'}")
    kind = params.get("type", "application/dicom").lower()
    if kind != "application/dicom":
        raise UnsupportedMediaType(f"STOW-RS parts of type {kind!r} are not supported: send application/dicom")
    return boundary_of(content_type)


_PARALLEL_STORES = 12
"""Parts stored at once while the next ones stream in: parsing, fsync and the index overlap."""


def _failure(sop_class: str, sop_uid: str, reason: int) -> tuple[bool, dict[str, Any]]:
    return False, {"00081150": _uid(sop_class), "00081155": _uid(sop_uid), "00081197": {"vr": "US", "Value": [reason]}}


async def _store_part(
    part: Part, store: InstanceStore, origin: Origin, check: Callable[[ParsedInstance], None] | None, root: str
) -> tuple[bool, dict[str, Any]]:
    """(stored?, the ReferencedSOPSequence or FailedSOPSequence item) for one part."""
    if part.content_type not in ("", "application/dicom"):
        part.discard()
        return _failure("", "", CANNOT_UNDERSTAND)
    try:
        result = await store.store(part.content, origin, check=check)
    except StudyMismatch as error:
        return _failure(error.sop_class_uid, error.sop_uid, STUDY_MISMATCH)
    except InvalidDicom:
        return _failure("", "", CANNOT_UNDERSTAND)
    except OSError:
        part.discard()
        return _failure("", "", OUT_OF_RESOURCES)
    p = result.parsed
    return True, {
        "00081150": _uid(p.sop_class_uid),
        "00081155": _uid(p.sop_uid),
        "00081190": {"vr": "UR", "Value": [f"{root}/studies/{p.study_uid}/series/{p.series_uid}/instances/{p.sop_uid}"]},
    }


async def store_instances(
    request: Request, settings: Settings, store: InstanceStore, identity: Identity, study: str | None
) -> Response:
    boundary = _check_media_type(request)
    origin = Origin(kind="DICOMweb", address=request.client.host if request.client else "", user=identity.user)
    root = dicomweb_root(request, settings)
    check = _require_study(study) if study is not None else None
    slots = asyncio.Semaphore(_PARALLEL_STORES)
    tasks: list[asyncio.Task[tuple[bool, dict[str, Any]]]] = []

    async def store_one(part: Part) -> tuple[bool, dict[str, Any]]:
        try:
            return await _store_part(part, store, origin, check, root)
        finally:
            slots.release()

    try:
        async for part in iter_parts(
            request_body(request, settings), boundary, store.storage,
            max_parts=settings.limits.multipart_max_parts, max_size=settings.http.max_body_size,
        ):
            await slots.acquire()
            tasks.append(asyncio.create_task(store_one(part)))
    finally:  # complete parts are stored (and answered for) even when the body breaks off
        outcomes = await asyncio.gather(*tasks)
    stored = [item for ok, item in outcomes if ok]
    failed = [item for ok, item in outcomes if not ok]
    body: dict[str, Any] = {}
    if study is not None:
        body["00081190"] = {"vr": "UR", "Value": [f"{root}/studies/{study}"]}
    if failed:
        body["00081198"] = {"vr": "SQ", "Value": failed}
    if stored:
        body["00081199"] = {"vr": "SQ", "Value": stored}
    status = 200 if not failed else 202 if stored else 409
    return Response(body, status_code=status, media_type=DICOM_JSON)


class StowController(Controller):
    path = "/"
    tags = ["STOW-RS"]

    @post("/studies", operation_id="StoreInstances")
    async def store_instances(
        self, request: Request, settings: NamedDependency[Settings], store: NamedDependency[InstanceStore],
        identity: NamedDependency[Identity]
    ) -> Response:
        """Store the instances of the multipart body, whatever study they belong to."""
        return await store_instances(request, settings, store, identity, None)

    @post("/studies/{study:str}", operation_id="StoreStudyInstances")
    async def store_study_instances(
        self, request: Request, settings: NamedDependency[Settings], store: NamedDependency[InstanceStore],
        identity: NamedDependency[Identity], study: FromPath[str]
    ) -> Response:
        """Store the instances of the multipart body that belong to `study`; others are refused."""
        return await store_instances(request, settings, store, identity, study)
