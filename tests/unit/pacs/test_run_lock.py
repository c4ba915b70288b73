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


def test_a_start_that_fails_releases_the_folder_for_the_next(tmp_path: Path) -> None:
    """The index cannot be opened (its path is a folder): the failed start leaves the data folder free."""
    from litestar.testing import TestClient

    from pacsbox.core.settings import Settings
    from pacsbox.pacs.app import create_app

    settings = Settings.load({**os.environ, "PACSBOX_CONFIG_DIR": str(tmp_path), "PACSBOX_DATA_DIR": str(tmp_path / "data"),
                              "PACSBOX_DATABASE_URL": "", "PACSBOX_DICOM_PORT": "0", "PACSBOX_DICOM_TLS_PORT": "0"})
    (settings.paths.data_dir / "pacs.sqlite").mkdir(parents=True)
    with pytest.raises(BaseExceptionGroup) as failed, TestClient(create_app(settings)):
        pass
    assert failed.group_contains(IsADirectoryError)
    os.close(start_run(settings.paths.data_dir, wait=0.1))
