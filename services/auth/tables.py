"""The auth store: users, one-off tokens, sessions (refresh token families), revocations, the log.

Nothing secret is stored in clear: passwords as argon2id hashes, refresh tokens as SHA-256 digests
(a refresh token is a 256-bit-strong JWT, so a fast hash suffices; the digest alone cannot be
replayed). One-off tokens are remembered by `jti` only: the JWT itself is never stored.
"""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    ForeignKey,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

__all__ = ["TABLES", "AuthEvent", "OneOffToken", "RefreshToken", "Revocation", "Session", "User"]


class User(Table, tablename="auth_users"):
    id = Serial(primary_key=True)
    username = Varchar(length=32, unique=True, help_text="letters, digits, _; starts with a letter")
    name = Text(default="")
    password_hash = Text(default="", secret=True, help_text="argon2id PHC string; empty: token logins only")
    can_edit = Boolean(default=False, help_text="role editor (canEditResource) when true, viewer when false")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class OneOffToken(Table, tablename="auth_one_off_tokens"):
    id = Serial(primary_key=True)
    jti = Varchar(length=32, unique=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    issued_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(default=TimestamptzNow())
    used_at = Timestamptz(null=True, default=None, help_text="set by the one exchange it allows")
    revoked = Boolean(default=False)


class Session(Table, tablename="auth_sessions"):
    """A refresh token family: every refresh token rotated from one exchange."""

    id = Serial(primary_key=True)
    sid = Varchar(length=32, unique=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    address = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)
    revoke_reason = Text(default="")


class RefreshToken(Table, tablename="auth_refresh_tokens"):
    id = Serial(primary_key=True)
    session = ForeignKey(Session, on_delete=OnDelete.cascade, null=False, index=True)
    digest = Varchar(length=64, unique=True, help_text="SHA-256 of the token, hex")
    issued_at = Timestamptz(default=TimestamptzNow())
    used_at = Timestamptz(null=True, default=None, help_text="rotated: presenting it again is a reuse")


class Revocation(Table, tablename="auth_revocations"):
    """Append-only feed the verifier's cache follows (by id) to stop revoked access tokens."""

    id = Serial(primary_key=True)
    sid = Varchar(length=32, default="", help_text="the revoked session; empty for a user-wide row")
    username = Varchar(length=32, default="")
    at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(default=TimestamptzNow(), help_text="after this no token it stops is valid")


class AuthEvent(Table, tablename="auth_events"):
    """The authorization log: who, what, when, from where."""

    id = Serial(primary_key=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    event = Varchar(length=32, index=True)
    username = Varchar(length=64, default="", index=True)
    address = Varchar(length=64, default="")
    details = Text(default="{}", help_text="JSON object")


TABLES = (User, OneOffToken, Session, RefreshToken, Revocation, AuthEvent)
