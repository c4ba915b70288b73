"""Decoding shortcuts give pydicom's values: native grey frames from their bytes, JPEG Lossless by libjpeg-turbo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import pixel_array
from pydicom.uid import JPEGLossless, JPEGLosslessSV1

from pacsbox.core.imaging import FrameReader, lossless
from tests.support.dimse import dcmtk
from tests.unit.core.imaging.test_frames import LIMIT, write


def grey(path: Path, bits: int, stored: int, signed: bool, frames: int = 2) -> Path:
    """A native file whose samples use every bit of their container, unused high bits included."""
    rng = np.random.default_rng(bits + stored + signed)
    values = rng.integers(0, 1 << bits, size=(frames, 5, 7), dtype=np.uint64).astype(f"<u{bits // 8}")
    return write(
        path, Rows=5, Columns=7, NumberOfFrames=frames, BitsAllocated=bits, BitsStored=stored, HighBit=stored - 1,
        PixelRepresentation=int(signed), PixelData=values.tobytes(),
    )


@pytest.mark.parametrize(
    ("bits", "stored", "signed"), [(8, 8, False), (16, 12, False), (16, 12, True), (16, 16, True), (32, 32, False)]
)
def test_native_grey_frames_are_pydicoms_values(tmp_path: Path, bits: int, stored: int, signed: bool) -> None:
    path = grey(tmp_path / "grey.dcm", bits, stored, signed)
    with FrameReader(path, max_size=LIMIT) as reader:
        for index in (0, 1):
            expected = pixel_array(path, index=index)
            decoded = reader.decode(index)
            assert decoded.dtype == expected.dtype
            assert np.array_equal(decoded, expected)


def ct_slice(path: Path, stored: int, signed: bool) -> Path:
    rng = np.random.default_rng(stored)
    low, high = (-(1 << (stored - 1)), 1 << (stored - 1)) if signed else (0, 1 << stored)
    field = np.add.outer(np.arange(64), np.arange(48)) * 37 + rng.integers(-300, 300, size=(64, 48))
    values = np.clip(field + low, low, high - 1).astype("<i2" if signed else "<u2")
    return write(
        path, Rows=64, Columns=48, BitsAllocated=16, BitsStored=stored, HighBit=stored - 1,
        PixelRepresentation=int(signed), PixelData=values.tobytes(),
    )


@pytest.mark.parametrize(("stored", "signed"), [(16, True), (12, True), (12, False), (16, False)])
@pytest.mark.parametrize("mode", ["+e1", "+el"])
def test_jpeg_lossless_frames_are_what_pylibjpeg_decodes(tmp_path: Path, stored: int, signed: bool, mode: str) -> None:
    compressed = tmp_path / "lossless.dcm"
    result = dcmtk("dcmcjpeg", mode, ct_slice(tmp_path / "native.dcm", stored, signed), compressed)
    assert result.returncode == 0, result.stderr
    assert pydicom.dcmread(compressed).file_meta.TransferSyntaxUID in (JPEGLossless, JPEGLosslessSV1)
    expected = pixel_array(compressed, index=0, decoding_plugin="pylibjpeg")
    assert np.array_equal(pixel_array(compressed, index=0, decoding_plugin=lossless.PLUGIN), expected)
    with FrameReader(compressed, max_size=LIMIT) as reader:
        decoded = reader.decode(0)
    assert decoded.dtype == expected.dtype
    assert np.array_equal(decoded, expected)
