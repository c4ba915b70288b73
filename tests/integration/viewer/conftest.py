"""The viewer service as a real process, pointed at the session's pacs service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.servers import ServiceProcess


def start_viewer(folder: Path, pacs: ServiceProcess, **env: str) -> ServiceProcess:
    return ServiceProcess("viewer", folder, {"PACSBOX_PACS_URL": pacs.url, **env}).start()


@pytest.fixture(scope="module")
def viewer(tmp_path_factory: pytest.TempPathFactory, pacs: ServiceProcess) -> Iterator[ServiceProcess]:
    server = start_viewer(tmp_path_factory.mktemp("viewer"), pacs)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def viewer_http(viewer: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=viewer.url, timeout=120) as client:
        yield client
