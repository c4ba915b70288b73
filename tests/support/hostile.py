"""Crafted files of the advisory classes DICOM servers were hurt by: each a real file a client could send.

Every function starts from a valid instance (`make_series`) and breaks one thing:
a length that points past the end, pixel attributes whose product overflows,
lookup tables that disagree with their descriptors, a Windows executable
header in the preamble.
"""

from __future__ import annotations

import struct

import numpy as np
from pydicom.dataset import Dataset

from tests.support.dicom import dataset_bytes, make_series

__all__ = [
    "element_length_past_end",
    "group_length_past_end",
    "huge_pixel_claims",
    "lut_image",
    "palette_image",
    "pe_polyglot",
]

_META_GROUP_LENGTH = 128 + 4 + 8
"""Offset of the File Meta Information Group Length value: preamble, DICM, tag, VR and length."""


def _instance(rows: int = 8, columns: int = 8) -> Dataset:
    return next(make_series(1, rows=rows, columns=columns))


def group_length_past_end() -> bytes:
    """File Meta Information Group Length far beyond the end of the file."""
    data = bytearray(dataset_bytes(_instance()))
    struct.pack_into("<L", data, _META_GROUP_LENGTH, 0xFFFFFFF0)
    return bytes(data)


def element_length_past_end(where: str) -> bytes:
    """A 4-byte length past the end: `meta` (0002,0001) OB, `pixels` (7FE0,0010), or `text` (a last LT element)."""
    data = bytearray(dataset_bytes(_instance()))
    if where == "meta":
        at = data.index(b"\x02\x00\x01\x00OB")
        struct.pack_into("<L", data, at + 8, 0x7FFFFFFF)
    elif where == "pixels":
        at = data.rindex(b"\xe0\x7f\x10\x00OW")
        struct.pack_into("<L", data, at + 8, 0xFFFFFFF0)
    else:
        data += struct.pack("<HH", 0x0010, 0x4000) + b"LT" + struct.pack("<H", 0xFFF0) + b"short"
    return bytes(data)


def cut_inside_pixel_data_header(kept: int) -> bytes:
    """A file cut `kept` bytes (1 to 7) into its Pixel Data element's header: everything before it intact."""
    data = dataset_bytes(_instance())
    return data[: data.rindex(b"\xe0\x7f\x10\x00OW") + kept]


def huge_pixel_claims(rows: int, columns: int, frames: int, samples: int, bits: int) -> bytes:
    """An instance whose Image Pixel attributes claim far more than the few bytes of pixel data it holds."""
    ds = _instance()
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, columns, frames
    ds.SamplesPerPixel, ds.BitsAllocated, ds.BitsStored, ds.HighBit = samples, bits, bits, bits - 1
    ds.PixelRepresentation = 0
    if samples > 1:
        ds.PhotometricInterpretation, ds.PlanarConfiguration = "RGB", 0
    ds.PixelData = bytes(64)
    return dataset_bytes(ds)


def palette_image(descriptor: list[int], entries: int) -> bytes:
    """An 8-bit PALETTE COLOR image whose three tables hold `entries` 16-bit values."""
    ds = _instance()
    ds.PhotometricInterpretation = "PALETTE COLOR"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.arange(64, dtype=np.uint8).tobytes()
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", descriptor)
        setattr(ds, f"{colour}PaletteColorLookupTableData", np.arange(entries, dtype="<u2").tobytes())
    for keyword in ("WindowCenter", "WindowWidth", "RescaleSlope", "RescaleIntercept"):
        ds.pop(keyword, None)
    return dataset_bytes(ds)


def lut_image(kind: str, descriptor: list[int], entries: int) -> bytes:
    """A 16-bit greyscale image with a `VOILUTSequence` or `ModalityLUTSequence` of `entries` values."""
    ds = _instance()
    for keyword in ("WindowCenter", "WindowWidth", "RescaleSlope", "RescaleIntercept", "RescaleType"):
        ds.pop(keyword, None)
    item = Dataset()
    item.LUTDescriptor = descriptor
    item.LUTData = np.arange(entries, dtype="<u2").tobytes()
    if kind == "VOI":
        ds.VOILUTSequence = [item]
    else:
        item.ModalityLUTType = "HU"
        ds.ModalityLUTSequence = [item]
    return dataset_bytes(ds)


def pe_polyglot() -> bytes:
    """A DICOM file whose preamble is the start of a Windows PE executable (`MZ`, DOS stub, PE offset)."""
    data = bytearray(dataset_bytes(_instance()))
    stub = b"MZ" + bytes(58) + struct.pack("<L", 64) + b"PE\x00\x00" + b"This program cannot be run in DOS mode."
    data[: len(stub)] = stub
    return bytes(data)
