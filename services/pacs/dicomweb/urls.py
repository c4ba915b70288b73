"""Absolute URLs of DICOMweb resources as the client reached them.

Behind nginx (which sends `X-Forwarded-Proto` and `X-Forwarded-Host`) the root
is `https://<host the user typed>/<prefix>/pacs`, so a colleague on
`https://192.168.1.20/zhiva/...` gets links that work from their machine;
called directly it is the service's own address.
"""

from __future__ import annotations

from litestar import Request

from pacsbox.core.settings import Settings

__all__ = ["dicomweb_root"]


def dicomweb_root(request: Request, settings: Settings) -> str:
    headers = request.headers
    host = headers.get("host") or request.url.netloc
    proto = headers.get("x-forwarded-proto")
    if proto:
        return f"{proto}://{headers.get('x-forwarded-host') or host}{settings.http.url_prefix}/pacs"
    return f"{request.url.scheme}://{host}/pacs"
