"""`POST /jobs/{id}/cancel` reaches a job whichever process gets it: two runners on one database stand for two processes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from pacsbox.core.db import close_engine, open_engine
from pacsbox.core.errors import Conflict, NotFound
from pacsbox.core.settings import Settings
from pacsbox.pacs.jobs import JobControl, JobRunner, get_job
from pacsbox.pacs.piccolo_app import SCHEMA
from tests.support import aio
from tests.support.postgres import TemporaryPostgres

pytestmark = pytest.mark.db

GENEROUS = 30  # seconds: a cancel that never arrives fails the test instead of hanging it

Scenario = Callable[[JobRunner, JobRunner], Awaitable[Any]]


async def _wait_for_cancel(control: JobControl) -> dict[str, Any]:
    """Work that ends when its job is cancelled (or, if it never is, after GENEROUS seconds, successfully)."""
    await asyncio.to_thread(control.cancel.wait, GENEROUS)
    return control.content


async def _on_two_runners(folder: Path, database_url: str, scenario: Scenario) -> Any:
    settings = Settings.load({
        "PACSBOX_CONFIG_DIR": str(folder), "PACSBOX_DATA_DIR": str(folder / "data"),
        "PACSBOX_DATABASE_URL": database_url,
    })
    engine = SCHEMA.bind(settings)
    await open_engine(engine)
    first, second = JobRunner(), JobRunner()
    try:
        await SCHEMA.upgrade()
        return await scenario(first, second)
    finally:
        await first.stop()
        await second.stop()
        await close_engine(engine)


@pytest.fixture
def two_runners(tmp_path: Path, postgres: TemporaryPostgres | None) -> Callable[[Scenario], Any]:
    """Runs a scenario with runners A and B on one fresh index database (SQLite, or PostgreSQL in its pass)."""
    database_url = postgres.create_database() if postgres else ""
    return lambda scenario: aio.run(_on_two_runners(tmp_path, database_url, scenario))


async def _cancel_through_the_other(a: JobRunner, b: JobRunner) -> tuple[dict[str, Any], type[Exception] | None]:
    public_id = await a.submit("Retrieve", {"Query": "waits"}, _wait_for_cancel)
    await b.cancel(public_id)
    await asyncio.wait_for(a.wait(public_id), GENEROUS + 10)
    job = await get_job(public_id)
    try:
        await b.cancel(public_id)
    except Conflict as again:
        return job, type(again)
    return job, None


def test_a_job_running_in_one_process_is_cancelled_through_another(two_runners: Callable[[Scenario], Any]) -> None:
    job, cancel_again = two_runners(_cancel_through_the_other)
    assert (job["State"], job["ErrorDescription"], job["CancelRequested"]) == ("Failure", "cancelled", True)
    assert cancel_again is Conflict  # the job ended: nothing left to cancel


async def _cancel_unknown(a: JobRunner, b: JobRunner) -> type[Exception] | None:
    try:
        await b.cancel("no-such-job")
    except NotFound as missing:
        return type(missing)
    return None


def test_cancelling_an_unknown_job_is_not_found(two_runners: Callable[[Scenario], Any]) -> None:
    assert two_runners(_cancel_unknown) is NotFound
