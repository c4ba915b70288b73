"""Attacks on the token server, each refused with the code the contract gives."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.auth.conftest import PUBLIC_URL, VIEWER_ORIGIN, AuthServer, running_auth
from tests.support.auth import ADMIN_PASSWORD, generate_key_pair
from tests.support.postgres import TemporaryPostgres

pytestmark = pytest.mark.db


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, payload: dict, signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{b64(signature)}"


def test_alg_none_is_refused(auth: AuthServer) -> None:
    payload = auth.access_payload()
    for alg in ("none", "None", "NONE"):
        assert auth.verify(forge({"alg": alg, "typ": "at+jwt"}, payload)).status_code == 403


def test_hs256_signed_with_the_public_key_is_refused(auth: AuthServer) -> None:
    public_pem = (auth.process.folder / "certs" / "jwt_public.pem").read_bytes()
    header = {"alg": "HS256", "typ": "at+jwt"}
    unsigned = forge(header, auth.access_payload()).rsplit(".", 1)[0]
    signature = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()
    answer = auth.verify(f"{unsigned}.{b64(signature)}")
    assert answer.status_code == 403
    assert "algorithm" in answer.json()["error"]


def test_token_signed_by_another_key_is_refused(auth: AuthServer) -> None:
    other_private, _ = generate_key_pair("RS256")
    answer = auth.verify(auth.sign(auth.access_payload(), key=other_private))
    assert answer.status_code == 403
    assert "signature" in answer.json()["error"]


def test_es256_token_is_refused_when_rs256_is_configured(auth: AuthServer) -> None:
    ec_private, _ = generate_key_pair("ES256")
    assert auth.verify(auth.sign(auth.access_payload(), key=ec_private, algorithm="ES256")).status_code == 403


def test_wrong_issuer_is_refused(auth: AuthServer) -> None:
    answer = auth.verify(auth.sign(auth.access_payload(iss="zhiva.ai")))
    assert answer.status_code == 403
    assert "issuer" in answer.json()["error"]


def test_wrong_audience_is_refused(auth: AuthServer) -> None:
    assert auth.verify(auth.sign(auth.access_payload(aud="https://evil.example"))).status_code == 403
    good = auth.sign(auth.access_payload(aud=VIEWER_ORIGIN))
    assert auth.verify(good, Origin=VIEWER_ORIGIN).status_code == 200
    assert auth.verify(good).status_code == 200  # same-origin GETs carry no Origin
    assert auth.verify(good, Origin=PUBLIC_URL).status_code == 403  # sent by another page


def test_exchange_from_an_origin_not_allowed_is_refused(auth: AuthServer) -> None:
    issued = auth.issue()
    assert auth.exchange(issued["token"], Origin="https://evil.example").status_code == 403
    assert auth.exchange(issued["token"], Origin=VIEWER_ORIGIN).status_code == 200


def test_tampered_payload_is_refused(auth: AuthServer) -> None:
    _, access, _ = auth.session(can_edit=False)
    header, payload, signature = access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["canEditResource"] = True
    tampered = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    assert auth.verify(tampered, method="DELETE").status_code == 403


def test_forged_expired_token_is_403_not_401(auth: AuthServer) -> None:
    other_private, _ = generate_key_pair("RS256")
    expired = auth.access_payload(iat=1_000_000, exp=1_000_100)
    assert auth.verify(auth.sign(expired, key=other_private)).status_code == 403


def test_one_off_token_is_not_accepted_where_an_access_token_is_refreshed(auth: AuthServer) -> None:
    issued = auth.issue()
    assert auth.http.post("/refresh-token", headers={"Authorization": issued["token"]}).status_code == 403


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "....", "Bearer", "e30.e30.", "\u00e9t\u00e9.x.y"])
def test_garbage_tokens_are_refused_not_crashed_on(auth: AuthServer, garbage: str) -> None:
    answer = auth.http.get("/verify", headers={"Authorization": f"Bearer {garbage}".encode()})
    assert answer.status_code in (401, 403)


def test_token_in_an_unexpected_place_is_not_found(auth: AuthServer) -> None:
    _, access, _ = auth.session()
    elsewhere = [
        {"X-Original-URI": f"/zhiva/pacs/studies?access_token={access}"},
        {"X-Original-URI": f"/zhiva/pacs/studies#token={access}"},
        {"X-Original-URI": f"/zhiva/pacs/studies/{access}"},
        {"X-Token": access, "X-Original-URI": "/zhiva/pacs/studies"},
        {"Authentication": f"Bearer {access}", "X-Original-URI": "/zhiva/pacs/studies"},
        {"Authorization": f"Token {access}", "X-Original-URI": "/zhiva/pacs/studies"},
        {"Cookie": f"other_cookie={access}", "X-Original-URI": "/zhiva/pacs/studies"},
        {"Referer": f"https://pacs.example/?token={access}", "X-Original-URI": "/zhiva/pacs/studies"},
    ]
    for headers in elsewhere:
        assert auth.http.get("/verify", headers=headers).status_code == 401, headers
    two = {"X-Original-URI": f"/zhiva/pacs/studies?token={access}&token=other"}
    assert auth.http.get("/verify", headers=two).status_code == 403


@pytest.fixture(scope="module")
def redirect_user(auth: AuthServer) -> tuple[str, str]:
    password = "redirect-password"
    return auth.issue(password=password)["username"], password


@pytest.mark.parametrize("target", [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "https://pacs.example.evil.example/",
    "https://pacs.example@evil.example/",
    "javascript:alert(document.domain)",
    "http://pacs.example/",
    "https:evil.example",
    "https://evil.example#https://pacs.example/",
    " https://evil.example/",
])
def test_open_redirect_attempts_are_refused(auth: AuthServer, redirect_user: tuple[str, str], target: str) -> None:
    page = auth.http.get("/sign-in", params={"redirect": target})
    assert page.status_code == 400
    assert "redirect target not allowed" in page.text
    assert auth.http.get("/sign-in", params={"return_uri": target}).status_code == 400

    username, password = redirect_user
    posted = auth.http.post("/sign-user", data={"username": username, "password": password, "redirect": target})
    assert posted.status_code == 400
    assert "location" not in posted.headers

    issued = auth.issue(username)
    landing = auth.http.get("/oauth", params={"token": issued["token"], "redirect": target})
    assert landing.status_code == 400
    assert "set-cookie" not in landing.headers
    assert auth.exchange(issued["token"]).status_code == 200  # the refused link did not use it up


@pytest.fixture
def strict_auth(tmp_path: Path, postgres: TemporaryPostgres | None, rsa_keys: tuple[bytes, bytes]) -> Iterator[AuthServer]:
    """An auth service of its own with a short fuse: waits after 2 failures, locks out after 4."""
    with running_auth(tmp_path, postgres, rsa_keys, login_delay_after="2", login_delay_seconds="1",
                      login_lockout_after="4", login_lockout_seconds="600") as server:
        yield server


def test_brute_force_on_the_admin_password_is_slowed_then_refused(strict_auth: AuthServer) -> None:
    http = strict_auth.http

    def attempt(password: str, address: str = "203.0.113.5") -> httpx.Response:
        return http.post("/generate-token", headers={"X-Real-IP": address}, json={
            "password": password, "name": "Mallory", "username": "mallory", "createUserIfNotExists": True,
        })

    assert attempt("guess-1").status_code == 403
    assert attempt("guess-2").status_code == 403
    slowed = attempt(ADMIN_PASSWORD)  # even the right password must wait now
    assert slowed.status_code == 429
    assert int(slowed.headers["retry-after"]) == 1

    time.sleep(1.1)
    assert attempt("guess-3").status_code == 403
    assert int(attempt("guess-4").headers["retry-after"]) == 2  # the wait doubles

    time.sleep(2.1)
    assert attempt("guess-4").status_code == 403  # fourth failure: locked out
    locked = attempt(ADMIN_PASSWORD)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 500
    # Another address is refused too: the lockout is also per username (here, the admin's).
    assert attempt(ADMIN_PASSWORD, address="198.51.100.99").status_code == 429
    # Logins of users from the locked address are refused too; nginx only takes 401/403 from /verify.
    basic = http.get("/verify", auth=("someone", "some-password"),
                     headers={"X-Real-IP": "203.0.113.5", "X-Original-URI": "/zhiva/pacs/studies"})
    assert basic.status_code == 403
    assert "too many failed logins" in basic.json()["error"] and int(basic.headers["retry-after"]) > 500
    # The admin API is refused as well; the service log tells the story.
    assert http.get("/admin/log", auth=("admin", ADMIN_PASSWORD)).status_code == 429
    log = strict_auth.process.log()
    assert log.count("admin_auth_error") == 4
    assert "login_locked" in log
