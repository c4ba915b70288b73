"""Redirect targets and audiences are bound to the allowed origins."""

from __future__ import annotations

import pytest
from pacsbox.auth.urls import PublicUrls, origin_of
from pacsbox.core.errors import BadRequest, Forbidden
from pacsbox.core.settings import HttpSettings

URLS = PublicUrls(HttpSettings(public_url="https://pacs.example/", url_prefix="/serv",
                               allowed_origins=("https://viewer.example:8443/",)))


def test_public_addresses_follow_the_settings() -> None:
    assert URLS.token_server == "https://pacs.example/auth/generate-access-token"
    assert URLS.pacs == "https://pacs.example/serv/pacs"
    assert URLS.login_link("a.b+c") == "https://pacs.example/auth/oauth?token=a.b%2Bc"
    assert URLS.allowed_origins == {"https://pacs.example", "https://viewer.example:8443"}


@pytest.mark.parametrize(("target", "expected"), [
    ("/viewer/", "https://pacs.example/viewer/"),
    ("https://pacs.example/viewer/?x=1", "https://pacs.example/viewer/?x=1"),
    ("HTTPS://PACS.EXAMPLE:443/a", "https://PACS.EXAMPLE:443/a"),
    ("https://viewer.example:8443/cb", "https://viewer.example:8443/cb"),
])
def test_allowed_targets(target: str, expected: str) -> None:
    assert URLS.safe_redirect(target) == expected


@pytest.mark.parametrize("target", [
    "https://viewer.example/cb", "//evil.example", "///evil.example", "/\\evil.example", "/\t/evil.example",
    "https://pacs.example@evil.example", "https://pacs.example:99999/", "data:text/html,hi", "",
])
def test_refused_targets(target: str) -> None:
    with pytest.raises(BadRequest):
        URLS.safe_redirect(target)


def test_audience_is_an_allowed_origin_and_matches_a_present_origin() -> None:
    URLS.check_audience(None, "https://anything.example")
    URLS.check_audience("https://viewer.example:8443", None)
    URLS.check_audience("https://viewer.example:8443", "https://viewer.example:8443")
    with pytest.raises(Forbidden):
        URLS.check_audience("https://evil.example", None)
    with pytest.raises(Forbidden):
        URLS.check_audience("https://viewer.example:8443", "https://pacs.example")
    assert origin_of("https://[::1]:8443/x") == "https://[::1]:8443"
