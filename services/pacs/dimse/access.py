"""Association control: which calling AE titles may use which services.

Checked when an A-ASSOCIATE-RQ arrives, before negotiation (PS3.8 7.1.1):

- an association proposing no SOP class pacsbox supports is rejected
  (permanent, service user, no reason given);
- an AE not in the remote servers table may echo and store only when
  `PACSBOX_DICOM_STORE_FROM_ANYONE`, and find, move and get only when
  `PACSBOX_DICOM_RETRIEVE_FROM_ANYONE`; the contexts it may not use are
  refused, and when none is left the association is rejected (permanent,
  service user, calling AE title not recognised).

- an association beyond `PACSBOX_DICOM_MAX_ASSOCIATIONS_PER_AE` open ones
  from the same calling AE title, or `PACSBOX_DICOM_MAX_ASSOCIATIONS_PER_ADDRESS`
  from the same peer address, is rejected (transient, service provider,
  local limit exceeded), so one sender cannot take every slot of
  `PACSBOX_DICOM_MAX_ASSOCIATIONS`.

Each rejection is logged with the calling AE title and address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pynetdicom.association import Association

from pacsbox.core.settings import DicomSettings
from pacsbox.pacs.dimse.ae import QUERY_RETRIEVE

__all__ = ["control_association"]

log = logging.getLogger(__name__)

_REJECTED_PERMANENT, _REJECTED_TRANSIENT = 0x01, 0x02
_SERVICE_USER, _SERVICE_PROVIDER_PRESENTATION = 0x01, 0x03
_NO_REASON, _CALLING_AE_NOT_RECOGNISED, _LOCAL_LIMIT_EXCEEDED = 0x01, 0x03, 0x02


def _reject(assoc: Association, diagnostic: int, why: str, *,
            result: int = _REJECTED_PERMANENT, source: int = _SERVICE_USER) -> None:
    requestor = assoc.requestor
    calling = str(requestor.primitive.calling_ae_title).strip()
    log.warning("association from %s (%s:%s) rejected: %s", calling, requestor.address, requestor.port, why)
    assoc.acse.send_reject(result, source, diagnostic)
    assoc.kill()


def _over_peer_limits(assoc: Association, calling: str, settings: DicomSettings) -> str:
    """Why `assoc` would exceed the limits per calling AE title or per address; empty when it would not."""
    others = [a for a in assoc.ae.active_associations if a is not assoc and a.is_acceptor]
    same_ae = sum(1 for a in others if str(a.requestor.ae_title).strip() == calling)
    if same_ae >= settings.max_associations_per_ae:
        return f"{same_ae} associations of this AE title are open (PACSBOX_DICOM_MAX_ASSOCIATIONS_PER_AE)"
    same_address = sum(1 for a in others if a.requestor.address == assoc.requestor.address)
    if same_address >= settings.max_associations_per_address:
        return f"{same_address} associations from this address are open (PACSBOX_DICOM_MAX_ASSOCIATIONS_PER_ADDRESS)"
    return ""


def control_association(assoc: Association, settings: DicomSettings, is_known: Callable[[str], bool]) -> None:
    """Reject `assoc`, or narrow its acceptable contexts to what its calling AE may use."""
    request = assoc.requestor.primitive
    calling = str(request.calling_ae_title).strip()
    proposed = {str(cx.abstract_syntax) for cx in request.presentation_context_definition_list}
    supported = assoc.acceptor.supported_contexts
    usable = proposed & {str(cx.abstract_syntax) for cx in supported}
    if not usable:
        _reject(assoc, _NO_REASON, "it proposes no SOP class pacsbox supports")
        return
    busy = _over_peer_limits(assoc, calling, settings)
    if busy:
        _reject(assoc, _LOCAL_LIMIT_EXCEEDED, busy, result=_REJECTED_TRANSIENT, source=_SERVICE_PROVIDER_PRESENTATION)
        return
    if settings.store_from_anyone and settings.retrieve_from_anyone:
        return
    known = is_known(calling)
    may_store, may_retrieve = settings.store_from_anyone or known, settings.retrieve_from_anyone or known
    allowed = [
        cx for cx in supported
        if (may_retrieve if str(cx.abstract_syntax) in QUERY_RETRIEVE else may_store)
    ]
    if not proposed & {str(cx.abstract_syntax) for cx in allowed}:
        _reject(assoc, _CALLING_AE_NOT_RECOGNISED, "the calling AE title is not a known remote server")
        return
    refused = usable - {str(cx.abstract_syntax) for cx in allowed}
    if refused:
        log.warning("association from %s: not a known remote server; refused %s", calling, ", ".join(sorted(refused)))
        assoc.acceptor.supported_contexts = allowed
