"""ReadCache: headers and decoded frames kept within their bounds, never served for a replaced file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from pacsbox.core.imaging import FrameReader
from pacsbox.core.imaging.cache import ReadCache
from tests.support.dicom import TEST_FILES
from tests.support.dimse import dcmtk
from tests.unit.core.imaging.test_frames import LIMIT, write


def slice_file(path: Path, level: int) -> Path:
    """A 16 x 16 native slice whose values are all `level` (files of different levels have the same size)."""
    return write(path, Rows=16, Columns=16, BitsAllocated=16, BitsStored=16, HighBit=15,
                 PixelData=np.full((16, 16), level, "<u2").tobytes())


def replace(path: Path, new: Path) -> None:
    """What storing an instance again does: a new file renamed over the old one."""
    os.replace(new, path)


def first_value(path: Path, cache: ReadCache) -> int:
    with FrameReader(path, max_size=LIMIT, cache=cache) as reader:
        return int(reader.decode(0)[0, 0])


def test_a_replaced_native_file_is_read_anew(tmp_path: Path) -> None:
    cache = ReadCache(header_entries=10, frame_bytes=1 << 20)
    path = slice_file(tmp_path / "instance.dcm", 100)
    assert first_value(path, cache) == 100
    replace(path, slice_file(tmp_path / "new.dcm", 200))
    assert first_value(path, cache) == 200


def test_a_replaced_compressed_file_is_decoded_anew(tmp_path: Path) -> None:
    cache = ReadCache(header_entries=10, frame_bytes=1 << 20)
    path = tmp_path / "instance.dcm"
    for level in (100, 200):
        assert dcmtk("dcmcjpeg", slice_file(tmp_path / "native.dcm", level), tmp_path / "new.dcm").returncode == 0
        replace(path, tmp_path / "new.dcm")
        assert first_value(path, cache) == level
        assert first_value(path, cache) == level  # the second time from the cache
    assert len(cache.frames) == 2  # one per file: the first file's frame was not taken for the second


def test_headers_are_bounded_by_count_least_recently_used_dropped(tmp_path: Path) -> None:
    cache = ReadCache(header_entries=2, frame_bytes=0)
    files = [slice_file(tmp_path / f"{n}.dcm", n) for n in range(3)]
    for path in (files[0], files[1], files[0], files[2]):  # files[1] is the least recently used when files[2] comes
        first_value(path, cache)
    assert len(cache.headers) == 2
    assert [first_value(p, cache) for p in files] == [0, 1, 2]
    assert len(cache.headers) == 2


def test_decoded_frames_are_bounded_by_bytes_and_shared_read_only(tmp_path: Path) -> None:
    path = tmp_path / "multiframe.dcm"
    shutil.copy(TEST_FILES / "SC_rgb_rle_2frame.dcm", path)
    with FrameReader(path, max_size=LIMIT) as reader:
        frame_bytes = reader.decode(0).nbytes
    cache = ReadCache(header_entries=10, frame_bytes=frame_bytes)
    with FrameReader(path, max_size=LIMIT, cache=cache) as reader:
        first = reader.decode(0)
        assert reader.decode(0) is first
        with pytest.raises(ValueError, match="read-only"):
            first[0, 0] = 0
        reader.decode(1)
        assert len(cache.frames) == 1 and cache.frames.weight == frame_bytes
        assert reader.decode(0) is not first  # dropped for frame 2, decoded again
    with FrameReader(path, max_size=LIMIT) as uncached:
        assert np.array_equal(first, uncached.decode(0))


def test_a_cache_of_zero_keeps_nothing(tmp_path: Path) -> None:
    cache = ReadCache(header_entries=0, frame_bytes=0)
    first_value(slice_file(tmp_path / "a.dcm", 7), cache)
    assert (len(cache.headers), len(cache.frames)) == (0, 0)
