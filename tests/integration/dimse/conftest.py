"""Fixtures of the DICOM networking tests: one pacs with its DICOM port open, and dcmtk's default AEs known."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import database_env
from tests.support.dimse import DicomPacs, dcmtk
from tests.support.ports import free_port
from tests.support.postgres import TemporaryPostgres

KNOWN_AES = {"findscu": "FINDSCU", "movescu": "MOVESCU", "getscu": "GETSCU"}
"""dcmtk's default calling AE titles, registered as remote servers so they may query and retrieve."""


@pytest.fixture(scope="session")
def scp(tmp_path_factory: pytest.TempPathFactory, postgres: TemporaryPostgres | None) -> Iterator[DicomPacs]:
    """A pacs service shared by the DIMSE tests (each test stores its own UIDs)."""
    server = DicomPacs(tmp_path_factory.mktemp("dimse"), database_env(postgres)).start()
    try:
        for name, aet in KNOWN_AES.items():
            server.add_remote(name, aet, 11112)
        yield server
    finally:
        server.stop()


def start_storescp(folder: Path, port: int, *options: str) -> subprocess.Popen[bytes]:
    """dcmtk's storescp as AE STORESCP writing into `folder`, answering echoes once it returns."""
    folder.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(["storescp", *options, "-aet", "STORESCP", "-od", str(folder), str(port)])
    deadline = time.monotonic() + 10
    while dcmtk("echoscu", "-aec", "STORESCP", "127.0.0.1", port).returncode != 0:
        assert time.monotonic() < deadline, "storescp did not start"
        time.sleep(0.1)
    return process


@pytest.fixture
def storescp(scp: DicomPacs, tmp_path: Path) -> Iterator[Path]:
    """dcmtk's storescp as the known C-MOVE destination STORESCP; yields the folder it writes to."""
    port, folder = free_port(), tmp_path / "received"
    scp.add_remote("storescp", "STORESCP", port)
    process = start_storescp(folder, port)
    try:
        yield folder
    finally:
        process.terminate()
        process.wait(timeout=10)


