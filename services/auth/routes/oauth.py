"""`GET /oauth?token=T`: the one-off login link.

Exchanges T, stores the session in cookies, and opens the viewer (or `?redirect=`, an allowed
origin only) with the tokens in the URL fragment for the viewer's own storage (a fragment never
reaches a server or its logs). The answer is a page that moves on by itself rather than a 302:
a SameSite=Strict cookie set during a navigation that came from another site (a mail, a chat) is
not sent on the redirect that follows, but it is on a navigation started by our own page. A used,
expired or forged T shows a page saying so, with the sign-in page as the way on.
"""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromQuery
from pacsbox.auth.context import AuthContext
from pacsbox.auth.oneoff import redeem
from pacsbox.auth.routes._common import client_address, context, page
from pacsbox.auth.routes.cookies import session_cookies
from pacsbox.core.errors import BadRequest, PacsboxError, Unauthorized

__all__ = ["oauth"]

_TITLES = {400: "This link is not valid", 401: "This login link has expired", 403: "This login link cannot be used"}


@get("/oauth", operation_id="OAuthLanding")
async def oauth(request: Request, token: FromQuery[str] = "", redirect: FromQuery[str] = "") -> Response:
    """Sign in with a one-off login link and open the viewer."""
    ctx: AuthContext = context(request)
    try:
        target = ctx.urls.safe_redirect(redirect) if redirect else ctx.urls.viewer
        if not token:
            raise BadRequest("the link carries no token")
        pair = await redeem(ctx, token, origin=None, address=client_address(request))
    except PacsboxError as error:
        status = error.status_code if error.status_code in _TITLES else 403
        return page(ctx, "message.html", status=status, title=_TITLES[status], error=_explain(error),
                    sign_in=f"{ctx.urls.auth}/sign-in")
    fragment = urlencode({
        "access_token": pair.access, "refresh_token": pair.refresh, "token_type": "Bearer",
        "expires_in": pair.claims.exp - pair.claims.iat,
    })
    return page(ctx, "message.html", title="Signed in", message=f"Welcome, {pair.claims.name}. Opening the viewer…",
                go=f"{target.split('#')[0]}#{fragment}", cookies=session_cookies(ctx, pair))


def _explain(error: PacsboxError) -> str:
    if isinstance(error, Unauthorized):
        return "Login links are valid for a limited time. Ask your administrator for a new one, or sign in."
    if "already used" in error.message:
        return "This login link has already been used: each link opens one session only. Ask for a new one, or sign in."
    return f"The link was refused ({error.message}). Ask your administrator for a new one, or sign in."
