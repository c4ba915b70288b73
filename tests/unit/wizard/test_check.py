"""`--check` findings on a real configuration folder, healthy and broken in the ways users break it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pacsbox.core.settings import Settings
from pacsbox.wizard.apply import apply
from pacsbox.wizard.check import Finding, Level, check

from tests.support.wizard import answers, layout


def findings(folder: Path, **env: str) -> list[Finding]:
    return check(Settings.load({"PACSBOX_CONFIG_DIR": str(folder), **env}))


def problems(folder: Path, **env: str) -> list[str]:
    return [f"{f.level} {f.subject}: {f.message}" for f in findings(folder, **env) if f.level is not Level.OK]


def test_a_fresh_configuration_has_no_problem_and_lists_names_and_key_sizes(folder: Path) -> None:
    found = findings(folder)
    assert problems(folder) == []
    text = "\n".join(f"{f.subject}: {f.message}" for f in found)
    assert "names localhost, 127.0.0.1, ::1, pacs.clinic.test, 192.168.1.50" in text
    assert "server.key: RSA 3072 bits" in text and "jwt_private.pem: RSA 3072 bits" in text


@pytest.mark.parametrize(("days_ago", "level", "words"), [(800, Level.WARN, "days)"), (830, Level.FAIL, "expired")])
def test_a_certificate_near_or_past_expiry_is_reported(folder: Path, days_ago: int, level: Level, words: str) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    apply(answers(renew_cert=True), layout(folder), now=past)
    [finding] = [f for f in findings(folder) if f.level is not Level.OK]
    assert (finding.level, finding.subject) == (level, "server.crt")
    assert words in finding.message and "--renew-cert" in finding.message


def test_a_readable_private_key_fails(folder: Path) -> None:
    layout(folder).server_key.chmod(0o644)
    assert problems(folder) == [f"FAIL server.key: mode 0644: others can read it (chmod 600 {layout(folder).server_key})"]


def test_missing_settings_are_listed(folder: Path) -> None:
    env = layout(folder).env
    env.write_text("".join(line for line in env.read_text().splitlines(True) if not line.startswith("PACSBOX_LOG_")))
    [problem] = problems(folder)
    assert problem.startswith("WARN .env: missing settings") and "PACSBOX_LOG_LEVEL, PACSBOX_LOG_JSON" in problem


def test_no_admin_password_hash_fails(folder: Path) -> None:
    assert problems(folder, PACSBOX_ADMIN_PASSWORD_HASH="") == [
        "FAIL PACSBOX_ADMIN_PASSWORD_HASH: no argon2id hash: set an admin password with pacsbox setup"
    ]


def test_a_public_url_the_certificate_does_not_cover_fails(folder: Path) -> None:
    assert problems(folder, PACSBOX_PUBLIC_URL="https://other.example") == [
        "FAIL server.crt: does not cover the public URL's host other.example: run pacsbox setup --renew-cert"
    ]


def test_an_algorithm_that_does_not_match_the_key_fails(folder: Path) -> None:
    assert problems(folder, PACSBOX_JWT_ALGORITHM="ES256") == [
        "FAIL PACSBOX_JWT_ALGORITHM: ES256 does not match the RS256 key"
    ]


def test_a_trust_store_without_the_ca_and_a_missing_key_fail(folder: Path) -> None:
    files = layout(folder)
    files.trusted.write_text("")
    files.jwt_public.unlink()
    found = problems(folder)
    assert any(p.startswith("FAIL trusted.crt: does not contain the local CA") for p in found)
    assert any(p.startswith("FAIL jwt keys: jwt_private.pem or jwt_public.pem missing") for p in found)
