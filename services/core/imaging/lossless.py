"""JPEG Lossless frames decoded by libjpeg-turbo (through imagecodecs), as a pydicom decoding plugin.

CT archives commonly hold JPEG Lossless (process 14) frames. pylibjpeg-libjpeg
decodes a 512 x 512 16-bit one in about 13 ms on the benchmark machine,
libjpeg-turbo 3 in about 2 ms. Lossless decoding has one right answer, so the
values are those of any other decoder; the plugin only hands pydicom the
decoded bytes, and pydicom's own runner shapes them (data type, sign, size
checks) exactly as it does for pylibjpeg's.

`PLUGIN` is registered with pydicom's JPEG Lossless decoders on import;
`FrameReader.decode` asks for it first where `suits` says so and falls back to
the other plugins if it refuses a frame.
"""

from __future__ import annotations

import imagecodecs
import numpy as np
from pydicom import uid
from pydicom.pixels import get_decoder
from pydicom.pixels.decoders.base import DecodeRunner

from pacsbox.core.imaging.pixels import PixelInfo

__all__ = ["PLUGIN", "decode_frame", "suits"]

PLUGIN = "pacsbox-libjpeg-turbo"
_SYNTAXES = (uid.JPEGLossless, uid.JPEGLosslessSV1)
_AVAILABLE = bool(imagecodecs.JPEG8.available)
"""False in an imagecodecs built without libjpeg-turbo: pylibjpeg then decodes these frames alone."""

DECODER_DEPENDENCIES = {syntax: ("imagecodecs with libjpeg-turbo",) for syntax in _SYNTAXES}
"""What pydicom reports as missing when the plugin cannot decode."""


def is_available(transfer_syntax: str) -> bool:
    """pydicom's plugin interface: whether this plugin decodes `transfer_syntax` here."""
    return _AVAILABLE and transfer_syntax in _SYNTAXES


def suits(transfer_syntax: str, info: PixelInfo) -> bool:
    """Whether to ask this plugin first: JPEG Lossless, one sample of 8 or 16 bits (colour stays with pylibjpeg)."""
    return is_available(transfer_syntax) and info.samples_per_pixel == 1 and info.bits_allocated in (8, 16)


def decode_frame(src: bytes, runner: DecodeRunner) -> bytes:
    """One JPEG Lossless codestream to little-endian samples of the runner's Bits Allocated.

    Raises:
        ValueError: the frame is not one grey image of the header's size (pydicom then tries another plugin).
    """
    pixels = imagecodecs.jpeg8_decode(src)
    if pixels.shape != (runner.rows, runner.columns):
        raise ValueError(f"decoded {pixels.shape}, the header says {runner.rows} x {runner.columns} x 1")
    container = np.dtype(f"<u{runner.bits_allocated // 8}")
    if pixels.dtype.itemsize > container.itemsize:
        raise ValueError(f"{pixels.dtype} samples do not fit Bits Allocated {runner.bits_allocated}")
    return pixels.astype(container, copy=False).tobytes()


def _register() -> None:
    for syntax in _SYNTAXES:
        try:
            get_decoder(syntax).add_plugin(PLUGIN, (__name__, "decode_frame"))
        except ValueError:  # already there (the module imported twice under another name)
            pass


_register()
