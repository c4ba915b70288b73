"""The DICOM listeners of the pacs service: plain DIMSE and DICOM TLS, opened and closed with the app."""

from __future__ import annotations

import asyncio
import logging

from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]
from pynetdicom.transport import ThreadedAssociationServer

from pacsbox.core.settings import Settings
from pacsbox.pacs.dimse.ae import make_ae, scp_contexts, server_ssl_context, start_server
from pacsbox.pacs.dimse.bridge import LoopBridge
from pacsbox.pacs.dimse.handlers import Scp, handlers
from pacsbox.pacs.store import InstanceStore

__all__ = ["DicomListener"]

log = logging.getLogger(__name__)


class DicomListener:
    """Starts the SCP on PACSBOX_DICOM_PORT and, when certs/server.crt exists, PACSBOX_DICOM_TLS_PORT."""

    def __init__(self, settings: Settings, store: InstanceStore) -> None:
        self.settings = settings
        self.store = store
        self._servers: list[ThreadedAssociationServer] = []

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        dicom = self.settings.dicom
        scp = Scp(self.settings, self.store, LoopBridge(loop))
        ae = make_ae(dicom)
        ae.add_requested_context(Verification)  # C-MOVE sub-associations bring their own; this is the fallback
        bindings, contexts = handlers(scp), scp_contexts()
        if dicom.port:
            self._servers.append(start_server(ae, dicom.port, bindings, contexts))
        if dicom.tls_port:
            context = server_ssl_context(self.settings)
            if context is None:
                log.warning("DICOM TLS is off: no %s/server.crt and server.key", self.settings.paths.certs_dir)
            else:
                self._servers.append(start_server(ae, dicom.tls_port, bindings, contexts, context))

    def open_storage_port(self, loop: asyncio.AbstractEventLoop, port: int) -> ThreadedAssociationServer:
        """A storage-only listener on `port` (a retrieve whose remote sends C-MOVE results there)."""
        scp = Scp(self.settings, self.store, LoopBridge(loop))
        return start_server(make_ae(self.settings.dicom), port, handlers(scp), scp_contexts(query_retrieve=False))

    def stop(self) -> None:
        """Stop accepting, abort associations still open, close the sockets."""
        for server in self._servers:
            for assoc in server.active_associations:
                assoc.abort()
            server.shutdown()
        self._servers.clear()
