"""`pacsbox up` refuses to start without its secrets or with a key others can read, and says how to fix it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.wizard import clean_env, copy_config


def _up(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pacsbox.cli", "up", "--listen", "127.0.0.1", "--https-port", "1", "--http-port", "0"],
        env=clean_env(folder, PACSBOX_DATA_DIR=str(folder / "data")), capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize("key", ["jwt_private.pem", "server.key"])
def test_refuses_a_key_readable_by_others(configured: Path, tmp_path: Path, key: str) -> None:
    folder = copy_config(configured, tmp_path / "config")
    (folder / "certs" / key).chmod(0o644)
    result = _up(folder)
    assert result.returncode != 0
    assert "refusing to start insecurely" in result.stderr
    assert f"chmod 600 {folder / 'certs' / key}" in result.stderr
    assert not (folder / "data" / "nginx").exists()  # nothing was started


def test_refuses_without_admin_password_or_keys(configured: Path, tmp_path: Path) -> None:
    folder = copy_config(configured, tmp_path / "config")
    env_file = folder / ".env"
    env_file.write_text("".join(line + "\n" for line in env_file.read_text().splitlines()
                                if not line.startswith("PACSBOX_ADMIN_PASSWORD_HASH=")))
    (folder / "certs" / "jwt_public.pem").unlink()
    result = _up(folder)
    assert result.returncode != 0
    assert "admin password is not set" in result.stderr
    assert "jwt_public.pem is missing: run `pacsbox setup`" in result.stderr
