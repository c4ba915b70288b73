"""What one stored instance costs the pacs service: SQL statements, trips to the SQLite thread, fsyncs.

    .venv/bin/python -m bench.store_costs [--instances 50]

Runs the one store path (`InstanceStore.store`) in-process on a fresh
data folder, for instances that each open a new patient/study/series and for
instances of one series, and counts by wrapping `aiosqlite.Connection._execute`
(every trip to the connection's thread), `os.fsync`, and each connection's
SQLite trace callback (every statement SQLite runs, transaction control included). The findings in
docs/PERFORMANCE.md quote it; rerun it to check a change to the store path.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite

from bench.data import SeriesFiles, ct_series, search_studies
from bench.sizes import Sizes

__all__ = ["main"]


async def _count(sets: dict[str, SeriesFiles], settings: Any) -> None:
    from pacsbox.core.db import PooledSQLiteEngine, close_engine, open_engine
    from pacsbox.pacs.piccolo_app import SCHEMA
    from pacsbox.pacs.store import InstanceStore, Origin

    trips: collections.Counter[str] = collections.Counter()
    fsyncs, statements = [0], [0]
    execute, fsync, connect = aiosqlite.Connection._execute, os.fsync, PooledSQLiteEngine._connect

    async def counted_execute(self: aiosqlite.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        trips[getattr(fn, "__name__", "call")] += 1
        return await execute(self, fn, *args, **kwargs)

    async def traced_connect(self: PooledSQLiteEngine) -> aiosqlite.Connection:
        connection = await connect(self)
        await connection.set_trace_callback(lambda _sql: statements.__setitem__(0, statements[0] + 1))
        return connection

    def counted_fsync(fd: int) -> None:
        fsyncs[0] += 1
        fsync(fd)

    engine = SCHEMA.bind(settings)
    await open_engine(engine)
    aiosqlite.Connection._execute = counted_execute  # type: ignore[method-assign]
    os.fsync = counted_fsync
    PooledSQLiteEngine._connect = traced_connect  # type: ignore[method-assign]
    try:
        await SCHEMA.upgrade()
        store = InstanceStore.from_settings(settings)
        for label, files in sets.items():
            trips.clear()
            fsyncs[0] = statements[0] = 0
            for path in files.files:
                await store.store(path.read_bytes(), Origin(kind="REST"))
            n = len(files.files)
            print(f"{label}: per instance {statements[0] / n:.1f} SQL statements, "
                  f"{sum(trips.values()) / n:.1f} trips to the SQLite thread, {fsyncs[0] / n:.1f} fsyncs")
    finally:
        aiosqlite.Connection._execute = execute  # type: ignore[method-assign]
        os.fsync = fsync
        PooledSQLiteEngine._connect = connect  # type: ignore[method-assign]
        await close_engine(engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pacsbox-store-costs-") as tmp:
        folder = Path(tmp)
        os.environ.update(PACSBOX_CONFIG_DIR=str(folder), PACSBOX_DATA_DIR=str(folder / "data"))
        from pacsbox.core.settings import Settings

        sets = {
            "instances opening a new study": search_studies(folder / "studies", args.instances),
            "instances of one series": ct_series(folder / "series", Sizes(ct_slices=args.instances, ct_size=64), 1),
        }
        asyncio.run(_count(sets, Settings.load()))


if __name__ == "__main__":
    main()
