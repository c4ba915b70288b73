"""`create_app(settings, role)`: the pacs service as a Litestar app.

The primary's lifespan opens the index database (creating or upgrading its
schema), makes storage and index consistent (`InstanceStore.reconcile`),
starts the DICOM listener, then its worker processes if any (`processes`); a
worker's opens the database and tells the primary it serves. The routes are
the Orthanc-compatible REST API at `/`, DICOMweb at `/pacs/`, WADO-URI at
`/wado` and the explorer at `/app/`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass

from litestar import Litestar
from litestar.di import Provide

from pacsbox.core.app import make_app
from pacsbox.core.db import close_engine, open_engine
from pacsbox.core.malloc import keep_freed_buffers
from pacsbox.core.settings import Settings
from pacsbox.pacs.dicomweb import DICOMWEB_ROUTES
from pacsbox.pacs.dimse import DicomListener
from pacsbox.pacs.explorer import EXPLORER_ROUTES
from pacsbox.pacs.jobs import JobRunner
from pacsbox.pacs.piccolo_app import SCHEMA
from pacsbox.pacs.processes import WorkerProcesses
from pacsbox.pacs.run_lock import join_run, start_run
from pacsbox.pacs.rest import REST_ROUTES
from pacsbox.pacs.store import InstanceStore
from pacsbox.pacs.store.stability import watch_stability
from pacsbox.pacs.tables import Patient

__all__ = ["Primary", "Worker", "create_app"]

_WORKER_THREADS = 16


@dataclass(frozen=True)
class Primary:
    """The process that owns start-up, the DICOM listener and stability; `workers` start once it is ready."""

    workers: WorkerProcesses | None = None


@dataclass(frozen=True)
class Worker:
    """An extra HTTP process; it writes a byte to `ready_fd` once it serves."""

    ready_fd: int


def create_app(settings: Settings, role: Primary | Worker = Primary()) -> Litestar:
    engine = SCHEMA.bind(settings)
    store = InstanceStore.from_settings(settings)
    listener = DicomListener(settings, store)
    jobs = JobRunner()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Worker threads of a store mostly wait for the disk (fsync): more of them than
        # asyncio's default (cores + 4) keep it busy while parts of several uploads arrive.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=_WORKER_THREADS, thread_name_prefix="pacs-worker")
        )
        keep_freed_buffers()
        workers = role.workers if isinstance(role, Primary) else None
        stability: asyncio.Task[None] | None = None
        if isinstance(role, Primary):
            run = await asyncio.to_thread(start_run, settings.paths.data_dir)
        else:
            run = join_run(settings.paths.data_dir)
        try:
            await open_engine(engine)
            try:
                if isinstance(role, Primary):
                    await SCHEMA.upgrade()
                    await store.reconcile()
                    await jobs.recover()
                    listener.start(asyncio.get_running_loop())
                    stability = asyncio.create_task(watch_stability(settings.storage.stable_age))
                try:
                    if workers is not None:
                        await workers.start(on_failure=jobs.fail_jobs_of)
                    if isinstance(role, Worker):
                        os.write(role.ready_fd, b"1")
                        os.close(role.ready_fd)
                    yield
                finally:
                    if workers is not None:
                        await workers.stop()
                    if stability is not None:
                        stability.cancel()
                        await asyncio.gather(stability, return_exceptions=True)
                    await jobs.stop()
                    await asyncio.to_thread(listener.stop)
                    await store.settle()
            finally:
                await close_engine(engine)
        finally:
            os.close(run)  # this run's hold on the data folder, released even when the start fails

    async def health() -> None:
        await Patient.raw("SELECT 1")

    return make_app(
        service="pacs",
        settings=settings,
        route_handlers=[*REST_ROUTES, *DICOMWEB_ROUTES, *EXPLORER_ROUTES],
        health=health,
        lifespan=[lifespan],
        dependencies={
            "store": Provide(lambda: store, sync_to_thread=False, use_cache=True),
            "jobs": Provide(lambda: jobs, sync_to_thread=False, use_cache=True),
            "listener": Provide(lambda: listener, sync_to_thread=False, use_cache=True),
        },
        state={"store": store, "jobs": jobs, "listener": listener},
    )
