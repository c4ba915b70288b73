"""FrameReader: frames found by offset or offset table, decoded only after the size check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import generate_frames
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from pacsbox.core.errors import PixelDataError
from pacsbox.core.imaging import FrameReader, PixelInfo, check_size, to_explicit_little_endian
from tests.support.dicom import TEST_FILES

LIMIT = 1 << 30


def write(path: Path, **attributes: object) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelRepresentation = 1, "MONOCHROME2", 0
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    ds.save_as(path, enforce_file_format=True)
    return path


def test_native_frames_are_read_at_their_offsets() -> None:
    pixels = pydicom.dcmread(TEST_FILES / "rtdose.dcm").PixelData
    with FrameReader(TEST_FILES / "rtdose.dcm", max_size=LIMIT) as reader:
        assert reader.number_of_frames == 15
        assert [reader.frame(i) for i in (0, 7, 14)] == [pixels[0:400], pixels[2800:3200], pixels[5600:6000]]


@pytest.mark.parametrize(("name", "count"), [("examples_ybr_color.dcm", 30), ("SC_rgb_rle_2frame.dcm", 2)])
def test_encapsulated_frames_are_the_compressed_frames(name: str, count: int) -> None:
    expected = list(generate_frames(pydicom.dcmread(TEST_FILES / name).PixelData, number_of_frames=count))
    with FrameReader(TEST_FILES / name, max_size=LIMIT) as reader:
        assert reader.encapsulated
        assert [reader.frame(i) for i in range(count)] == expected


def test_one_bit_frames_that_do_not_start_on_a_byte(tmp_path: Path) -> None:
    bits = np.array([[1, 0, 1, 1, 0, 0, 1, 0, 1], [0, 1, 1, 0, 1, 0, 0, 0, 1], [1, 1, 1, 1, 1, 1, 1, 1, 0]], np.uint8)
    path = write(
        tmp_path / "bits.dcm", Rows=3, Columns=3, NumberOfFrames=3, BitsAllocated=1, BitsStored=1, HighBit=0,
        PixelData=np.packbits(bits.ravel(), bitorder="little").tobytes() + b"\x00",
    )
    with FrameReader(path, max_size=LIMIT) as reader:
        second = np.unpackbits(np.frombuffer(reader.frame(1), np.uint8), bitorder="little")[:9]
        assert second.tolist() == bits[1].tolist()
        assert reader.decode(2).ravel().tolist() == bits[2].tolist()


@pytest.mark.parametrize("name", ["MR_small_bigendian.dcm", "image_dfl.dcm", "JPEG2000.dcm", "MR_small_RLE.dcm"])
def test_decoded_frames_match_pydicom(name: str) -> None:
    expected = pydicom.dcmread(TEST_FILES / name).pixel_array
    with FrameReader(TEST_FILES / name, max_size=LIMIT) as reader:
        assert np.array_equal(reader.decode(0), expected)
        assert reader.little_endian_frame(0) == expected.astype(expected.dtype.newbyteorder("<")).tobytes()


def test_a_huge_header_is_refused_before_anything_is_allocated(tmp_path: Path) -> None:
    path = write(
        tmp_path / "huge.dcm", Rows=60000, Columns=60000, NumberOfFrames=1000, BitsAllocated=16, BitsStored=16,
        HighBit=15, PixelData=bytes(64),
    )
    with FrameReader(path, max_size=LIMIT) as reader:
        with pytest.raises(PixelDataError, match="PACSBOX_MAX_PIXEL_DATA_SIZE"):
            reader.decode(0)
        with pytest.raises(PixelDataError, match="truncated"):
            reader.frame(999)
    with pytest.raises(PixelDataError, match="over PACSBOX_MAX_PIXEL_DATA_SIZE"):
        check_size(PixelInfo.of(pydicom.dcmread(path)), 1000, LIMIT)


@pytest.mark.parametrize("name", ["SC_rgb_jpeg_dcmtk.dcm", "JPEG2000.dcm", "MR_small_jpeg_ls_lossless.dcm"])
def test_a_codestream_larger_than_its_header_is_not_decoded(tmp_path: Path, name: str) -> None:
    ds = pydicom.dcmread(TEST_FILES / name)
    ds.Rows, ds.Columns = 8, 8
    ds.save_as(tmp_path / name)
    with FrameReader(tmp_path / name, max_size=LIMIT) as reader, pytest.raises(PixelDataError, match="larger than"):
        reader.decode(0)
    with pytest.raises(PixelDataError, match="larger than"):
        to_explicit_little_endian(tmp_path / name, max_size=LIMIT)


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"Rows": 4, "Columns": 4, "BitsAllocated": 12}, "BitsAllocated 12"),
        ({"Columns": 4, "BitsAllocated": 8}, "Rows is missing"),
        ({"Rows": 4, "Columns": 4, "BitsAllocated": 8, "BitsStored": 9}, "BitsStored 9"),
        ({"Rows": 4, "Columns": 4, "BitsAllocated": 8, "PhotometricInterpretation": "CMYK"}, "CMYK"),
    ],
)
def test_impossible_image_attributes_are_named(tmp_path: Path, attributes: dict, message: str) -> None:
    path = write(tmp_path / "bad.dcm", PixelData=bytes(16), **attributes)
    with FrameReader(path, max_size=LIMIT) as reader, pytest.raises(PixelDataError, match=message):
        reader.decode(0)


def test_files_without_pixels_or_with_too_few_say_so() -> None:
    with FrameReader(TEST_FILES / "rtplan.dcm", max_size=LIMIT) as reader:
        assert not reader.has_pixels
        with pytest.raises(PixelDataError, match="no pixel data"):
            reader.frame(0)
    with FrameReader(TEST_FILES / "MR_truncated.dcm", max_size=LIMIT) as reader, pytest.raises(
        PixelDataError, match="truncated"
    ):
        reader.frame(0)
    with FrameReader(TEST_FILES / "CT_small.dcm", max_size=LIMIT) as reader, pytest.raises(
        PixelDataError, match="frame 2 does not exist"
    ):
        reader.frame(1)
