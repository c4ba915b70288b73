"""Fixtures of the pacs integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.orthanc import OrthancProcess
from tests.support.servers import ServiceProcess


@pytest.fixture(scope="module")
def http(pacs: ServiceProcess) -> Iterator[httpx.Client]:
    """A client of the session's pacs kept for a whole module (its stored fixtures are module-scoped too)."""
    with httpx.Client(base_url=pacs.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A client of a real Orthanc (Debian's 1.10.1) of the module's own: what pacsbox's answers are compared with."""
    peer = OrthancProcess(tmp_path_factory.mktemp("orthanc")).start()
    try:
        with httpx.Client(base_url=peer.url, timeout=60) as client:
            yield client
    finally:
        peer.stop()
