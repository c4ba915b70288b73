"""`GET /api/studies/{study}/series/{series}/volume`: a 3D rendering of a series (pyvista, off screen)."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from pacsbox.core.app import Identity
from pacsbox.core.errors import BadRequest
from pacsbox.core.settings import Settings
from pacsbox.viewer.render.volume import RenderMode, VolumeView, check_available, render_volume
from pacsbox.viewer.routes._common import off_the_loop, parse_format, series_volume

__all__ = ["retrieve_volume_rendering"]


@get("/api/studies/{study:str}/series/{series:str}/volume", operation_id="RetrieveVolumeRendering", tags=["render"])
async def retrieve_volume_rendering(
    request: Request,
    settings: NamedDependency[Settings],
    identity: NamedDependency[Identity],
    study: FromPath[str],
    series: FromPath[str],
    mode: Annotated[str, QueryParameter(description="iso (a surface at `threshold`) or volume (composited)")] = "iso",
    threshold: Annotated[float | None, QueryParameter(description="isosurface value, e.g. 300 for bone in HU")] = None,
    size: Annotated[int, QueryParameter(description="width and height in pixels")] = 512,
    azimuth: Annotated[
        float, QueryParameter(description="degrees about the patient's long axis, 0 = from the front")
    ] = 0.0,
    elevation: Annotated[float, QueryParameter(description="degrees above the horizontal")] = 0.0,
    image_format: Annotated[str, QueryParameter(name="format", description="png or jpeg")] = "png",
) -> Response:
    """The series drawn in 3D from the front (turned by azimuth and elevation)."""
    try:
        chosen = RenderMode(mode.strip().lower())
    except ValueError:
        raise BadRequest(f"mode={mode!r}: expected iso or volume") from None
    limit = settings.viewer.max_render_size
    if not 16 <= size <= limit:
        raise BadRequest(f"size={size}: expected 16 to {limit} (PACSBOX_VIEWER_MAX_RENDER_SIZE)")
    media = parse_format(image_format)
    check_available()
    view = VolumeView(chosen, threshold, size, azimuth, elevation)
    volume = await series_volume(request, settings, identity, study, series)
    body = await off_the_loop(request, lambda: render_volume(volume, view, media))
    return Response(body, media_type=media.value)
