"""DICOMweb (PS3.18) under `/pacs/`: one module per service, gathered in one router.

One router, because Litestar refuses two routers or controllers declaring
the same path (`/pacs/studies` is both QIDO's GET and STOW's POST).
"""

from litestar import Router

from pacsbox.pacs.dicomweb.qido import QidoController
from pacsbox.pacs.dicomweb.stow import StowController

DICOMWEB_ROUTES = [Router("/pacs", route_handlers=[QidoController, StowController])]

__all__ = ["DICOMWEB_ROUTES"]
