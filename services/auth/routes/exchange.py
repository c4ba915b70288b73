"""The token server of the Zhiva contract: `POST /generate-access-token` and `POST /refresh-token`.

Both answer the access token in the `Authorization` and `Authentication` response headers
(`Bearer <token>`) and the refresh token as the `text/html` body. `/refresh-token` also takes the
refresh token from the HttpOnly refresh cookie `/oauth` set; it then renews both cookies.
"""

from __future__ import annotations

from litestar import MediaType, Request, Response, post
from pacsbox.auth.context import AuthContext
from pacsbox.auth.oneoff import redeem
from pacsbox.auth.refresh import TokenPair, rotate
from pacsbox.auth.routes._common import NO_STORE, bearer, client_address, context
from pacsbox.auth.routes.cookies import refresh_cookie_name, session_cookies
from pacsbox.core.errors import Unauthorized

__all__ = ["generate_access_token", "refresh_token"]


def _missing() -> Unauthorized:
    return Unauthorized("missing token", headers={"WWW-Authenticate": 'Bearer realm="pacsbox"'})


def token_answer(pair: TokenPair, *, cookies: list | None = None) -> Response:
    """The contract's answer: access token in headers, refresh token as the text/html body."""
    access = f"Bearer {pair.access}"
    return Response(
        pair.refresh,
        media_type=MediaType.HTML,
        headers={"Authorization": access, "Authentication": access, "X-Content-Type-Options": "nosniff", **NO_STORE},
        cookies=cookies,
    )


@post("/generate-access-token", operation_id="GenerateAccessToken", status_code=200)
async def generate_access_token(request: Request) -> Response:
    """Exchange a one-off token (once) for an access token and a refresh token."""
    ctx: AuthContext = context(request)
    token = bearer(request)
    if not token:
        raise _missing()
    pair = await redeem(ctx, token, origin=request.headers.get("origin"), address=client_address(request))
    return token_answer(pair)


@post("/refresh-token", operation_id="RefreshToken", status_code=200)
async def refresh_token(request: Request) -> Response:
    """Trade a refresh token for a new access token and the next refresh token (rotation)."""
    ctx: AuthContext = context(request)
    token = bearer(request)
    from_cookie = not token
    if from_cookie:
        token = request.cookies.get(refresh_cookie_name(ctx), "")
    if not token:
        raise _missing()
    pair = await rotate(ctx, token, origin=request.headers.get("origin"), address=client_address(request))
    return token_answer(pair, cookies=session_cookies(ctx, pair) if from_cookie else None)
