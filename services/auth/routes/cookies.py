"""The browser session `/oauth` opens: the access token in an HttpOnly, Secure, SameSite=Strict
cookie on the whole site (the explorer and the viewer send it to nginx, `/verify` reads it), and
the refresh token in a second one that only `/auth/refresh-token` ever receives."""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.datastructures import Cookie
from pacsbox.auth.context import AuthContext
from pacsbox.auth.refresh import TokenPair

__all__ = ["refresh_cookie_name", "session_cookies"]


def refresh_cookie_name(ctx: AuthContext) -> str:
    return ctx.settings.session_cookie + "_refresh"


def session_cookies(ctx: AuthContext, pair: TokenPair) -> list[Cookie]:
    common = dict(httponly=True, secure=True, samesite="strict")
    return [
        Cookie(key=ctx.settings.session_cookie, value=pair.access, path="/",
               max_age=max(pair.claims.exp - pair.claims.iat, 0), **common),
        Cookie(key=refresh_cookie_name(ctx), value=pair.refresh, path=urlsplit(ctx.urls.refresh_server).path,
               max_age=ctx.settings.refresh_token_lifetime, **common),
    ]
