"""Pixel data for the pacs and viewer services: frames read lazily, decoded, windowed, encoded.

    FrameReader (frames.py)   one file's frames by offset or offset table; decode with size check
    PixelInfo (pixels.py)     the Image Pixel module validated; check_size before any allocation
    display_pixels (display.py), Lut (luts.py)   modality LUT, VOI/window, MONOCHROME1, palette
    encode_image (encode.py)  JPEG/PNG with viewport; render_frame (render.py) the whole chain
    to_explicit_little_endian (transcode.py)     the default transfer syntax of DICOMweb
"""

from pacsbox.core.imaging.display import VoiFunction, Window, display_pixels
from pacsbox.core.imaging.encode import ImageType, Viewport, encode_image
from pacsbox.core.imaging.frames import PIXEL_TAGS, FrameReader
from pacsbox.core.imaging.pixels import PixelInfo, check_size
from pacsbox.core.imaging.render import RenderOptions, render_frame
from pacsbox.core.imaging.syntaxes import (
    DEFAULT_SYNTAX,
    EXPLICIT_LE,
    OCTET_STREAM,
    can_decode,
    is_native,
    pixel_media_type,
)
from pacsbox.core.imaging.transcode import can_transcode, to_explicit_little_endian

__all__ = [
    "DEFAULT_SYNTAX",
    "EXPLICIT_LE",
    "OCTET_STREAM",
    "PIXEL_TAGS",
    "FrameReader",
    "ImageType",
    "PixelInfo",
    "RenderOptions",
    "Viewport",
    "VoiFunction",
    "Window",
    "can_decode",
    "can_transcode",
    "check_size",
    "display_pixels",
    "encode_image",
    "is_native",
    "pixel_media_type",
    "render_frame",
    "to_explicit_little_endian",
]
