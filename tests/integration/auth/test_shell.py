"""`pacsbox user ...` and `pacsbox token issue` against the store a running auth service uses."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.integration.auth.conftest import PUBLIC_URL, AuthServer, claims_of, new_username

pytestmark = pytest.mark.db


def pacsbox(auth: AuthServer, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pacsbox.cli", *args], input=stdin, capture_output=True, text=True, check=False,
        env={**os.environ, **{k: v for k, v in auth.process.env.items() if k.startswith("PACSBOX_")}}, timeout=60,
    )


def test_user_verbs_and_token_issue(auth: AuthServer) -> None:
    username = new_username()
    added = pacsbox(auth, "user", "add", username, "--name", "Shell User", "--editor", "--password-stdin",
                    stdin="shell-password\n")
    assert added.returncode == 0, added.stderr
    listed = pacsbox(auth, "user", "list")
    row = next(line for line in listed.stdout.splitlines() if line.startswith(username))
    assert row.split()[-3:] == ["editor", "yes", "yes"]

    again = pacsbox(auth, "user", "add", username, "--no-password")
    assert again.returncode == 1 and "already exists" in again.stderr
    short = pacsbox(auth, "user", "set-password", username, "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "too short" in short.stderr
    assert pacsbox(auth, "user", "set-password", username, "--password-stdin", stdin="new-shell-password\n").returncode == 0
    signed = auth.http.post("/sign-user", json={"username": username, "password": "new-shell-password"})
    assert signed.status_code == 200

    issued = pacsbox(auth, "token", "issue", username)
    assert issued.returncode == 0, issued.stderr
    token, link_line = issued.stdout.splitlines()
    assert claims_of(token)["username"] == username
    assert link_line.endswith(f"{PUBLIC_URL}/auth/oauth?token={token}")
    assert auth.exchange(token).status_code == 200


def test_deactivation_from_the_shell_reaches_the_running_service(auth: AuthServer) -> None:
    username, access, _ = auth.session()
    assert auth.verify(access).status_code == 200
    done = pacsbox(auth, "user", "deactivate", username)
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 5  # the cache follows the store within PACSBOX_REVOCATION_CACHE_SECONDS
    while auth.verify(access).status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert auth.verify(access).status_code == 403
    assert pacsbox(auth, "token", "issue", username).returncode == 1
