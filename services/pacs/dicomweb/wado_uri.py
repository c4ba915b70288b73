"""WADO-URI (PS3.18 9): `GET /wado?requestType=WADO&studyUID=&seriesUID=&objectUID=`.

    contentType     application/dicom, image/jpeg or image/png (a comma list: the first we make);
                    default image/jpeg for an instance with pixel data, else application/dicom
    transferSyntax  for application/dicom: a UID or `*` (as stored); default Explicit VR Little Endian
    frameNumber     (or OHIF's `frame`) from 1; rows, columns: largest output size;
    region          x1,y1,x2,y2 fractions; windowCenter + windowWidth; imageQuality 1..100

`anonymize`, `presentationUID` and `presentationSeriesUID` are refused with
400 (not supported); `charset` and `annotation` are accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Request, Response, get
from litestar.di import NamedDependency

from pacsbox.core.errors import BadRequest, NotAcceptable
from pacsbox.core.imaging import EXPLICIT_LE, ImageType, RenderOptions, Viewport, Window
from pacsbox.core.settings import Settings
from pacsbox.pacs.dicomweb.responses import single_response
from pacsbox.pacs.dicomweb.rendered import read_cache, render_slots, rendered_image
from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.reader import find_instances
from pacsbox.pacs.store.retrieve import DICOM, has_pixel_data, instance_payloads

__all__ = ["retrieve_wado_uri"]

_UNSUPPORTED = ("anonymize", "presentationUID", "presentationSeriesUID")
_UNBOUNDED = 65535


def _required(query: Mapping[str, str], name: str) -> str:
    value = (query.get(name) or "").strip()
    if not value:
        raise BadRequest(f"{name} is required")
    return value


def _positive(query: Mapping[str, str], name: str, high: int = _UNBOUNDED) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not raw.strip().isdigit() or not 1 <= int(raw) <= high:
        raise BadRequest(f"{name}: {raw[:16]!r} is not a whole number from 1 to {high}")
    return int(raw)


def _float(query: Mapping[str, str], name: str) -> float:
    try:
        return float(_required(query, name))
    except ValueError:
        raise BadRequest(f"{name}: {query[name][:32]!r} is not a number") from None


def _image_options(query: Mapping[str, str], kind: ImageType) -> RenderOptions:
    rows, columns = _positive(query, "rows"), _positive(query, "columns")
    viewport = Viewport(columns or _UNBOUNDED, rows or _UNBOUNDED) if rows or columns else None
    window = None
    if "windowCenter" in query or "windowWidth" in query:
        try:
            window = Window(_float(query, "windowCenter"), _float(query, "windowWidth"))
        except ValueError as error:
            raise BadRequest(f"windowWidth: {error}") from None
    region = None
    if "region" in query:
        try:
            values = tuple(float(v) for v in query["region"].split(","))
        except ValueError:
            values = ()
        if len(values) != 4 or not all(0 <= v <= 1 for v in values) or values[0] >= values[2] or values[1] >= values[3]:
            raise BadRequest(f"region: {query['region'][:64]!r} is not x1,y1,x2,y2 fractions with x1<x2 and y1<y2")
        region = values
    return RenderOptions(
        media_type=kind, quality=_positive(query, "imageQuality", 100) or 90, window=window, viewport=viewport,
        region=region,  # type: ignore[arg-type]
    )


@get("/wado", operation_id="WadoUri", tags=["WADO-URI"])
async def retrieve_wado_uri(
    request: Request, store: NamedDependency[InstanceStore], settings: NamedDependency[Settings]
) -> Response:
    """One instance as a DICOM file, or one frame of it as a JPEG or PNG image."""
    query = request.query_params
    if query.get("requestType") != "WADO":
        raise BadRequest(f"requestType: {str(query.get('requestType'))[:32]!r} must be WADO")
    uids = [_required(query, name) for name in ("studyUID", "seriesUID", "objectUID")]
    for name in _UNSUPPORTED:
        if name in query and query[name].lower() not in ("", "no"):
            raise BadRequest(f"{name} is not supported")
    (instance,) = await find_instances(store.storage.root, *uids, with_metadata=True)
    asked = [t.strip().lower() for t in (query.get("contentType") or "").split(",") if t.strip()]
    if not asked:
        asked = [ImageType.JPEG.value if has_pixel_data(instance) else DICOM]
    kind = next((t for t in asked if t in (DICOM, *ImageType)), None)
    if kind is None:
        raise NotAcceptable(f"contentType {query.get('contentType')!r}: pacsbox makes application/dicom, image/jpeg, image/png")
    if kind == DICOM:
        syntax = (query.get("transferSyntax") or EXPLICIT_LE).strip()
        (payload,) = await instance_payloads(
            [instance], [syntax], max_size=settings.limits.max_pixel_data_size, slots=render_slots(request, settings)
        )
        return await single_response(payload)
    frame = _positive(query, "frameNumber") or _positive(query, "frame") or 1
    if frame > instance.number_of_frames:
        raise BadRequest(f"frameNumber: instance {instance.sop_uid} has {instance.number_of_frames} frame(s)")
    options = _image_options(query, ImageType(kind))
    render = rendered_image(
        instance, frame - 1, options, render_slots(request, settings), settings.limits.max_pixel_data_size,
        read_cache(request, settings),
    )
    return Response(await render(), media_type=kind)
