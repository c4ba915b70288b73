"""The walked header gives what pydicom's reading gives, field for field, refusal for refusal.

`parse_instance` reads bytes in the common encoding without pydicom's reader
(`header_walk`), and a path always with it. What a user sees of an instance
(its index row, its DICOM JSON, or the reason it was refused) must not depend
on which door it came through. So each input here is parsed both ways, with
the per-value caches emptied before each (so that neither reading can borrow
what the other derived) and again with the caches warm, and the outcomes must
be equal: the same `ParsedInstance`, or the same error and message.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.data import get_testdata_files
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence
from pydicom.uid import JPEGBaseline8Bit, RLELossless

from pacsbox.pacs.store import metadata, parse
from pacsbox.pacs.store.parse import ParsedInstance, parse_instance, parse_walked
from tests.support.dicom import dataset_bytes, make_series

Outcome = ParsedInstance | str


def _outcome(read: Callable[[], ParsedInstance]) -> Outcome:
    try:
        return read()
    except Exception as error:  # the refusal, as the caller would see it
        return f"{type(error).__name__}: {error}"


def _forget_shared_values() -> None:
    parse._SHARED_TEXTS._values.clear()
    metadata._SHARED_ENTRIES._values.clear()


def _assert_both_readings_agree(data: bytes, path: Path) -> Outcome:
    """parse_instance of the bytes (walked where it can be) against parse_instance of the file (pydicom)."""
    path.write_bytes(data)
    _forget_shared_values()
    walked = _outcome(lambda: parse_instance(data))
    _forget_shared_values()
    read = _outcome(lambda: parse_instance(path))
    assert walked == read
    assert _outcome(lambda: parse_instance(data)) == read  # and with the values kept by the reading before
    return read


def _item(**values: object) -> Dataset:
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def _undefined_length(ds: Dataset, keyword: str) -> None:
    ds[keyword].is_undefined_length = True
    for item in ds[keyword].value:
        item.is_undefined_length_sequence_item = True


def _rich(charset: str | list[str] = "ISO_IR 192", name: str = "Müller^Anna") -> Dataset:
    """A CT slice with what real headers carry: sequences (nested, undefined length), private tags,
    multi-valued and empty values, long texts, UN values, trailing padding."""
    ds = next(iter(make_series(1, rows=8, columns=8)))
    ds.SpecificCharacterSet = charset
    ds.PatientName = name
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.OtherPatientIDs = ["A1", "", "B2"]
    ds.StudyDescription = "x" * 300  # longer than the values kept per distinct value
    ds.ImageComments = "long comment " * 100  # longer than pydicom's defer size
    ds.add_new(0x00200012, "IS", None)  # AcquisitionNumber, empty
    ds.add_new(0x00280106, "US", 0)  # SmallestImagePixelValue: ambiguous in the dictionary, explicit here
    ds.add_new(0x00181020, "UN", b"v1.0")  # SoftwareVersions written as UN: pydicom reads it as LO
    ds.add_new(0x00290010, "LO", "SIEMENS CSA HEADER")
    ds.add_new(0x00291008, "UN", b"IMAGE NUM 4 ")  # a private VR known to pydicom's private dictionary
    ds.add_new(0x00090010, "LO", "ACME 1.0")
    ds.add_new(0x00091001, "LO", ["one", "two"])
    ds.add_new(0x00091002, "OB", bytes(range(256)) * 8)
    ds.ReferencedImageSequence = Sequence([
        _item(ReferencedSOPClassUID="1.2.840.10008.5.1.4.1.1.2", ReferencedSOPInstanceUID=f"1.2.3.{n}")
        for n in range(3)
    ])
    ds.ProcedureCodeSequence = Sequence([_item(CodeValue="CT1", CodingSchemeDesignator="99X", CodeMeaning=name)])
    ds.ProcedureCodeSequence[0].ConceptNameCodeSequence = Sequence([
        _item(CodeValue="1", CodeMeaning="nested"),
    ])
    _undefined_length(ds, "ProcedureCodeSequence")
    _undefined_length(ds.ProcedureCodeSequence[0], "ConceptNameCodeSequence")
    ds.RequestAttributesSequence = Sequence()  # empty sequence
    ds.add_new(0xFFFCFFFC, "OB", bytes(16))  # Data Set Trailing Padding
    return ds


def _multiframe() -> Dataset:
    ds = next(iter(make_series(1, rows=16, columns=16)))
    ds.NumberOfFrames = 3
    ds.PixelData = ds.PixelData * 3
    ds.ImagesInAcquisition = 3
    ds.NumberOfTemporalPositions = 1
    return ds


def _encapsulated(syntax: str, frame_size: int, frames: int) -> Dataset:
    ds = next(iter(make_series(1, rows=8, columns=8)))
    ds.file_meta.TransferSyntaxUID = syntax
    ds.NumberOfFrames = frames
    ds.PixelData = encapsulate([bytes([n]) * frame_size for n in range(frames)])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return ds


GENERATED: dict[str, Callable[[], Dataset]] = {
    "ct": lambda: next(iter(make_series(1))),
    "mr": lambda: next(iter(make_series(1, modality="MR"))),
    "multi-frame": _multiframe,
    "jpeg-like, short fragments": lambda: _encapsulated(JPEGBaseline8Bit, 100, 2),
    "jpeg-like, pixel data past the defer size": lambda: _encapsulated(JPEGBaseline8Bit, 3000, 3),
    "rle-like": lambda: _encapsulated(RLELossless, 64, 1),
    "rich, UTF-8": _rich,
    "rich, Latin-1": lambda: _rich("ISO_IR 100", "Müller^Anna"),
    "rich, no character set": lambda: _rich("", "Doe^John"),
    "rich, ISO 2022 IR 87": lambda: _rich(["", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎"),
    "rich, ISO 2022 IR 13 and 87": lambda: _rich(["ISO 2022 IR 13", "ISO 2022 IR 87"], "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎"),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_instances_read_the_same_and_are_walked(name: str, tmp_path: Path) -> None:
    data = dataset_bytes(GENERATED[name]())
    read = _assert_both_readings_agree(data, tmp_path / "instance.dcm")
    assert isinstance(read, ParsedInstance)
    assert parse_walked(data) == read  # the bytes were walked, not handed to pydicom


def test_every_pydicom_test_file_reads_the_same(tmp_path: Path) -> None:
    walked = set()
    for name in get_testdata_files():
        source = Path(name)
        if not source.is_file():
            continue
        data = source.read_bytes()
        read = _assert_both_readings_agree(data, tmp_path / "instance.dcm")
        if isinstance(read, ParsedInstance) and parse_walked(data) == read:
            walked.add(source.name)
    # explicit VR little endian, JPEG, JPEG 2000, JPEG-LS, RLE: the common kinds take the walk
    assert {"CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "SC_rgb_jpeg_dcmtk.dcm", "MR_small_RLE.dcm",
            "MR_small_jpeg_ls_lossless.dcm", "examples_overlay.dcm"} <= walked


@pytest.mark.parametrize("name", ["rich, UTF-8", "jpeg-like, short fragments"])
def test_copies_cut_short_read_the_same(name: str, tmp_path: Path) -> None:
    """Cut at every offset of the header (inside the meta, an element header, a value, a sequence) and
    in the pixel data: each copy is read, or refused with the same message, both ways."""
    data = dataset_bytes(GENERATED[name]())
    header_end = data.rindex(b"\xe0\x7f\x10\x00") + 12
    for offset in [*range(header_end + 40), *range(header_end + 40, len(data), 97)]:
        _assert_both_readings_agree(data[:offset], tmp_path / "cut.dcm")


def test_copies_with_a_byte_changed_read_the_same(tmp_path: Path) -> None:
    """A length, a VR or a tag changed anywhere in the header, as a damaged or hostile file would have it."""
    data = dataset_bytes(_rich())
    header_end = data.rindex(b"\xe0\x7f\x10\x00")
    rng = random.Random(8)
    for _ in range(400):
        changed = bytearray(data)
        changed[rng.randrange(128, header_end)] = rng.choice([0x00, 0xFF, 0x20, 0x55, rng.randrange(256)])
        _assert_both_readings_agree(bytes(changed), tmp_path / "changed.dcm")


def _element(data: bytes, tag: bytes) -> bytes:
    """The bytes of the short-VR element `tag` (group and element, little endian) in `data`."""
    start = data.index(tag)
    return data[start:start + 8 + int.from_bytes(data[start + 6:start + 8], "little")]


def test_tags_out_of_order_or_repeated_read_the_same(tmp_path: Path) -> None:
    data = dataset_bytes(_rich())
    pixel_data = data.rindex(b"\xe0\x7f\x10\x00")
    patient_id = _element(data, b"\x10\x00\x20\x00")
    modality = _element(data, b"\x08\x00\x60\x00")
    for moved in (patient_id, modality, patient_id.replace(b"PID", b"XYZ")):
        changed = data[:pixel_data] + moved + data[pixel_data:]
        assert isinstance(_assert_both_readings_agree(changed, tmp_path / "moved.dcm"), ParsedInstance)


def _implicit_under_explicit_meta() -> bytes:
    """A dataset written implicit VR behind a meta header that says explicit, as some exporters do."""
    ds = next(iter(make_series(1, rows=8, columns=8)))
    data = dataset_bytes(ds)
    out = DicomBytesIO()
    out.is_little_endian, out.is_implicit_VR = True, True
    write_dataset(out, ds)
    return data[:data.index(b"\x08\x00\x05\x00")] + out.getvalue()


def _without(keyword: str) -> bytes:
    ds = next(iter(make_series(1, rows=8, columns=8)))
    delattr(ds, keyword)
    return dataset_bytes(ds)


def _odd_length() -> bytes:
    """PatientID's 15 characters without the pad byte: an odd length, every later element intact."""
    data = dataset_bytes(next(iter(make_series(1, rows=8, columns=8))))
    patient_id = _element(data, b"\x10\x00\x20\x00")
    odd = patient_id[:6] + (len(patient_id) - 9).to_bytes(2, "little") + patient_id[8:-1]
    return data.replace(patient_id, odd)


@pytest.mark.parametrize("make", [_implicit_under_explicit_meta, _odd_length, lambda: _without("SOPInstanceUID"),
                                  lambda: _without("StudyInstanceUID")])
def test_unusual_and_refused_instances_read_the_same(make: Callable[[], bytes], tmp_path: Path) -> None:
    _assert_both_readings_agree(make(), tmp_path / "unusual.dcm")
