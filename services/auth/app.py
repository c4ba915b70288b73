"""`create_app(settings)`: the auth service: a Litestar app behind the `/verify` endpoint nginx asks.

It refuses to start without its secrets: the signing key pair (checked for kind, size, pairing
and, for the private key, mode 0600) and the admin password hash. The lifespan opens the auth
store and brings its schema up to date. Browsers of the allowed origins may call it (CORS with
credentials; the access token headers are exposed to them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from pacsbox.auth.context import AuthContext
from pacsbox.auth.piccolo_app import SCHEMA
from pacsbox.auth.routes import AUTH_ROUTES
from pacsbox.auth.routes.verify import VerifyEndpoint
from pacsbox.auth.tables import User
from pacsbox.auth.verifier import Verifier
from pacsbox.core.app import make_app
from pacsbox.core.db import close_engine, open_engine
from pacsbox.core.settings import Settings

__all__ = ["create_app"]

TOKEN_HEADERS = ["Authorization", "Authentication"]


def create_app(settings: Settings) -> VerifyEndpoint:
    """The auth app, with `/verify` answered in front of Litestar (see routes/verify.py)."""
    ctx = AuthContext.load(settings)
    engine = SCHEMA.bind(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await open_engine(engine)
        try:
            await SCHEMA.upgrade()
            yield
        finally:
            await close_engine(engine)

    async def health() -> None:
        await User.raw("SELECT 1")

    cors = CORSConfig(
        allow_origins=sorted(ctx.urls.allowed_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=[*TOKEN_HEADERS, "Content-Type", "Accept"],
        allow_credentials=True,
        expose_headers=TOKEN_HEADERS,
    )
    verifier = Verifier(ctx, settings.http.url_prefix)
    app = make_app(
        service="auth",
        settings=settings,
        route_handlers=AUTH_ROUTES,
        health=health,
        lifespan=[lifespan],
        state={"auth": ctx},
        cors=cors,
    )
    return VerifyEndpoint(app, verifier)
