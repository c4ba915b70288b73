"""Our Application Entity: presentation contexts, TLS contexts and the listeners.

The SCP accepts every storage SOP class pynetdicom knows in every transfer
syntax it knows (uncompressed, deflated, JPEG family, JPEG-LS, JPEG 2000,
HTJ2K, RLE, MPEG/HEVC), Verification, and Patient Root and Study Root
FIND/MOVE/GET. Storage contexts accept the SCP role a C-GET requestor asks
for (PS3.7 D.3.3.4), so C-GET sub-operations flow back on the same association.

DICOM TLS (PS3.15 B.1) uses the wizard's `certs/server.crt` + `server.key`;
peers are verified against `certs/trusted.crt`, and required to present a
certificate when `PACSBOX_DICOM_TLS_REQUIRE_CLIENT_CERT` is set. TLS 1.2 offers
ECDHE key exchange with AEAD ciphers only (the suites of DICOM's BCP 195
profile, PS3.15 B.9); the handshake runs on the association's thread within
`PACSBOX_DICOM_ACSE_TIMEOUT`.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from pathlib import Path
from typing import cast

from pynetdicom import ALL_TRANSFER_SYNTAXES, AE, AllStoragePresentationContexts, evt
from pynetdicom.presentation import PresentationContext, build_context
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)
from pynetdicom.association import Association
from pynetdicom.transport import RequestHandler, ThreadedAssociationServer

from pacsbox.core.errors import SettingsError
from pacsbox.core.settings import DicomSettings, Settings

__all__ = [
    "FIND_MODELS",
    "GET_MODELS",
    "MOVE_MODELS",
    "QUERY_RETRIEVE",
    "STORAGE_CLASSES",
    "client_ssl_context",
    "make_ae",
    "server_ssl_context",
    "start_server",
]

log = logging.getLogger(__name__)

FIND_MODELS = (PatientRootQueryRetrieveInformationModelFind, StudyRootQueryRetrieveInformationModelFind)
MOVE_MODELS = (PatientRootQueryRetrieveInformationModelMove, StudyRootQueryRetrieveInformationModelMove)
GET_MODELS = (PatientRootQueryRetrieveInformationModelGet, StudyRootQueryRetrieveInformationModelGet)
QUERY_RETRIEVE = frozenset(str(uid) for uid in (*FIND_MODELS, *MOVE_MODELS, *GET_MODELS))
"""SOP classes only known AEs may use (unless PACSBOX_DICOM_RETRIEVE_FROM_ANYONE)."""
STORAGE_CLASSES = tuple(str(cx.abstract_syntax) for cx in AllStoragePresentationContexts)
TLS12_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
)
"""TLS 1.2 suites of the DICOM TLS port: the ECDHE ones of nginx's list (nginx also offers two DHE suites, which
need Diffie-Hellman parameters this context does not load); no CBC, no RSA key exchange."""


def make_ae(dicom: DicomSettings) -> AE:
    """An AE with our title, timeouts and limits, and no contexts yet."""
    ae = AE(ae_title=dicom.aet)
    ae.maximum_associations = dicom.max_associations
    ae.acse_timeout = dicom.acse_timeout
    ae.dimse_timeout = dicom.dimse_timeout
    ae.network_timeout = dicom.network_timeout
    ae.maximum_pdu_size = dicom.max_pdu_size
    return ae


def scp_contexts(*, query_retrieve: bool = True) -> list[PresentationContext]:
    """What the SCP accepts: Verification, every storage class in every syntax, and Q/R when asked."""
    contexts = [build_context(Verification, ALL_TRANSFER_SYNTAXES)]
    for uid in STORAGE_CLASSES:
        context = build_context(uid, ALL_TRANSFER_SYNTAXES)
        context.scp_role, context.scu_role = True, False
        contexts.append(context)
    if query_retrieve:
        contexts += [build_context(uid) for uid in (*FIND_MODELS, *MOVE_MODELS, *GET_MODELS)]
    return contexts


def _certs(settings: Settings) -> tuple[Path, Path, Path]:
    certs = settings.paths.certs_dir
    return certs / "server.crt", certs / "server.key", certs / "trusted.crt"


def server_ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The DICOM TLS server context, or None when the wizard's certificate is missing."""
    crt, key, trusted = _certs(settings)
    if not (crt.is_file() and key.is_file()):
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.load_cert_chain(crt, key)
    if trusted.is_file():
        context.load_verify_locations(cafile=str(trusted))
        context.verify_mode = ssl.CERT_REQUIRED if settings.dicom.tls_require_client_cert else ssl.CERT_OPTIONAL
    elif settings.dicom.tls_require_client_cert:
        raise FileNotFoundError(f"{trusted}: needed to check client certificates (PACSBOX_DICOM_TLS_REQUIRE_CLIENT_CERT)")
    return context


def client_ssl_context(settings: Settings, *, verify: bool) -> ssl.SSLContext:
    """The context pacsbox connects to a TLS remote with; our certificate is offered as the client's."""
    crt, key, trusted = _certs(settings)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if verify:
        if not trusted.is_file():
            raise SettingsError(f"{trusted} is missing: pacsbox cannot verify DICOM TLS peers")
        context.load_verify_locations(cafile=str(trusted))
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if crt.is_file() and key.is_file():
        context.load_cert_chain(crt, key)
    return context


_NEGOTIATION_PDU_ALLOWANCE = 64 * 1024
"""Association PDUs (requests carrying many contexts, user identity) may exceed a small P-DATA limit up to this."""


class _PduLimitedHandler(RequestHandler):
    """Accepts associations whose peers may not send a PDU longer than the maximum we advertised.

    pynetdicom reads a PDU of whatever length its header declares (up to 4 GiB)
    before looking at it; here a longer declaration ends the association
    before a byte of its body is read. The limit is `PACSBOX_DICOM_MAX_PDU_SIZE`
    (0: unlimited), which is also what we tell peers in A-ASSOCIATE-AC.
    """

    def _create_association(self) -> Association:
        assoc = super()._create_association()
        limit = self.ae.maximum_pdu_size
        if limit:
            limit = max(limit, _NEGOTIATION_PDU_ALLOWANCE)
            dul_socket = assoc.dul.socket
            receive = dul_socket.recv

            def bounded_recv(nr_bytes: int) -> bytearray:
                if nr_bytes > limit:
                    log.warning("association from %s:%s aborted: a PDU of %d bytes is over the limit of %d"
                                " (PACSBOX_DICOM_MAX_PDU_SIZE)", *self.client_address[:2], nr_bytes, limit)
                    raise OSError(f"PDU of {nr_bytes} bytes over PACSBOX_DICOM_MAX_PDU_SIZE")
                return receive(nr_bytes)

            dul_socket.recv = bounded_recv  # type: ignore[method-assign]
        return assoc

    def handle(self) -> None:
        """Finish the TLS handshake here, within the ACSE timeout, then serve the association."""
        if isinstance(self.request, ssl.SSLSocket):
            blocking = self.request.gettimeout()
            try:
                self.request.settimeout(self.ae.acse_timeout)
                self.request.do_handshake()
            except OSError as error:  # ssl.SSLError and TimeoutError included
                log.info("DICOM TLS handshake with %s:%s failed: %s", *self.client_address[:2], error)
                self.request.close()
                return
            self.request.settimeout(blocking)
        super().handle()


class _HandshakeInThreadServer(ThreadedAssociationServer):
    """Accepts connections without waiting for their TLS handshake.

    pynetdicom wraps each accepted socket on the thread that accepts connections, handshake
    included and without a timeout, so one peer that connected and never sent its ClientHello
    held up every other DICOM TLS peer for as long as it liked. The handshake now runs on the
    connection's own thread (`_PduLimitedHandler.handle`).
    """

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        client, address = cast(socket.socket, self.socket).accept()
        if self.ssl_context:
            client = self.ssl_context.wrap_socket(client, server_side=True, do_handshake_on_connect=False)
        return client, address


def start_server(
    ae: AE, port: int, handlers: list[tuple[evt.EventType, object, list[object]]],
    contexts: list[PresentationContext], ssl_context: ssl.SSLContext | None = None,
) -> ThreadedAssociationServer:
    """Listen on all interfaces at `port` (non-blocking, PDU length bounded); stop it with `.shutdown()`."""
    server = ae.make_server(
        ("0.0.0.0", port), evt_handlers=handlers,  # type: ignore[arg-type]
        ssl_context=ssl_context, contexts=contexts,
        server_class=_HandshakeInThreadServer, request_handler=_PduLimitedHandler,
    )
    threading.Thread(target=server.serve_forever, name=f"DicomServer@{port}", daemon=True).start()
    ae._servers.append(server)  # as AE.start_server does: server.shutdown() removes it from there
    log.info("DICOM%s listening on port %d as %s", " TLS" if ssl_context else "", port, ae.ae_title)
    return server
