"""The explorer: a static page to upload, find, browse, download and delete studies.

Served at `/app/` (nginx publishes it as `/zhiva/app/explorer.html`). It holds
no data and no secrets; every call it makes goes to the REST and DICOMweb
APIs with the user's token, read once from `?token=` (or `#upload?token=`),
kept in sessionStorage and stripped from the address bar.
"""

from pathlib import Path

from litestar.static_files import create_static_files_router

EXPLORER_ROUTES = [
    create_static_files_router(
        path="/app", directories=[Path(__file__).parent / "static"], name="explorer", include_in_schema=False
    )
]

__all__ = ["EXPLORER_ROUTES"]
