"""The index database: one piccolo engine per process, built from `PACSBOX_DATABASE_URL`.

SQLite (the default) lives in one file per service under the data directory, in
WAL mode so that searches read while an ingest writes. piccolo opens a new
SQLite connection, and with it a new thread, for every query outside a
transaction; `PooledSQLiteEngine` keeps a few connections open instead, which
is what makes a QIDO search cost a fraction of a millisecond of database time.

Several processes may share one SQLite file: their writers queue on a lock
file beside it (`<database>-writer.lock`, see `write_transaction`).

PostgreSQL is selected with a `postgresql://` URL; every service then uses the
same database, each with its own tables.

piccolo finds "the" engine through a `piccolo_conf` module, so a process binds
one engine with `use_engine` before touching any table; a pacsbox process runs
one service and therefore one engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import importlib
import io
import os
import pkgutil
import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar, cast

import aiosqlite
import asyncpg
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString
from piccolo.table import Table

from pacsbox.core.settings import Settings

T = TypeVar("T")

__all__ = [
    "MigrationState",
    "PooledSQLiteEngine",
    "ServiceSchema",
    "close_engine",
    "engine_for",
    "migration_state",
    "open_engine",
    "run_migrations",
    "sqlite_integrity_ok",
    "use_engine",
    "Sql",
    "WriteSteps",
    "run_write",
    "write_transaction",
]


class _PooledConnection:
    """An aiosqlite connection whose `close()` hands it back to the pool."""

    def __init__(self, connection: aiosqlite.Connection, pool: PooledSQLiteEngine) -> None:
        self._connection = connection
        self._pool = pool

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self._connection.execute(*args, **kwargs)

    async def close(self) -> None:
        self._pool._release(self._connection)


class _PooledTransaction(SQLiteTransaction):
    async def get_connection(self) -> Any:
        return _PooledConnection(await self.engine._acquire(), self.engine)


class PooledSQLiteEngine(SQLiteEngine):
    """SQLite engine reusing open connections (WAL mode, foreign keys on, busy timeout).

    Writers of one process queue on `write_lock`; writers of several processes
    sharing the file queue on the writer lock file (`writer_lock_fd`).
    """

    def __init__(self, path: str, *, pool_size: int = 4, synchronous: str = "NORMAL") -> None:
        super().__init__(path=path, timeout=60)
        self._pool_size = pool_size
        self._synchronous = synchronous
        self._idle: list[aiosqlite.Connection] = []
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._write_lock: asyncio.Lock | None = None
        self._write_queue: _SQLiteWriteQueue | None = None
        self._writer_fd: int | None = None
        self._writer_pid: int | None = None

    @property
    def write_queue(self) -> _SQLiteWriteQueue:
        """Write jobs of this process, committed in groups (see `run_write`)."""
        self._bind_loop()
        assert self._write_queue is not None
        return self._write_queue

    @property
    def write_lock(self) -> asyncio.Lock:
        """Serialises this process's write transactions (see `write_transaction`)."""
        self._bind_loop()
        assert self._write_lock is not None
        return self._write_lock

    def writer_lock_fd(self) -> int | None:
        """This process's descriptor of the writer lock file, `flock`ed around each write transaction.

        None for an in-memory database, which no other process sees. Opened on
        first use in each process: a child forked after the parent opened it
        would share the parent's open file description, and with it the lock.
        """
        if self.path in ("", ":memory:"):
            return None
        if self._writer_pid != os.getpid():
            if self._writer_fd is not None:
                os.close(self._writer_fd)  # the parent's: the parent's own descriptor keeps its lock
            self._writer_fd = _open_owner_only(Path(f"{self.path}-writer.lock"))
            self._writer_pid = os.getpid()
        return self._writer_fd

    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests, CLI): start a fresh pool
            self._idle, self._slots, self._loop = [], asyncio.Semaphore(self._pool_size), loop
            self._write_lock = asyncio.Lock()
            self._write_queue = _SQLiteWriteQueue(self)

    async def _acquire(self) -> aiosqlite.Connection:
        self._bind_loop()
        assert self._slots is not None
        await self._slots.acquire()
        if self._idle:
            return self._idle.pop()
        try:
            return await self._connect()
        except BaseException:
            self._slots.release()
            raise

    def _release(self, connection: aiosqlite.Connection) -> None:
        if connection.in_transaction:  # never hand out a connection with an open transaction
            asyncio.get_running_loop().create_task(connection.close())
        else:
            self._idle.append(connection)
        assert self._slots is not None
        self._slots.release()

    async def _connect(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute(f"PRAGMA synchronous = {self._synchronous}")
        await connection.execute("PRAGMA foreign_keys = 1")
        # LIKE compares case as PostgreSQL does; case-insensitive matches use LOWER() explicitly.
        await connection.execute("PRAGMA case_sensitive_like = ON")
        return connection

    async def get_connection(self) -> Any:
        return _PooledConnection(await self._acquire(), self)

    async def close(self) -> None:
        """Close the idle connections (the pool refills on the next query)."""
        while self._idle:
            await self._idle.pop().close()

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return _PooledTransaction(self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        connection = await self._acquire()
        try:
            return await connection.execute_fetchall(query, args or [])  # one trip to the thread, not three
        finally:
            self._release(connection)

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: list[Any] | None = None,
        query_type: str = "generic", table: Any = None,
    ) -> Any:
        return await connection.execute_fetchall(query, args or [])


def engine_for(settings: Settings, service: str) -> Engine:
    """The engine `service` ("pacs", "auth") uses under these settings; nothing is opened yet."""
    url = settings.database.url
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(config={"dsn": url})
    if url and not url.startswith("sqlite:"):
        from pacsbox.core.errors import SettingsError

        raise SettingsError(f"PACSBOX_DATABASE_URL={url!r}: expected postgresql://... or empty")
    path = url.removeprefix("sqlite:///") if url else str(settings.paths.data_dir / f"{service}.sqlite")
    # The auth store answers "issued" only once the row survives a power cut; the
    # pacs index may trail its files (they are durable and re-indexed at start-up).
    return PooledSQLiteEngine(path, synchronous="FULL" if service == "auth" else "NORMAL")


def use_engine(engine: Engine, conf: ModuleType, tables: Iterable[type[Table]]) -> None:
    """Make `engine` the one piccolo uses for `tables`, the migration table and `conf`."""
    conf.DB = engine  # type: ignore[attr-defined]
    os.environ["PICCOLO_CONF"] = conf.__name__
    for table in (*tables, Migration):
        table._meta.db = engine


async def open_engine(engine: Engine) -> None:
    """Open pools (PostgreSQL) or create the SQLite file's folder."""
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=10)
    elif isinstance(engine, SQLiteEngine):
        _owner_only(Path(engine.path))


def _owner_only(path: Path) -> None:
    """Create the SQLite file, or take an existing one, readable and writable by its owner only.

    It holds patients' details (pacs) or password hashes and token digests
    (auth); SQLite gives its `-wal` and `-shm` files the database file's mode.
    An empty file is an empty database to SQLite.
    """
    os.close(_open_owner_only(path))


def _open_owner_only(path: Path) -> int:
    """Open `path` for reading and writing, created if missing, its mode set to 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    return fd


async def close_engine(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine) and engine.pool:
        await engine.close_connection_pool()
    elif isinstance(engine, PooledSQLiteEngine):
        await engine.close()


def _migration_modules(package: str) -> dict[str, ModuleType]:
    root = importlib.import_module(package)
    modules = {}
    for info in pkgutil.iter_modules(root.__path__):
        module = importlib.import_module(f"{package}.{info.name}")
        if getattr(module, "ID", None):
            modules[module.ID] = module
    return dict(sorted(modules.items()))


@dataclass(frozen=True)
class MigrationState:
    """What the database holds compared with the migrations this code ships."""

    applied: tuple[str, ...]
    pending: tuple[str, ...]
    unknown: tuple[str, ...]


async def migration_state(app_name: str, package: str) -> MigrationState:
    known = _migration_modules(package)
    applied: list[str] = []
    if await Migration.table_exists().run():
        applied = await Migration.get_migrations_which_ran(app_name=app_name)
    return MigrationState(
        applied=tuple(applied),
        pending=tuple(i for i in known if i not in applied),
        unknown=tuple(i for i in applied if i not in known),
    )


async def run_migrations(app_name: str, package: str) -> list[str]:
    """Apply the pending migrations of `package`, oldest first; returns their IDs."""
    if not await Migration.table_exists().run():
        await Migration.create_table(if_not_exists=True).run()
    state = await migration_state(app_name, package)
    modules = _migration_modules(package)
    for migration_id in state.pending:
        manager = await modules[migration_id].forwards()
        await manager.run()
        await Migration.insert(Migration(name=migration_id, app_name=app_name)).run()
    return list(state.pending)


def sqlite_integrity_ok(path: str) -> bool:
    """`PRAGMA integrity_check` of a SQLite file, run synchronously (checks and tests)."""
    with sqlite3.connect(path) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _holding_writer_lock(fd: int | None, run: Callable[..., T], *args: Any) -> T:
    """`run(*args)` under the writer lock (`fd` None: no lock); blocks the calling thread, not the GIL."""
    if fd is None:
        return run(*args)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        return run(*args)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.asynccontextmanager
async def _writer_lock(engine: PooledSQLiteEngine) -> AsyncIterator[None]:
    """Hold the writer lock shared with other processes, waited for in a worker thread."""
    fd = engine.writer_lock_fd()
    if fd is None:
        yield
        return
    taking = asyncio.ensure_future(asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX))
    try:
        await asyncio.shield(taking)
    except asyncio.CancelledError:
        # The thread goes on waiting and takes the lock in the end (the other
        # process commits within milliseconds): give it back before leaving.
        await _outcome_of(taking)
        if not taking.cancelled() and taking.exception() is None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        raise
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.asynccontextmanager
async def write_transaction(engine: Engine) -> AsyncIterator[Any]:
    """A write transaction; on SQLite one at a time, holding the write locks from the start.

    SQLite admits one writer: a second `BEGIN IMMEDIATE` would wait in SQLite's
    busy handler, which sleeps in growing steps (1, 2, 5, 10 ... 100 ms) even
    once the database is free. Writers queue instead, on an asyncio lock within
    a process and on an `flock` of the writer lock file between processes: both
    hand the database over the moment the previous commit ends.
    """
    if isinstance(engine, PooledSQLiteEngine):
        async with (
            engine.write_lock,
            _writer_lock(engine),
            engine.transaction(TransactionType.immediate) as transaction,
        ):
            yield transaction
    elif isinstance(engine, SQLiteEngine):
        async with engine.transaction(TransactionType.immediate) as transaction:
            yield transaction
    else:
        async with engine.transaction() as transaction:
            yield transaction


@dataclass(frozen=True)
class Sql:
    """One statement of a write job: text with piccolo's `{}` placeholders, and its arguments."""

    text: str
    args: tuple[Any, ...] = ()


WriteSteps = Generator[Sql, Any, T]
"""A write job written once for every engine: it yields `Sql` statements, is sent each one's rows (as
dicts), and returns its result. The engine's driver runs it: see `run_write`."""


@functools.lru_cache(maxsize=256)
def _qmark(text: str) -> str:
    return text.replace("{}", "?")


def _drive_sync(connection: sqlite3.Connection, steps: WriteSteps[T]) -> T:
    answer: Any = None
    try:
        while True:
            step = steps.send(answer)
            answer = connection.execute(_qmark(step.text), step.args).fetchall()
    except StopIteration as done:
        return cast(T, done.value)


def _run_batch(connection: sqlite3.Connection, jobs: list[Callable[[], WriteSteps[Any]]]) -> list[tuple[bool, Any]]:
    """Run write jobs in one transaction; if one fails, roll back and run them again, each in a savepoint.

    Jobs rarely fail (a deletion of something already gone), and a savepoint
    costs two statements per job, each a turn at the GIL for this thread: the
    batch goes first without them. A job is a fresh generator each time it is
    called, so running it again starts it over.
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        results = [_drive_sync(connection, job()) for job in jobs]
    except Exception:
        connection.execute("ROLLBACK")
        return _run_isolated(connection, jobs)
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return [(True, result) for result in results]


def _run_isolated(connection: sqlite3.Connection, jobs: list[Callable[[], WriteSteps[Any]]]) -> list[tuple[bool, Any]]:
    """Run write jobs in one transaction, each in a savepoint: a failed job is undone alone."""
    outcomes: list[tuple[bool, Any]] = []
    connection.execute("BEGIN IMMEDIATE")
    try:
        for job in jobs:
            connection.execute("SAVEPOINT job")
            try:
                outcomes.append((True, _drive_sync(connection, job())))
            except Exception as error:
                connection.execute("ROLLBACK TO job")
                outcomes.append((False, error))
            connection.execute("RELEASE job")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return outcomes


async def _outcome_of(future: asyncio.Future[Any]) -> None:
    """Wait until `future` is done, whatever cancellations arrive meanwhile."""
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            continue
        except Exception:
            break
    if not future.cancelled():
        future.exception()  # retrieved: the caller re-raises its cancellation instead


class _SQLiteWriteQueue:
    """Group commit for one SQLite engine: jobs that arrive while a batch runs share the next transaction.

    A job runs whole in the connection's own thread (aiosqlite's `_execute`),
    so its statements cost no trip through the event loop; a batch commits once.
    Each caller is answered after the commit that made its job durable. That
    thread takes the writer lock shared with other processes before `BEGIN
    IMMEDIATE` (see `write_transaction` for why) and gives it back after the end.
    """

    def __init__(self, engine: PooledSQLiteEngine) -> None:
        self._engine = engine
        self._waiting: list[tuple[Callable[[], WriteSteps[Any]], asyncio.Future[Any]]] = []
        self._draining = False
        self._drainer: asyncio.Task[None] | None = None

    async def run(self, job: Callable[[], WriteSteps[T]]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        entry = (job, future)
        self._waiting.append(entry)
        if not self._draining:
            self._draining = True
            self._drainer = asyncio.get_running_loop().create_task(self._drain())  # referenced: never collected mid-run
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # A cancelled caller must not clean up after a job that may still commit:
            # a job not yet started is withdrawn, a started one is waited for.
            if entry in self._waiting:
                self._waiting.remove(entry)
            else:
                await _outcome_of(future)
            raise

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    outcomes = await self._run(batch)
                except BaseException as error:  # the transaction itself failed: every job of it did
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    if not isinstance(error, Exception):
                        raise
                    continue
                for (_, future), (ok, value) in zip(batch, outcomes):
                    if future.done():
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            self._draining = False

    async def _run(self, batch: list[tuple[Callable[[], WriteSteps[Any]], asyncio.Future[Any]]]) -> list[tuple[bool, Any]]:
        async with self._engine.write_lock:
            connection = await self._engine._acquire()
            try:
                # aiosqlite runs the function in the connection's thread, on its sqlite3 connection.
                jobs = [job for job, _ in batch]
                return await connection._execute(
                    _holding_writer_lock, self._engine.writer_lock_fd(), _run_batch, connection._conn, jobs
                )
            finally:
                self._engine._release(connection)


_DEADLOCK_RETRIES = 5


async def _run_postgres(engine: PostgresEngine, job: Callable[[], WriteSteps[T]]) -> T:
    """One transaction per job; a job chosen as a deadlock or serialization victim runs again."""
    for attempt in range(_DEADLOCK_RETRIES + 1):
        try:
            async with engine.transaction():
                steps, answer = job(), None
                try:
                    while True:
                        step = steps.send(answer)
                        answer = await engine.run_querystring(QueryString(step.text, *step.args))
                except StopIteration as done:
                    return cast(T, done.value)
        except (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError):
            if attempt == _DEADLOCK_RETRIES:
                raise
    raise AssertionError("unreachable")


async def run_write(engine: Engine, job: Callable[[], WriteSteps[T]]) -> T:
    """Run a write job in a transaction of its own, or, on SQLite, in the next group commit.

    `job` makes a fresh generator each time it is called: on PostgreSQL a job
    that lost a deadlock is run again from the start.
    """
    if isinstance(engine, PooledSQLiteEngine):
        return await engine.write_queue.run(job)
    if isinstance(engine, PostgresEngine):
        return await _run_postgres(engine, job)
    raise TypeError(f"write jobs need a pooled SQLite or a PostgreSQL engine, not {type(engine).__name__}")


@dataclass(frozen=True)
class ServiceSchema:
    """A service's part of the database: its piccolo_conf module, migrations and tables."""

    name: str
    conf: str
    migrations: str
    tables: tuple[type[Table], ...]

    def bind(self, settings: Settings) -> Engine:
        """Build this service's engine from `settings` and make piccolo use it."""
        engine = engine_for(settings, self.name)
        use_engine(engine, importlib.import_module(self.conf), self.tables)
        return engine

    async def upgrade(self) -> list[str]:
        """Apply pending migrations (the engine must be bound and open)."""
        with contextlib.redirect_stdout(io.StringIO()):  # piccolo prints progress lines
            return await run_migrations(self.name, self.migrations)
