"""A primary starts only once no process of another run holds the data folder, and says so when one stays."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pacsbox.pacs.run_lock import FolderInUse, join_run, start_run


def test_a_folder_held_by_another_run_past_the_wait_is_refused_with_its_name(tmp_path: Path) -> None:
    other = start_run(tmp_path)
    try:
        with pytest.raises(FolderInUse, match=str(tmp_path)):
            start_run(tmp_path, wait=0.3)
    finally:
        os.close(other)


def test_workers_join_their_primary_and_a_later_primary_waits_for_all_of_them(tmp_path: Path) -> None:
    primary = start_run(tmp_path)
    workers = [join_run(tmp_path) for _ in range(3)]
    os.close(primary)
    for worker in workers:
        with pytest.raises(FolderInUse):
            start_run(tmp_path, wait=0.1)
        os.close(worker)
    os.close(start_run(tmp_path, wait=0.1))
