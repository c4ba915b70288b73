"""`make_app`: what every pacsbox service has in common.

`/healthz` (public, 503 when the database does not answer), Prometheus metrics
at `/metrics`, the pacsbox log format, one mapping from `PacsboxError` to HTTP
responses, and the caller's identity read from the headers nginx sets after
`/auth/verify` (`X-Pacsbox-User`, `X-Pacsbox-Can-Edit`, `X-Pacsbox-Scope`).
Services listen on loopback or inside the stack only, so these headers come
from nginx, which removes any copy a client sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.cors import CORSConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from pacsbox.core.errors import Forbidden, PacsboxError
from pacsbox.core.settings import Settings

__all__ = ["Identity", "editor_only", "error_body", "error_response", "make_app"]

log = logging.getLogger("pacsbox.app")


@dataclass(frozen=True)
class Identity:
    """Who is calling, as the token verifier told nginx. Empty user: a direct, trusted call."""

    user: str = ""
    can_edit: bool = True
    scope: str = ""

    @classmethod
    def from_headers(cls, headers: Any) -> Identity:
        user = headers.get("x-pacsbox-user", "")
        if not user:
            return cls()
        return cls(
            user=user,
            can_edit=headers.get("x-pacsbox-can-edit", "false").lower() == "true",
            scope=headers.get("x-pacsbox-scope", ""),
        )


def _identity(request: Request) -> Identity:
    return Identity.from_headers(request.headers)


async def editor_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard of routes that change what is stored: the caller's token must allow edits (canEditResource).

    A coroutine: Litestar runs a guard that is a plain function in a worker thread, a hand-off to another
    thread and back on every request it guards (every REST upload).
    """
    if not Identity.from_headers(connection.headers).can_edit:
        raise Forbidden(f"{connection.scope.get('method', '')} {connection.url.path}: this token may only read")


def error_body(status: int, message: str) -> dict[str, Any]:
    """The JSON error body every pacsbox service answers: `{"error": ..., "status": ...}`."""
    return {"error": message, "status": status}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """`error_body` as a Litestar response."""
    return Response(
        error_body(status, message),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _pacsbox_error(request: Request, error: PacsboxError) -> Response:
    if error.status_code >= 500:
        log.error("%s %s: %s", request.method, request.url.path, error)
    return error_response(error.status_code, error.message, error.headers)


def _http_error(request: Request, error: HTTPException) -> Response:
    detail = str(error.detail)
    if error.status_code == 413:  # Litestar's own body-size check, named as our limit or the route's
        limit = request.app.state.settings.http.max_body_size
        route_limit = request.route_handler.resolve_request_max_body_size() or limit
        detail = f"body larger than the limit of {limit} bytes (PACSBOX_MAX_BODY_SIZE)" if route_limit == limit \
            else f"body larger than the limit of {route_limit} bytes of {request.url.path}"
    return error_response(error.status_code, detail, dict(error.headers or {}))


def _unexpected_error(request: Request, error: Exception) -> Response:
    log.exception("%s %s failed", request.method, request.url.path)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "internal error (logged on the server)")


def make_app(
    *,
    service: str,
    settings: Settings,
    route_handlers: Sequence[Any],
    health: Callable[[], Awaitable[None]],
    lifespan: Sequence[Any] = (),
    dependencies: dict[str, Provide] | None = None,
    state: dict[str, Any] | None = None,
    cors: CORSConfig | None = None,
) -> Litestar:
    """Build a service's Litestar app around its own routes.

    Args:
        service: "pacs", "auth" or "viewer"; names the metrics and log lines.
        settings: the settings this app runs with (kept on `app.state.settings`).
        route_handlers: the service's controllers and routers.
        health: awaited by `/healthz`; raises when the service cannot serve.
        lifespan: async context managers opened around the app's life.
        dependencies: extra dependencies for every route.
        state: initial `app.state` entries.
        cors: the service's CORS policy, when browsers of other origins call it directly.
    """

    @get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        try:
            await health()
        except Exception as error:  # the check itself reports any failure as 503
            log.warning("health check failed: %s", error)
            return error_response(503, f"{service} is not healthy: {error}")
        return Response({"status": "ok", "service": service}, media_type=MediaType.JSON)

    prometheus = PrometheusConfig(app_name=f"pacsbox_{service}", group_path=True, exclude=["/healthz", "/metrics"])
    return Litestar(
        route_handlers=[healthz, PrometheusController, *route_handlers],
        middleware=[prometheus.middleware],
        lifespan=list(lifespan),
        dependencies={
            "identity": Provide(_identity, sync_to_thread=False),
            "settings": Provide(lambda: settings, sync_to_thread=False, use_cache=True),
            **(dependencies or {}),
        },
        exception_handlers={
            PacsboxError: _pacsbox_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
        state=State({"settings": settings, "service": service, **(state or {})}),
        request_max_body_size=settings.http.max_body_size,
        cors_config=cors,
        openapi_config=None,
        logging_config=None,
    )
