"""Writers of several processes sharing one SQLite file queue on the writer lock file beside it."""

from __future__ import annotations

import asyncio
import fcntl
import multiprocessing
import os
import sqlite3
import stat
from collections.abc import Awaitable, Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from piccolo.querystring import QueryString

from pacsbox.core.db import PooledSQLiteEngine, Sql, close_engine, run_write, write_transaction

Write = Callable[[PooledSQLiteEngine, str], Awaitable[Any]]


def _insert(name: str) -> Generator[Sql, Any, None]:
    yield Sql("INSERT INTO items (name) VALUES ({})", (name,))


async def _by_job(engine: PooledSQLiteEngine, name: str) -> None:
    await run_write(engine, lambda: _insert(name))


async def _by_transaction(engine: PooledSQLiteEngine, name: str) -> None:
    async with write_transaction(engine):
        await engine.run_querystring(QueryString("INSERT INTO items (name) VALUES ({})", name))


def _names(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return sorted(row[0] for row in connection.execute("SELECT name FROM items"))


def _lock_file(database: Path) -> Path:
    return database.with_name(f"{database.name}-writer.lock")


@contextmanager
def _held_elsewhere(database: Path) -> Iterator[None]:
    """The writer lock taken through an open file description of its own, as another process takes it."""
    fd = os.open(_lock_file(database), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # the last descriptor of the description: the lock goes with it


def _free(database: Path) -> bool:
    fd = os.open(_lock_file(database), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "index.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("CREATE TABLE items (name TEXT UNIQUE)")
    return path


async def _write_while_held(database: Path, write: Write) -> tuple[list[str], list[str]]:
    """(rows while another holder has the lock, rows once it let go)."""
    engine = PooledSQLiteEngine(str(database))
    try:
        await write(engine, "first")
        assert stat.S_IMODE(_lock_file(database).stat().st_mode) == 0o600  # made by the engine, as the database
        with _held_elsewhere(database):
            waiting = asyncio.create_task(write(engine, "second"))
            await asyncio.sleep(0.3)
            assert not waiting.done()
            while_held = _names(database)
        await asyncio.wait_for(waiting, 10)
        return while_held, _names(database)
    finally:
        await close_engine(engine)


@pytest.mark.parametrize("write", [_by_job, _by_transaction], ids=["run_write", "write_transaction"])
def test_a_write_waits_for_the_writer_lock_and_commits_once_it_is_free(database: Path, write: Write) -> None:
    with ThreadPoolExecutor(1) as thread:  # a loop of its own thread, as in test_write_jobs.py
        while_held, after = thread.submit(asyncio.run, _write_while_held(database, write)).result()
    assert while_held == ["first"]
    assert after == ["first", "second"]


async def _cancel_while_waiting(database: Path) -> list[str]:
    engine = PooledSQLiteEngine(str(database))
    try:
        await _by_transaction(engine, "first")
        with _held_elsewhere(database):
            waiting = asyncio.create_task(_by_transaction(engine, "cancelled"))
            await asyncio.sleep(0.1)
            waiting.cancel()
            await asyncio.sleep(0.1)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(waiting, 10)
        await asyncio.sleep(0.05)
        assert _free(database)  # not kept by the thread that was still waiting for it
        await asyncio.wait_for(_by_transaction(engine, "after"), 10)
        return _names(database)
    finally:
        await close_engine(engine)


def test_a_transaction_cancelled_while_waiting_for_the_writer_lock_gives_it_back(database: Path) -> None:
    with ThreadPoolExecutor(1) as thread:
        names = thread.submit(asyncio.run, _cancel_while_waiting(database)).result()
    assert names == ["after", "first"]


def _write_rows(database: str, prefix: str, start: Any) -> None:
    """One process's share: 200 rows, half as group-commit jobs, half in write transactions."""

    async def write_all() -> None:
        engine = PooledSQLiteEngine(database)
        try:
            writes = [(_by_job if i % 2 else _by_transaction)(engine, f"{prefix}{i:03d}") for i in range(200)]
            await asyncio.gather(*writes)
        finally:
            await close_engine(engine)

    start.wait(30)
    asyncio.run(write_all())


def test_two_processes_writing_at_once_commit_every_row(database: Path) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    writers = [context.Process(target=_write_rows, args=(str(database), prefix, start)) for prefix in ("a", "b")]
    for writer in writers:
        writer.start()
    start.set()
    for writer in writers:
        writer.join(60)
    assert [writer.exitcode for writer in writers] == [0, 0]
    assert len(_names(database)) == 400


async def _write_one(engine: PooledSQLiteEngine, name: str) -> None:
    try:
        await _by_job(engine, name)
    finally:
        await close_engine(engine)  # its connection's thread would keep the process alive


def _write_one_in_child(engine: PooledSQLiteEngine, name: str) -> None:
    asyncio.run(_write_one(engine, name))


def test_an_engine_used_before_a_fork_takes_the_writer_lock_on_its_own_in_the_child(database: Path) -> None:
    engine = PooledSQLiteEngine(str(database))
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, _write_one(engine, "parent")).result()  # the parent opened the lock file
    fd = engine.writer_lock_fd()
    assert fd is not None
    fcntl.flock(fd, fcntl.LOCK_EX)  # the parent in the middle of a write
    child = multiprocessing.get_context("fork").Process(target=_write_one_in_child, args=(engine, "child"))
    try:
        child.start()
        child.join(0.3)
        assert child.is_alive() and _names(database) == ["parent"]
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        child.join(30)
    assert child.exitcode == 0
    assert _names(database) == ["child", "parent"]
