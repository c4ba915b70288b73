"""`create_app(settings)`: the viewer service as a Litestar app.

It keeps no database: studies come from the pacs service over HTTP
(`pacs_client.py`), so `/healthz` only says the process serves. The
lifespan closes the pacs client; decoded volumes live in an in-memory
cache bounded by `PACSBOX_VIEWER_VOLUME_CACHE_SIZE`, and CPU work (stacking,
rendering) runs in threads, `PACSBOX_MAX_CONCURRENT_RENDERS` at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide

from pacsbox.core.app import make_app
from pacsbox.core.settings import Settings
from pacsbox.viewer.pacs_client import PacsClient
from pacsbox.viewer.routes import VIEWER_ROUTES
from pacsbox.viewer.volumes import VolumeCache

__all__ = ["create_app"]


def create_app(settings: Settings) -> Litestar:
    pacs = PacsClient(settings.http.pacs_url)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await pacs.aclose()

    async def health() -> None:
        return None

    return make_app(
        service="viewer",
        settings=settings,
        route_handlers=VIEWER_ROUTES,
        health=health,
        lifespan=[lifespan],
        dependencies={"pacs": Provide(lambda: pacs, sync_to_thread=False, use_cache=True)},
        state={
            "pacs": pacs,
            "volumes": VolumeCache(settings.viewer.volume_cache_size),
            "render_slots": asyncio.Semaphore(max(1, settings.storage.max_concurrent_renders)),
        },
    )
