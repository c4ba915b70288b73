"""DICOMweb (PS3.18) under `/pacs/`: one module per service."""

from pacsbox.pacs.dicomweb.rendered import RenderedController
from pacsbox.pacs.dicomweb.wado import WadoController
from pacsbox.pacs.dicomweb.wado_uri import retrieve_wado_uri

DICOMWEB_ROUTES: list = [WadoController, RenderedController, retrieve_wado_uri]

__all__ = ["DICOMWEB_ROUTES"]
