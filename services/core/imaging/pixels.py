"""The Image Pixel module of a header, checked before any pixel buffer is allocated.

A hostile or broken header can claim 65535 x 65535 pixels over thousands of
frames; decoding it would exhaust memory long before a codec notices. Every
decode in pacsbox first builds a `PixelInfo` (which refuses attribute values
outside PS3.3 C.7.6.3) and calls `check_size` with the number of frames it is
about to hold in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from struct import unpack_from

from pydicom.dataset import Dataset

from pacsbox.core.errors import PixelDataError

__all__ = ["PixelInfo", "check_codestream", "check_size"]

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


_JPEG_FRAME_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
"""Start-of-frame markers of JPEG (ISO 10918-1 B.1.1.3) and JPEG-LS (SOF55, ISO 14495-1)."""


def _jpeg_size(frame: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 9 <= len(frame):
        if frame[position] != 0xFF:
            return None
        marker = frame[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        (length,) = unpack_from(">H", frame, position + 2)
        if marker in _JPEG_FRAME_MARKERS:
            height, width = unpack_from(">HH", frame, position + 5)
            return height, width
        position += 2 + length
    return None


def _j2k_size(frame: bytes) -> tuple[int, int] | None:
    start = frame.find(b"\xff\x4f\xff\x51", 0, 4096)  # SOC then SIZ, in a raw or boxed codestream
    if start < 0 or start + 24 > len(frame):
        return None
    width, height, left, top = unpack_from(">IIII", frame, start + 8)
    return height - top, width - left


def check_codestream(frame: bytes, info: PixelInfo) -> None:
    """Refuse a JPEG, JPEG-LS or JPEG 2000 frame larger than the header says, before a codec sizes its buffer by it.

    Raises:
        PixelDataError: the codestream declares more rows or columns than the header.
    """
    size = _jpeg_size(frame) if frame[:2] == b"\xff\xd8" else _j2k_size(frame)
    if size is not None and (size[0] > info.rows or size[1] > info.columns):
        raise PixelDataError(
            f"the compressed frame is {size[1]} x {size[0]} pixels, larger than the header's {info.columns} x {info.rows}"
        )
