"""Send job: stored instances sent to a remote server by C-STORE, transcoded to what it accepts."""

from __future__ import annotations

import asyncio
from typing import Any

from pacsbox.core.errors import Unavailable
from pacsbox.core.settings import Settings
from pacsbox.pacs.dimse import RemoteServer, scu
from pacsbox.pacs.jobs.runner import JobControl
from pacsbox.pacs.store.reader import StoredInstance

__all__ = ["send"]


async def send(
    control: JobControl, *, remote: RemoteServer, instances: list[StoredInstance], settings: Settings
) -> dict[str, Any]:
    """C-STORE of every instance on one association; fails when any instance was refused."""

    def progress(counts: scu.SubOperations) -> None:
        control.report(counts.done, counts.total, Completed=counts.completed, Failed=counts.failed, Warning=counts.warning)

    counts = await asyncio.to_thread(scu.store, remote, settings, instances, control.cancel, progress)
    control.content.update(Completed=counts.completed, Failed=counts.failed, Warning=counts.warning)
    if counts.failed:
        raise Unavailable(f"{counts.failed} of {counts.total} instances were refused by {remote.name!r}")
    return control.content
