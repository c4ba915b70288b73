"""Revoking sessions, and the verifier's cached view of what is revoked.

Access tokens are not stored, so revoking one means revoking its session (`sid`). Every
revocation appends rows to `auth_revocations`: one per session, and one for the user (which also
drops the user's cached Basic credentials). The verifier keeps the live rows in memory and
follows the table: when its view is older than `PACSBOX_REVOCATION_CACHE_SECONDS` it reads the
rows added since (by id, and by time over a margin, since ids may commit out of order). A revocation made in this process applies to its cache at once;
one made by another process (`pacsbox user deactivate`) within that many seconds. A row is
forgotten once every access token it stops has expired anyway.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable, Iterable

from pacsbox.auth.authlog import Event, record
from pacsbox.auth.tables import OneOffToken, Revocation, Session
from pacsbox.auth.users import UserInfo, get_user, set_active
from pacsbox.core.db import write_transaction

__all__ = ["RevocationCache", "deactivate_user", "revoke_user_tokens", "write_revocations"]


COMMIT_MARGIN = dt.timedelta(seconds=10)
"""How late a revocation row may commit after its `at` and still be seen by the next sync."""


def _epoch(value: dt.datetime) -> float:
    return value.timestamp()


class RevocationCache:
    def __init__(self, refresh_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._sessions: dict[str, float] = {}
        """Revoked sid -> epoch after which it no longer matters."""
        self._users: dict[str, float] = {}
        """username -> epoch of its latest user-wide revocation."""
        self._last_id = 0
        self._synced_at = float("-inf")
        self._wall_synced_at = dt.datetime.min.replace(tzinfo=dt.UTC) + COMMIT_MARGIN
        self._lock = asyncio.Lock()

    async def session_revoked(self, sid: str) -> bool:
        await self._sync_if_stale()
        return sid in self._sessions

    async def user_revoked_since(self, username: str, since: float) -> bool:
        """True when the user's tokens were revoked at or after `since` (epoch seconds)."""
        await self._sync_if_stale()
        return self._users.get(username, float("-inf")) >= since

    def apply(self, rows: Iterable[dict]) -> None:
        """Take revocation rows into account (the caller's own, or rows read by a sync)."""
        now = time.time()
        for row in rows:
            if row["sid"]:
                self._sessions[row["sid"]] = _epoch(row["expires_at"])
            if row["username"]:
                self._users[row["username"]] = max(self._users.get(row["username"], 0.0), _epoch(row["at"]))
        for sid in [s for s, until in self._sessions.items() if until < now]:
            del self._sessions[sid]

    async def _sync_if_stale(self) -> None:
        if self._clock() - self._synced_at < self.refresh_seconds:
            return
        async with self._lock:
            if self._clock() - self._synced_at < self.refresh_seconds:
                return  # another request synced while this one waited
            started, wall = self._clock(), dt.datetime.now(dt.UTC)
            recent = (Revocation.id > self._last_id) | (Revocation.at >= self._wall_synced_at - COMMIT_MARGIN)
            rows = await Revocation.select().where(recent & (Revocation.expires_at > wall))
            self.apply(rows)
            self._last_id = max((row["id"] for row in rows), default=self._last_id)
            self._synced_at, self._wall_synced_at = started, wall


async def write_revocations(
    cache: RevocationCache, username: str, sids: list[str], *, access_lifetime: int
) -> None:
    """Append the rows revoking `sids` and the user's tokens, and apply them here at once."""
    now = dt.datetime.now(dt.UTC)
    until = now + dt.timedelta(seconds=access_lifetime + 60)
    rows = [Revocation(sid=sid, username="", at=now, expires_at=until) for sid in sids]
    rows.append(Revocation(sid="", username=username, at=now, expires_at=until))
    await Revocation.insert(*rows)
    cache.apply({"sid": row.sid, "username": row.username, "at": now, "expires_at": until} for row in rows)


async def revoke_user_tokens(
    cache: RevocationCache, username: str, *, access_lifetime: int, reason: str, address: str, by: str
) -> int:
    """Revoke every live session of the user and every unused one-off token; returns the sessions count."""
    user = await get_user(username)
    now = dt.datetime.now(dt.UTC)
    live = await Session.select(Session.sid).where(
        (Session.user == user.id) & Session.revoked_at.is_null() & (Session.expires_at > now)
    )
    sids = [row["sid"] for row in live]
    async with write_transaction(Session._meta.db):  # sessions and the verifier's feed change together
        if sids:
            await Session.update({Session.revoked_at: now, Session.revoke_reason: reason}).where(
                Session.sid.is_in(sids)
            )
        await OneOffToken.update({OneOffToken.revoked: True}).where(
            (OneOffToken.user == user.id) & OneOffToken.used_at.is_null()
        )
        await write_revocations(cache, username, sids, access_lifetime=access_lifetime)
    await record(Event.TOKENS_REVOKED, username, address, by=by, reason=reason, sessions=len(sids))
    return len(sids)


async def deactivate_user(
    cache: RevocationCache, username: str, *, access_lifetime: int, address: str, by: str
) -> UserInfo:
    """Deactivate the user and revoke all its tokens: refused from its next request on."""
    user = await set_active(username, False, address=address, by=by)
    await revoke_user_tokens(
        cache, username, access_lifetime=access_lifetime, reason="user deactivated", address=address, by=by
    )
    return user
