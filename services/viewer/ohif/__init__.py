"""The bundled OHIF viewer: its generated `app-config.js` and the patched build it is served from.

`scripts/fetch-ohif` downloads `@ohif/app` and patches it to live under
`/viewer/`; `PACSBOX_VIEWER_OHIF_DIR` says where. `app_config_js` puts the
stack's addresses in front of the configuration script `app-config.js`
beside this file.
"""

from __future__ import annotations

import json
from importlib import resources

from pacsbox.core.settings import Settings
from pacsbox.viewer.urls import VIEWER_BASE, ViewerUrls

__all__ = ["app_config_js", "ohif_settings"]


def ohif_settings(settings: Settings) -> dict[str, str]:
    """What the configuration script needs: same-origin paths of the PACS, the token endpoints, the sign-in page."""
    urls = ViewerUrls.of(settings.http)
    return {
        "name": "pacsbox",
        "routerBasename": VIEWER_BASE,
        "qidoRoot": urls.dicomweb_path,
        "wadoRoot": urls.dicomweb_path,
        "wadoUriRoot": urls.wado_uri_path,
        "tokenServer": "/auth/generate-access-token",
        "refreshServer": "/auth/refresh-token",
        "signIn": "/auth/sign-in",
    }


def app_config_js(settings: Settings) -> str:
    """OHIF's `app-config.js` for this stack."""
    script = resources.files(__package__).joinpath("app-config.js").read_text()
    return f"const PACSBOX = {json.dumps(ohif_settings(settings), indent=2)};\n{script}"
