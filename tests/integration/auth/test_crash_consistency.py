"""A short kill loop of the auth service: no token issued and forgotten, no refresh family half-rotated."""

from pathlib import Path

import pytest

from tests.conftest import database_env
from tests.crash.auth_kill_loop import run_auth_kill_loop
from tests.support.postgres import TemporaryPostgres

pytestmark = pytest.mark.db


def test_tokens_survive_kill_9(tmp_path: Path, postgres: TemporaryPostgres | None) -> None:
    report = run_auth_kill_loop(tmp_path / "auth", kills=3, clients=3, env=database_env(postgres))
    assert report.kills == 3
    assert len(report.one_offs) > 5 and len(report.families) > 3
    assert report.problems == []
