"""`GET /verify`: nginx's `auth_request` asks it before passing any protected request on.

200 with `X-Pacsbox-User`, `X-Pacsbox-Can-Edit` and `X-Pacsbox-Scope` (nginx forwards them to
the upstream), 401 when no credentials or an expired token, 403 otherwise. nginx takes only 2xx,
401 and 403 from an auth subrequest, so throttled Basic logins answer 403 (with `Retry-After`).
nginx drops the body of a refusal and answers with its own JSON body, so every refusal also names
its reason in `X-Pacsbox-Error` (quotes and backslashes replaced, so the text is safe inside JSON).
"""

from __future__ import annotations

import re

from litestar import MediaType, Request, Response, get
from pacsbox.auth.routes._common import client_address
from pacsbox.auth.verifier import Verifier
from pacsbox.core.errors import Forbidden, TooManyRequests, Unauthorized

__all__ = ["verify"]

_UNSAFE_IN_JSON = re.compile(r'["\\\x00-\x1f\x7f-\U0010ffff]')


def _named(error: Unauthorized | Forbidden) -> Unauthorized | Forbidden:
    reason = _UNSAFE_IN_JSON.sub("'", error.message)
    return type(error)(error.message, headers={**error.headers, "X-Pacsbox-Error": reason})


@get("/verify", operation_id="Verify", include_in_schema=False)
async def verify(request: Request) -> Response:
    """Tell nginx who the caller is and whether the original request may pass."""
    verifier: Verifier = request.app.state.verifier
    try:
        caller = await verifier.verify(request.headers, client_address(request))
    except TooManyRequests as error:
        raise _named(Forbidden(error.message, headers=error.headers)) from None
    except (Unauthorized, Forbidden) as error:
        raise _named(error) from None
    return Response(
        b"",
        media_type=MediaType.TEXT,
        headers={
            "X-Pacsbox-User": caller.user,
            "X-Pacsbox-Can-Edit": "true" if caller.can_edit else "false",
            "X-Pacsbox-Scope": "",
            "Cache-Control": "no-store",
        },
    )
