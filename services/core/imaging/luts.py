"""Lookup tables (modality, VOI, palette colour), their descriptors checked before use.

A LUT descriptor (PS3.3 C.11.1.1.1, C.7.6.3.1.5) is three numbers: entries
(0 meaning 65536), the first stored value mapped, and bits per entry. The data
must hold at least that many entries; a table that does not is refused with
`PixelDataError` rather than indexed out of range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from pacsbox.core.errors import PixelDataError

__all__ = ["Lut", "apply_palette"]


@dataclass(frozen=True)
class Lut:
    """A validated lookup table: `table[value - first]`, clamped at both ends."""

    first: int
    bits: int
    table: np.ndarray

    @classmethod
    def of(cls, descriptor: Any, data: Any, *, little_endian: bool, name: str, signed: bool = False) -> Lut:
        """Build a table from a descriptor and its data (OW bytes or a list of US values).

        `signed`: the stored values are signed, so a first mapped value read as
        US above 32767 is negative (PS3.3 C.11.1.1.1).

        Raises:
            PixelDataError: a descriptor or data that cannot describe a table.
        """
        try:
            entries, first, bits = (int(v) for v in descriptor)
        except (TypeError, ValueError):
            raise PixelDataError(f"{name} descriptor {descriptor!r} is not three numbers") from None
        entries = entries or 65536
        if not 1 <= entries <= 65536 or bits not in range(8, 17):
            raise PixelDataError(f"{name} descriptor {descriptor!r}: entries or bits out of range")
        if signed and 32768 <= first <= 65535:
            first -= 65536
        if isinstance(data, (bytes, bytearray)):
            if bits == 8 and len(data) == entries:  # 8-bit entries packed two per word
                values = np.frombuffer(data, np.uint8)
            else:
                values = np.frombuffer(data[: len(data) // 2 * 2], "<u2" if little_endian else ">u2")
        elif data is None:
            raise PixelDataError(f"{name} data is missing")
        else:
            values = np.asarray(list(data) if not isinstance(data, int) else [data], dtype=np.int64)
        if values.size < entries:
            raise PixelDataError(f"{name} holds {values.size} entries, its descriptor announces {entries}")
        return cls(first=first, bits=bits, table=values[:entries].astype(np.int64))

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        values = pixels if pixels.dtype.kind in "iu" else np.rint(pixels)
        index = np.clip(values.astype(np.int64) - self.first, 0, self.table.size - 1)
        return self.table[index]

    @property
    def top(self) -> int:
        """Largest value the table can produce, by its declared bits."""
        return (1 << self.bits) - 1


def apply_palette(pixels: np.ndarray, ds: Dataset) -> np.ndarray:
    """PALETTE COLOR stored values to 8-bit RGB (PS3.3 C.7.6.3.1.5).

    Raises:
        PixelDataError: a missing, segmented or inconsistent palette.
    """
    little = ds.original_encoding[1] is not False
    channels = []
    for colour in ("Red", "Green", "Blue"):
        descriptor = ds.get(f"{colour}PaletteColorLookupTableDescriptor")
        if descriptor is None:
            raise PixelDataError(f"{colour}PaletteColorLookupTableDescriptor is missing")
        data = ds.get(f"{colour}PaletteColorLookupTableData")
        if data is None and f"Segmented{colour}PaletteColorLookupTableData" in ds:
            raise PixelDataError("segmented palette colour lookup tables are not supported")
        lut = Lut.of(descriptor, data, little_endian=little, name=f"{colour} palette",
                     signed=ds.get("PixelRepresentation") == 1)
        mapped = lut(pixels)
        channels.append(mapped >> (lut.bits - 8))
    return np.clip(np.stack(channels, axis=-1), 0, 255).astype(np.uint8)
