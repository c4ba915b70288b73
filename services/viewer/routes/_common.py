"""What the rendering routes share: their query parameters and the volume they draw from."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from litestar import Request

from pacsbox.core.app import Identity
from pacsbox.core.errors import BadRequest
from pacsbox.core.imaging import ImageType, Window
from pacsbox.core.settings import Settings
from pacsbox.viewer.render.geometry import Volume
from pacsbox.viewer.volumes import load_volume

__all__ = ["off_the_loop", "parse_format", "parse_window", "series_volume"]

T = TypeVar("T")

FORMATS = {"png": ImageType.PNG, "jpeg": ImageType.JPEG, "jpg": ImageType.JPEG}


def parse_format(text: str, allowed: tuple[str, ...] = ("png", "jpeg")) -> ImageType:
    """`format=png|jpeg` to a media type.

    Raises:
        BadRequest: another format.
    """
    media = FORMATS.get(text.strip().lower())
    if media is None or not any(FORMATS[name] is media for name in allowed):
        raise BadRequest(f"format={text!r}: expected {' or '.join(allowed)}")
    return media


def parse_window(text: str) -> Window | None:
    """`window=center,width` (modality values, e.g. HU), or None when absent.

    Raises:
        BadRequest: not two numbers, or a width below 1.
    """
    if not text:
        return None
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError("expected center,width")
        return Window(float(parts[0]), float(parts[1]))
    except ValueError as error:
        raise BadRequest(f"window={text!r}: {error}") from None


async def series_volume(request: Request, settings: Settings, identity: Identity, study: str, series: str) -> Volume:
    """The series' volume, loaded as the caller through the app's pacs client and cache."""
    state = request.app.state
    return await load_volume(
        state.pacs, state.volumes, study, series, identity, max_size=settings.viewer.max_volume_size,
        slots=state.render_slots,
    )


async def off_the_loop(request: Request, work: Callable[[], T]) -> T:
    """CPU work in a worker thread, at most PACSBOX_MAX_CONCURRENT_RENDERS at once."""
    async with request.app.state.render_slots:
        return await anyio.to_thread.run_sync(work)
