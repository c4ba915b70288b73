"""The admin REST API: users, revocation, deactivation and the authorization log.

Every call carries the admin password as HTTP Basic credentials (`admin:<password>`), checked
like the token page's: throttled and logged.

    GET  /admin/users                          every user
    POST /admin/users/{username}/revoke        revoke its sessions and unused one-off tokens
    POST /admin/users/{username}/deactivate    deactivate it (and revoke as above)
    POST /admin/users/{username}/activate      let it sign in again
    GET  /admin/log?user=&event=&since=&until=&limit=&offset=   the log, newest first
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from pacsbox.auth.authlog import Event, query_log
from pacsbox.auth.context import AuthContext
from pacsbox.auth.logins import check_admin
from pacsbox.auth.revocations import deactivate_user, revoke_user_tokens
from pacsbox.auth.routes._common import NO_STORE, client_address, context
from pacsbox.auth.users import ADMIN, list_users, set_active
from pacsbox.core.errors import BadRequest, Unauthorized

__all__ = ["AdminController"]

MAX_PAGE = 500


async def _admin_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        user = password = ""
    if scheme.lower() != "basic" or user != ADMIN or not password:
        raise Unauthorized("admin credentials required (HTTP Basic, user admin)",
                           headers={"WWW-Authenticate": 'Basic realm="pacsbox admin"'})
    await check_admin(connection.app.state.auth, password, client_address(connection))


def _time(name: str, value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name}={value!r}: expected an ISO 8601 date or date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class AdminController(Controller):
    path = "/admin"
    guards = [_admin_only]
    response_headers = NO_STORE

    @get("/users", operation_id="ListUsers")
    async def users(self) -> dict[str, Any]:
        """Every user, by username."""
        return {"users": [user.as_json() for user in await list_users()]}

    @post("/users/{username:str}/revoke", operation_id="RevokeUserTokens", status_code=200)
    async def revoke(self, request: Request, username: FromPath[str]) -> dict[str, Any]:
        """Revoke the user's sessions and unused one-off tokens; refused from the next request on."""
        ctx: AuthContext = context(request)
        count = await revoke_user_tokens(
            ctx.revocations, username, access_lifetime=ctx.settings.access_token_lifetime,
            reason="revoked by the admin", address=client_address(request), by=ADMIN,
        )
        return {"username": username, "revokedSessions": count}

    @post("/users/{username:str}/deactivate", operation_id="DeactivateUser", status_code=200)
    async def deactivate(self, request: Request, username: FromPath[str]) -> dict[str, Any]:
        """Deactivate the user and revoke all its tokens."""
        ctx: AuthContext = context(request)
        user = await deactivate_user(ctx.revocations, username, access_lifetime=ctx.settings.access_token_lifetime,
                                     address=client_address(request), by=ADMIN)
        return user.as_json()

    @post("/users/{username:str}/activate", operation_id="ActivateUser", status_code=200)
    async def activate(self, request: Request, username: FromPath[str]) -> dict[str, Any]:
        """Let a deactivated user sign in again (its old tokens stay revoked)."""
        return (await set_active(username, True, address=client_address(request), by=ADMIN)).as_json()

    @get("/log", operation_id="AuthorizationLog")
    async def log(
        self,
        user: FromQuery[str | None] = None,
        event: FromQuery[str | None] = None,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        limit: FromQuery[int] = 20,
        offset: FromQuery[int] = 0,
    ) -> dict[str, Any]:
        """The authorization log filtered by user, event and date range (`since` <= time < `until`)."""
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit={limit}: expected 1 to {MAX_PAGE}")
        if offset < 0:
            raise BadRequest(f"offset={offset}: expected 0 or more")
        try:
            kind = Event(event) if event else None
        except ValueError:
            raise BadRequest(f"event={event!r}: expected one of {', '.join(e.value for e in Event)}") from None
        found = await query_log(username=user, event=kind, since=_time("since", since), until=_time("until", until),
                                limit=limit, offset=offset)
        return {"total": found.total, "limit": limit, "offset": offset, "items": found.items}
