"""pacsbox as an SCU: echo, find, move, get and store against a remote server, each on its own association.

These functions block (pynetdicom is threaded): the REST routes and the jobs
call them through `asyncio.to_thread`. Long operations take a `threading.Event`
that cancels them (C-CANCEL for move and get, stop between instances for
store) and a callback told the sub-operation counts as they change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, StoragePresentationContexts, build_role, evt
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext, build_context
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from pacsbox.core.errors import PacsboxError, Unavailable
from pacsbox.core.settings import Settings
from pacsbox.pacs.dimse.ae import FIND_MODELS, GET_MODELS, MOVE_MODELS, client_ssl_context, make_ae
from pacsbox.pacs.dimse.outgoing import LOSSLESS, accepted_syntaxes, outgoing_contexts, outgoing_dataset, proposed_syntaxes
from pacsbox.pacs.dimse.remotes import RemoteServer
from pacsbox.pacs.store.reader import StoredInstance

__all__ = ["SubOperations", "echo", "find", "get", "move", "store"]

log = logging.getLogger(__name__)

_PATIENT_ROOT, _STUDY_ROOT = 0, 1
_RECEIVED_SYNTAXES = ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.4.70", *LOSSLESS)


@dataclass
class SubOperations:
    """Counts a C-MOVE, C-GET or send reports (PS3.4 C.4.2.1.7): what a job shows as progress."""

    total: int = 0
    completed: int = 0
    failed: int = 0
    warning: int = 0
    cancelled: bool = False

    @property
    def done(self) -> int:
        return self.completed + self.failed + self.warning

    def read(self, response: Dataset) -> None:
        remaining = response.get("NumberOfRemainingSuboperations")
        self.completed = int(response.get("NumberOfCompletedSuboperations", self.completed) or 0)
        self.failed = int(response.get("NumberOfFailedSuboperations", self.failed) or 0)
        self.warning = int(response.get("NumberOfWarningSuboperations", self.warning) or 0)
        if remaining is not None:
            self.total = self.done + int(remaining)
        else:
            self.total = max(self.total, self.done)


Progress = Callable[[SubOperations], None]


def _ae(settings: Settings, contexts: Sequence[PresentationContext]) -> AE:
    ae = make_ae(settings.dicom)
    ae.requested_contexts = list(contexts)
    return ae


@contextmanager
def _association(
    remote: RemoteServer, settings: Settings, contexts: Sequence[PresentationContext], **options: Any
) -> Iterator[Association]:
    """An established association with `remote`, released on exit.

    Raises:
        Unavailable: the remote cannot be reached, rejects or aborts the association.
    """
    ae = _ae(settings, contexts)
    if remote.tls:
        options["tls_args"] = (client_ssl_context(settings, verify=remote.verify_cert), remote.host)
    try:
        assoc = ae.associate(remote.host, remote.port, ae_title=remote.aet, **options)
    except OSError as error:  # the host name does not resolve
        raise Unavailable(f"remote DICOM server {remote.name!r}: {remote.host} cannot be reached ({error})") from None
    if not assoc.is_established:
        why = "rejected the association" if assoc.is_rejected else "cannot be reached or aborted the association"
        raise Unavailable(f"remote DICOM server {remote.name!r} ({remote.aet}@{remote.host}:{remote.port}) {why}")
    try:
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()


def _status(response: Dataset, what: str, remote: RemoteServer) -> int:
    if "Status" not in response:
        raise Unavailable(f"{what} on {remote.name!r}: no answer (timeout or abort)")
    return int(response.Status)


def echo(remote: RemoteServer, settings: Settings) -> float:
    """C-ECHO; returns the round trip of the echo itself in seconds.

    Raises:
        Unavailable: no association, or a status other than success.
    """
    with _association(remote, settings, [build_context(Verification)]) as assoc:
        started = time.perf_counter()
        status = _status(assoc.send_c_echo(), "C-ECHO", remote)
        elapsed = time.perf_counter() - started
    if status != 0:
        raise Unavailable(f"C-ECHO on {remote.name!r} answered 0x{status:04X}")
    return elapsed


def find(remote: RemoteServer, settings: Settings, identifier: Dataset) -> list[Dataset]:
    """C-FIND (Study Root; Patient Root at PATIENT level); the matches as answered.

    At most PACSBOX_SEARCH_MAX_RESULTS are kept: past them a C-CANCEL ends the answer.

    Raises:
        Unavailable: no association or a failure status.
    """
    model = FIND_MODELS[_PATIENT_ROOT if identifier.QueryRetrieveLevel == "PATIENT" else _STUDY_ROOT]
    identifier.SpecificCharacterSet = remote.charset
    limit, matches = settings.limits.search_max_results, []
    with _association(remote, settings, [build_context(model)]) as assoc:
        for response, found in assoc.send_c_find(identifier, model, msg_id=1):
            status = _status(response, "C-FIND", remote)
            if status in (0xFF00, 0xFF01):
                if len(matches) == limit:
                    assoc.send_c_cancel(1, query_model=model)
                    log.warning("C-FIND on %s: answer cut at %d matches (PACSBOX_SEARCH_MAX_RESULTS)", remote.name, limit)
                matches.append(found)
            elif status not in (0x0000, 0xFE00):
                raise Unavailable(f"C-FIND on {remote.name!r} answered 0x{status:04X}")
    return matches[:limit]


def _follow(
    responses: Iterator[tuple[Dataset, Dataset | None]], assoc: Association, model: str, what: str,
    remote: RemoteServer, cancel: threading.Event, progress: Progress,
) -> SubOperations:
    """Read C-MOVE/C-GET responses to the end, sending C-CANCEL once `cancel` is set."""
    counts, cancel_sent = SubOperations(), False
    for response, _ in responses:
        status = _status(response, what, remote)
        counts.read(response)
        progress(counts)
        if status in (0xFF00, 0xFF01):
            if cancel.is_set() and not cancel_sent:
                assoc.send_c_cancel(1, query_model=model)  # message ID 1: the only request on this association
                cancel_sent = True
            continue
        counts.cancelled = status == 0xFE00
        if status not in (0x0000, 0xFE00, 0xB000):
            raise Unavailable(f"{what} on {remote.name!r} answered 0x{status:04X} ({counts.failed} failed)")
    return counts


def move(
    remote: RemoteServer, settings: Settings, identifier: Dataset, destination: str,
    cancel: threading.Event, progress: Progress,
) -> SubOperations:
    """C-MOVE (Study Root) of `identifier` to AE `destination` (our own AE to retrieve into pacsbox)."""
    model = MOVE_MODELS[_STUDY_ROOT]
    with _association(remote, settings, [build_context(model)]) as assoc:
        responses = assoc.send_c_move(identifier, destination, model, msg_id=1)
        return _follow(responses, assoc, model, "C-MOVE", remote, cancel, progress)


def get(
    remote: RemoteServer, settings: Settings, identifier: Dataset, on_store: Callable[[bytes, str], int],
    cancel: threading.Event, progress: Progress,
) -> SubOperations:
    """C-GET (Study Root) of `identifier`; each instance received is handed to `on_store(part10, calling)`.

    `on_store` returns the C-STORE status to answer (0 once the instance is stored).
    """
    model = GET_MODELS[_STUDY_ROOT]
    syntaxes = proposed_syntaxes(_RECEIVED_SYNTAXES, remote.transfer_syntax)
    contexts = [build_context(model)] + [build_context(cx.abstract_syntax, syntaxes) for cx in StoragePresentationContexts[:127]]
    roles = [build_role(cx.abstract_syntax, scp_role=True) for cx in contexts[1:]]

    def handle_store(event: evt.Event) -> int:
        return on_store(event.encoded_dataset(include_meta=True), remote.aet)

    with _association(
        remote, settings, contexts, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, handle_store)]
    ) as assoc:
        responses = assoc.send_c_get(identifier, model, msg_id=1)
        return _follow(responses, assoc, model, "C-GET", remote, cancel, progress)


def store(
    remote: RemoteServer, settings: Settings, instances: Sequence[StoredInstance],
    cancel: threading.Event, progress: Progress,
) -> SubOperations:
    """C-STORE each instance, transcoded to what the remote accepted; stops between instances on `cancel`."""
    counts = SubOperations(total=len(instances))
    by_class: dict[str, list[str]] = {}
    for instance in instances:
        by_class.setdefault(instance.sop_class_uid, []).append(instance.transfer_syntax)
    if len(by_class) > 64:
        raise PacsboxError(f"{len(by_class)} SOP classes in one send: at most 64 fit one association")
    contexts = outgoing_contexts(by_class, remote.transfer_syntax)
    with _association(remote, settings, contexts) as assoc:
        accepted = accepted_syntaxes(assoc.accepted_contexts)
        for instance in instances:
            if cancel.is_set():
                counts.cancelled = True
                break
            try:
                dataset = outgoing_dataset(
                    instance, accepted.get(instance.sop_class_uid, []), max_size=settings.limits.max_pixel_data_size,
                    preferred=remote.transfer_syntax,
                )
                status = _status(assoc.send_c_store(dataset), "C-STORE", remote)
            except PacsboxError as error:
                log.warning("send to %s: %s", remote.name, error.message)
                status = 0xA700
            if status == 0:
                counts.completed += 1
            elif 0xB000 <= status <= 0xBFFF:
                counts.warning += 1
            else:
                counts.failed += 1
            progress(counts)
    return counts
