"""Users: who may sign in, with which role, and whether they are still active.

A username is 1 to 32 letters, digits or underscores, starting with a letter; `admin` is kept for
the admin in the authorization log. The role is `editor` (`canEditResource`) or `viewer`. A user
without a password can only sign in through one-off tokens the admin hands out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from pacsbox.auth.authlog import Event, record
from pacsbox.auth.passwords import hash_password
from pacsbox.auth.tables import User
from pacsbox.core.errors import BadRequest, Conflict, NotFound

__all__ = [
    "ADMIN",
    "UserInfo",
    "check_password",
    "check_username",
    "create_user",
    "find_user",
    "get_user",
    "list_users",
    "set_active",
    "update_user",
]

ADMIN = "admin"
"""The name the admin goes by in the log; no user may take it."""

_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    name: str
    can_edit: bool
    active: bool
    password_hash: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def role(self) -> str:
        return "editor" if self.can_edit else "viewer"

    def as_json(self) -> dict[str, Any]:
        """What the admin API shows (never the hash)."""
        return {
            "username": self.username,
            "name": self.name,
            "role": self.role,
            "canEditResource": self.can_edit,
            "active": self.active,
            "hasPassword": bool(self.password_hash),
            "createdAt": self.created_at.isoformat(),
            "updatedAt": self.updated_at.isoformat(),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> UserInfo:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


def check_username(username: str) -> str:
    """`username` when it is well formed and not reserved; else BadRequest naming the rule."""
    if not _USERNAME.fullmatch(username or ""):
        raise BadRequest(
            f"username {username!r}: 1 to 32 letters, digits or underscores, starting with a letter"
        )
    if username.lower() == ADMIN:
        raise BadRequest(f"username {username!r} is reserved for the admin")
    return username


def check_password(password: str, min_length: int) -> str:
    if len(password) < min_length:
        raise BadRequest(f"password too short: at least {min_length} characters")
    if len(password) > 1024:
        raise BadRequest("password too long: at most 1024 characters")
    return password


async def find_user(username: str) -> UserInfo | None:
    row = await User.select().where(User.username == username).first()
    return UserInfo.from_row(row) if row else None


async def get_user(username: str) -> UserInfo:
    user = await find_user(username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


async def list_users() -> list[UserInfo]:
    return [UserInfo.from_row(row) for row in await User.select().order_by(User.username)]


async def create_user(
    username: str, *, name: str, password: str | None, can_edit: bool, address: str, by: str
) -> UserInfo:
    """Create a user (password already checked by the caller, or None for token logins only)."""
    check_username(username)
    if await find_user(username):
        raise Conflict(f"user {username!r} already exists")
    await User.insert(User(
        username=username, name=name or username, can_edit=can_edit, active=True,
        password_hash=await asyncio.to_thread(hash_password, password) if password else "",
    ))
    await record(Event.USER_CREATED, username, address, by=by, role="editor" if can_edit else "viewer")
    return await get_user(username)


async def update_user(
    username: str,
    *,
    address: str,
    by: str,
    name: str | None = None,
    password: str | None = None,
    can_edit: bool | None = None,
) -> UserInfo:
    """Change what is given; the log says what changed (never the password itself)."""
    user = await get_user(username)
    changes: dict[Any, Any] = {User.updated_at: dt.datetime.now(dt.UTC)}
    said: dict[str, Any] = {}
    if name is not None and name != user.name:
        changes[User.name], said["name"] = name, name
    if password:
        changes[User.password_hash] = await asyncio.to_thread(hash_password, password)
        said["password"] = "changed"
    if can_edit is not None and can_edit != user.can_edit:
        changes[User.can_edit], said["role"] = can_edit, "editor" if can_edit else "viewer"
    if said:
        await User.update(changes).where(User.id == user.id)
        await record(Event.USER_CHANGED, username, address, by=by, **said)
    return await get_user(username)


async def set_active(username: str, active: bool, *, address: str, by: str) -> UserInfo:
    user = await get_user(username)
    if user.active != active:
        await User.update({User.active: active, User.updated_at: dt.datetime.now(dt.UTC)}).where(
            User.id == user.id
        )
        await record(Event.USER_ACTIVATED if active else Event.USER_DEACTIVATED, username, address, by=by)
    return await get_user(username)
