"""`GET /api/studies/{study}/series/{series}/mpr`: one axial, coronal or sagittal plane of a series."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from pacsbox.core.app import Identity
from pacsbox.core.errors import BadRequest
from pacsbox.core.settings import Settings
from pacsbox.viewer.render.mpr import Plane, plane_count, render_plane
from pacsbox.viewer.routes._common import (
    off_the_loop,
    parse_format,
    parse_viewport,
    parse_window,
    series_volume,
)

__all__ = ["retrieve_mpr"]


@get("/api/studies/{study:str}/series/{series:str}/mpr", operation_id="RetrieveMpr", tags=["render"])
async def retrieve_mpr(
    request: Request,
    settings: NamedDependency[Settings],
    identity: NamedDependency[Identity],
    study: FromPath[str],
    series: FromPath[str],
    plane: FromQuery[str] = "axial",
    index: Annotated[
        int | None, QueryParameter(description="plane number from the right, anterior or inferior end; middle when absent")
    ] = None,
    window: Annotated[str, QueryParameter(description="center,width in modality values (HU for CT)")] = "",
    image_format: Annotated[str, QueryParameter(name="format", description="png or jpeg")] = "png",
    viewport: Annotated[
        str, QueryParameter(description="width,height to fit the image in, keeping its proportions")
    ] = "",
) -> Response:
    """A reformatted plane of the series as PNG or JPEG; `X-Plane-Count` tells how many there are."""
    try:
        chosen = Plane(plane.strip().lower())
    except ValueError:
        raise BadRequest(f"plane={plane!r}: expected axial, coronal or sagittal") from None
    media, wanted = parse_format(image_format), parse_window(window)
    fit = parse_viewport(viewport, settings.viewer.max_render_size)
    volume = await series_volume(request, settings, identity, study, series)
    count = plane_count(volume, chosen)
    position = count // 2 if index is None else index
    body = await off_the_loop(request, lambda: render_plane(volume, chosen, position, media, wanted, fit))
    return Response(body, media_type=media.value, headers={"X-Plane-Count": str(count), "X-Plane-Index": str(position)})
