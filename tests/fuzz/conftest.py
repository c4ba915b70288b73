"""Fuzzing profiles: a short run in `make test`, a long one in `make fuzz` (HYPOTHESIS_PROFILE=fuzz).

Every fuzz test runs under a memory cap (address space), so an input that
makes pacsbox allocate without bound fails the test instead of the machine.
The cap is lifted after each test: browsers and servers other tests start
need more address space than they use.
"""

from __future__ import annotations

import asyncio
import os
import resource
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from pacsbox.core.db import close_engine, open_engine
from pacsbox.core.settings import Settings
from pacsbox.pacs.piccolo_app import SCHEMA
from pacsbox.pacs.store import InstanceStore, Origin
from tests.support.dicom import dataset_bytes, make_series

settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ADDRESS_SPACE_CAP = 8 * 1024**3


@pytest.fixture(autouse=True)
def memory_cap() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = ADDRESS_SPACE_CAP if hard == resource.RLIM_INFINITY else min(ADDRESS_SPACE_CAP, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@dataclass
class Index:
    """A pacs index and storage in a temporary folder, driven from one event loop in a thread of its own."""

    store: InstanceStore
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    """The real index (SQLite) and `InstanceStore`, holding a few stored instances."""
    folder = tmp_path_factory.mktemp("fuzz-index")
    config = Settings.load({"PACSBOX_CONFIG_DIR": str(folder), "PACSBOX_DATA_DIR": str(folder / "data")})
    engine = SCHEMA.bind(config)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    index = Index(InstanceStore.from_settings(config), loop)
    index.run(open_engine(engine))
    index.run(SCHEMA.upgrade())
    for ds in make_series(3, patient_name="Fuzz^Seed", accession_number="A1"):
        index.run(index.store.store(dataset_bytes(ds), Origin(kind="Fuzz")))
    try:
        yield index
    finally:
        index.run(close_engine(engine))
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
