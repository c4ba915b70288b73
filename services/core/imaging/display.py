"""Stored pixel values to 8-bit display values: the grayscale and colour pipelines of PS3.3 C.11.

Grayscale: Modality LUT (or rescale) -> VOI (a requested window, else the
file's first window, else its VOI LUT, else the span of the frame's values) ->
MONOCHROME1 inverted; for integer pixels of up to 16 bits the chain is
computed once per value in the frame's span and applied as one lookup. Colour: RGB as decoded (YBR already converted by the decoder),
PALETTE COLOR through its validated palette, deeper samples scaled to 8 bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from pacsbox.core.errors import PixelDataError
from pacsbox.core.imaging.luts import Lut, apply_palette
from pacsbox.core.imaging.pixels import PixelInfo

__all__ = ["VoiFunction", "Window", "display_pixels", "modality_values"]


class VoiFunction(StrEnum):
    """VOI LUT Function (0028,1056), spelt as the `window` parameter of PS3.18 8.3.5.1.4 spells it."""

    LINEAR = "linear"
    LINEAR_EXACT = "linear-exact"
    SIGMOID = "sigmoid"

    @classmethod
    def parse(cls, text: str) -> VoiFunction:
        """`LINEAR_EXACT`, `linear-exact` and `Linear_Exact` alike.

        Raises:
            ValueError: not one of linear, linear-exact, sigmoid.
        """
        return cls(text.strip().lower().replace("_", "-"))


@dataclass(frozen=True)
class Window:
    """A window centre and width with its function (PS3.3 C.11.2.1.2).

    Raises:
        ValueError: a width the function cannot use (below 1 for linear, not positive otherwise).
    """

    center: float
    width: float
    function: VoiFunction = VoiFunction.LINEAR

    def __post_init__(self) -> None:
        if not (math.isfinite(self.center) and math.isfinite(self.width)):
            raise ValueError("window centre and width must be finite numbers")
        if self.width <= 0 or (self.function is VoiFunction.LINEAR and self.width < 1):
            raise ValueError(f"window width {self.width:g} is too small for the {self.function} function")

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Values to 0..1 (float)."""
        if self.function is VoiFunction.SIGMOID:
            return 1.0 / (1.0 + np.exp(np.clip(-4.0 * (values - self.center) / self.width, -700, 700)))
        if self.function is VoiFunction.LINEAR_EXACT:
            return np.clip((values - self.center) / self.width + 0.5, 0.0, 1.0)
        center, span = self.center - 0.5, self.width - 1
        if span == 0:
            return (values > center).astype(np.float64)
        return np.clip((values - center) / span + 0.5, 0.0, 1.0)


def display_pixels(pixels: np.ndarray, ds: Dataset, info: PixelInfo, window: Window | None = None) -> np.ndarray:
    """One decoded frame as uint8: (rows, columns) grayscale or (rows, columns, 3) RGB.

    Args:
        pixels: the frame as `FrameReader.decode` returns it.
        ds: the header (LUTs, rescale, windows, palette).
        info: the validated Image Pixel module.
        window: a window the client asked for; it wins over the file's.

    Raises:
        PixelDataError: LUTs or palettes that cannot be applied, or samples it cannot show.
    """
    if info.photometric == "PALETTE COLOR":
        return apply_palette(pixels, ds)
    if pixels.ndim == 3:
        if pixels.shape[-1] != 3:
            raise PixelDataError(f"{pixels.shape[-1]} samples per pixel cannot be displayed")
        return _colour_to_8bit(pixels, info)
    if pixels.dtype.kind in "iu" and pixels.dtype.itemsize <= 2:
        # At most 65536 stored values: run the pipeline once per value in the frame's span, then look up.
        low, high = int(pixels.min()), int(pixels.max())
        table = _grey(modality_values(np.arange(low, high + 1), ds, info), ds, info, window)
        return np.take(table, _offsets(pixels, low), mode="clip")  # in range by construction: "clip" skips the check
    return _grey(modality_values(pixels, ds, info), ds, info, window)


def _offsets(pixels: np.ndarray, low: int) -> np.ndarray:
    """`pixels - low` as unsigned integers of the same width, without widening the array.

    The difference is at most the frame's span, which fits the width; it may
    wrap in the signed type (e.g. 32767 - -32768), and reading it unsigned undoes that.
    """
    native = pixels if pixels.dtype.isnative else pixels.astype(pixels.dtype.newbyteorder("="))
    return (native - native.dtype.type(low)).view(f"u{native.dtype.itemsize}")


def _grey(values: np.ndarray, ds: Dataset, info: PixelInfo, window: Window | None) -> np.ndarray:
    """Modality values to 8-bit grey: VOI, then MONOCHROME1 inverted."""
    window = window or _stored_window(ds)
    if window is not None:
        scaled = window.apply(values)
    else:
        scaled = _voi_lut(values, ds, info)
        if scaled is None:
            scaled = _full_range(values)
    out = np.rint(scaled * 255.0).astype(np.uint8)
    return 255 - out if info.photometric == "MONOCHROME1" else out


def _colour_to_8bit(pixels: np.ndarray, info: PixelInfo) -> np.ndarray:
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype.kind == "f":
        return np.rint(_full_range(pixels.astype(np.float64)) * 255.0).astype(np.uint8)
    shift = max(info.bits_stored - 8, 0)
    return np.clip(pixels.astype(np.int64) >> shift, 0, 255).astype(np.uint8)


def _number(ds: Dataset, keyword: str) -> float | None:
    try:
        value: Any = ds.get(keyword)
        if isinstance(value, (MultiValue, list)):
            value = value[0] if value else None
        if value is None or value == "":
            return None
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def modality_values(pixels: np.ndarray, ds: Dataset, info: PixelInfo) -> np.ndarray:
    """Stored values to modality values (PS3.3 C.11.1): the Modality LUT, else Rescale Slope and Intercept."""
    sequence = ds.get("ModalityLUTSequence")
    if sequence:
        item = sequence[0]
        lut = Lut.of(item.get("LUTDescriptor"), item.get("LUTData"), little_endian=ds.original_encoding[1] is not False,
                     name="Modality LUT", signed=info.pixel_representation == 1)
        return lut(pixels).astype(np.float64)
    values = pixels.astype(np.float64)
    slope, intercept = _number(ds, "RescaleSlope"), _number(ds, "RescaleIntercept")
    if slope is not None and slope != 0:
        values *= slope
    if intercept is not None:
        values += intercept
    return values


def _stored_window(ds: Dataset) -> Window | None:
    center, width = _number(ds, "WindowCenter"), _number(ds, "WindowWidth")
    if center is None or width is None:
        return None
    try:
        function = VoiFunction.parse(str(ds.get("VOILUTFunction") or "LINEAR"))
    except ValueError:
        function = VoiFunction.LINEAR
    try:
        return Window(center, width, function)
    except ValueError:
        return None  # a broken window in the file: fall back to the frame's range


def _voi_lut(values: np.ndarray, ds: Dataset, info: PixelInfo) -> np.ndarray | None:
    sequence = ds.get("VOILUTSequence")
    if not sequence:
        return None
    item = sequence[0]
    lut = Lut.of(item.get("LUTDescriptor"), item.get("LUTData"), little_endian=ds.original_encoding[1] is not False,
                 name="VOI LUT", signed=info.pixel_representation == 1)
    return np.clip(lut(values) / lut.top, 0.0, 1.0)


def _full_range(values: np.ndarray) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(values.shape)
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        return np.zeros(values.shape)
    return np.clip((np.nan_to_num(values, nan=low) - low) / (high - low), 0.0, 1.0)
