"""`create_app(settings)`: the viewer service as a Litestar app.

It keeps no database: studies come from the pacs service over HTTP
(`pacs_client.py`), so `/healthz` only says the process serves.
"""

from __future__ import annotations

from litestar import Litestar

from pacsbox.core.app import make_app
from pacsbox.core.settings import Settings
from pacsbox.viewer.routes import VIEWER_ROUTES

__all__ = ["create_app"]


def create_app(settings: Settings) -> Litestar:
    async def health() -> None:
        return None

    return make_app(service="viewer", settings=settings, route_handlers=VIEWER_ROUTES, health=health)
