"""Every route of the viewer service, one module per URL group."""

from __future__ import annotations

from typing import Any

from pacsbox.viewer.routes.links import create_link
from pacsbox.viewer.routes.mpr import retrieve_mpr
from pacsbox.viewer.routes.ohif import ohif_app_config, ohif_file
from pacsbox.viewer.routes.server_config import server_config
from pacsbox.viewer.routes.volume import retrieve_volume_rendering

__all__ = ["VIEWER_ROUTES"]

VIEWER_ROUTES: list[Any] = [
    retrieve_mpr, retrieve_volume_rendering, server_config, create_link, ohif_app_config, ohif_file,
]
"""The handlers `create_app` registers (the OHIF catch-all answers paths no other route takes)."""
