"""The Image Pixel module of a header, checked before any pixel buffer is allocated.

A hostile or broken header can claim 65535 x 65535 pixels over thousands of
frames; decoding it would exhaust memory long before a codec notices. Every
decode in pacsbox first builds a `PixelInfo` (which refuses attribute values
outside PS3.3 C.7.6.3) and calls `check_size` with the number of frames it is
about to hold in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from pacsbox.core.errors import PixelDataError
from pydicom.dataset import Dataset

__all__ = ["PixelInfo", "check_size"]

_BITS_ALLOCATED = {1, 8, 16, 32, 64}
_PHOTOMETRIC = {
    "MONOCHROME1", "MONOCHROME2", "PALETTE COLOR", "RGB", "YBR_FULL", "YBR_FULL_422",
    "YBR_PARTIAL_420", "YBR_ICT", "YBR_RCT", "XYB",
}


@dataclass(frozen=True)
class PixelInfo:
    """Image Pixel module attributes (PS3.3 C.7.6.3) of one instance, validated."""

    rows: int
    columns: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric: str
    number_of_frames: int

    @classmethod
    def of(cls, ds: Dataset) -> PixelInfo:
        """Read and check the attributes.

        Raises:
            PixelDataError: an attribute is missing or out of the range the standard allows.
        """
        rows = _integer(ds, "Rows", 1, 0xFFFF)
        columns = _integer(ds, "Columns", 1, 0xFFFF)
        samples = _integer(ds, "SamplesPerPixel", 1, 4)
        bits_allocated = _integer(ds, "BitsAllocated", 1, 64)
        if bits_allocated not in _BITS_ALLOCATED:
            raise PixelDataError(f"BitsAllocated {bits_allocated} is not 1, 8, 16, 32 or 64")
        bits_stored = _integer(ds, "BitsStored", 1, bits_allocated, default=bits_allocated)
        representation = _integer(ds, "PixelRepresentation", 0, 1, default=0)
        photometric = str(ds.get("PhotometricInterpretation", "") or "").strip().upper()
        if photometric not in _PHOTOMETRIC:
            raise PixelDataError(f"PhotometricInterpretation {photometric!r} is not one pacsbox can display")
        frames = _integer(ds, "NumberOfFrames", 0, 0x7FFFFFFF, default=1) or 1
        return cls(rows, columns, samples, bits_allocated, bits_stored, representation, photometric, frames)

    @property
    def frame_bits(self) -> int:
        """Bits one native frame occupies (YBR_FULL_422 stores two samples per pixel)."""
        samples = 2 if self.photometric == "YBR_FULL_422" and self.samples_per_pixel == 3 else self.samples_per_pixel
        return self.rows * self.columns * samples * self.bits_allocated

    def decoded_bytes(self, frames: int) -> int:
        """Bytes `frames` decoded frames occupy in memory (one byte at least per sample)."""
        return self.rows * self.columns * self.samples_per_pixel * max(self.bits_allocated, 8) // 8 * frames


def check_size(info: PixelInfo, frames: int, limit: int) -> None:
    """Refuse to decode `frames` frames when they would pass `limit` bytes.

    Raises:
        PixelDataError: the decoded pixels would take more than `limit` bytes.
    """
    size = info.decoded_bytes(frames)
    if size > limit:
        raise PixelDataError(
            f"{frames} frame(s) of {info.rows} x {info.columns} x {info.samples_per_pixel} samples x "
            f"{info.bits_allocated} bits take {size} bytes decoded, over PACSBOX_MAX_PIXEL_DATA_SIZE ({limit})"
        )


def _integer(ds: Dataset, keyword: str, low: int, high: int, default: int | None = None) -> int:
    try:
        value = ds.get(keyword)
    except Exception as error:  # pydicom raises whatever the value's parser raises
        raise PixelDataError(f"{keyword} cannot be read: {error}") from None
    if value is None or value == "":
        if default is None:
            raise PixelDataError(f"{keyword} is missing: the pixel data cannot be interpreted")
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise PixelDataError(f"{keyword} {value!r} is not a number") from None
    if not low <= number <= high:
        raise PixelDataError(f"{keyword} {number} is outside {low}..{high}")
    return number
