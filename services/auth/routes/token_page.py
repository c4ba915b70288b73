"""The admin token page: `GET /token` and the API behind it, `POST /generate-token`.

The page is a plain HTML form (it works without JavaScript; a small script only adds copy
buttons). `POST /generate-token` takes JSON `{password, name, username, userPassword,
canEditResource, createUserIfNotExists}` and answers `{token, link, expiresAt}`; the page's form
posts the same fields and gets the page back with the token. As on the seed appliance, without
`createUserIfNotExists` an existing user is 409 and a missing one 404; with it the user is created
or updated (name, role, and password when one is given).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import MediaType, Request, Response, get, post
from pacsbox.auth.context import AuthContext
from pacsbox.auth.logins import check_admin
from pacsbox.auth.oneoff import IssuedToken, issue_one_off
from pacsbox.auth.routes._common import MAX_FIELDS_SIZE, NO_STORE, client_address, context, page, read_fields, truthy
from pacsbox.auth.users import (
    ADMIN,
    check_password,
    check_username,
    create_user,
    find_user,
    update_user,
)
from pacsbox.core.errors import BadRequest, Conflict, NotFound, PacsboxError

__all__ = ["copy_script", "generate_token", "token_page"]

TITLE = "Create a user's one-off token"
_COPY_JS = (Path(__file__).resolve().parent.parent / "pages" / "copy.js").read_bytes()


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name) or ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value if name in ("password", "userPassword") else value.strip()


async def _provision(ctx: AuthContext, fields: dict[str, Any], address: str) -> IssuedToken:
    await check_admin(ctx, _text(fields, "password"), address)
    name, username, password = _text(fields, "name"), _text(fields, "username"), _text(fields, "userPassword")
    check_username(username)
    if password:
        check_password(password, ctx.settings.password_min_length)
    can_edit = truthy(fields.get("canEditResource"))
    user = await find_user(username)
    if not truthy(fields.get("createUserIfNotExists")):
        if user:
            raise Conflict(f"user {username!r} already exists: tick createUserIfNotExists to update it")
        raise NotFound(f"user {username!r} does not exist: tick createUserIfNotExists to create it")
    if user is None:
        if not name:
            raise BadRequest("name is required")
        user = await create_user(username, name=name, password=password or None, can_edit=can_edit,
                                 address=address, by=ADMIN)
    else:
        user = await update_user(username, name=name or None, password=password or None, can_edit=can_edit,
                                 address=address, by=ADMIN)
    return await issue_one_off(ctx, user, address=address, by=ADMIN)


@get("/token", operation_id="TokenPage")
async def token_page(request: Request) -> Response:
    """The admin token page."""
    ctx = context(request)
    return page(ctx, "token.html", title=TITLE, min_length=ctx.settings.password_min_length, create=True)


@post("/generate-token", operation_id="GenerateToken", status_code=200, request_max_body_size=MAX_FIELDS_SIZE)
async def generate_token(request: Request) -> Response:
    """Create or update a user (admin password required) and issue its one-off token."""
    ctx = context(request)
    fields, from_form = await read_fields(request)
    if not from_form:
        issued = await _provision(ctx, fields, client_address(request))
        return Response(issued.as_json(), media_type=MediaType.JSON, headers=NO_STORE)
    values = dict(
        title=TITLE, min_length=ctx.settings.password_min_length, name=fields.get("name") or "",
        username=fields.get("username") or "", can_edit=truthy(fields.get("canEditResource")),
        create=truthy(fields.get("createUserIfNotExists")),
    )
    try:
        issued = await _provision(ctx, fields, client_address(request))
    except PacsboxError as error:
        return page(ctx, "token.html", status=error.status_code, headers=error.headers, error=error.message, **values)
    return page(ctx, "token.html", issued=issued, **values)


@get("/assets/copy.js", operation_id="CopyScript", media_type="text/javascript")
async def copy_script() -> Response:
    """The token page's copy buttons."""
    return Response(_COPY_JS, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})
