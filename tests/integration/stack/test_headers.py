"""What nginx adds to every answer: security headers, CORS for the allowed origins; and what it logs."""

from __future__ import annotations

import pytest

from tests.integration.stack.conftest import VIEWER_ORIGIN
from tests.support.stack import StackProcess


@pytest.mark.parametrize("path", ["/zhiva/app/explorer.html", "/zhiva/pacs/studies", "/auth/token", "/auth/sign-in"])
def test_security_headers_on_pages_and_refusals(stack: StackProcess, path: str) -> None:
    with stack.client() as http:
        headers = http.get(path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    policies = headers.get_list("content-security-policy")
    assert len(policies) == 1  # the page's own policy, or nginx's default: never two
    assert "frame-ancestors" in policies[0]
    assert "script-src 'self'" in policies[0]


def test_preflight_answered_by_nginx_for_allowed_origins(stack: StackProcess) -> None:
    request = {"Origin": VIEWER_ORIGIN, "Access-Control-Request-Method": "POST",
               "Access-Control-Request-Headers": "authorization, content-type"}
    with stack.client() as http:
        allowed = http.options("/zhiva/pacs/studies", headers=request)
        other = http.options("/zhiva/pacs/studies", headers={**request, "Origin": "https://evil.example"})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == VIEWER_ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "Authorization" in allowed.headers["access-control-allow-headers"]
    assert "access-control-allow-origin" not in other.headers


def test_cors_on_answers_and_refusals(stack: StackProcess, editor: str) -> None:
    with stack.client(headers={"Origin": VIEWER_ORIGIN}) as http:
        refused = http.get("/zhiva/pacs/studies")
        answered = http.get("/zhiva/pacs/studies", headers={"Authorization": f"Bearer {editor}"})
    for answer in (refused, answered):
        assert answer.headers["access-control-allow-origin"] == VIEWER_ORIGIN
    assert "X-Pacsbox-Error" in refused.headers["access-control-expose-headers"]


def test_tokens_masked_in_the_access_log(stack: StackProcess, editor: str) -> None:
    with stack.client() as http:
        assert http.get("/zhiva/pacs/studies", params={"limit": "1", "token": editor}).status_code in (200, 204)
        http.get("/zhiva/app/explorer.css", headers={"Referer": f"{stack.origin}/zhiva/app/explorer.html?token={editor}"})
        http.get("/zhiva/pacs/studies", params=[("token", editor), ("token", editor), ("token", editor)])
    log = stack.log()
    assert editor not in log
    assert editor.split(".")[2] not in log  # not even the signature
    assert "/zhiva/pacs/studies?limit=1&token=[masked]" in log
    assert "explorer.html?token=[masked]" in log
