"""pacsbox measured a second time through its nginx TLS front (`pacsbox up`), beside Orthanc behind the same front.

Isolated here because `pacsbox up` comes with the native stack
(tests/support/stack.py starts it): on a build without it the rows say
"skipped" and nothing else changes. The stack runs on a folder the wizard set
up; an editor's access token is obtained as a viewer gets one (the admin API
issues a one-off token, the client exchanges it), and the same requests as the
direct rows go to `https://localhost:PORT/zhiva/pacs` with that token.

Orthanc is measured the same way: a fresh Orthanc behind an nginx whose
transport lines (workers, TLS protocols, ciphers and certificate, buffers,
body limits, timeouts) are copied from the stack's rendered nginx.conf, so the
ratio compares the two servers behind one front rather than TLS with plain
HTTP. Only pacsbox's requests pay the front's token check (`auth_request`).
The servers take turns on each row (`rows.in_turns`). Each row notes how much
nginx wrote during one measurement (its list of requests): far more than the
payload means it buffered the answers in temporary files.
"""

from __future__ import annotations

import importlib.util
import json
import re
import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from bench.data import BenchData, SeriesFiles
from bench.http import Target, stow_body
from bench.ingest import stow_rate
from bench.profile import NO_PROFILE, Profiler
from bench.retrieve import rendered_slice, series_metadata, series_retrieval
from bench.rows import TURNS, Figure, Row, in_turns, number
from bench.servers import ORTHANC_CONFIG
from bench.sizes import Sizes
from tests.support.orthanc import OrthancProcess
from tests.support.ports import free_port

__all__ = ["front_rows", "stack_available"]

SUFFIX = " — through nginx TLS (`pacsbox up`)"

TRANSPORT = re.compile(
    r"^\s*(worker_processes|sendfile|tcp_nopush|keepalive_timeout|proxy_max_temp_file_size|proxy_buffer_size"
    r"|proxy_buffers|proxy_busy_buffers_size|ssl_\w+|client_max_body_size|proxy_request_buffering"
    r"|client_body_buffer_size|proxy_read_timeout|proxy_send_timeout)\s[^;]*;",
    re.MULTILINE,
)
"""The directives of pacsbox's nginx.conf that decide how bytes move, which Orthanc's front copies."""

ORTHANC_FRONT = """\
{main}
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{http}
    upstream orthanc {{
        server 127.0.0.1:{upstream};
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port} ssl http2;
{server}
        location / {{
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_pass http://orthanc;
        }}
    }}
}}
"""


def stack_available() -> bool:
    """True when this build has the native stack (`pacsbox up` and its test helper)."""
    return all(importlib.util.find_spec(name) is not None for name in ("pacsbox.stack", "tests.support.stack"))


def _written_megabytes(processes: list[psutil.Process]) -> float:
    """Bytes the processes have written so far (sockets and files alike), in MB."""
    return sum(p.io_counters().write_chars for p in processes) / 1e6


def _nginx_children(pid: int) -> list[psutil.Process]:
    return [p for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)] if p.name() == "nginx"]


@contextmanager
def _stack(folder: Path) -> Iterator[tuple[Target, list[psutil.Process], str]]:
    """`pacsbox up` on a fresh wizard-made folder: its pacs service as an editor reaches it, nginx's processes and
    its rendered configuration."""
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
        target = Target("pacsbox", f"{stack.origin}/zhiva", f"{stack.origin}/zhiva/pacs", pid, curl_options=options)
        config = (stack.data_dir / "nginx" / "nginx.conf").read_text()
        yield target, _nginx_children(stack.process.pid), config
    finally:
        stack.stop()


def orthanc_front_config(stack_config: str, prefix: Path, port: int, upstream: int) -> str:
    """nginx in front of Orthanc's HTTP port with the transport lines of pacsbox's rendered nginx.conf."""
    lines = [m.group(0).strip() for m in TRANSPORT.finditer(stack_config)]
    server_level = [line for line in lines if line.startswith(("ssl_", "client_", "proxy_request", "proxy_read",
                                                              "proxy_send"))]
    main = [line for line in lines if line.startswith("worker_processes")]
    http = [line for line in lines if line not in server_level and line not in main]
    return ORTHANC_FRONT.format(main="\n".join(main), prefix=prefix, port=port, upstream=upstream,
                                http="\n".join("    " + line for line in http),
                                server="\n".join("        " + line for line in server_level))


@contextmanager
def _orthanc_front(folder: Path, stack_config: str, ca: Path) -> Iterator[tuple[Target, list[psutil.Process]]]:
    """A fresh Orthanc behind nginx with the stack's transport settings and certificate; (target, nginx's
    processes)."""
    from tests.support.nginx_front import running_nginx  # type: ignore[import-not-found,unused-ignore]

    orthanc = OrthancProcess(folder / "orthanc", config=json.loads(ORTHANC_CONFIG.read_text())).start()
    prefix, port = folder / "nginx", free_port()
    prefix.mkdir(parents=True, exist_ok=True)
    try:
        with running_nginx(prefix, orthanc_front_config(stack_config, prefix, port, orthanc.http_port), port):
            assert orthanc.process is not None
            origin = f"https://localhost:{port}"
            yield (Target("orthanc", origin, f"{origin}/dicom-web", orthanc.process.pid,
                          curl_options=(f'cacert = "{ca}"',)),
                   _nginx_children(int((prefix / "nginx.pid").read_text())))
    finally:
        orthanc.stop()


def front_rows(
    data: BenchData, sizes: Sizes, folder: Path, direct: list[Row], profiler: Profiler = NO_PROFILE
) -> list[Row]:
    """STOW-RS, series metadata, whole series and rendered JPEG through the front, pacsbox's and Orthanc's."""
    folder.mkdir(parents=True, exist_ok=True)
    stow_sets: list[tuple[SeriesFiles, Path]] = []
    """Each round's CT series and its request body, stored once on each server in turn; the first is the series
    the other rows read."""
    stowed: dict[str, Iterator[tuple[SeriesFiles, Path]]] = {}

    def stow_next(target: Target) -> Figure:
        files, body = next(stowed.setdefault(target.name, iter(stow_sets)))
        return Figure(stow_rate(target, files, body))

    measures: dict[str, Callable[[Target], Figure]] = {
        "stow": stow_next,
        "metadata": lambda t: series_metadata(t, data, sizes),
        "retrieval": lambda t: series_retrieval(t, data, sizes),
        "rendered": lambda t: rendered_slice(t, data, sizes),
    }
    front = [Row(row.name + SUFFIX, row.unit, row.better, row.goal, key=row.key,
                 ceiling="tls_mb" if row.key == "retrieval" else "",
                 note="; ".join(f"{name} direct: {number(result.median)} {row.unit}"
                                for name, result in (("pacsbox", row.pacsbox), ("Orthanc", row.orthanc)) if result))
             for row in direct if row.key in measures]
    if not stack_available():
        for row in front:
            row.note = "skipped: this build has no `pacsbox up` (the native stack); " + row.note
        return front
    stow_sets[:] = [(sets.stow, stow_body(list(sets.stow.files), folder / f"stow-{turn}.body"))
                    for turn, sets in enumerate(data.runs)]
    written: dict[str, dict[str, list[float]]] = {row.key: {} for row in front}
    """By row and server: what nginx wrote during each measurement, in MB."""
    with _stack(folder / "stack") as (target, nginx, config):
        ca = Path(next(o for o in target.curl_options if o.startswith("cacert")).split('"')[1])
        with _orthanc_front(folder / "orthanc", config, ca) as (peer, peer_nginx):
            servers = {target.name: (target, nginx), peer.name: (peer, peer_nginx)}
            for row in front:
                def measured(name: str, row: Row = row) -> Figure:
                    server, processes = servers[name]
                    before = _written_megabytes(processes)
                    with profiler.record(server, f"front-{row.key}"):
                        result = measures[row.key](server)
                    written[row.key].setdefault(name, []).append(_written_megabytes(processes) - before)
                    return result

                # STOW-RS stores a fresh series each turn: re-sending one would measure a re-upload
                turns = len(stow_sets) if row.key == "stow" else TURNS
                results = in_turns(list(servers), measured, row.better, turns)
                for name, result in results.items():
                    setattr(row, name, result)
    for row in front:
        row.note += "; nginx wrote " + ", ".join(f"{statistics.median(mb):,.0f} MB for {name}"
                                                 for name, mb in written[row.key].items())
        row.note += " per measurement (sockets and files)"
    return front
