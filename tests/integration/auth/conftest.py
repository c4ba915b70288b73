"""A running auth service (a real `pacsbox serve auth` process) and a client that speaks its contract."""

from __future__ import annotations

import base64
import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import database_env
from tests.support.auth import ADMIN_PASSWORD, generate_key_pair, write_auth_config
from tests.support.postgres import TemporaryPostgres
from tests.support.servers import ServiceProcess

PUBLIC_URL = "https://pacs.example"
VIEWER_ORIGIN = "https://viewer.example"
ISSUER = "pacsbox-test"


def new_username() -> str:
    return "u" + uuid.uuid4().hex[:12]


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT, read without checking it (what a viewer does)."""
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


@dataclass
class AuthServer:
    process: ServiceProcess
    private_key: bytes
    http: httpx.Client

    def issue(self, username: str | None = None, *, can_edit: bool = False, password: str = "",
              **extra: Any) -> dict[str, Any]:
        """Create a user through `POST /generate-token`; answers {token, link, expiresAt, username}."""
        username = username or new_username()
        answer = self.http.post("/generate-token", json={
            "password": ADMIN_PASSWORD, "name": f"User {username}", "username": username,
            "userPassword": password, "canEditResource": can_edit, "createUserIfNotExists": True, **extra,
        })
        assert answer.status_code == 200, answer.text
        return {**answer.json(), "username": username}

    def exchange(self, one_off: str, **headers: str) -> httpx.Response:
        return self.http.post("/generate-access-token", headers={"Authorization": f"Bearer {one_off}", **headers})

    def session(self, **issue: Any) -> tuple[str, str, str]:
        """A fresh user's (username, access token, refresh token)."""
        issued = self.issue(**issue)
        answer = self.exchange(issued["token"])
        assert answer.status_code == 200, answer.text
        return issued["username"], answer.headers["authorization"].removeprefix("Bearer "), answer.text

    def verify(self, token: str | None = None, *, method: str = "GET", uri: str = "/zhiva/pacs/studies",
               **headers: str) -> httpx.Response:
        """Ask `/verify` as nginx's `auth_request` does."""
        sent = {"X-Original-URI": uri, "X-Original-Method": method, **headers}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return self.http.get("/verify", headers=sent)

    def sign(self, payload: dict[str, Any], *, typ: str = "at+jwt", key: bytes | None = None,
             algorithm: str = "RS256") -> str:
        """A token signed by the test itself (with the service's key unless told otherwise)."""
        return jwt.encode(payload, key or self.private_key, algorithm=algorithm, headers={"typ": typ})

    def access_payload(self, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"name": "Test", "username": "tester", "canEditResource": True, "iat": now, "exp": now + 300,
                "iss": ISSUER, "jti": uuid.uuid4().hex, "sid": uuid.uuid4().hex, **changes}


def start_auth(folder: Path, postgres: TemporaryPostgres | None, keys: tuple[bytes, bytes],
               algorithm: str = "RS256", **settings: str) -> ServiceProcess:
    write_auth_config(folder, algorithm, keys, jwt_issuer=ISSUER, public_url=PUBLIC_URL,
                      allowed_origins=VIEWER_ORIGIN, **settings)
    return ServiceProcess("auth", folder, database_env(postgres)).start()


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[bytes, bytes]:
    return generate_key_pair("RS256")


@contextlib.contextmanager
def running_auth(folder: Path, postgres: TemporaryPostgres | None, keys: tuple[bytes, bytes],
                 **settings: str) -> Iterator[AuthServer]:
    process = start_auth(folder, postgres, keys, **settings)
    try:
        with httpx.Client(base_url=process.url, timeout=30) as client:
            yield AuthServer(process, keys[0], client)
    finally:
        process.stop()


@pytest.fixture(scope="session")
def auth(tmp_path_factory: pytest.TempPathFactory, postgres: TemporaryPostgres | None,
         rsa_keys: tuple[bytes, bytes]) -> Iterator[AuthServer]:
    """One auth service for the session: tests make their own users and never assume it empty."""
    with running_auth(tmp_path_factory.mktemp("auth"), postgres, rsa_keys,
                      login_delay_after="20", login_lockout_after="40") as server:
        yield server
