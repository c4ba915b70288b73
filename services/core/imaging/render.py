"""One frame of a stored file rendered as a JPEG or PNG image (PS3.18 8.3.5, rendered resources)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pacsbox.core.imaging.display import Window, display_pixels
from pacsbox.core.imaging.encode import ImageType, Viewport, encode_image
from pacsbox.core.imaging.frames import FrameReader
from pacsbox.core.imaging.cache import ReadCache

__all__ = ["RenderOptions", "render_frame"]


@dataclass(frozen=True)
class RenderOptions:
    """What the client asked the image to look like."""

    media_type: ImageType = ImageType.JPEG
    quality: int = 90
    """JPEG quality, 1..100."""
    window: Window | None = None
    """Overrides the file's window when given."""
    viewport: Viewport | None = None
    """Output size and source region; the image's own size when None."""
    region: tuple[float, float, float, float] | None = None
    """Left, top, right, bottom fractions of the image to keep (WADO-URI `region`)."""


def render_frame(
    path: Path, index: int, options: RenderOptions, *, max_size: int, cache: ReadCache | None = None
) -> bytes:
    """Frame `index` (from 0) of the file at `path`, encoded as `options` asks.

    `cache` gives the header and the decoded frame when the file was read before, and keeps them otherwise.

    Raises:
        PixelDataError: no pixel data, no such frame, or pixels that cannot be decoded or shown.
    """
    with FrameReader(path, max_size=max_size, cache=cache) as reader:
        info = reader.info
        pixels = reader.decode(index)
        shown = display_pixels(pixels, reader.dataset, info, options.window)
    return encode_image(
        shown, options.media_type, quality=options.quality, viewport=options.viewport, region=options.region
    )
