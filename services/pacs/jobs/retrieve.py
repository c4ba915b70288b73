"""Retrieve job: instances of a remote server brought into pacsbox by C-MOVE (to our own AE) or C-GET.

C-MOVE needs the remote to know pacsbox's AE title, host and port; when the
remote server's entry names a listen port other than PACSBOX_DICOM_PORT, a
storage-only listener is opened on it for the job's duration. C-GET brings
the instances back on the same association. Either way they enter through
the one store path with origin DIMSE.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydicom.dataset import Dataset

from pacsbox.core.errors import Unavailable
from pacsbox.core.settings import Settings
from pacsbox.pacs.dimse import DicomListener, RemoteServer, RetrieveMode, scu
from pacsbox.pacs.dimse.bridge import LoopBridge
from pacsbox.pacs.dimse.handlers import Scp, store_status
from pacsbox.pacs.jobs.runner import JobControl
from pacsbox.pacs.store import InstanceStore, Origin

__all__ = ["retrieve"]


async def retrieve(
    control: JobControl, *, remote: RemoteServer, mode: RetrieveMode, identifiers: list[Dataset],
    settings: Settings, store: InstanceStore, listener: DicomListener, target: str = "",
) -> dict[str, Any]:
    """One C-MOVE or C-GET per identifier, counts summed; fails when any sub-operation failed."""
    loop = asyncio.get_running_loop()
    finished = scu.SubOperations()

    def progress(counts: scu.SubOperations) -> None:
        total = finished.total + counts.total
        control.report(
            finished.done + counts.done, total, Completed=finished.completed + counts.completed,
            Failed=finished.failed + counts.failed, Warning=finished.warning + counts.warning,
        )

    scp = Scp(settings, store, LoopBridge(loop))

    def on_store(data: bytes, aet: str) -> int:
        return store_status(scp, data, Origin(kind="DIMSE", aet=aet, address=remote.host))

    server = None
    if mode is RetrieveMode.MOVE and not target and remote.listen_port and remote.listen_port != settings.dicom.port:
        server = listener.open_storage_port(loop, remote.listen_port)
    try:
        for identifier in identifiers:
            if control.cancel.is_set():
                break
            if mode is RetrieveMode.MOVE:
                destination = target or settings.dicom.aet
                counts = await asyncio.to_thread(scu.move, remote, settings, identifier, destination, control.cancel, progress)
            else:
                counts = await asyncio.to_thread(scu.get, remote, settings, identifier, on_store, control.cancel, progress)
            for name in ("total", "completed", "failed", "warning"):
                setattr(finished, name, getattr(finished, name) + getattr(counts, name))
    finally:
        if server is not None:
            await asyncio.to_thread(server.shutdown)
    control.content.update(Completed=finished.completed, Failed=finished.failed, Warning=finished.warning)
    if finished.failed:
        raise Unavailable(f"{finished.failed} of {finished.total} instances could not be retrieved from {remote.name!r}")
    return control.content
