"""`pacsbox up` as a user runs it: one stream of logs, the URLs to open, a clean stop on Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
from pathlib import Path

import psutil

from tests.support.stack import StackProcess
from tests.support.wizard import copy_config


def test_prints_the_urls_and_merges_the_logs(stack: StackProcess, editor: str) -> None:
    with stack.client(headers={"Authorization": f"Bearer {editor}"}) as http:
        http.get("/zhiva/pacs/studies")
    log = stack.log()
    for line in (f"explorer       {stack.origin}/zhiva/app/explorer.html", f"admin tokens   {stack.origin}/auth/token",
                 f"viewer         {stack.origin}/viewer/", f"DICOMweb root  {stack.origin}/zhiva/pacs"):
        assert line in log
    assert "nginx  | 127.0.0.1 - editor" in log  # the access log names the verified user
    assert "pacs   | " in log and "auth   | " in log and "viewer | " in log


def test_sigterm_stops_every_process_cleanly(configured: Path, tmp_path: Path) -> None:
    """SIGTERM (what `docker stop` and systemd send); the package's stack is stopped with Ctrl-C (SIGINT)."""
    running = StackProcess(copy_config(configured, tmp_path / "config")).start()
    assert running.process is not None
    children = psutil.Process(running.process.pid).children(recursive=True)
    assert len(children) >= 4  # pacs, auth, viewer, nginx (and nginx's workers)
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(timeout=60) == 0
    assert not [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
    assert running.log().rstrip().endswith("up     | stopped")
