"""Fixtures of the DICOM networking tests: one pacs with its DICOM port open, and dcmtk's default AEs known."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import database_env
from tests.support.dimse import DicomPacs
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
