"""`python -m pacsbox.pacs.worker SOCKET_FD READY_FD PRIMARY_PID`: one worker process of the pacs service.

Started by the primary (`processes.WorkerProcesses`) on its HTTP socket; writes
one byte to READY_FD once it serves, and ends when the primary ends.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from collections.abc import Sequence

from pacsbox.core.logs import configure_logging
from pacsbox.core.serving import serve
from pacsbox.core.settings import Settings

__all__ = ["main"]

_PR_SET_PDEATHSIG = 1


def _end_with(primary: int) -> None:
    """SIGTERM this process when the primary dies, even by SIGKILL (it cannot stop its workers then).

    The kernel sends it when the thread that started this process ends: the primary's thread watching this
    worker, which lives as long as the primary keeps it.
    """
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != primary:  # the primary died before the request took effect
        sys.exit(1)


def main(argv: Sequence[str]) -> int:
    socket_fd, ready_fd, primary = (int(value) for value in argv)
    _end_with(primary)
    settings = Settings.load()
    configure_logging("pacs", settings.log.level, settings.log.json)
    from pacsbox.pacs.app import Worker, create_app

    serve(create_app(settings, Worker(ready_fd)), socket.socket(fileno=socket_fd))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
