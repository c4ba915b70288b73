"""One instance's file, attributes and frames, as Orthanc serves them.

    GET /instances/{id}/file                 the stored file, byte for byte (application/dicom)
    GET /instances/{id}/tags                 every attribute, Orthanc's full form; ?simplify or ?short
    GET /instances/{id}/simplified-tags      keyword -> value
    GET /instances/{id}/frames               frame indices, from 0
    GET /instances/{id}/frames/{n}/raw       frame n as stored: native bytes (application/octet-stream,
                                             little endian as Orthanc gives them even from a big-endian
                                             file), or the compressed frame (image/jpeg, image/jp2, ...)
    GET /instances/{id}/frames/{n}/preview   frame n rendered as PNG (JPEG when Accept asks only for it)
    GET /instances/{id}/preview              frame 0, likewise

`/file` and nginx: when the request carries `X-Pacsbox-Accel-Prefix: <prefix>`
(set by nginx on its way in; nginx removes any copy a client sent), the
answer has an empty body and `X-Accel-Redirect: <prefix>/<path of the file
under the storage folder>`, and nginx sends the file itself from an internal
location. Without it, the file is streamed from disk in chunks.
"""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from pydicom.uid import ExplicitVRBigEndian

from pacsbox.core.errors import NotFound
from pacsbox.core.imaging import OCTET_STREAM, ImageType, RenderOptions, is_native, pixel_media_type
from pacsbox.core.settings import Settings
from pacsbox.pacs.dicomweb.rendered import read_cache, render_slots, rendered_image
from pacsbox.pacs.dicomweb.responses import single_response
from pacsbox.pacs.dicomweb.wado import FRAMES_NOW
from pacsbox.pacs.rest.tags import full_tags, simplified_tags, tags_in_asked_form
from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.native_frames import read_native_frames
from pacsbox.pacs.store.pixel_data import read_frames
from pacsbox.pacs.store.reader import StoredInstance, find_instance_by_id
from pacsbox.pacs.store.retrieve import DICOM, FileSpan, Payload

__all__ = ["ACCEL_PREFIX_HEADER", "INSTANCE_ROUTES", "check_frame", "file_response"]

ACCEL_PREFIX_HEADER = "X-Pacsbox-Accel-Prefix"
"""Set by nginx: the internal location that serves the storage folder (see the module docstring)."""


async def file_response(
    request: Request, store: InstanceStore, instance: StoredInstance, disposition: str | None, media_type: str = DICOM
) -> Response:
    """The instance's stored file as the answer, handed to nginx when it asks (see the module docstring)."""
    headers = {"Content-Disposition": disposition} if disposition else {}
    prefix = request.headers.get(ACCEL_PREFIX_HEADER)
    if prefix:
        relative = instance.path.relative_to(store.storage.root).as_posix()
        redirect = {"X-Accel-Redirect": f"{prefix.rstrip('/')}/{relative}"}
        return Response(b"", media_type=media_type, headers={**headers, **redirect})
    response = await single_response(Payload(media_type, FileSpan(instance.path, 0, instance.file_size)))
    response.headers.update(headers)
    return response


@get("/instances/{public_id:str}/file", operation_id="GetInstanceFile")
async def get_instance_file(
    request: Request, store: NamedDependency[InstanceStore], public_id: FromPath[str]
) -> Response:
    """The stored DICOM file, exactly as stored."""
    instance = await find_instance_by_id(store.storage.root, public_id)
    return await file_response(request, store, instance, f'attachment; filename="{public_id}.dcm"')


async def _dataset(store: InstanceStore, public_id: str) -> dict[str, Any]:
    instance = await find_instance_by_id(store.storage.root, public_id, with_metadata=True)
    return json.loads(instance.metadata) if instance.metadata else {}


@get("/instances/{public_id:str}/tags", operation_id="GetInstanceTags")
async def get_instance_tags(
    request: Request, store: NamedDependency[InstanceStore], public_id: FromPath[str]
) -> dict[str, Any]:
    """Every attribute of the instance: `{"gggg,eeee": {"Name", "Type", "Value"}}`."""
    return tags_in_asked_form(request.query_params, full_tags(await _dataset(store, public_id)))


@get("/instances/{public_id:str}/simplified-tags", operation_id="GetInstanceSimplifiedTags")
async def get_instance_simplified_tags(
    store: NamedDependency[InstanceStore], public_id: FromPath[str]
) -> dict[str, Any]:
    """Every attribute of the instance: `{"PatientName": "Doe^Jane", ...}`."""
    return simplified_tags(full_tags(await _dataset(store, public_id)))


@get("/instances/{public_id:str}/frames", operation_id="ListInstanceFrames")
async def list_instance_frames(store: NamedDependency[InstanceStore], public_id: FromPath[str]) -> list[int]:
    """Indices of the instance's frames, from 0."""
    instance = await find_instance_by_id(store.storage.root, public_id)
    return list(range(instance.number_of_frames))


def check_frame(instance: StoredInstance, frame: int) -> None:
    """Raises NotFound for a frame index (from 0) past the instance's frames."""
    if not 0 <= frame < instance.number_of_frames:
        count = instance.number_of_frames
        raise NotFound(f"Instance {instance.public_id} has {count} frame(s), numbered from 0: no frame {frame}")


@get("/instances/{public_id:str}/frames/{frame:int}/raw", operation_id="GetInstanceRawFrame")
async def get_raw_frame(
    request: Request, store: NamedDependency[InstanceStore], settings: NamedDependency[Settings],
    public_id: FromPath[str], frame: FromPath[int]
) -> Response:
    """Frame `frame` (from 0) as the file holds it, neither decoded nor rendered."""
    instance = await find_instance_by_id(store.storage.root, public_id, with_metadata=True)
    check_frame(instance, frame)
    data = read_native_frames(instance, [frame + 1], most_bytes=FRAMES_NOW)
    if data is None:  # a header to parse, big-endian bytes to swap or many bytes: off the event loop
        cache, limit = read_cache(request, settings), settings.limits.max_pixel_data_size
        swap = instance.transfer_syntax == ExplicitVRBigEndian
        data = await anyio.to_thread.run_sync(
            lambda: read_frames(instance, [frame + 1], decode=swap, max_size=limit, cache=cache)
        )
    syntax = instance.transfer_syntax
    return Response(data[0], media_type=OCTET_STREAM if is_native(syntax) else pixel_media_type(syntax))


async def _preview(request: Request, store: InstanceStore, settings: Settings, public_id: str, frame: int) -> Response:
    instance: StoredInstance = await find_instance_by_id(store.storage.root, public_id)
    check_frame(instance, frame)
    accept = request.headers.get("accept", "")
    kind = ImageType.JPEG if "image/jpeg" in accept and "image/png" not in accept else ImageType.PNG
    render = rendered_image(
        instance, frame, RenderOptions(media_type=kind), render_slots(request, settings),
        settings.limits.max_pixel_data_size, read_cache(request, settings),
    )
    return Response(await render(), media_type=kind.value)


@get("/instances/{public_id:str}/frames/{frame:int}/preview", operation_id="PreviewInstanceFrame")
async def preview_instance_frame(
    request: Request, store: NamedDependency[InstanceStore], settings: NamedDependency[Settings],
    public_id: FromPath[str], frame: FromPath[int]
) -> Response:
    """Frame `frame` (from 0) rendered with the file's own window."""
    return await _preview(request, store, settings, public_id, frame)


@get("/instances/{public_id:str}/preview", operation_id="PreviewInstance")
async def preview_instance(
    request: Request, store: NamedDependency[InstanceStore], settings: NamedDependency[Settings],
    public_id: FromPath[str]
) -> Response:
    """The first frame rendered with the file's own window."""
    return await _preview(request, store, settings, public_id, 0)


INSTANCE_ROUTES = [
    get_instance_file,
    get_instance_tags,
    get_instance_simplified_tags,
    list_instance_frames,
    get_raw_frame,
    preview_instance_frame,
    preview_instance,
]
