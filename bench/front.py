"""pacsbox measured a second time through its nginx TLS front (`pacsbox up`), to show what the front costs.

Isolated here because `pacsbox up` comes with the native stack
(tests/support/stack.py starts it): on a build without it the rows say
"skipped" and nothing else changes. The stack runs on a folder the wizard set
up; an editor's access token is obtained as a viewer gets one (the admin API
issues a one-off token, the client exchanges it), and the same requests as the
direct rows go to `https://localhost:PORT/zhiva/pacs` with that token. Each
row notes how much nginx wrote meanwhile: far more than the payload means it
buffered the answer in temporary files.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from bench.data import BenchData
from bench.http import Target, stow_body
from bench.ingest import stow_rate
from bench.profile import NO_PROFILE, Profiler
from bench.retrieve import rendered_slice, series_metadata, series_retrieval
from bench.rows import Figure, Row, number
from bench.sizes import Sizes

__all__ = ["front_rows", "stack_available"]

SUFFIX = " — through nginx TLS (`pacsbox up`)"


def stack_available() -> bool:
    """True when this build has the native stack (`pacsbox up` and its test helper)."""
    return all(importlib.util.find_spec(name) is not None for name in ("pacsbox.stack", "tests.support.stack"))


def _written_megabytes(processes: list[psutil.Process]) -> float:
    """Bytes the processes have written so far (sockets and files alike), in MB."""
    return sum(p.io_counters().write_chars for p in processes) / 1e6


@contextmanager
def _stack(folder: Path) -> Iterator[tuple[Target, list[psutil.Process]]]:
    """`pacsbox up` on a fresh wizard-made folder: its pacs service as an editor reaches it, and nginx's processes."""
    from pacsbox.wizard.apply import apply
    from tests.support.stack import StackProcess  # type: ignore[import-not-found,unused-ignore]
    from tests.support.wizard import answers, layout

    folder.mkdir(parents=True, exist_ok=True)
    apply(answers(), layout(folder))
    stack = StackProcess(folder).start()
    try:
        token = stack.token(can_edit=True)
        pid = stack.service_process("pacs").pid
        options = (f'cacert = "{stack.ca}"', f'header = "Authorization: Bearer {token}"')
        children = psutil.Process(stack.process.pid).children(recursive=True)
        nginx = [p for p in children if p.name() == "nginx"]
        target = Target("pacsbox", f"{stack.origin}/zhiva", f"{stack.origin}/zhiva/pacs", pid, curl_options=options)
        yield target, nginx
    finally:
        stack.stop()


def front_rows(
    data: BenchData, sizes: Sizes, folder: Path, direct: list[Row], profiler: Profiler = NO_PROFILE
) -> list[Row]:
    """STOW-RS, series metadata, whole series and rendered JPEG through the front, beside Orthanc's direct figures."""
    folder.mkdir(parents=True, exist_ok=True)

    def stow_one(target: Target) -> Figure:
        return Figure(stow_rate(target, data.stow, stow_body(list(data.stow.files), folder / "stow.body")))

    measures: dict[str, Callable[[Target], Figure]] = {
        "stow": stow_one,
        "metadata": lambda t: series_metadata(t, data, sizes),
        "retrieval": lambda t: series_retrieval(t, data, sizes),
        "rendered": lambda t: rendered_slice(t, data, sizes),
    }
    front = [Row(row.name + SUFFIX, row.unit, row.better, row.goal, orthanc=row.orthanc, key=row.key,
                 ceiling="tls_mb" if row.key == "retrieval" else "",
                 note=f"pacsbox direct: {number(row.pacsbox.median)} {row.unit}" if row.pacsbox else "")
             for row in direct if row.key in measures]
    if not stack_available():
        for row in front:
            row.note = "skipped: this build has no `pacsbox up` (the native stack); " + row.note
        return front
    with _stack(folder / "stack") as (target, nginx):
        for row in front:
            before = _written_megabytes(nginx)
            with profiler.record(target, f"front-{row.key}"):
                row.pacsbox = measures[row.key](target)
            row.note += f"; nginx wrote {_written_megabytes(nginx) - before:,.0f} MB meanwhile (sockets and files)"
    return front
