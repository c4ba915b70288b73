"""WADO-RS (PS3.18 10.4): instances, metadata, frames and bulk data of studies, series and instances.

    GET /pacs/studies/{study}[/series/{series}[/instances/{instance}]]     multipart/related; type="application/dicom"
    GET .../metadata                                                      application/dicom+json
    GET /pacs/studies/{study}/series/{series}/instances/{instance}/frames/{1,2,...}
    GET /pacs/studies/{study}/series/{series}/instances/{instance}/bulk/{tag}

Each route reads the Accept header (`media.accepted`), decides the media type
and transfer syntax from what the index knows (no file is opened for that),
and streams the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio.to_thread
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from pacsbox.core.imaging import EXPLICIT_LE, OCTET_STREAM, PIXEL_TAGS, can_decode, is_native, pixel_media_type
from pacsbox.core.settings import Settings
from pacsbox.pacs.dicomweb.media import MediaRange, accepted, not_acceptable
from pacsbox.pacs.dicomweb.responses import multipart_response, single_response
from pacsbox.pacs.dicomweb.params import parse_frame_numbers, parse_tag
from pacsbox.pacs.dicomweb.rendered import read_cache, render_slots
from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.native_frames import read_native_frames
from pacsbox.pacs.store.pixel_data import read_bulkdata, read_frames
from pacsbox.pacs.store.reader import find_instances
from pacsbox.pacs.store.retrieve import DICOM, Payload, instance_metadata_json, instance_payloads

__all__ = ["FrameForm", "WadoController", "frame_form", "instance_syntaxes"]

DICOM_JSON = "application/dicom+json"
FRAMES_NOW = 1 << 20
"""Most bytes of native frames read on the event loop (a few `pread`s); more go to a worker thread."""


def _ranges(request: Request) -> list[MediaRange]:
    return accepted(request.headers.getall("accept", []))


def instance_syntaxes(ranges: list[MediaRange]) -> list[str]:
    """Acceptable transfer syntaxes of `application/dicom` parts, best first (`*` = as stored).

    Raises:
        NotAcceptable: the Accept header allows no multipart DICOM body.
    """
    syntaxes = [r.transfer_syntax or EXPLICIT_LE for r in ranges if r.multipart is not False and r.allows(DICOM)]
    if not syntaxes:
        raise not_acceptable(ranges, 'DICOM instances (multipart/related; type="application/dicom")')
    return syntaxes


@dataclass(frozen=True)
class FrameForm:
    """How frames go out: their media type and transfer syntax, and whether they are the stored bytes."""

    media_type: str
    transfer_syntax: str
    as_stored: bool


def frame_form(ranges: list[MediaRange], stored: str) -> FrameForm:
    """The first form the Accept header allows for frames stored in `stored` (PS3.18 8.7.3.5.2).

    Native frames go out uncompressed little endian. A compressed frame goes
    out as stored, labelled with its exact transfer syntax, when the client
    accepts that syntax (`transfer-syntax=*` included, even under
    `type=application/octet-stream`, as OHIF asks); otherwise it is decoded.

    Raises:
        NotAcceptable: no acceptable form.
    """
    own = pixel_media_type(stored)
    for r in ranges:
        if r.multipart is False:
            continue
        syntax, octet = r.transfer_syntax, r.allows(OCTET_STREAM)
        if is_native(stored):
            if octet and syntax in (None, "*", EXPLICIT_LE, stored):
                return FrameForm(OCTET_STREAM, EXPLICIT_LE, as_stored=False)
            continue
        if syntax in ("*", stored) and (r.allows(own) or r.part_type == OCTET_STREAM):
            return FrameForm(own, stored, as_stored=True)
        if syntax is None and r.part_type == own:
            return FrameForm(own, stored, as_stored=True)
        if octet and syntax in (None, EXPLICIT_LE) and can_decode(stored):
            return FrameForm(OCTET_STREAM, EXPLICIT_LE, as_stored=False)
        if syntax is None and r.allows(own):
            return FrameForm(own, stored, as_stored=True)
    raise not_acceptable(ranges, f"frames stored as {stored} ({own})")


_LEVELS = ["", "/series/{series:str}", "/series/{series:str}/instances/{instance:str}"]
"""Study, series and instance paths below the controller's study path."""


class WadoController(Controller):
    """WADO-RS retrieval under the DICOMweb root."""

    path = "/studies/{study:str}"
    tags = ("WADO-RS",)

    @get([level or "/" for level in _LEVELS], operation_id="RetrieveInstances")
    async def retrieve(
        self, request: Request, store: NamedDependency[InstanceStore], settings: NamedDependency[Settings],
        study: FromPath[str], series: FromPath[str | None] = None, instance: FromPath[str | None] = None
    ) -> Response:
        """Every instance of the study, series or the one instance, each file as stored unless asked otherwise."""
        syntaxes = instance_syntaxes(_ranges(request))
        found = await find_instances(store.storage.root, study, series, instance)
        payloads = await instance_payloads(
            found, syntaxes, max_size=settings.limits.max_pixel_data_size, root=settings.http.dicomweb_path,
            slots=render_slots(request, settings),
        )
        return await multipart_response(payloads, DICOM)

    @get([f"{level}/metadata" for level in _LEVELS], operation_id="RetrieveMetadata")
    async def metadata(
        self, request: Request, store: NamedDependency[InstanceStore], settings: NamedDependency[Settings],
        study: FromPath[str], series: FromPath[str | None] = None, instance: FromPath[str | None] = None
    ) -> Response:
        """DICOM JSON of every instance of the study, series or the one instance, bulk data as BulkDataURIs."""
        ranges = _ranges(request)
        if not any(r.multipart is not True and (r.allows(DICOM_JSON) or r.allows("application/json")) for r in ranges):
            raise not_acceptable(ranges, f"metadata ({DICOM_JSON})")
        found = await find_instances(store.storage.root, study, series, instance, with_metadata=True)
        return Response(instance_metadata_json(found, settings.http.dicomweb_path), media_type=DICOM_JSON)

    @get("/series/{series:str}/instances/{instance:str}/frames/{frames:str}", operation_id="RetrieveFrames")
    async def retrieve_frames(
        self, request: Request, store: NamedDependency[InstanceStore], settings: NamedDependency[Settings],
        study: FromPath[str], series: FromPath[str], instance: FromPath[str], frames: FromPath[str]
    ) -> Response:
        """Frames of an instance, one part each, uncompressed or in the stored compressed syntax."""
        numbers = parse_frame_numbers(frames)
        ranges = _ranges(request)
        (found,) = await find_instances(store.storage.root, study, series, instance, with_metadata=True)
        form = frame_form(ranges, found.transfer_syntax)
        cache, limit = read_cache(request, settings), settings.limits.max_pixel_data_size
        data = None if form.as_stored else read_native_frames(found, numbers, most_bytes=FRAMES_NOW)
        if data is None:  # a header to parse, frames to decode or many bytes: off the event loop
            data = await anyio.to_thread.run_sync(
                lambda: read_frames(found, numbers, decode=not form.as_stored, max_size=limit, cache=cache)
            )
        return await multipart_response([Payload(form.media_type, d, form.transfer_syntax) for d in data], form.media_type)

    @get("/series/{series:str}/instances/{instance:str}/bulk/{tag:str}", operation_id="RetrieveBulkdata")
    async def retrieve_bulkdata(
        self, request: Request, store: NamedDependency[InstanceStore], settings: NamedDependency[Settings],
        study: FromPath[str], series: FromPath[str], instance: FromPath[str], tag: FromPath[str]
    ) -> Response:
        """The value behind a BulkDataURI: raw bytes, or one part when multipart is asked for."""
        number = parse_tag(tag)
        ranges = _ranges(request)
        (found,) = await find_instances(store.storage.root, study, series, instance)
        compressed = number in PIXEL_TAGS and not is_native(found.transfer_syntax)
        media = pixel_media_type(found.transfer_syntax) if compressed else OCTET_STREAM
        choice = next((r for r in ranges if r.allows(media) or r.allows(OCTET_STREAM)), None)
        if choice is None:
            raise not_acceptable(ranges, f"bulk data ({media})")
        payload = await anyio.to_thread.run_sync(
            lambda: read_bulkdata(found, number, max_size=settings.limits.max_pixel_data_size)
        )
        if choice.multipart:
            return await multipart_response([payload], payload.media_type)
        return await single_response(payload)
