"""Hypothesis strategies that damage real DICOM files the way hostile peers do."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.support.dicom import pydicom_test_files

__all__ = ["SEEDS", "damage", "damaged_dicom"]

SEEDS = [path.read_bytes() for path in pydicom_test_files() if path.stat().st_size < 600_000]


def damaged_dicom() -> st.SearchStrategy[bytes]:
    """A real test file with bytes flipped, inserted, removed, lengths forged or the tail cut."""
    return st.sampled_from(SEEDS).flatmap(damage)


@st.composite
def damage(draw: st.DrawFn, original: bytes) -> bytes:
    """`original` with bytes flipped, inserted, removed, lengths forged or the tail cut."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "length", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at: at + draw(st.integers(1, 64))]
        elif kind == "length" and len(data) > at + 4:
            data[at: at + 4] = draw(st.sampled_from([b"\xff\xff\xff\xff", b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80"]))
        elif kind == "truncate":
            del data[at:]
    return bytes(data)
