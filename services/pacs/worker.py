"""One worker process of the pacs service: `run`, forked by the primary's fork server (`fork_server`).

A worker serves on the primary's HTTP socket (inherited), writes one byte to
its readiness socket once it serves, and ends when the primary ends.
"""

from __future__ import annotations

import os
import signal
import threading

from pacsbox.core.logs import configure_logging
from pacsbox.core.serving import serve
from pacsbox.core.settings import Settings
from pacsbox.pacs.app import Worker, create_app
from pacsbox.pacs.fork_server import WorkerStart

__all__ = ["run"]


def _end_with_primary(primary_gone: int) -> None:
    """SIGTERM this process when the primary dies, even by SIGKILL (it cannot stop its workers then).

    A thread reads the pipe whose writing end only the primary holds: the read ends when the primary does.
    """

    def watch() -> None:
        os.read(primary_gone, 1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="pacs-primary-watch", daemon=True).start()


def run(start: WorkerStart) -> None:
    """Serve the pacs app on the primary's HTTP socket until SIGTERM."""
    _end_with_primary(start.primary_gone)
    settings = Settings.load()
    configure_logging("pacs", start.log_level, settings.log.json)
    serve(create_app(settings, Worker(start.ready.detach())), start.http_socket, sends_files=True, share=start.share)
