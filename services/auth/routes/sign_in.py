"""The user login page: `GET /sign-in` and `POST /sign-user`.

A viewer sends the user to `/auth/sign-in?redirect=<its page>` (the Zhiva viewer's `return_uri`
is read the same way); after a right username and password the browser goes back there with
`?token=<one-off token>` (and the viewer's `state`, untouched). The target must be a page of this
server or of an allowed origin: anything else is refused before the form is even shown, and again
when it is posted. Without a target the page shows a one-off login link. `POST /sign-user` with
JSON `{username, password}` answers `{token, link, expiresAt}`.
"""

from __future__ import annotations

from typing import Annotated

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from litestar import MediaType, Request, Response, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect
from pacsbox.auth.context import AuthContext
from pacsbox.auth.logins import sign_in_user
from pacsbox.auth.oneoff import issue_one_off
from pacsbox.auth.routes._common import MAX_FIELDS_SIZE, NO_STORE, client_address, context, page, read_fields
from pacsbox.auth.urls import origin_of
from pacsbox.core.errors import BadRequest, PacsboxError

__all__ = ["sign_in_page", "sign_user"]

TITLE = "Sign in to pacsbox"


def _with_token(target: str, token: str, state: str) -> str:
    parts = urlsplit(target)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("token", token)]
    if state:
        query.append(("state", state))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _field(fields: dict, name: str) -> str:
    value = fields.get(name) or ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    return value


@get("/sign-in", operation_id="SignInPage")
async def sign_in_page(
    request: Request,
    redirect: FromQuery[str] = "",
    return_uri: FromQuery[str] = "",
    viewer_state: Annotated[str, QueryParameter(name="state")] = "",
) -> Response:
    """The login form; refuses a redirect target outside the allowed origins."""
    ctx: AuthContext = context(request)
    target = redirect or return_uri
    try:
        checked = ctx.urls.safe_redirect(target) if target else ""
    except BadRequest as error:
        return page(ctx, "message.html", status=400, title=TITLE, error=error.message)
    return page(ctx, "sign_in.html", title=TITLE, redirect=checked, state=viewer_state,
                redirect_origin=origin_of(checked))


@post("/sign-user", operation_id="SignUser", status_code=200, request_max_body_size=MAX_FIELDS_SIZE)
async def sign_user(request: Request) -> Response:
    """Username and password -> a one-off token (JSON), or back to the page that asked (form)."""
    ctx: AuthContext = context(request)
    address = client_address(request)
    fields, from_form = await read_fields(request)
    if not from_form:
        user = await sign_in_user(ctx, _field(fields, "username"), _field(fields, "password"), address)
        issued = await issue_one_off(ctx, user, address=address, by=user.username)
        return Response(issued.as_json(), media_type=MediaType.JSON, headers=NO_STORE)
    username, state, target = _field(fields, "username"), _field(fields, "state"), _field(fields, "redirect")
    values = dict(title=TITLE, username=username, state=state, redirect=target, redirect_origin=origin_of(target))
    try:
        target = ctx.urls.safe_redirect(target) if target else ""
        user = await sign_in_user(ctx, username, _field(fields, "password"), address)
        issued = await issue_one_off(ctx, user, aud=origin_of(target) if target else None, address=address,
                                     by=user.username)
    except PacsboxError as error:
        return page(ctx, "sign_in.html", status=error.status_code, headers=error.headers, error=error.message, **values)
    if target:
        return Redirect(_with_token(target, issued.token, state), status_code=303, headers=NO_STORE)
    return page(ctx, "sign_in.html", issued=issued, **values)
