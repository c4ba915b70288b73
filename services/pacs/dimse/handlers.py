"""The SCP's handlers: one `handle_<service>(event, scp)` per DIMSE service, plus association control.

pynetdicom calls them on its association threads; each reaches the index and
the store through `scp.bridge` (the app's event loop). Every status a handler
answers is named below; domain errors are mapped to statuses here and
nowhere else (PS3.4 B.2.3, C.4.1.1.4, C.4.2.1.5, C.4.3.1.4, PS3.7 C):

    0x0000 success                      0xFF00 pending (one match / sub-operation)
    0xFE00 cancelled (C-CANCEL)          0xA700 out of resources (store failed, disk full)
    0xA801 move destination unknown     0xA900 identifier does not match SOP class
    0xC000 cannot understand (a dataset that is not a storable instance)
    0xC001 unable to process (the index failed)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import evt
from pynetdicom.association import Association

from pacsbox.core.errors import BadRequest, InvalidDicom, PacsboxError
from pacsbox.core.settings import Settings
from pacsbox.pacs.dimse.access import control_association
from pacsbox.pacs.dimse.ae import client_ssl_context
from pacsbox.pacs.dimse.bridge import LoopBridge
from pacsbox.pacs.dimse.identifiers import identifier_dataset, parse_identifier, retrieve_query
from pacsbox.pacs.dimse.outgoing import accepted_syntaxes, outgoing_contexts, outgoing_dataset
from pacsbox.pacs.dimse.remotes import remote_by_aet
from pacsbox.pacs.search import search
from pacsbox.pacs.store import InstanceStore, Origin
from pacsbox.pacs.store.reader import StoredInstance, find_instances_of

__all__ = ["Scp", "handle_echo", "handle_find", "handle_get", "handle_move", "handle_requested", "handle_store", "handlers", "store_status"]

log = logging.getLogger(__name__)

SUCCESS, PENDING, CANCELLED = 0x0000, 0xFF00, 0xFE00
OUT_OF_RESOURCES, MOVE_DESTINATION_UNKNOWN, IDENTIFIER_MISMATCH = 0xA700, 0xA801, 0xA900
CANNOT_UNDERSTAND, UNABLE_TO_PROCESS = 0xC000, 0xC001


@dataclass(frozen=True)
class Scp:
    """What every handler works with: settings, the one store, and the bridge to the app's loop."""

    settings: Settings
    store: InstanceStore
    bridge: LoopBridge


def _calling(event: evt.Event) -> str:
    return str(event.assoc.requestor.ae_title).strip()


def handle_requested(event: evt.Event, scp: Scp) -> None:
    """A-ASSOCIATE-RQ: reject or narrow it by the calling AE title (see `access`)."""
    control_association(event.assoc, scp.settings.dicom, lambda aet: scp.bridge.run(remote_by_aet(aet)) is not None)


def handle_echo(event: evt.Event, scp: Scp) -> int:
    return SUCCESS


def store_status(scp: Scp, data: bytes, origin: Origin) -> int:
    """Store one received Part 10 instance through `InstanceStore`; the C-STORE status to answer.

    Success only once the file is durable and indexed; on failure nothing is stored.
    """
    try:
        scp.bridge.run(scp.store.store(data, origin))
    except InvalidDicom as error:
        log.warning("C-STORE from %s refused: %s", origin.aet, error.message)
        return CANNOT_UNDERSTAND
    except (OSError, PacsboxError) as error:
        log.error("C-STORE from %s failed, nothing stored: %s", origin.aet, error)
        return OUT_OF_RESOURCES
    except Exception:  # any other failure must still answer a status, and the SCP keep serving
        log.exception("C-STORE from %s failed, nothing stored", origin.aet)
        return OUT_OF_RESOURCES
    return SUCCESS


def handle_store(event: evt.Event, scp: Scp) -> int:
    """C-STORE: the dataset goes through `InstanceStore` (see `store_status`)."""
    origin = Origin(kind="DIMSE", aet=_calling(event), address=str(event.assoc.requestor.address))
    return store_status(scp, event.encoded_dataset(include_meta=True), origin)


def handle_find(event: evt.Event, scp: Scp) -> Iterator[tuple[int, Dataset | None]]:
    """C-FIND at PATIENT, STUDY, SERIES or IMAGE level, matched as QIDO-RS matches; C-CANCEL checked per match."""
    limit = scp.settings.limits.search_max_results
    request = event.identifier
    try:
        query, tags = parse_identifier(request, limit)
    except BadRequest as error:
        log.warning("C-FIND from %s refused: %s", _calling(event), error.message)
        yield IDENTIFIER_MISMATCH, None
        return
    try:
        matches = scp.bridge.run(search(query, tags))
    except BadRequest as error:
        log.warning("C-FIND from %s refused: %s", _calling(event), error.message)
        yield IDENTIFIER_MISMATCH, None
        return
    except Exception:
        log.exception("C-FIND from %s failed", _calling(event))
        yield UNABLE_TO_PROCESS, None
        return
    if len(matches) >= limit:
        log.warning("C-FIND from %s: answer cut at %d matches (PACSBOX_SEARCH_MAX_RESULTS)", _calling(event), limit)
    for match in matches:
        _wait_until_sent(event.assoc)
        if event.is_cancelled:
            yield CANCELLED, None
            return
        yield PENDING, identifier_dataset(match, tags, scp.settings.dicom.aet, request)


def _wait_until_sent(assoc: Association, timeout: float = 1.0) -> None:
    """Wait (briefly) until the responses already given are on the wire.

    pynetdicom queues every pending response at once, so a whole answer could
    be queued before the peer's C-CANCEL arrives; pacing the answer by the
    network, as DCMTK does, lets a cancel stop what is not yet sent.
    """
    outgoing = assoc.dul.to_provider_queue
    deadline = time.monotonic() + timeout
    while not outgoing.empty() and time.monotonic() < deadline:
        time.sleep(0.0002)


def _instances(event: evt.Event, scp: Scp) -> list[StoredInstance]:
    """The stored instances a C-MOVE or C-GET identifier names, found with the C-FIND matcher."""
    query = retrieve_query(event.identifier, scp.settings.limits.search_max_results)

    async def find() -> list[StoredInstance]:
        matches = await search(query, ())
        return await find_instances_of(scp.store.storage.root, query.level, [m.public_id for m in matches])

    return scp.bridge.run(find())


def _sub_operations(
    event: evt.Event, scp: Scp, instances: list[StoredInstance], accepted: Callable[[str], list[str]],
    preferred: str = "",
) -> Iterator[tuple[int, Dataset | None]]:
    """(pending, dataset) per instance in a syntax `accepted(sop_class)` allows (`preferred` first, else as stored);
    cancellation checked before each."""
    max_size = scp.settings.limits.max_pixel_data_size
    for instance in instances:
        if event.is_cancelled:
            yield CANCELLED, None
            return
        try:
            dataset = outgoing_dataset(
                instance, accepted(instance.sop_class_uid), max_size=max_size, preferred=preferred
            )
        except (PacsboxError, OSError) as error:
            log.warning("cannot send %s: %s", instance.public_id, error)
            dataset = Dataset()  # without File Meta pynetdicom cannot send it: a failed sub-operation
            dataset.SOPClassUID, dataset.SOPInstanceUID = instance.sop_class_uid, instance.sop_uid
        yield PENDING, dataset


def handle_get(event: evt.Event, scp: Scp) -> Iterator[Any]:
    """C-GET: the matching instances sent back on this association; sub-operation counts reported."""
    try:
        instances = _instances(event, scp)
    except BadRequest as error:
        log.warning("C-GET from %s refused: %s", _calling(event), error.message)
        yield 1
        yield IDENTIFIER_MISMATCH, None
        return
    yield len(instances)

    accepted = accepted_syntaxes(cx for cx in event.assoc.accepted_contexts if cx.as_scu)
    yield from _sub_operations(event, scp, instances, lambda sop_class: accepted.get(sop_class, []))


def _sub_association_contexts(event: evt.Event, destination: str) -> dict[str, list[str]]:
    """Accepted syntaxes per SOP class of the association pynetdicom opened to the C-MOVE destination.

    pynetdicom does not hand it to the handler; it is the newest established
    association this AE requested from `destination`.
    """
    for assoc in reversed(event.assoc.ae.active_associations):
        if assoc.is_requestor and assoc.is_established and str(assoc.acceptor.ae_title).strip() == destination:
            return accepted_syntaxes(assoc.accepted_contexts)
    return {}


def handle_move(event: evt.Event, scp: Scp) -> Iterator[Any]:
    """C-MOVE to a destination in the remote servers table; any other destination answers 0xA801."""
    destination = str(event.move_destination).strip()
    remote = scp.bridge.run(remote_by_aet(destination))
    if remote is None:
        log.warning("C-MOVE from %s to unknown AE %r refused", _calling(event), destination)
        yield None, None
        return
    try:
        instances = _instances(event, scp)
    except BadRequest as error:  # pynetdicom wants the destination and a count before any status
        log.warning("C-MOVE from %s refused: %s", _calling(event), error.message)
        yield remote.host, remote.port
        yield 1
        yield IDENTIFIER_MISMATCH, None
        return
    stored: dict[str, list[str]] = {}
    for instance in instances:
        stored.setdefault(instance.sop_class_uid, []).append(instance.transfer_syntax)
    options: dict[str, Any] = {"contexts": outgoing_contexts(stored, remote.transfer_syntax)}
    if remote.tls:
        options["tls_args"] = (client_ssl_context(scp.settings, verify=remote.verify_cert), remote.host)
    yield remote.host, remote.port, options
    yield len(instances)
    accepted: dict[str, list[str]] = {}

    def lookup(sop_class: str) -> list[str]:
        if not accepted:
            accepted.update(_sub_association_contexts(event, destination))
        return accepted.get(sop_class, [])

    yield from _sub_operations(event, scp, instances, lookup, remote.transfer_syntax)


def handlers(scp: Scp) -> list[tuple[Any, Any, list[Any]]]:
    """pynetdicom's (event, handler, args) bindings of the SCP."""
    return [
        (evt.EVT_REQUESTED, handle_requested, [scp]),
        (evt.EVT_C_ECHO, handle_echo, [scp]),
        (evt.EVT_C_STORE, handle_store, [scp]),
        (evt.EVT_C_FIND, handle_find, [scp]),
        (evt.EVT_C_GET, handle_get, [scp]),
        (evt.EVT_C_MOVE, handle_move, [scp]),
    ]
