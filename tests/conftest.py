"""Fixtures shared by every test: settings in a temporary folder, the index database, running services.

`PACSBOX_TEST_DATABASE=postgresql` (the second pass of `make test`) runs the
tests marked `db` against a temporary PostgreSQL server; otherwise SQLite.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.postgres import TemporaryPostgres
from tests.support.servers import ServiceProcess


@pytest.fixture(scope="session")
def postgres() -> Iterator[TemporaryPostgres | None]:
    if os.environ.get("PACSBOX_TEST_DATABASE") != "postgresql":
        yield None
        return
    server = TemporaryPostgres()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def database_env(postgres: TemporaryPostgres | None) -> dict[str, str]:
    """Environment selecting a fresh index database for one service process."""
    return {"PACSBOX_DATABASE_URL": postgres.create_database() if postgres else ""}


def start_pacs(folder: Path, postgres: TemporaryPostgres | None, **env: str) -> ServiceProcess:
    """A pacs service in one process (a worker would add a second of start-up), unless `env` says otherwise."""
    return ServiceProcess("pacs", folder, {**database_env(postgres), "PACSBOX_PACS_PROCESSES": "1", **env}).start()


@pytest.fixture(scope="session")
def pacs(tmp_path_factory: pytest.TempPathFactory, postgres: TemporaryPostgres | None) -> Iterator[ServiceProcess]:
    """A pacs service shared by a whole session: tests use their own UIDs, never assume it empty."""
    server = start_pacs(tmp_path_factory.mktemp("pacs"), postgres)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh_pacs(tmp_path: Path, postgres: TemporaryPostgres | None) -> Iterator[ServiceProcess]:
    """A pacs service of its own, empty at the start of the test."""
    server = start_pacs(tmp_path / "pacs", postgres)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def pacs_http(pacs: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=pacs.url, timeout=60) as client:
        yield client
