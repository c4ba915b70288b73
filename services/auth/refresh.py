"""Sessions: an exchange opens one, refresh tokens rotate within it, a reused one revokes it.

A session is a refresh token family. Each refresh token is stored as its SHA-256 digest and may be
presented once: refreshing marks it used and hands out its successor (same `sid`, same end of
session). Presenting a used one again means two parties hold the family, one of them a thief, so
the whole session is revoked, its access tokens included, and the event is logged.

Each change is one transaction committed before the answer: a rotation marks the old token used
and stores its successor together, so a crash never leaves a family without a live token; a
revocation marks the session and appends its revocation rows together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass

from pacsbox.auth.authlog import Event, record
from pacsbox.auth.context import AuthContext
from pacsbox.auth.revocations import write_revocations
from pacsbox.auth.tables import RefreshToken, Session
from pacsbox.auth.tokens import AccessClaims, RefreshClaims, TokenKind, new_jti
from pacsbox.auth.users import UserInfo, find_user
from pacsbox.core.db import write_transaction
from pacsbox.core.errors import Forbidden

__all__ = ["TokenPair", "open_session", "rotate"]


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    claims: AccessClaims


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utc(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def _issue(ctx: AuthContext, user: UserInfo, sid: str, aud: str | None, session_end: int) -> TokenPair:
    now = int(time.time())
    common = dict(name=user.name, username=user.username, can_edit=user.can_edit, iat=now,
                  iss=ctx.codec.issuer, sid=sid, aud=aud)
    access = AccessClaims(**common, exp=min(now + ctx.settings.access_token_lifetime, session_end), jti=new_jti())
    refresh = RefreshClaims(**common, exp=session_end, jti=new_jti())
    return TokenPair(ctx.codec.sign(access), ctx.codec.sign(refresh), access)


async def open_session(ctx: AuthContext, user: UserInfo, *, aud: str | None, address: str) -> TokenPair:
    """A new session for `user`: its first access and refresh tokens.

    Run it inside the caller's write transaction (the exchange that consumes a one-off token).
    """
    sid, end = new_jti(), int(time.time()) + ctx.settings.refresh_token_lifetime
    rows = await Session.insert(
        Session(sid=sid, user=user.id, address=address[:64], expires_at=_utc(end))
    ).returning(Session.id)
    pair = _issue(ctx, user, sid, aud, end)
    await RefreshToken.insert(RefreshToken(session=rows[0]["id"], digest=digest(pair.refresh)))
    await record(Event.SESSION_OPENED, user.username, address, session=sid, audience=aud or "")
    return pair


async def _revoke_session(ctx: AuthContext, sid: str, username: str, address: str, reason: str) -> None:
    async with write_transaction(Session._meta.db):
        await Session.update({Session.revoked_at: dt.datetime.now(dt.UTC), Session.revoke_reason: reason}).where(
            Session.sid == sid
        )
        await write_revocations(ctx.revocations, username, [sid], access_lifetime=ctx.settings.access_token_lifetime)
    await record(Event.SESSION_REVOKED, username, address, session=sid, reason=reason)


async def rotate(ctx: AuthContext, token: str, *, origin: str | None, address: str) -> TokenPair:
    """Trade a refresh token for a new access token and the next refresh token of its session.

    Raises:
        Unauthorized: the refresh token (that is, the session) has expired.
        Forbidden: not a genuine refresh token, wrong audience, unknown, revoked session,
            deactivated user, or reused (which revokes the session).
    """
    claims: RefreshClaims = ctx.codec.verify(token, TokenKind.REFRESH)
    ctx.urls.check_audience(claims.aud, origin)
    row = await RefreshToken.select(
        RefreshToken.id, RefreshToken.session, RefreshToken.session.sid, RefreshToken.session.revoked_at,
        RefreshToken.session.expires_at,
    ).where(RefreshToken.digest == digest(token)).first()
    if row is None or row["session.sid"] != claims.sid:
        raise Forbidden("invalid token: unknown refresh token")
    if row["session.revoked_at"] is not None:
        raise Forbidden("token revoked")
    user = await find_user(claims.username)
    if user is None or not user.active:
        raise Forbidden("user deactivated")
    pair = _issue(ctx, user, claims.sid, claims.aud, int(row["session.expires_at"].timestamp()))
    async with write_transaction(RefreshToken._meta.db):
        consumed = await RefreshToken.update({RefreshToken.used_at: dt.datetime.now(dt.UTC)}).where(
            (RefreshToken.id == row["id"]) & RefreshToken.used_at.is_null()
        ).returning(RefreshToken.id)
        if consumed:
            await RefreshToken.insert(RefreshToken(session=row["session"], digest=digest(pair.refresh)))
    if not consumed:
        await _revoke_session(ctx, claims.sid, claims.username, address, "refresh token reused")
        raise Forbidden("refresh token already used: its session is revoked")
    await record(Event.SESSION_REFRESHED, user.username, address, session=claims.sid)
    return pair
