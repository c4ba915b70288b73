"""The admin REST API: users and the authorization log, behind the admin password."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.integration.auth.conftest import AuthServer
from tests.support.auth import ADMIN_PASSWORD

pytestmark = pytest.mark.db

ADMIN = ("admin", ADMIN_PASSWORD)


def test_admin_api_wants_the_admin_password(auth: AuthServer) -> None:
    assert auth.http.get("/admin/users").status_code == 401
    assert auth.http.get("/admin/users", auth=("root", ADMIN_PASSWORD)).status_code == 401
    assert auth.http.get("/admin/users", auth=("admin", "nope"), headers={"X-Real-IP": "192.0.2.77"}).status_code == 403
    _, access, _ = auth.session(can_edit=True)
    assert auth.http.get("/admin/users", headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_users_are_listed_without_their_hashes(auth: AuthServer) -> None:
    username = auth.issue(password="listed-password", can_edit=True)["username"]
    users = auth.http.get("/admin/users", auth=ADMIN).json()["users"]
    mine = next(u for u in users if u["username"] == username)
    assert mine["role"] == "editor" and mine["active"] is True and mine["hasPassword"] is True
    assert "argon2" not in str(users)


def test_authorization_log_is_queryable_by_user_event_date_with_paging(auth: AuthServer) -> None:
    password = "logged-password"
    username, _, refresh = auth.session(password=password)
    auth.http.post("/refresh-token", headers={"Authorization": refresh})
    auth.http.post("/sign-user", json={"username": username, "password": "wrong-one"},
                   headers={"X-Real-IP": "192.0.2.10"})

    everything = auth.http.get("/admin/log", params={"user": username}, auth=ADMIN).json()
    events = [item["event"] for item in everything["items"]]
    assert events == ["user_auth_error", "session_refreshed", "session_opened", "token_issued", "user_created"]
    assert everything["total"] == 5
    refused = everything["items"][0]
    assert refused["address"] == "192.0.2.10"
    assert refused["details"]["reason"] == "wrong password"
    assert password not in str(everything) and "wrong-one" not in str(everything)

    only = auth.http.get("/admin/log", params={"user": username, "event": "session_opened"}, auth=ADMIN).json()
    assert [i["event"] for i in only["items"]] == ["session_opened"]

    page = auth.http.get("/admin/log", params={"user": username, "limit": 2, "offset": 2}, auth=ADMIN).json()
    assert page["total"] == 5
    assert [i["event"] for i in page["items"]] == ["session_opened", "token_issued"]

    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    later = auth.http.get("/admin/log", params={"user": username, "since": tomorrow}, auth=ADMIN).json()
    assert later["total"] == 0
    until = auth.http.get("/admin/log", params={"user": username, "until": tomorrow}, auth=ADMIN).json()
    assert until["total"] == 5


@pytest.mark.parametrize(("params", "message"), [
    ({"event": "nonsense"}, "event='nonsense'"),
    ({"since": "yesterday"}, "since='yesterday'"),
    ({"limit": 0}, "limit=0"),
    ({"offset": -1}, "offset=-1"),
])
def test_bad_log_queries_name_the_parameter(auth: AuthServer, params: dict, message: str) -> None:
    answer = auth.http.get("/admin/log", params=params, auth=ADMIN)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_unknown_user_is_404(auth: AuthServer) -> None:
    assert auth.http.post("/admin/users/nobody_here/deactivate", auth=ADMIN).status_code == 404
