"""`GET /api/server-config`: what a viewer needs to talk to this stack (Zhiva "Local Server", OHIF)."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.di import NamedDependency

from pacsbox.core.settings import Settings
from pacsbox.viewer.urls import VIEWER_BASE, ViewerUrls

__all__ = ["server_config", "server_config_of"]


def server_config_of(settings: Settings) -> dict[str, Any]:
    """The DICOMweb roots, token endpoints and pages, as absolute public URLs."""
    urls = ViewerUrls.of(settings.http)
    dicomweb = urls.absolute(urls.dicomweb_path)
    return {
        "name": "pacsbox",
        "publicUrl": urls.public_url,
        "urlPrefix": urls.url_prefix,
        "pacs": dicomweb,
        "qidoRoot": dicomweb,
        "wadoRoot": dicomweb,
        "stowRoot": dicomweb,
        "wadoUriRoot": urls.absolute(urls.wado_uri_path),
        "tokenServer": urls.absolute("/auth/generate-access-token"),
        "refreshServer": urls.absolute("/auth/refresh-token"),
        "signInUrl": urls.absolute("/auth/sign-in"),
        "viewerUrl": urls.absolute(VIEWER_BASE + "/"),
        "viewerApi": urls.absolute(VIEWER_BASE + "/api"),
    }


@get("/api/server-config", operation_id="ServerConfig", tags=["config"])
async def server_config(settings: NamedDependency[Settings]) -> dict[str, Any]:
    """The server settings viewers read: DICOMweb roots, tokenServer, refreshServer, sign-in page."""
    return server_config_of(settings)
