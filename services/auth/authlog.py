"""The authorization log: logins refused, sessions opened and refreshed, revocations, user changes.

Each entry has a time, the user concerned (`admin` for the admin), the caller's IP address and a
JSON object of details (never a password or a token). The admin REST API queries it by user, event
and date range, newest first, with paging.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pacsbox.auth.tables import AuthEvent

__all__ = ["Event", "LogPage", "query_log", "record"]

log = logging.getLogger("pacsbox.auth.log")


class Event(str, Enum):
    """The kinds of entries, as stored in `auth_events.event`."""

    ADMIN_AUTH_ERROR = "admin_auth_error"
    USER_AUTH_ERROR = "user_auth_error"
    LOGIN_LOCKED = "login_locked"
    TOKEN_ISSUED = "token_issued"
    SESSION_OPENED = "session_opened"
    SESSION_REFRESHED = "session_refreshed"
    SESSION_REVOKED = "session_revoked"
    TOKENS_REVOKED = "tokens_revoked"
    USER_CREATED = "user_created"
    USER_CHANGED = "user_changed"
    USER_DEACTIVATED = "user_deactivated"
    USER_ACTIVATED = "user_activated"


_WARNINGS = {Event.ADMIN_AUTH_ERROR, Event.USER_AUTH_ERROR, Event.LOGIN_LOCKED, Event.SESSION_REVOKED}


async def record(event: Event, username: str, address: str, **details: Any) -> None:
    """Append one entry (and say it in the service log)."""
    level = logging.WARNING if event in _WARNINGS else logging.INFO
    log.log(level, "%s user=%s address=%s %s", event.value, username or "-", address or "-",
            " ".join(f"{k}={v}" for k, v in details.items()))
    await AuthEvent.insert(
        AuthEvent(event=event.value, username=username[:64], address=address[:64], details=json.dumps(details))
    )


@dataclass(frozen=True)
class LogPage:
    total: int
    items: list[dict[str, Any]]


async def query_log(
    *,
    username: str | None = None,
    event: Event | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 20,
    offset: int = 0,
) -> LogPage:
    """Entries matching every given filter (`since` inclusive, `until` exclusive), newest first."""
    where = []
    if username:
        where.append(AuthEvent.username == username)
    if event:
        where.append(AuthEvent.event == event.value)
    if since:
        where.append(AuthEvent.at >= since)
    if until:
        where.append(AuthEvent.at < until)
    count = AuthEvent.count()
    rows = AuthEvent.select().order_by(AuthEvent.id, ascending=False).limit(limit).offset(offset)
    if where:
        count = count.where(*where)
        rows = rows.where(*where)
    items = [
        {
            "id": row["id"],
            "time": row["at"].astimezone(dt.UTC).isoformat(),
            "event": row["event"],
            "user": row["username"],
            "address": row["address"],
            "details": json.loads(row["details"]),
        }
        for row in await rows
    ]
    return LogPage(total=await count, items=items)
