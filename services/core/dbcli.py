"""`pacsbox db check|create|upgrade|drop`, with the exit codes DESIGN.md fixes.

    0  up to date            3  empty (no pacsbox tables)
    1  internal error        4  invalid schema (tables missing, or migrations this code does not know)
    2  cannot connect, or the database does not exist
    7  outdated: migrations pending (`pacsbox db upgrade`)
"""

from __future__ import annotations

import importlib
import sys
from enum import IntEnum
from pathlib import Path

from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine

from pacsbox.core.db import ServiceSchema, close_engine, migration_state, open_engine
from pacsbox.core.settings import Settings

__all__ = ["CheckResult", "check", "run"]


class CheckResult(IntEnum):
    OK = 0
    ERROR = 1
    UNREACHABLE = 2
    EMPTY = 3
    INVALID = 4
    OUTDATED = 7


def schema_of(service: str) -> ServiceSchema:
    return importlib.import_module(f"pacsbox.{service}.piccolo_app").SCHEMA


async def _reachable(engine: Engine) -> str | None:
    """None when the database answers, else why not."""
    if isinstance(engine, SQLiteEngine) and not Path(engine.path).is_file():
        return f"{engine.path} does not exist"
    try:
        await engine.run_ddl("SELECT 1")
    except Exception as error:  # any driver error means "cannot connect"
        return f"cannot connect: {error}"
    return None


async def check(schema: ServiceSchema, engine: Engine) -> tuple[CheckResult, str]:
    """How the database compares with this code's schema (the engine is reachable and open)."""
    state = await migration_state(schema.name, schema.migrations)
    present = [t for t in schema.tables if await t.table_exists()]
    if not state.applied and not present:
        return CheckResult.EMPTY, "no tables yet (pacsbox db create)"
    if state.unknown:
        return CheckResult.INVALID, f"migrations unknown to this version: {', '.join(state.unknown)}"
    if not state.applied:
        return CheckResult.INVALID, "tables exist but no migration is recorded"
    if state.pending:
        return CheckResult.OUTDATED, f"{len(state.pending)} migration(s) pending (pacsbox db upgrade)"
    missing = [t._meta.tablename for t in schema.tables if t not in present]
    if missing:
        return CheckResult.INVALID, f"tables missing: {', '.join(missing)}"
    return CheckResult.OK, f"up to date ({len(state.applied)} migration(s))"


async def _drop(schema: ServiceSchema) -> None:
    from piccolo.apps.migrations.tables import Migration

    for table in reversed(schema.tables):
        await table.alter().drop_table(if_exists=True)
    if await Migration.table_exists():
        await Migration.delete().where(Migration.app_name == schema.name)


async def run(action: str, services: list[str], settings: Settings, *, assume_yes: bool = False) -> int:
    worst = CheckResult.OK
    for service in services:
        schema = schema_of(service)
        engine = schema.bind(settings)
        try:
            problem = await _reachable(engine)
            if problem and action != "create":
                print(f"{service}: {problem}", file=sys.stderr if action != "check" else sys.stdout)
                worst = max(worst, CheckResult.UNREACHABLE)
                continue
            await open_engine(engine)
            if action == "check":
                result, message = await check(schema, engine)
                print(f"{service}: {message}")
                worst = max(worst, result)
            elif action in ("create", "upgrade"):
                applied = await schema.upgrade()
                print(f"{service}: {len(applied)} migration(s) applied")
            elif action == "drop":
                if not assume_yes and input(f"Drop every {service} table? Type 'drop': ").strip() != "drop":
                    print("not dropped")
                    return CheckResult.ERROR
                await _drop(schema)
                print(f"{service}: tables dropped")
        except Exception as error:  # report, do not trace: the exit status tells scripts
            print(f"{service}: internal error: {type(error).__name__}: {error}", file=sys.stderr)
            return CheckResult.ERROR
        finally:
            await close_engine(engine)
    return int(worst)
