"""Instances held in memory are written with O_DIRECT: exact files on disk, the page cache left alone, and a lone
instance hashed and parsed while the disk writes it."""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pacsbox.pacs.store import files
from pacsbox.pacs.store.files import IN_MEMORY_MAX, DirectWrites, Storage

SLICE = 525_000  # a 512x512 16-bit CT slice with its header


def _resident_bytes(path: Path) -> int:
    """How much of the file the page cache holds (util-linux's fincore)."""
    answer = subprocess.run(["fincore", "--bytes", "--raw", "--noheadings", "--output", "RES", str(path)],
                            check=True, capture_output=True, text=True)
    return int(answer.stdout)


def _stored(storage: Storage, data: bytes) -> Path:
    return storage.start_file(data).finish().path


def test_a_ct_slice_reaches_the_disk_whole_without_filling_the_page_cache(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "storage")
    data = os.urandom(SLICE)
    path = _stored(storage, data)
    assert _resident_bytes(path) <= 4096  # only the last, partial block went through the page cache
    assert path.stat().st_size == SLICE and path.read_bytes() == data


@pytest.mark.parametrize("size", [DirectWrites.MIN_SIZE - 1, DirectWrites.MIN_SIZE, DirectWrites.MIN_SIZE + 1,
                                  32 * 4096, IN_MEMORY_MAX - 1, IN_MEMORY_MAX, 10])
def test_every_size_is_stored_byte_for_byte(tmp_path: Path, size: int) -> None:
    storage = Storage(tmp_path / "storage")
    first, second = os.urandom(size), os.urandom(size)  # the thread's buffer is reused: no byte of `first` leaks
    assert _stored(storage, first).read_bytes() == first
    assert _stored(storage, second).read_bytes() == second


def test_a_file_system_that_refuses_o_direct_gets_buffered_writes(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real_open, attempts = os.open, []

    def refusing_open(path: str | Path, flags: int, mode: int = 0o777, **kwargs: object) -> int:
        if flags & os.O_DIRECT:  # as Linux does on such a file system: the file is created, then EINVAL
            attempts.append(path)
            os.close(real_open(path, flags & ~os.O_DIRECT, mode))
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, mode, **kwargs)  # type: ignore[arg-type]

    storage = Storage(tmp_path / "storage")
    monkeypatch.setattr(os, "open", refusing_open)
    slices = [os.urandom(SLICE), os.urandom(SLICE)]
    paths = [_stored(storage, data) for data in slices]
    monkeypatch.undo()
    assert [p.read_bytes() for p in paths] == slices
    assert len(attempts) == 1  # refused once, then not asked again
    assert sorted(storage.tmp.iterdir()) == sorted(paths)  # the refused attempt left nothing behind


def test_a_file_system_that_refuses_the_direct_write_itself_gets_buffered_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write, refused = os.write, []

    def refusing_write(fd: int, data: bytes | memoryview) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:  # an alignment the file system does not accept
            refused.append(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    storage = Storage(tmp_path / "storage")
    monkeypatch.setattr(os, "write", refusing_write)
    slices = [os.urandom(SLICE), os.urandom(SLICE)]
    paths = [_stored(storage, data) for data in slices]
    monkeypatch.undo()
    assert [p.read_bytes() for p in paths] == slices and len(refused) == 1
    assert sorted(storage.tmp.iterdir()) == sorted(paths)


class SlowDisk:
    """A storage whose first direct write (`files._write_blocks`) is held until `release` is set: a disk that has
    not finished it yet."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, storage: Storage) -> None:
        self.storage = storage
        self.release = threading.Event()
        self.writers: list[str] = []
        real = files._write_blocks

        def held(fd: int, mapping: object, size: int) -> int:
            self.writers.append(threading.current_thread().name)
            if len(self.writers) == 1:  # only the first write waits for the test
                assert self.release.wait(10), "the test never released the disk"
            return real(fd, mapping, size)  # type: ignore[arg-type]

        monkeypatch.setattr(files, "_write_blocks", held)


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SlowDisk:
    return SlowDisk(monkeypatch, Storage(tmp_path / "storage"))


def test_a_lone_instance_is_hashed_and_parsed_while_the_disk_writes_it(disk: SlowDisk) -> None:
    data = os.urandom(SLICE)
    pending = disk.storage.start_file(data)  # returns with the write still under way (in place, it would wait 10 s)
    checksum = files.file_checksum(data)
    disk.release.set()
    path = pending.finish().path
    assert path.read_bytes() == data and files.file_checksum(path.read_bytes()) == checksum
    assert disk.writers[0].startswith("pacs-direct-write")


def test_while_one_write_is_under_way_the_others_write_in_place_and_do_not_wait_for_it(disk: SlowDisk) -> None:
    first, second = os.urandom(SLICE), os.urandom(SLICE)
    held = disk.storage.start_file(first)
    with ThreadPoolExecutor(1, thread_name_prefix="another-store") as other:
        path = other.submit(lambda: disk.storage.start_file(second).finish().path).result(timeout=5)
    assert path.read_bytes() == second and disk.writers[1].startswith("another-store")
    disk.release.set()
    assert held.finish().path.read_bytes() == first


def test_a_refused_instance_leaves_no_file_and_its_buffer_is_not_reused_before_the_disk_is_done(
        disk: SlowDisk) -> None:
    refused, next_one = os.urandom(SLICE), os.urandom(SLICE)
    pending = disk.storage.start_file(refused)
    threading.Timer(0.2, disk.release.set).start()
    pending.discard()  # waits for the write before the file (and the thread's buffer) go
    assert not pending.path.exists()
    assert disk.storage.start_file(next_one).finish().path.read_bytes() == next_one


def test_stores_from_many_threads_at_once_are_each_stored_byte_for_byte(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "storage")

    def store_some(seed: int) -> list[tuple[Path, bytes]]:
        slices = [os.urandom(SLICE + 4096 * (seed % 3) + n) for n in range(12)]
        return [(storage.start_file(data).finish().path, data) for data in slices]

    with ThreadPoolExecutor(8) as pool:
        stored = [item for items in pool.map(store_some, range(8)) for item in items]
    assert len({path for path, _ in stored}) == 96
    for path, data in stored:
        assert path.read_bytes() == data, path
