"""One-off login tokens: issued by the admin page, the sign-in page or the shell; exchanged once.

Only the `jti` is stored. The exchange consumes it with one conditional UPDATE, so two racing
exchanges of one token cannot both win; the winner opens a session in the same transaction, so a
crash leaves the token either unused or used with its session, never used and sessionless. Until it is exchanged (and
for at most its lifetime) a one-off token also opens the explorer as `?token=`, as the seed
appliance's admin guide tells users.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from pacsbox.auth.authlog import Event, record
from pacsbox.auth.context import AuthContext
from pacsbox.auth.refresh import TokenPair, open_session
from pacsbox.auth.tables import OneOffToken
from pacsbox.auth.tokens import OneOffClaims, TokenKind, new_jti
from pacsbox.auth.urls import origin_of
from pacsbox.auth.users import UserInfo, find_user
from pacsbox.core.db import write_transaction
from pacsbox.core.errors import Forbidden

__all__ = ["IssuedToken", "check_unused", "issue_one_off", "redeem"]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    link: str
    expires_at: dt.datetime

    def as_json(self) -> dict[str, Any]:
        return {"token": self.token, "link": self.link, "expiresAt": self.expires_at.isoformat()}


async def issue_one_off(
    ctx: AuthContext, user: UserInfo, *, aud: str | None = None, address: str, by: str
) -> IssuedToken:
    """Sign a one-off token for `user` (for the viewer at `aud`, when known) and remember its jti."""
    if not user.active:
        raise Forbidden(f"user {user.username!r} is deactivated")
    now = int(time.time())
    claims = OneOffClaims(
        name=user.name, username=user.username, can_edit=user.can_edit, iat=now,
        exp=now + ctx.settings.one_off_token_lifetime, iss=ctx.codec.issuer, jti=new_jti(),
        token_server=ctx.urls.token_server, refresh_server=ctx.urls.refresh_server, pacs=ctx.urls.pacs, aud=aud,
    )
    expires = dt.datetime.fromtimestamp(claims.exp, dt.UTC)
    await OneOffToken.insert(OneOffToken(jti=claims.jti, user=user.id, expires_at=expires))
    await record(Event.TOKEN_ISSUED, user.username, address, by=by, expires=expires.isoformat())
    token = ctx.codec.sign(claims)
    return IssuedToken(token, ctx.urls.login_link(token), expires)


async def redeem(ctx: AuthContext, token: str, *, origin: str | None, address: str) -> TokenPair:
    """Exchange a one-off token, once, for a new session's access and refresh tokens.

    The access token's `aud` is the origin that asked (a browser's `Origin`), if any.

    Raises:
        Unauthorized: the one-off token has expired.
        Forbidden: not genuine, wrong audience, origin not allowed, already used, revoked,
            or its user is deactivated.
    """
    claims: OneOffClaims = ctx.codec.verify(token, TokenKind.ONE_OFF)
    ctx.urls.check_audience(claims.aud, origin)
    if origin and not ctx.urls.is_allowed_origin(origin):
        raise Forbidden(f"origin {origin!r} is not allowed to sign in here")
    async with write_transaction(OneOffToken._meta.db):
        consumed = await OneOffToken.update({OneOffToken.used_at: dt.datetime.now(dt.UTC)}).where(
            (OneOffToken.jti == claims.jti) & OneOffToken.used_at.is_null() & (OneOffToken.revoked == False)
        ).returning(OneOffToken.user)
        if consumed:
            user = await find_user(claims.username)
            if user is None or user.id != consumed[0]["user"] or not user.active:
                raise Forbidden("user deactivated")  # rolls the consumption back: the token stays refused anyway
            return await open_session(ctx, user, aud=origin_of(origin) if origin else claims.aud, address=address)
    await record(Event.USER_AUTH_ERROR, claims.username, address, reason="one-off token already used or revoked")
    raise Forbidden("one-off token already used or revoked")


async def check_unused(claims: OneOffClaims) -> None:
    """Raise Forbidden unless the one-off token is still unused, unrevoked and its user active."""
    row = await OneOffToken.select(OneOffToken.used_at, OneOffToken.revoked, OneOffToken.user.active).where(
        OneOffToken.jti == claims.jti
    ).first()
    if row is None or row["revoked"] or not row["user.active"]:
        raise Forbidden("token revoked")
    if row["used_at"] is not None:
        raise Forbidden("one-off token already used")
