"""What the auth routes share: the caller's address, tokens from headers, form or JSON fields,
the HTML pages, and the context dependency."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import MediaType, Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from pacsbox.auth.context import AuthContext
from pacsbox.core.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

__all__ = [
    "MAX_FIELDS_SIZE", "NO_STORE", "address_of", "bearer", "client_address", "context", "page", "read_fields",
    "truthy",
]

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
"""Headers of every answer that carries a token or a password form."""

PAGE_HEADERS = {
    **NO_STORE,
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
    "form-action 'self' {origins}; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_PAGES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "pages"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
MAX_FIELDS_SIZE = 64 * 1024
"""Largest body of the form and JSON APIs; their routes give it to Litestar (`request_max_body_size`), which
refuses a longer Content-Length before reading and stops a streamed body there. Anyone may call them: with
the app's limit (PACSBOX_MAX_BODY_SIZE) a body was held whole in memory before it was refused."""


def context(request: Request) -> AuthContext:
    return request.app.state.auth


def client_address(request: ASGIConnection) -> str:
    """The browser's address: nginx's `X-Real-IP` (this service is reached only through nginx)."""
    return address_of(request.headers.get("x-real-ip"), request.client.host if request.client else "")


def address_of(real_ip: str | None, peer: str) -> str:
    """nginx's `X-Real-IP` when it sent one, else the connection's own peer address."""
    return real_ip or peer


def bearer(request: Request) -> str:
    """The token in `Authorization` or `Authentication`, with or without `Bearer `."""
    for name in ("authorization", "authentication"):
        value = request.headers.get(name, "").strip()
        if value:
            scheme, _, rest = value.partition(" ")
            return rest.strip() if scheme.lower() == "bearer" else value
    return ""


def truthy(value: Any) -> bool:
    """A JSON boolean, or a form checkbox / string `true`, `on`, `1`, `yes`."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("true", "on", "1", "yes")


async def read_fields(request: Request) -> tuple[dict[str, Any], bool]:
    """The body's fields and whether it came from an HTML form (else JSON).

    Raises:
        BadRequest: malformed body.
        PayloadTooLarge: a body over `MAX_FIELDS_SIZE`.
        UnsupportedMediaType: neither JSON nor a form.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    too_large = PayloadTooLarge(f"body too large: at most {MAX_FIELDS_SIZE} bytes")
    try:
        body = await request.body()
    except RequestEntityTooLarge:
        raise too_large from None
    if len(body) > MAX_FIELDS_SIZE:  # a route that forgot `request_max_body_size`
        raise too_large
    if kind == "application/json":
        try:
            fields = json.loads(body or b"{}")
        except ValueError as error:
            raise BadRequest(f"body is not JSON: {error}") from None
        if not isinstance(fields, dict):
            raise BadRequest("body must be a JSON object")
        return fields, False
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        return {key: form.get(key) for key in form}, True
    raise UnsupportedMediaType("send application/json or an HTML form (application/x-www-form-urlencoded)")


def page(ctx: AuthContext, template: str, *, status: int = 200, headers: dict[str, str] | None = None,
         cookies: list[Cookie] | None = None, **values: Any) -> Response:
    """An HTML page from `pages/`, values escaped, with headers that keep it out of caches and frames."""
    origins = " ".join(sorted(ctx.urls.allowed_origins))
    page_headers = {**PAGE_HEADERS, "Content-Security-Policy": PAGE_HEADERS["Content-Security-Policy"].format(origins=origins)}
    return Response(
        _PAGES.get_template(template).render(**values),
        status_code=status,
        media_type=MediaType.HTML,
        headers={**page_headers, **(headers or {})},
        cookies=cookies,
    )
