"""`GET /verify`: nginx's `auth_request` asks it before passing any protected request on.

200 with `X-Pacsbox-User`, `X-Pacsbox-Can-Edit` and `X-Pacsbox-Scope` (nginx forwards them to
the upstream), 401 when no credentials or an expired token, 403 otherwise. nginx takes only 2xx,
401 and 403 from an auth subrequest, so throttled Basic logins answer 403 (with `Retry-After`).
nginx drops the body of a refusal and answers with its own JSON body, so every refusal also names
its reason in `X-Pacsbox-Error` (quotes and backslashes replaced, so the text is safe inside JSON).

nginx asks before every protected request, so what a check costs is added to each of them. It is
therefore answered by a thin ASGI layer in front of the Litestar app (`VerifyEndpoint`), without
Litestar's request cycle (routing, middleware, dependencies, response objects); every other
request goes on to the app. Prometheus counts the checks by status (`pacsbox_auth_verify_total`),
since the app's metrics middleware no longer sees them.
"""

from __future__ import annotations

import json
import logging
import re

from litestar.types import ASGIApp, Receive, Scope, Send
from prometheus_client import Counter

from pacsbox.auth.routes._common import address_of
from pacsbox.auth.verifier import Caller, Verifier
from pacsbox.core.app import error_body
from pacsbox.core.errors import Forbidden, PacsboxError, TooManyRequests, Unauthorized

__all__ = ["VERIFY_PATH", "VerifyEndpoint"]

log = logging.getLogger(__name__)

VERIFY_PATH = "/verify"
_UNSAFE_IN_JSON = re.compile(r'["\\\x00-\x1f\x7f-\U0010ffff]')
_CHECKS = Counter("pacsbox_auth_verify", "Token checks answered to nginx's auth_request, by HTTP status", ["status"])

Headers = list[tuple[bytes, bytes]]


def _refusal(error: PacsboxError) -> tuple[int, Headers, bytes]:
    """The answer to a refused check: the error's headers, its reason in `X-Pacsbox-Error`, pacsbox's JSON body."""
    headers = {**error.headers, "X-Pacsbox-Error": _UNSAFE_IN_JSON.sub("'", error.message)}
    body = json.dumps(error_body(error.status_code, error.message)).encode()
    return error.status_code, [(b"content-type", b"application/json"), *_encoded(headers)], body


def _granted(caller: Caller) -> tuple[int, Headers, bytes]:
    return 200, [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"x-pacsbox-user", caller.user.encode()),
        (b"x-pacsbox-can-edit", b"true" if caller.can_edit else b"false"),
        (b"x-pacsbox-scope", b""),
        (b"cache-control", b"no-store"),
    ], b""


def _encoded(headers: dict[str, str]) -> Headers:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class VerifyEndpoint:
    """ASGI app answering `GET /verify` itself and passing everything else to `app` (the Litestar app)."""

    def __init__(self, app: ASGIApp, verifier: Verifier) -> None:
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != VERIFY_PATH or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        status, headers, body = await self._answer(scope)
        _CHECKS.labels(str(status)).inc()
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

    async def _answer(self, scope: Scope) -> tuple[int, Headers, bytes]:
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        client = scope.get("client")
        address = address_of(headers.get("x-real-ip"), client[0] if client else "")
        try:
            return _granted(await self.verifier.verify(headers, address))
        except TooManyRequests as error:
            return _refusal(Forbidden(error.message, headers=error.headers))
        except (Unauthorized, Forbidden) as error:
            return _refusal(error)
        except PacsboxError as error:
            if error.status_code >= 500:
                log.error("GET %s: %s", VERIFY_PATH, error)
            return _refusal(error)
        except Exception:
            log.exception("GET %s failed", VERIFY_PATH)
            return _refusal(PacsboxError("internal error (logged on the server)"))
