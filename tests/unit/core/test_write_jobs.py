"""Write jobs on SQLite: jobs arriving together share a commit, and one failing job undoes only itself."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from pacsbox.core.db import PooledSQLiteEngine, Sql, close_engine, run_write


def _insert(name: str, fail: bool = False) -> Generator[Sql, Any, str]:
    yield Sql("INSERT INTO items (name) VALUES ({})", (name,))
    rows = yield Sql("SELECT COUNT(*) AS n FROM items WHERE name = {}", (name,))
    if fail:
        raise ValueError(f"{name} refused after its insert")
    return f"{name}:{rows[0]['n']}"


def _names(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return sorted(row[0] for row in connection.execute("SELECT name FROM items"))


def _run(path: Path, jobs: list[tuple[str, bool]]) -> list[Any]:
    """The jobs at once, on an event loop of their own thread (the suite's browser keeps one in the main thread)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, _run_jobs(path, jobs)).result()


async def _run_jobs(path: Path, jobs: list[tuple[str, bool]]) -> list[Any]:
    engine = PooledSQLiteEngine(str(path))
    try:
        return await asyncio.gather(
            *(run_write(engine, lambda name=name, fail=fail: _insert(name, fail)) for name, fail in jobs),
            return_exceptions=True,
        )
    finally:
        await close_engine(engine)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "jobs.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE items (name TEXT UNIQUE)")
    return path


def test_a_failing_job_leaves_the_others_of_its_commit_in_place(database: Path) -> None:
    results = _run(database, [("a", False), ("b", True), ("c", False), ("a", False)])
    assert results[0] == "a:1" and results[2] == "c:1"
    assert isinstance(results[1], ValueError)
    assert isinstance(results[3], sqlite3.IntegrityError)  # the second "a" breaks the UNIQUE constraint alone
    assert _names(database) == ["a", "c"]


def test_many_jobs_at_once_are_all_committed(database: Path) -> None:
    names = [f"n{i:03d}" for i in range(200)]
    results = _run(database, [(name, False) for name in names])
    assert results == [f"{name}:1" for name in names]
    assert _names(database) == names


def _slow_insert(name: str, seconds: float, running: threading.Event | None = None) -> Generator[Sql, Any, str]:
    yield Sql("INSERT INTO items (name) VALUES ({})", (name,))
    if running is not None:
        running.set()
    time.sleep(seconds)  # the job runs in the database thread: the caller is cancelled meanwhile
    return name


async def _cancel_while_running(path: Path) -> tuple[list[str], list[str]]:
    """(rows right after the cancelled callers returned, rows once the queue is idle)."""
    engine = PooledSQLiteEngine(str(path))
    try:
        running = threading.Event()
        started = asyncio.create_task(run_write(engine, lambda: _slow_insert("started", 0.3, running)))
        assert await asyncio.to_thread(running.wait, 10)  # "started" is running in the database thread now
        queued = asyncio.create_task(run_write(engine, lambda: _slow_insert("queued", 0)))
        await asyncio.sleep(0.05)
        for task in (started, queued):
            task.cancel()
        for task in (started, queued):
            with pytest.raises(asyncio.CancelledError):
                await task
        at_cancel = _names(path)
        await run_write(engine, lambda: _slow_insert("after", 0))
        return at_cancel, _names(path)
    finally:
        await close_engine(engine)


def test_a_cancelled_caller_returns_after_its_running_job_committed_and_withdraws_a_queued_one(database: Path) -> None:
    with ThreadPoolExecutor(1) as thread:
        at_cancel, finally_ = thread.submit(asyncio.run, _cancel_while_running(database)).result()
    assert at_cancel == ["started"]  # committed before the cancelled caller got its CancelledError
    assert finally_ == ["after", "started"]  # the queued job never ran
