"""Native frames read where the index says they are, or left to the header when it cannot say for sure."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pacsbox.core.errors import NotFound
from pacsbox.core.imaging import FrameReader
from pacsbox.pacs.store.metadata import instance_metadata
from pacsbox.pacs.store.native_frames import read_native_frames
from pacsbox.pacs.store.reader import StoredInstance
from tests.support.dicom import TEST_FILES
from tests.unit.core.imaging.test_frames import LIMIT, write


def indexed(path: Path) -> StoredInstance:
    """The instance as the index describes it after ingest (its DICOM JSON made by `instance_metadata`)."""
    ds = pydicom.dcmread(path, force=True)
    syntax = str(ds.file_meta.TransferSyntaxUID)
    return StoredInstance(
        public_id="x", sop_uid=str(ds.SOPInstanceUID), sop_class_uid="", series_uid="", study_uid="",
        transfer_syntax=syntax, path=path, file_size=path.stat().st_size, checksum="",
        number_of_frames=int(ds.get("NumberOfFrames") or 1), instance_number=None,
        metadata=instance_metadata(ds, syntax, "1", "2", str(ds.SOPInstanceUID)),
    )


def stored_frames(path: Path, numbers: list[int]) -> list[bytes]:
    with FrameReader(path, max_size=LIMIT) as reader:
        return [reader.little_endian_frame(n - 1) for n in numbers]


def multiframe(path: Path, syntax: str = ExplicitVRLittleEndian, bits: int = 16) -> Path:
    """Three 5 x 7 frames of distinct values, written in `syntax`."""
    values = np.arange(3 * 5 * 7, dtype=f"<u{bits // 8}").reshape(3, 5, 7)
    write(path, Rows=5, Columns=7, NumberOfFrames=3, BitsAllocated=bits, BitsStored=bits, HighBit=bits - 1,
          PixelData=values.tobytes())
    if syntax != ExplicitVRLittleEndian:
        ds = pydicom.dcmread(path)
        ds.file_meta.TransferSyntaxUID = syntax
        ds.save_as(path, implicit_vr=True, little_endian=True, enforce_file_format=True)
    return path


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
@pytest.mark.parametrize("bits", [8, 16])
def test_frames_are_the_bytes_the_header_points_at(tmp_path: Path, syntax: str, bits: int) -> None:
    path = multiframe(tmp_path / "frames.dcm", syntax, bits)
    assert read_native_frames(indexed(path), [3, 1], most_bytes=1 << 20) == stored_frames(path, [3, 1])


def test_a_frame_past_the_last_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="3 frame\\(s\\): no frame 4"):
        read_native_frames(indexed(multiframe(tmp_path / "frames.dcm")), [4], most_bytes=1 << 20)


def test_an_element_after_the_pixel_data_leaves_it_to_the_header(tmp_path: Path) -> None:
    path = multiframe(tmp_path / "padded.dcm")
    ds = pydicom.dcmread(path)
    ds.DataSetTrailingPadding = b"\x00" * 8
    ds.save_as(path)
    assert read_native_frames(indexed(path), [1], most_bytes=1 << 20) is None
    assert read_native_frames(indexed(TEST_FILES / "CT_small.dcm"), [1], most_bytes=1 << 20) is None  # padded too


@pytest.mark.parametrize("name", ["MR_small_bigendian.dcm", "MR_small_RLE.dcm", "rtplan.dcm", "rgb"])
def test_what_is_not_native_little_endian_grey_is_left_to_the_header(tmp_path: Path, name: str) -> None:
    path = TEST_FILES / name
    if name == "rgb":
        path = write(tmp_path / "rgb.dcm", Rows=2, Columns=2, SamplesPerPixel=3, PhotometricInterpretation="RGB",
                     PlanarConfiguration=0, BitsAllocated=8, BitsStored=8, HighBit=7, PixelData=bytes(12))
    assert read_native_frames(indexed(path), [1], most_bytes=1 << 20) is None


def test_a_file_other_than_the_indexed_one_or_too_many_bytes_are_left_to_the_header(tmp_path: Path) -> None:
    path = multiframe(tmp_path / "frames.dcm")
    instance = indexed(path)
    assert read_native_frames(instance, [1, 2], most_bytes=2 * 70 - 1) is None
    path.write_bytes(path.read_bytes() + b"\x00\x00")  # rewritten since it was indexed
    assert read_native_frames(instance, [1], most_bytes=1 << 20) is None


def test_the_header_bytes_decide_not_the_metadata_alone(tmp_path: Path) -> None:
    path = multiframe(tmp_path / "frames.dcm")
    instance = indexed(path)
    rows = '"00280010":{"vr":"US","Value":[%d]}'
    lying = dataclasses.replace(instance, metadata=instance.metadata.replace(rows % 5, rows % 3))
    assert lying.metadata != instance.metadata
    assert read_native_frames(lying, [1], most_bytes=1 << 20) is None
