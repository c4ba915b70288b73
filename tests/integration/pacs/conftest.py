"""Fixtures of the pacs integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import ServiceProcess


@pytest.fixture(scope="module")
def http(pacs: ServiceProcess) -> Iterator[httpx.Client]:
    """A client of the session's pacs kept for a whole module (its stored fixtures are module-scoped too)."""
    with httpx.Client(base_url=pacs.url, timeout=60) as client:
        yield client
