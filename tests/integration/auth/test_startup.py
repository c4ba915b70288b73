"""The auth service refuses to start without its secrets, and says why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.auth.conftest import start_auth
from tests.support.auth import ADMIN_PASSWORD, generate_key_pair, write_auth_config
from tests.support.postgres import TemporaryPostgres


def serve(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PACSBOX_CONFIG_DIR": str(folder), "PACSBOX_DATA_DIR": str(folder / "data")}
    return subprocess.run([sys.executable, "-m", "pacsbox.cli", "serve", "auth", "--port", "1"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def ec_keys() -> tuple[bytes, bytes]:
    return generate_key_pair("ES256")


def test_missing_keys_stop_the_service(tmp_path: Path, ec_keys: tuple[bytes, bytes]) -> None:
    write_auth_config(tmp_path, "ES256", ec_keys)
    (tmp_path / "certs" / "jwt_private.pem").unlink()
    result = serve(tmp_path)
    assert result.returncode != 0
    assert "JWT private key" in result.stderr and "is missing" in result.stderr


def test_private_key_readable_by_others_stops_the_service(tmp_path: Path, ec_keys: tuple[bytes, bytes]) -> None:
    write_auth_config(tmp_path, "ES256", ec_keys)
    os.chmod(tmp_path / "certs" / "jwt_private.pem", 0o644)
    result = serve(tmp_path)
    assert result.returncode != 0
    assert "readable by others" in result.stderr and "chmod 600" in result.stderr


def test_missing_admin_hash_stops_the_service(tmp_path: Path, ec_keys: tuple[bytes, bytes]) -> None:
    write_auth_config(tmp_path, "ES256", ec_keys, admin_password_hash="")
    result = serve(tmp_path)
    assert result.returncode != 0
    assert "PACSBOX_ADMIN_PASSWORD_HASH" in result.stderr


def test_keys_of_the_wrong_kind_stop_the_service(tmp_path: Path, ec_keys: tuple[bytes, bytes]) -> None:
    write_auth_config(tmp_path, "RS256", ec_keys)
    result = serve(tmp_path)
    assert result.returncode != 0
    assert "RS256 needs an RSA key" in result.stderr


@pytest.mark.db
def test_es256_stack_issues_and_verifies(tmp_path: Path, postgres: TemporaryPostgres | None,
                                         ec_keys: tuple[bytes, bytes]) -> None:
    process = start_auth(tmp_path, postgres, ec_keys, algorithm="ES256")
    try:
        with httpx.Client(base_url=process.url) as http:
            issued = http.post("/generate-token", json={
                "password": ADMIN_PASSWORD, "name": "E", "username": "ecuser", "createUserIfNotExists": True,
            }).json()
            assert issued["token"].startswith("eyJhbGciOiJFUzI1NiIs")  # {"alg":"ES256",...
            exchanged = http.post("/generate-access-token", headers={"Authorization": issued["token"]})
            access = exchanged.headers["authorization"]
            assert http.get("/verify", headers={"Authorization": access}).status_code == 200
    finally:
        process.stop()
