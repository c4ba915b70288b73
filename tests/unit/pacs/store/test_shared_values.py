"""Header values converted once per distinct raw value never leak between character sets.

The same bytes mean different names under different Specific Character Sets:
`M\xc3\xbcller` is "Müller" in UTF-8 and "MÃ¼ller" in Latin-1. Archives receive
both kinds, so the index and the DICOM JSON must decode each file's bytes
with its own character set, however many files with the same bytes came before.
"""

from __future__ import annotations

import json

from pacsbox.pacs.store.parse import parse_instance
from tests.support.dicom import dataset_bytes, make_series

SAME_BYTES = b"M\xc3\xbcller^Anna"


def _instance(charset: str, name: str) -> bytes:
    ds = next(iter(make_series(1, rows=8, columns=8)))
    ds.SpecificCharacterSet = charset
    ds.PatientName = name
    data = dataset_bytes(ds)
    assert SAME_BYTES in data  # both files hold the name as the very same bytes
    return data


def test_the_same_name_bytes_decode_by_each_files_own_character_set() -> None:
    utf8 = _instance("ISO_IR 192", "Müller^Anna")
    latin1 = _instance("ISO_IR 100", SAME_BYTES.decode("latin-1"))
    for _ in range(3):  # whichever came first, and again once the values are kept
        for data, expected in ((utf8, "Müller^Anna"), (latin1, "MÃ¼ller^Anna")):
            parsed = parse_instance(data)
            assert parsed.patient_name == expected
            assert json.loads(parsed.metadata)["00100010"]["Value"] == [{"Alphabetic": expected}]
