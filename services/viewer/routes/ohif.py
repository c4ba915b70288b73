"""The OHIF viewer at `/` (nginx publishes it as `/viewer/`): its files, its configuration, its pages.

Files of the patched build are served as they are; `app-config.js` is
generated from the settings; any other path without a file extension is
a page of OHIF's router (`/viewer`, `/viewer?StudyInstanceUIDs=...`) and gets
`index.html`. Without the build every path answers 503 naming the script
that fetches it.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath

from litestar import MediaType, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import File

from pacsbox.core.errors import NotFound, Unavailable
from pacsbox.core.settings import Settings
from pacsbox.viewer.ohif import app_config_js

__all__ = ["ohif_app_config", "ohif_file"]

NO_CACHE = {"Cache-Control": "no-cache"}
HASHED_CACHE = {"Cache-Control": "public, max-age=86400"}
MEDIA_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
               ".json": "application/json", ".css": "text/css", ".svg": "image/svg+xml", ".woff2": "font/woff2"}
"""Types browsers insist on (module scripts, streamed WebAssembly), whatever the host's mime table says."""


def _build(settings: Settings) -> Path:
    folder = settings.viewer.ohif_dir
    if not (folder / "index.html").is_file():
        raise Unavailable(
            f"the OHIF viewer is not installed in {folder}: run scripts/fetch-ohif (or set PACSBOX_VIEWER_OHIF_DIR)"
        )
    return folder


@get("/app-config.js", operation_id="OhifAppConfig", include_in_schema=False)
async def ohif_app_config(settings: NamedDependency[Settings]) -> Response:
    """OHIF's configuration for this stack."""
    _build(settings)
    return Response(app_config_js(settings), media_type="text/javascript; charset=utf-8", headers=NO_CACHE)


@get(["/", "/{path:path}"], operation_id="OhifFile", include_in_schema=False)
async def ohif_file(settings: NamedDependency[Settings], path: FromPath[str] = "/") -> Response | File:
    """A file of the build, or `index.html` for the viewer's own pages."""
    folder = _build(settings)
    relative = PurePosixPath(path.lstrip("/"))
    if relative.parts[:1] == ("api",):
        raise NotFound(f"no viewer API at /{relative}")
    if ".." not in relative.parts and relative.suffix:
        target = (folder / relative).resolve()
        if target.is_file() and target.is_relative_to(folder.resolve()):
            media_type = MEDIA_TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
            return File(target, filename=target.name, media_type=media_type or "application/octet-stream",
                        headers=HASHED_CACHE, content_disposition_type="inline")
        raise NotFound(f"no file /{relative} in the OHIF viewer")
    index = (folder / "index.html").read_text()
    return Response(index, media_type=MediaType.HTML, headers=NO_CACHE)
