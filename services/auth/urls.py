"""Absolute URLs the auth service hands out, and the origins it lets browsers come from or go to.

nginx publishes this service under `/auth` and the PACS under `PACSBOX_URL_PREFIX`, so every
absolute URL is built from `PACSBOX_PUBLIC_URL`. The allowed origins are the public URL's origin
plus `PACSBOX_ALLOWED_ORIGINS`; they bound CORS, the `aud` of tokens and every redirect target
(`?redirect=` of the sign-in page and login links), so no page here is an open redirect.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

from pacsbox.core.errors import BadRequest, Forbidden, SettingsError
from pacsbox.core.settings import HttpSettings

__all__ = ["PublicUrls", "origin_of"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")
"""Characters no redirect target may hold: controls, spaces and backslashes (which browsers read as `/`)."""


def _origin(parts: SplitResult) -> str | None:
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    suffix = "" if port in (None, _DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{suffix}"


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, lower-cased, default port dropped; None if not one."""
    if not url or _UNSAFE.search(url):
        return None
    return _origin(urlsplit(url.lower()))


class PublicUrls:
    """The stack's public addresses and its allowed browser origins."""

    def __init__(self, http: HttpSettings) -> None:
        self.public = http.public_url.rstrip("/")
        origin = origin_of(self.public)
        if origin is None:
            raise SettingsError(f"PACSBOX_PUBLIC_URL={http.public_url!r}: expected https://host[:port]")
        self.origin = origin
        self.allowed_origins = frozenset({origin, *filter(None, map(origin_of, http.allowed_origins))})
        self.auth = self.public + "/auth"
        self.token_server = self.auth + "/generate-access-token"
        self.refresh_server = self.auth + "/refresh-token"
        self.pacs = http.dicomweb_root
        self.viewer = self.public + "/viewer/"

    def login_link(self, token: str) -> str:
        """The one-off login link: opening it signs the user in and opens the viewer."""
        return f"{self.auth}/oauth?token={quote(token, safe='')}"

    def is_allowed_origin(self, origin: str | None) -> bool:
        return origin is not None and origin_of(origin) in self.allowed_origins

    def safe_redirect(self, target: str) -> str:
        """`target` when a browser may be sent there: a path here, or a URL of an allowed origin.

        Raises:
            BadRequest: anything else (other hosts, `//host`, `javascript:`, user@host tricks...).
        """
        refused = BadRequest("redirect target not allowed: it must be a page of this server or of an allowed origin")
        if not target or _UNSAFE.search(target):
            raise refused
        if target.startswith("/") and not target.startswith("//"):
            return self.origin + target
        if origin_of(target) not in self.allowed_origins:
            raise refused
        return urlunsplit(urlsplit(target))

    def check_audience(self, aud: str | None, origin: str | None) -> None:
        """A token's `aud` must be an allowed origin and, when the request names its origin, that one.

        Same-origin GET requests carry no `Origin` header, so only a present one is compared.

        Raises:
            Forbidden: wrong audience.
        """
        if aud is None:
            return
        expected = origin_of(aud)
        if expected not in self.allowed_origins or (origin and origin_of(origin) != expected):
            raise Forbidden("invalid token: wrong audience")
