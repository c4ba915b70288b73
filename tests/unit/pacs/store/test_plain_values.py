"""Short text values read without pydicom (`raw_values.plain_values`) come out as pydicom reads them.

A new value of a common string VR (a UID, a name, a date, a description) is
read by a few string operations instead of pydicom's conversion. What a user
sees of it, its text in the index (what QIDO-RS matches and answers) and its
member of the instance's DICOM JSON (what WADO-RS metadata serves), must be
what pydicom's reading made of the same bytes: here for awkward values (padding,
empty values among several, leading spaces, person name groups, bytes of
several character sets, ISO 2022 escapes) and for every such element of
pydicom's own test files.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.tag import BaseTag

from pacsbox.pacs.store import metadata, parse
from pacsbox.pacs.store.raw_values import _encoding_of, convert, is_shared, plain_values
from tests.support.dicom import pydicom_test_files

TAG_OF_VR = {
    "AE": 0x00400001, "AS": 0x00101010, "CS": 0x00080060, "DA": 0x00080020, "DT": 0x0008002A,
    "TM": 0x00080030, "UI": 0x0020000D, "UR": 0x00081190, "SH": 0x00080050, "LO": 0x00081030,
    "UC": 0x00120064, "LT": 0x00204000, "ST": 0x00080081, "UT": 0x00189074, "PN": 0x00100010,
}
"""A standard attribute of each VR `plain_values` reads."""

AWKWARD_VALUES = [
    b"", b" ", b"\x00", b"A", b"A ", b" A", b"A\x00", b" A \x00", b"A\\B", b"A \\B ", b"A\\\\B", b"\\",
    b"\\A", b"A\\", b"  A  \\  B  ", b"1.2.840.10008.1.2.1\x00", b"1.2.3 \\1.2.4\x00", b"20240131",
    b"20240101-20241231", b"101500.123456", b"Doe^John", b"Doe^John^^Dr^", b"Yamada^Tarou=\xe5\xb1\xb1\xe7\x94\xb0",
    b"A=B=C", b"A=B=C=D", b"A=", b"=B", b"Doe^John\\Roe^Jane", b"Doe^John\\", b"caf\xc3\xa9 ", b"caf\xe9",
    b"\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B", b"line one\r\nline two  ", b"tab\there", b"http://example.org/a b  ",
    b"\xff\xfe", b"\xc3", b"045Y", b"A\x00\\B\x00",
]

ENCODINGS = [("iso8859",), ("latin_1",), ("UTF8",), ("iso8859", "iso2022_jp"), ("shift_jis",)]
"""As pydicom names the character sets of (0008,0005): none, ISO_IR 100, ISO_IR 192, ISO 2022 IR 87, ISO_IR 13."""


def _raw(tag: int, vr: str, value: bytes) -> RawDataElement:
    return RawDataElement(BaseTag(tag), vr, len(value), value, 0, False, True)


def _pydicom_reading(raw: RawDataElement, encoding: tuple[str, ...]) -> tuple[str, str]:
    """(index text, DICOM JSON member) of `raw` as pydicom's conversion makes them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undecodable bytes: pydicom substitutes and warns
        element = convert(raw, encoding)
        json_member = f'"{raw.tag:08X}":' + metadata._dumps(metadata._element_json(element, ""))
        return parse._value_text(element.value), json_member


def _reading(raw: RawDataElement, encoding: tuple[str, ...]) -> tuple[str, str]:
    """(index text, DICOM JSON member) of `raw` as a new value is read at ingest."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse._converted_text(raw, encoding), metadata._converted_entry(raw, encoding)


@pytest.mark.parametrize("vr", sorted(TAG_OF_VR))
def test_awkward_values_read_as_pydicom_reads_them(vr: str) -> None:
    read_plainly = 0
    for value, encoding in itertools.product(AWKWARD_VALUES, ENCODINGS):
        raw = _raw(TAG_OF_VR[vr], vr, value)
        assert _reading(raw, encoding) == _pydicom_reading(raw, encoding), (vr, value, encoding)
        read_plainly += plain_values(vr, value, encoding) is not None
    assert read_plainly >= len(AWKWARD_VALUES) * len(ENCODINGS) // 2  # most of them without pydicom


def test_the_common_values_of_a_new_study_are_read_without_pydicom() -> None:
    common = {
        "UI": b"1.2.826.0.1.3680043.8.498.1\x00", "PN": b"Doe^John", "LO": b"CT HEAD WO CONTRAST", "SH": b"A0001234",
        "DA": b"20240131", "TM": b"101500.000 ", "CS": b"ORIGINAL\\PRIMARY\\AXIAL ", "AS": b"045Y", "AE": b"MODALITY1 ",
    }
    for vr, value in common.items():
        assert plain_values(vr, value, ("iso8859",)) is not None, vr


def test_values_pydicom_must_decode_are_left_to_it() -> None:
    assert plain_values("PN", b"\x1b$B;3ED\x1b(B", ("iso8859", "iso2022_jp")) is None  # ISO 2022 escapes
    assert plain_values("LO", b"caf\xe9", ("UTF8",)) is None  # not UTF-8: pydicom substitutes and warns
    assert plain_values("PN", b"caf\xc3\xa9", ("UTF8",)) is None  # a name beyond ASCII
    assert plain_values("DS", b"1.5", ("iso8859",)) is None  # numbers are not strings in DICOM JSON


def _short_text_elements(path: Path) -> list[tuple[RawDataElement, tuple[str, ...]]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(path, force=True, defer_size=1024, stop_before_pixels=True)
            items: list[Any] = list(ds._dict.items())
        except Exception:  # noqa: BLE001 - pydicom raises many kinds on the unreadable test files
            return []
    return [(raw, _encoding_of(ds, int(tag))) for tag, raw in items
            if isinstance(raw, RawDataElement) and raw.VR in TAG_OF_VR and is_shared(raw.VR, raw.value)]


def test_every_short_text_element_of_pydicoms_test_files_reads_as_pydicom_reads_it() -> None:
    checked = 0
    for path in pydicom_test_files():
        for raw, encoding in _short_text_elements(path):
            assert _reading(raw, encoding) == _pydicom_reading(raw, encoding), (path, raw.tag, raw.value)
            checked += 1
    assert checked > 1000
