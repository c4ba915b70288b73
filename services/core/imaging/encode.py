"""8-bit display pixels to a JPEG or PNG file, cropped and scaled to a viewport (PS3.18 8.3.5.1.3).

Grey JPEGs are encoded by libjpeg-turbo through imagecodecs, which gives the
same file as Pillow's encoder (same library, same settings) in about half the
time; colour ones and PNGs by Pillow.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum

import imagecodecs
import numpy as np
from PIL import Image

__all__ = ["ImageType", "Viewport", "encode_image"]


class ImageType(StrEnum):
    """The rendered media types pacsbox produces."""

    JPEG = "image/jpeg"
    PNG = "image/png"


@dataclass(frozen=True)
class Viewport:
    """Output size in pixels and an optional source region (PS3.18 `viewport=vw,vh[,sx,sy,sw,sh]`).

    The image (or the region) is scaled to fit `width` x `height` keeping its
    aspect ratio. A negative `source_width` or `source_height` flips the image.

    Raises:
        ValueError: a non-positive size or an empty region.
    """

    width: int
    height: int
    source: tuple[int, int, int, int] | None = None

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError("viewport width and height must be positive")
        if self.source is not None and (self.source[2] == 0 or self.source[3] == 0):
            raise ValueError("viewport source width and height must not be 0")

    def apply(self, image: Image.Image) -> Image.Image:
        if self.source is not None:
            x, y, w, h = self.source
            left, right = sorted((x, x + w))
            top, bottom = sorted((y, y + h))
            image = image.crop((left, top, right, bottom))
            if w < 0:
                image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            if h < 0:
                image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        scale = min(self.width / image.width, self.height / image.height)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        if size == image.size:
            return image
        return image.resize(size, Image.Resampling.BILINEAR if scale < 1 else Image.Resampling.BICUBIC)


def encode_image(
    pixels: np.ndarray,
    media_type: ImageType,
    *,
    quality: int = 90,
    viewport: Viewport | None = None,
    region: tuple[float, float, float, float] | None = None,
) -> bytes:
    """Encode (rows, columns) grayscale or (rows, columns, 3) RGB uint8 pixels.

    Args:
        pixels: 8-bit display values (`display_pixels`).
        media_type: JPEG or PNG.
        quality: JPEG quality 1..100 (PNG is lossless and ignores it).
        viewport: size and region of the output; the full image at its own size when None.
        region: left, top, right, bottom as fractions of the image (WADO-URI `region`), cut first.
    """
    if media_type is ImageType.JPEG and pixels.ndim == 2 and region is None and viewport is None:
        return bytes(imagecodecs.jpeg8_encode(np.ascontiguousarray(pixels), level=quality))
    image = Image.fromarray(np.ascontiguousarray(pixels))
    if region is not None:
        left, top, right, bottom = region
        image = image.crop((
            round(left * image.width), round(top * image.height),
            max(round(right * image.width), round(left * image.width) + 1),
            max(round(bottom * image.height), round(top * image.height) + 1),
        ))
    if viewport is not None:
        image = viewport.apply(image)
    out = io.BytesIO()
    if media_type is ImageType.JPEG:
        image.save(out, format="JPEG", quality=quality)
    else:
        image.save(out, format="PNG", compress_level=3)
    return out.getvalue()
