"""The whole life of a token, as the Zhiva viewer and nginx see it."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.integration.auth.conftest import (
    PUBLIC_URL,
    VIEWER_ORIGIN,
    AuthServer,
    claims_of,
    new_username,
)
from tests.support.auth import ADMIN_PASSWORD

pytestmark = pytest.mark.db


def test_one_off_token_carries_the_contract_claims(auth: AuthServer) -> None:
    issued = auth.issue(can_edit=True)
    claims = claims_of(issued["token"])
    assert claims["username"] == issued["username"]
    assert claims["name"] == f"User {issued['username']}"
    assert claims["canEditResource"] is True
    assert claims["tokenServer"] == f"{PUBLIC_URL}/auth/generate-access-token"
    assert claims["refreshServer"] == f"{PUBLIC_URL}/auth/refresh-token"
    assert claims["pacs"] == f"{PUBLIC_URL}/zhiva/pacs"
    assert claims["iss"] == "pacsbox-test"
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert issued["link"] == f"{PUBLIC_URL}/auth/oauth?token={issued['token']}"


def test_exchange_answers_access_in_headers_and_refresh_as_html_body(auth: AuthServer) -> None:
    issued = auth.issue()
    answer = auth.exchange(issued["token"], Origin=VIEWER_ORIGIN)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["authorization"] == answer.headers["authentication"]
    access = answer.headers["authorization"].removeprefix("Bearer ")
    assert set(claims_of(access)) >= {"name", "username", "canEditResource", "aud", "iat", "exp", "iss", "jti"}
    assert claims_of(access)["aud"] == VIEWER_ORIGIN
    assert claims_of(answer.text)["username"] == issued["username"]
    assert claims_of(answer.text)["exp"] > claims_of(access)["exp"]
    assert answer.headers["access-control-allow-origin"] == VIEWER_ORIGIN
    assert {"authorization", "authentication"} <= {
        h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")
    }


def test_exchange_accepts_the_authentication_header_and_a_bare_token(auth: AuthServer) -> None:
    first, second = auth.issue(), auth.issue()
    assert auth.http.post("/generate-access-token", headers={"Authentication": first["token"]}).status_code == 200
    assert auth.http.post("/generate-access-token", headers={"Authorization": second["token"]}).status_code == 200


def test_second_exchange_is_refused(auth: AuthServer) -> None:
    issued = auth.issue()
    assert auth.exchange(issued["token"]).status_code == 200
    again = auth.exchange(issued["token"])
    assert again.status_code == 403
    assert "already used" in again.json()["error"]
    assert "authorization" not in again.headers


def test_exchange_without_a_token_is_401(auth: AuthServer) -> None:
    assert auth.http.post("/generate-access-token").status_code == 401


def test_access_token_passes_verify_with_the_identity_headers(auth: AuthServer) -> None:
    username, access, _ = auth.session(can_edit=True)
    answer = auth.verify(access, method="DELETE", uri="/zhiva/studies/x")
    assert answer.status_code == 200
    assert answer.headers["x-pacsbox-user"] == username
    assert answer.headers["x-pacsbox-can-edit"] == "true"
    assert answer.headers["x-pacsbox-scope"] == ""


def test_viewer_reads_but_may_not_write(auth: AuthServer) -> None:
    _, access, _ = auth.session(can_edit=False)
    read = auth.verify(access, method="GET", uri="/zhiva/pacs/studies")
    assert read.status_code == 200
    assert read.headers["x-pacsbox-can-edit"] == "false"
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        answer = auth.verify(access, method=method, uri="/zhiva/pacs/studies")
        assert answer.status_code == 403, method
        assert "canEditResource" in answer.json()["error"]
    # Orthanc's searches are POSTs that only read.
    assert auth.verify(access, method="POST", uri="/zhiva/tools/find").status_code == 200
    assert auth.verify(access, method="POST", uri="/zhiva/tools/find/../../instances").status_code == 403


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_session(auth: AuthServer) -> None:
    _, access, refresh = auth.session()
    first = auth.http.post("/refresh-token", headers={"Authorization": f"Bearer {refresh}"})
    assert first.status_code == 200
    new_access = first.headers["authorization"].removeprefix("Bearer ")
    new_refresh = first.text
    assert new_access != access and new_refresh != refresh
    assert claims_of(new_refresh)["sid"] == claims_of(refresh)["sid"]
    assert auth.verify(new_access).status_code == 200

    # The thief (or a confused client) presents the rotated token again: the whole family dies.
    reused = auth.http.post("/refresh-token", headers={"Authorization": refresh})
    assert reused.status_code == 403
    assert "session is revoked" in reused.json()["error"]
    assert auth.http.post("/refresh-token", headers={"Authorization": new_refresh}).status_code == 403
    assert auth.verify(new_access).status_code == 403
    assert auth.verify(access).status_code == 403


def test_refresh_token_is_not_an_access_token_and_back(auth: AuthServer) -> None:
    _, access, refresh = auth.session()
    assert auth.verify(refresh).status_code == 403
    assert auth.http.post("/refresh-token", headers={"Authorization": access}).status_code == 403
    assert auth.exchange(access).status_code == 403


def test_expired_tokens_are_401_everywhere(auth: AuthServer) -> None:
    past = int(time.time()) - 10
    expired_access = auth.sign(auth.access_payload(iat=past - 60, exp=past))
    answer = auth.verify(expired_access)
    assert answer.status_code == 401
    assert answer.json()["error"] == "token expired"

    issued = claims_of(auth.issue()["token"])
    expired_one_off = auth.sign({**issued, "iat": past - 60, "exp": past}, typ="oneoff+jwt")
    assert auth.exchange(expired_one_off).status_code == 401
    expired_refresh = auth.sign(auth.access_payload(iat=past - 60, exp=past), typ="rt+jwt")
    assert auth.http.post("/refresh-token", headers={"Authorization": expired_refresh}).status_code == 401


def test_no_token_is_401_with_a_bearer_challenge(auth: AuthServer) -> None:
    answer = auth.verify()
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")


def _verify_count(auth: AuthServer, status: int) -> float:
    metrics = auth.http.get("/metrics").text
    found = re.search(rf'^pacsbox_auth_verify_total{{status="{status}"}} (\S+)$', metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_checks_are_counted_by_status_and_refusals_name_their_reason(auth: AuthServer) -> None:
    _, access, _ = auth.session()
    granted, refused = _verify_count(auth, 200), _verify_count(auth, 403)
    assert auth.verify(access).status_code == 200
    answer = auth.verify(access, method="POST", uri="/zhiva/pacs/studies")
    assert answer.status_code == 403
    assert answer.json() == {"error": answer.headers["x-pacsbox-error"], "status": 403}
    assert "canEditResource" in answer.json()["error"]
    assert (_verify_count(auth, 200), _verify_count(auth, 403)) == (granted + 1, refused + 1)


def test_admin_revocation_stops_access_and_refresh_at_the_next_request(auth: AuthServer) -> None:
    username, access, refresh = auth.session()
    unused = auth.issue(username)["token"]
    assert auth.verify(access).status_code == 200
    answer = auth.http.post(f"/admin/users/{username}/revoke", auth=("admin", ADMIN_PASSWORD))
    assert answer.status_code == 200
    assert answer.json()["revokedSessions"] == 1
    assert auth.verify(access).status_code == 403
    assert auth.http.post("/refresh-token", headers={"Authorization": refresh}).status_code == 403
    assert auth.exchange(unused).status_code == 403
    # The user may sign in again afterwards; the new session is not caught by the old revocation.
    _, fresh, _ = auth.session(username=username)
    assert auth.verify(fresh).status_code == 200


def test_deactivation_refuses_tokens_logins_and_new_tokens(auth: AuthServer) -> None:
    password = "a-long-password"
    username, access, refresh = auth.session(password=password)
    basic = httpx.BasicAuth(username, password)
    assert auth.http.get("/verify", auth=basic, headers={"X-Original-URI": "/zhiva/pacs/studies"}).status_code == 200
    answer = auth.http.post(f"/admin/users/{username}/deactivate", auth=("admin", ADMIN_PASSWORD))
    assert answer.status_code == 200
    assert answer.json()["active"] is False
    assert auth.verify(access).status_code == 403
    assert auth.http.post("/refresh-token", headers={"Authorization": refresh}).status_code == 403
    assert auth.http.get("/verify", auth=basic, headers={"X-Original-URI": "/zhiva/pacs/studies"}).status_code == 403
    assert auth.http.post("/sign-user", json={"username": username, "password": password}).status_code == 403
    again = auth.http.post(f"/admin/users/{username}/activate", auth=("admin", ADMIN_PASSWORD))
    assert again.json()["active"] is True
    assert auth.verify(access).status_code == 403  # old tokens stay revoked


def test_basic_credentials_of_a_user_pass_verify(auth: AuthServer) -> None:
    password = "basic-password-1"
    username, _, _ = auth.session(password=password, can_edit=False)
    answer = auth.http.get("/verify", auth=(username, password),
                           headers={"X-Original-URI": "/zhiva/pacs/studies", "X-Original-Method": "GET"})
    assert answer.status_code == 200
    assert answer.headers["x-pacsbox-user"] == username
    assert answer.headers["x-pacsbox-can-edit"] == "false"
    wrong = auth.http.get("/verify", auth=(username, "not-the-password"), headers={"X-Real-IP": "198.51.100.7"})
    assert wrong.status_code == 403


def test_unused_one_off_token_opens_the_explorer_until_it_is_exchanged(auth: AuthServer) -> None:
    issued = auth.issue(can_edit=True)
    uri = f"/zhiva/app/explorer.html?token={issued['token']}"
    answer = auth.verify(None, uri=uri)
    assert answer.status_code == 200
    assert answer.headers["x-pacsbox-user"] == issued["username"]
    assert auth.exchange(issued["token"]).status_code == 200
    assert auth.verify(None, uri=uri).status_code == 403


def test_sign_user_gives_a_one_off_token(auth: AuthServer) -> None:
    password = "sign-in-password"
    username = auth.issue(new_username(), password=password)["username"]
    answer = auth.http.post("/sign-user", json={"username": username, "password": password})
    assert answer.status_code == 200
    assert claims_of(answer.json()["token"])["username"] == username
    assert auth.exchange(answer.json()["token"]).status_code == 200
    assert auth.http.post("/sign-user", json={"username": username, "password": "nope-nope"},
                          headers={"X-Real-IP": "198.51.100.8"}).status_code == 403


def test_cors_lets_only_the_allowed_origins_read_the_token_headers(auth: AuthServer) -> None:
    preflight = auth.http.options("/generate-access-token", headers={
        "Origin": VIEWER_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    })
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == VIEWER_ORIGIN
    assert preflight.headers["access-control-allow-credentials"] == "true"
    refused = auth.http.options("/generate-access-token", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
    })
    assert refused.headers.get("access-control-allow-origin") != "https://evil.example"
    answer = auth.http.post("/generate-access-token", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in answer.headers
