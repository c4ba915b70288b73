"""Frames read at once when their header is known, in a worker thread otherwise."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

from pacsbox.core.errors import NotFound
from pacsbox.core.imaging.cache import ReadCache
from pacsbox.pacs.store.pixel_data import NOW_BYTES, read_frames, read_frames_now
from pacsbox.pacs.store.reader import StoredInstance
from tests.support.dicom import TEST_FILES

LIMIT = 1 << 30


def stored(tmp_path: Path, name: str) -> StoredInstance:
    path = tmp_path / name
    shutil.copy(TEST_FILES / name, path)
    return StoredInstance(
        public_id="x", sop_uid="1.2.3", sop_class_uid="", series_uid="", study_uid="", transfer_syntax="",
        path=path, file_size=path.stat().st_size, checksum="", number_of_frames=1, instance_number=None,
    )


def test_native_frames_are_read_at_once_once_their_header_is_known(tmp_path: Path) -> None:
    instance, cache = stored(tmp_path, "rtdose.dcm"), ReadCache(10, 0)
    assert read_frames_now(instance, [1], max_size=LIMIT, cache=cache) is None  # header never parsed yet
    first = read_frames(instance, [1, 15], decode=True, max_size=LIMIT, cache=cache)
    assert read_frames_now(instance, [1, 15], max_size=LIMIT, cache=cache) == first
    assert first[1] == pydicom.dcmread(instance.path).PixelData[5600:6000]
    with pytest.raises(NotFound, match="no frame 16"):
        read_frames_now(instance, [16], max_size=LIMIT, cache=cache)


@pytest.mark.parametrize("name", ["MR_small_bigendian.dcm", "MR_small_RLE.dcm"])
def test_frames_to_decode_go_to_a_worker_thread(tmp_path: Path, name: str) -> None:
    instance, cache = stored(tmp_path, name), ReadCache(10, 1 << 20)
    expected = read_frames(instance, [1], decode=True, max_size=LIMIT, cache=cache)
    assert np.array_equal(np.frombuffer(expected[0], "<i2").reshape(64, 64), pydicom.dcmread(instance.path).pixel_array)
    assert read_frames_now(instance, [1], max_size=LIMIT, cache=cache) is None


def test_many_bytes_of_frames_go_to_a_worker_thread(tmp_path: Path) -> None:
    instance, cache = stored(tmp_path, "rtdose.dcm"), ReadCache(10, 0)
    read_frames(instance, [1], decode=True, max_size=LIMIT, cache=cache)
    many = [1 + n % 15 for n in range(NOW_BYTES // 400 + 1)]  # 400 bytes a frame
    assert read_frames_now(instance, many, max_size=LIMIT, cache=cache) is None
