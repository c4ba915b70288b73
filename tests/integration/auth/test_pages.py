"""The pages people see: the admin token page, the sign-in page and the one-off login link."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import parse_qs, urlsplit

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


def textarea(page: str, name: str) -> str:
    found = re.search(rf'<textarea id="{name}"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert found, page
    return html.unescape(found.group(1))


def test_token_page_works_as_a_plain_form(auth: AuthServer) -> None:
    page = auth.http.get("/token")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'action="generate-token"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    for field in ("password", "name", "username", "userPassword", "canEditResource", "createUserIfNotExists"):
        assert f'name="{field}"' in page.text

    username = new_username()
    answer = auth.http.post("/generate-token", data={
        "password": ADMIN_PASSWORD, "name": "Dr <b>Who</b>", "username": username,
        "userPassword": "form-password-1", "canEditResource": "true", "createUserIfNotExists": "true",
    })
    assert answer.status_code == 200
    assert "<b>Who</b>" not in answer.text  # escaped
    token, link = textarea(answer.text, "token"), textarea(answer.text, "link")
    assert claims_of(token)["username"] == username
    assert claims_of(token)["canEditResource"] is True
    assert link == f"{PUBLIC_URL}/auth/oauth?token={token}"
    assert answer.headers["cache-control"] == "no-store"
    assert auth.http.get("/assets/copy.js").status_code == 200


def test_token_page_says_what_is_wrong(auth: AuthServer) -> None:
    form = {"password": ADMIN_PASSWORD, "name": "X", "username": new_username()}
    missing = auth.http.post("/generate-token", data=form)
    assert missing.status_code == 404
    assert "does not exist" in missing.text
    bad_name = auth.http.post("/generate-token", data={**form, "username": "9lives", "createUserIfNotExists": "on"})
    assert bad_name.status_code == 400
    assert "starting with a letter" in bad_name.text
    wrong = auth.http.post("/generate-token", data={**form, "password": "not-it"}, headers={"X-Real-IP": "192.0.2.44"})
    assert wrong.status_code == 403
    assert "wrong admin password" in wrong.text
    assert "<textarea" not in wrong.text


def test_generate_token_api_follows_the_seed_semantics(auth: AuthServer) -> None:
    username = auth.issue()["username"]
    body = {"password": ADMIN_PASSWORD, "name": "Again", "username": username}
    exists = auth.http.post("/generate-token", json=body)
    assert exists.status_code == 409
    updated = auth.http.post("/generate-token", json={**body, "canEditResource": True, "createUserIfNotExists": True})
    assert updated.status_code == 200
    assert set(updated.json()) == {"token", "link", "expiresAt"}
    assert claims_of(updated.json()["token"])["canEditResource"] is True
    assert claims_of(updated.json()["token"])["name"] == "Again"
    short = auth.http.post("/generate-token", json={**body, "userPassword": "short", "createUserIfNotExists": True})
    assert short.status_code == 400
    assert "at least 8" in short.json()["error"]
    assert auth.http.post("/generate-token", content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    assert auth.http.post("/generate-token", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415


def test_sign_in_sends_the_token_back_to_the_viewer_that_asked(auth: AuthServer) -> None:
    password = "viewer-password"
    username = auth.issue(password=password)["username"]
    target = f"{VIEWER_ORIGIN}/callback?mode=zhiva"
    page = auth.http.get("/sign-in", params={"return_uri": target, "state": "s-123"})
    assert page.status_code == 200
    assert 'action="sign-user"' in page.text
    answer = auth.http.post("/sign-user", data={
        "username": username, "password": password, "redirect": target, "state": "s-123",
    })
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{VIEWER_ORIGIN}/callback"
    query = parse_qs(location.query)
    assert query["mode"] == ["zhiva"] and query["state"] == ["s-123"]
    token = query["token"][0]
    assert claims_of(token)["aud"] == VIEWER_ORIGIN
    assert auth.exchange(token, Origin=VIEWER_ORIGIN).status_code == 200


def test_sign_in_without_a_target_shows_a_login_link_and_wrong_passwords_a_message(auth: AuthServer) -> None:
    password = "plain-password"
    username = auth.issue(password=password)["username"]
    answer = auth.http.post("/sign-user", data={"username": username, "password": password})
    assert answer.status_code == 200
    assert f"{PUBLIC_URL}/auth/oauth?token=" in answer.text
    wrong = auth.http.post("/sign-user", data={"username": username, "password": "wrong-password"},
                           headers={"X-Real-IP": "192.0.2.45"})
    assert wrong.status_code == 403
    assert "wrong username or password" in wrong.text


def test_login_link_opens_a_cookie_session_and_the_viewer(auth: AuthServer) -> None:
    issued = auth.issue(can_edit=True)
    landing = auth.http.get("/oauth", params={"token": issued["token"]})
    assert landing.status_code == 200
    cookies = landing.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("pacsbox_session="))
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= {p.strip().lower() for p in session.split(";")[1:]}
    refresh_cookie = next(c for c in cookies if c.startswith("pacsbox_session_refresh="))
    assert "Path=/auth/refresh-token" in refresh_cookie

    go = html.unescape(re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', landing.text).group(1))
    assert go.startswith(f"{PUBLIC_URL}/viewer/#")
    fragment = parse_qs(urlsplit(go).fragment)
    assert claims_of(fragment["access_token"][0])["username"] == issued["username"]

    access = session.split(";")[0].split("=", 1)[1]
    answer = auth.http.get("/verify", headers={"Cookie": f"other=1; pacsbox_session={access}",
                                               "X-Original-URI": "/zhiva/app/explorer.html"})
    assert answer.status_code == 200
    assert answer.headers["x-pacsbox-user"] == issued["username"]

    refreshed = auth.http.post("/refresh-token", headers={"Cookie": refresh_cookie.split(";")[0]})
    assert refreshed.status_code == 200
    assert any(c.startswith("pacsbox_session=") for c in refreshed.headers.get_list("set-cookie"))


def test_used_expired_and_forged_login_links_show_a_clear_page(auth: AuthServer) -> None:
    issued = auth.issue()
    assert auth.http.get("/oauth", params={"token": issued["token"]}).status_code == 200
    used = auth.http.get("/oauth", params={"token": issued["token"]})
    assert used.status_code == 403
    assert "already been used" in used.text and "sign-in" in used.text
    assert "set-cookie" not in used.headers

    past = int(time.time()) - 5
    expired = auth.sign({**claims_of(auth.issue()["token"]), "iat": past - 9, "exp": past}, typ="oneoff+jwt")
    answer = auth.http.get("/oauth", params={"token": expired})
    assert answer.status_code == 401
    assert "expired" in answer.text

    forged = auth.http.get("/oauth", params={"token": "not.a.token"})
    assert forged.status_code == 403
    assert "Traceback" not in forged.text
    assert auth.http.get("/oauth").status_code == 400
