"""Inputs the fuzzers found, kept so the fixes stay fixed."""

from pathlib import Path

import pytest

from pacsbox.core.errors import InvalidDicom, PixelDataError
from pacsbox.core.imaging import FrameReader
from pacsbox.core.settings import LimitSettings
from pacsbox.pacs.store.files import Storage
from pacsbox.pacs.store.parse import parse_instance
from pacsbox.pacs.store.zipfiles import iter_zip

FINDINGS = Path(__file__).parents[2] / "data" / "fuzz"


def test_zip_with_a_broken_deflate_stream_reports_the_member(tmp_path: Path) -> None:
    """zlib.error escaped the ZIP reader (a 500 on upload)."""
    storage = Storage(tmp_path / "storage")
    members = list(iter_zip(FINDINGS / "zip-invalid-stored-block.zip", storage, LimitSettings()))
    broken = [m for m in members if m.written is None]
    assert broken and all("cannot extract" in m.error for m in broken)
    for member in members:
        if member.written:
            member.written.path.unlink()
    assert not list(storage.tmp.iterdir())


def test_a_frame_count_its_pixel_data_cannot_hold_is_refused() -> None:
    """2**31 - 1 frames claimed over 64 bytes: rendering built a list of every frame and hung the server."""
    with FrameReader(FINDINGS / "frames-2147483647-in-64-bytes.dcm", max_size=1 << 30) as reader:
        with pytest.raises(PixelDataError, match="NumberOfFrames 2147483647 cannot fit in 64 bytes"):
            reader.checked_number_of_frames()
        assert reader.frame(0) == bytes(64)


def test_a_meta_header_cut_inside_its_group_length_is_not_dicom() -> None:
    """struct.error escaped the length check (a 500): the group length element ends past the file."""
    with pytest.raises(InvalidDicom):
        parse_instance(FINDINGS / "meta-group-length-cut-short.dcm")
