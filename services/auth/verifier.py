"""What `/verify` decides for nginx: who is calling, may they do this, or 401/403.

Credentials are looked for in this order, and only there: the `Authorization` header (a Bearer
token, a bare JWT, or HTTP Basic user credentials), `?token=` on the original URI (explorer links),
the session cookie `/oauth` set. A valid access token costs one cached signature check and one
cached revocation look-up: no database query. One-off tokens (explorer links the admin hands out)
and first-seen Basic credentials go to the database; Basic credentials that passed are remembered
for a minute under an HMAC of them (never in clear), and dropped when the user's tokens are revoked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from pacsbox.auth.context import AuthContext
from pacsbox.auth.logins import sign_in_user
from pacsbox.auth.oneoff import check_unused
from pacsbox.auth.tokens import TokenKind
from pacsbox.core.errors import Forbidden, Unauthorized

__all__ = ["Caller", "Verifier"]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_ONLY_POSTS = ("/tools/find", "/tools/lookup")
"""Orthanc REST calls that use POST to read: open to viewers (matched exactly, under the URL prefix)."""
BASIC_CACHE_SECONDS = 60.0
BASIC_CACHE_SIZE = 1024


@dataclass(frozen=True)
class Caller:
    user: str
    can_edit: bool


def _missing() -> Unauthorized:
    return Unauthorized("missing token", headers={"WWW-Authenticate": 'Bearer realm="pacsbox"'})


def _cookie(header: str, name: str) -> str:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip().strip('"')
    return ""


class Verifier:
    def __init__(self, ctx: AuthContext, url_prefix: str) -> None:
        self.ctx = ctx
        self.cookie = ctx.settings.session_cookie
        self.read_only_posts = frozenset(url_prefix.rstrip("/") + path for path in READ_ONLY_POSTS)
        self._basic_key = secrets.token_bytes(32)
        self._basic: dict[bytes, tuple[Caller, float, float]] = {}

    async def verify(self, headers: Mapping[str, str], address: str) -> Caller:
        """The caller of the request nginx describes in `headers` (`X-Original-URI`, `-Method`...).

        Raises:
            Unauthorized: no credentials, or an expired token.
            Forbidden: invalid, foreign or revoked token, wrong Basic credentials, throttled
                Basic logins, or a write by a user without `canEditResource`.
        """
        uri = headers.get("x-original-uri", "")
        kind, value = self._credentials(headers.get("authorization", ""), uri, headers.get("cookie", ""))
        if kind == "basic":
            caller = await self._basic_caller(value, address)
        elif kind == "bearer":
            caller = await self._token_caller(value, headers.get("origin"))
        else:
            raise _missing()
        method = headers.get("x-original-method", "GET").upper()
        read_only = method == "POST" and urlsplit(uri).path in self.read_only_posts
        if method in WRITE_METHODS and not caller.can_edit and not read_only:
            raise Forbidden(f"{method} needs canEditResource: user {caller.user!r} may only read")
        return caller

    def _credentials(self, authorization: str, uri: str, cookies: str) -> tuple[str, str]:
        if authorization:
            scheme, _, value = authorization.strip().partition(" ")
            if scheme.lower() in ("bearer", "basic") and value.strip():
                return scheme.lower(), value.strip()
            if not value and scheme.count(".") == 2:
                return "bearer", scheme
        if "token=" in uri:
            tokens = parse_qs(urlsplit(uri).query).get("token", [])
            if len(tokens) > 1:
                raise Forbidden("several tokens in the URL")
            if tokens:
                return "bearer", tokens[0]
        if cookies:
            token = _cookie(cookies, self.cookie)
            if token:
                return "bearer", token
        return "", ""

    async def _token_caller(self, token: str, origin: str | None) -> Caller:
        ctx = self.ctx
        claims = ctx.codec.verify(token, TokenKind.ACCESS, TokenKind.ONE_OFF)
        if claims.KIND is TokenKind.ACCESS:
            if await ctx.revocations.session_revoked(claims.sid):
                raise Forbidden("token revoked")
        else:
            await check_unused(claims)
        ctx.urls.check_audience(claims.aud, origin)
        return Caller(claims.username, claims.can_edit)

    async def _basic_caller(self, encoded: str, address: str) -> Caller:
        try:
            raw = base64.b64decode(encoded, validate=True)
            username, sep, password = raw.decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Forbidden("malformed Basic credentials") from None
        if not sep:
            raise Forbidden("malformed Basic credentials")
        key = hmac.new(self._basic_key, raw, hashlib.sha256).digest()
        hit = self._basic.pop(key, None)
        if hit is not None:
            caller, seen_at, until = hit
            if time.monotonic() < until and not await self.ctx.revocations.user_revoked_since(username, seen_at):
                self._basic[key] = hit
                return caller
        user = await sign_in_user(self.ctx, username, password, address)
        caller = Caller(user.username, user.can_edit)
        if len(self._basic) >= BASIC_CACHE_SIZE:
            self._basic.clear()
        self._basic[key] = (caller, time.time(), time.monotonic() + BASIC_CACHE_SECONDS)
        return caller
