"""`pacsbox db check|create|upgrade|drop` and the exit codes DESIGN.md promises."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import database_env

pytestmark = pytest.mark.db


def pacsbox_db(folder: Path, env: dict[str, str], *args: str, service: str = "pacs") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pacsbox.cli", "db", *args, "--service", service],
        env={**os.environ, "PACSBOX_CONFIG_DIR": str(folder), **env}, capture_output=True, text=True, timeout=60,
    )


def test_life_of_a_database(tmp_path: Path, postgres) -> None:
    env = database_env(postgres)
    if postgres is None:
        assert pacsbox_db(tmp_path, env, "check").returncode == 2  # no database file yet
        assert not (tmp_path / "data").exists()  # checking creates nothing
        (tmp_path / "data").mkdir()
        sqlite3.connect(tmp_path / "data" / "pacs.sqlite").close()
    assert pacsbox_db(tmp_path, env, "check").returncode == 3  # exists, empty
    created = pacsbox_db(tmp_path, env, "create")
    assert created.returncode == 0, created.stderr
    checked = pacsbox_db(tmp_path, env, "check")
    assert checked.returncode == 0 and "up to date" in checked.stdout
    assert pacsbox_db(tmp_path, env, "drop", "--yes").returncode == 0
    assert pacsbox_db(tmp_path, env, "check").returncode == 3
    assert pacsbox_db(tmp_path, env, "upgrade").returncode == 0
    assert pacsbox_db(tmp_path, env, "check").returncode == 0


_PG_INDEXED_COLUMNS = """
    SELECT t.relname AS table_name, a.attname AS column_name FROM pg_index i
    JOIN pg_class t ON t.oid = i.indrelid JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
    WHERE i.indnatts = 1 AND t.relnamespace = 'public'::regnamespace
"""


def _single_column_indexes(env: dict[str, str], folder: Path, service: str) -> list[tuple[str, str]]:
    """(table, column) of every one-column index of the service's database, once per index."""
    url = env["PACSBOX_DATABASE_URL"]
    if url:
        async def fetch() -> list[tuple[str, str]]:
            connection = await asyncpg.connect(url)
            try:
                return [(r["table_name"], r["column_name"]) for r in await connection.fetch(_PG_INDEXED_COLUMNS)]
            finally:
                await connection.close()
        with ThreadPoolExecutor(1) as thread:  # an event loop of its own (the suite's browser keeps one here)
            return thread.submit(asyncio.run, fetch()).result()
    indexed = []
    with sqlite3.connect(folder / "data" / f"{service}.sqlite") as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for index in connection.execute(f"PRAGMA index_list('{table}')").fetchall():
                columns = connection.execute(f"PRAGMA index_info('{index[1]}')").fetchall()
                if len(columns) == 1:
                    indexed.append((table, columns[0][2]))
    return indexed


@pytest.mark.parametrize("service", ["pacs", "auth"])
def test_no_column_is_indexed_twice(tmp_path: Path, postgres, service: str) -> None:
    """Every stored instance writes each index of its rows: a unique column's constraint already indexes it,
    and a second index on it only doubled those writes (and the disk they take)."""
    env = database_env(postgres)
    created = pacsbox_db(tmp_path, env, "create", service=service)
    assert created.returncode == 0, created.stderr
    indexed = _single_column_indexes(env, tmp_path, service)
    assert ("instances" if service == "pacs" else "auth_users", "public_id" if service == "pacs" else "username") in indexed
    twice = {pair for pair in indexed if indexed.count(pair) > 1}
    assert not twice, f"indexed twice: {sorted(twice)}"


def test_the_database_files_are_the_owner_s_only(tmp_path: Path) -> None:
    """The index holds patients' details, the auth store password hashes: no other local user reads them."""
    env = {"PACSBOX_DATABASE_URL": ""}
    (tmp_path / "data").mkdir()
    earlier = tmp_path / "data" / "auth.sqlite"
    sqlite3.connect(earlier).close()
    earlier.chmod(0o644)  # as an earlier version left it
    for service in ("pacs", "auth"):
        created = pacsbox_db(tmp_path, env, "create", service=service)
        assert created.returncode == 0, created.stderr
    with sqlite3.connect(tmp_path / "data" / "pacs.sqlite") as connection:  # a write leaves the WAL file
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("INSERT INTO changes (change_type) VALUES ('probe')")
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "data").iterdir()}
    assert modes["pacs.sqlite"] == modes["auth.sqlite"] == modes["pacs.sqlite-wal"] == 0o600, modes


def test_outdated_and_invalid_schemas(tmp_path: Path) -> None:
    env = {"PACSBOX_DATABASE_URL": ""}
    assert pacsbox_db(tmp_path, env, "create").returncode == 0
    database = tmp_path / "data" / "pacs.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM migration WHERE app_name = 'pacs'")
        connection.execute("DROP TABLE changes")
    assert pacsbox_db(tmp_path, env, "check").returncode == 4  # tables but no recorded migration
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO migration (name, app_name, ran_on) VALUES ('2999-01-01T00:00:00:000000', 'pacs', '2999-01-01')")
    result = pacsbox_db(tmp_path, env, "check")
    assert result.returncode == 4 and "unknown" in result.stdout


def test_pending_migration_is_outdated(tmp_path: Path) -> None:
    env = {"PACSBOX_DATABASE_URL": ""}
    assert pacsbox_db(tmp_path, env, "create").returncode == 0
    with sqlite3.connect(tmp_path / "data" / "pacs.sqlite") as connection:
        applied = connection.execute("SELECT COUNT(*) FROM migration WHERE app_name = 'pacs'").fetchone()[0]
        if applied < 2:
            pytest.skip("reason: an outdated schema needs two migrations, and pacs ships one so far")
        connection.execute("DELETE FROM migration WHERE app_name = 'pacs' AND id = (SELECT MAX(id) FROM migration WHERE app_name = 'pacs')")
    connection.close()
    result = pacsbox_db(tmp_path, env, "check")
    assert result.returncode == 7 and "pending" in result.stdout


def test_unreachable_postgres_is_2(tmp_path: Path) -> None:
    result = pacsbox_db(tmp_path, {"PACSBOX_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, "check")
    assert result.returncode == 2
    assert "cannot connect" in result.stdout + result.stderr


def test_upgrade_brings_studies_indexed_before_up_to_date(tmp_path: Path) -> None:
    """Studies indexed by an earlier schema get their patient's details (a study-level search by name still
    finds them) and count as stable (no flood of Stable* changes after the upgrade)."""
    env = {"PACSBOX_DATABASE_URL": ""}
    assert pacsbox_db(tmp_path, env, "create").returncode == 0
    database = tmp_path / "data" / "pacs.sqlite"
    with sqlite3.connect(database) as connection:  # rows as the earlier schema left them
        connection.execute(
            "INSERT INTO patients (public_id, patient_id, patient_name, patient_name_key, birth_date, sex, last_update)"
            " VALUES ('p1', 'PID1', 'Earlier^Eve', 'earlier eve', '19600101', 'F', '2026-01-01')"
        )
        connection.execute(
            "INSERT INTO studies (public_id, patient, study_uid, last_update)"
            " VALUES ('t1', (SELECT id FROM patients WHERE public_id = 'p1'), '1.2.3', '2026-01-01')"
        )
        connection.execute(
            "INSERT INTO series (public_id, study, series_uid, last_update)"
            " VALUES ('s1', (SELECT id FROM studies WHERE public_id = 't1'), '1.2.3.4', '2026-01-01')"
        )
        connection.execute(
            "DELETE FROM migration WHERE app_name = 'pacs'"
            " AND name IN ('2026-12-04T21:45:01:000000', '2026-12-04T22:00:01:000000')"
        )
    connection.close()
    upgraded = pacsbox_db(tmp_path, env, "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    with sqlite3.connect(database) as connection:
        study = connection.execute(
            "SELECT patient_name, patient_name_key, patient_birth_date, patient_sex, stable FROM studies"
        ).fetchone()
        series_stable = connection.execute("SELECT stable FROM series").fetchone()[0]
    connection.close()
    assert study == ("Earlier^Eve", "earlier eve", "19600101", "F", 1) and series_stable == 1
