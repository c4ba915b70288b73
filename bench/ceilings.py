"""The machine's own limits, measured in the same run: fsync'd writes to the data disk, nginx over loopback.

Each server throughput can be read as a fraction of these: an ingest can go no
faster than files written and fsync'd one by one; a retrieval no faster than
nginx sends a file of the same size on the same loopback (plain HTTP for the
direct rows, TLS for the rows through pacsbox's front). nginx runs through
the test suite's runner, which comes with the native stack.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.http import Target, get_many, stow_body
from bench.ingest import CLIENTS
from bench.rows import Ceiling, figure, files_ceiling
from pacsbox.pacs.store.files import DirectWrites, PendingFile
from pacsbox.wizard.answers import Subject
from pacsbox.wizard.pki import certificate_pem, issue_ca, issue_server, private_pem
from tests.support.ports import free_port

__all__ = ["ceilings"]

CHUNK = 4 * 2**20


def _sequential_write(folder: Path, megabytes: int) -> Ceiling:
    path = folder / "sequential.bin"
    block = os.urandom(CHUNK)
    start = time.perf_counter()
    with path.open("wb") as out:
        for _ in range(megabytes * 2**20 // CHUNK):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    seconds = time.perf_counter() - start
    return Ceiling("disk_mb", f"sequential write of {megabytes} MB, one fsync, data disk", "MB/s",
                   figure([megabytes * 2**20 / 1e6 / seconds]))


def _write_through_page_cache(path: Path, sample: bytes) -> None:
    with path.open("xb") as out:
        out.write(sample)
        out.flush()
        os.fsync(out.fileno())


def _instance_files(folder: Path, sample: bytes, count: int, threads: int = 1, direct: bool = False) -> Ceiling:
    """Files of one instance's size, each written to a temporary name, fsync'd and renamed: a store's floor.

    From several threads too: the rate the disk allows with the work spread over the cores, and
    the system CPU each file costs, which any server storing the same bytes durably pays. Written
    through the page cache (as Orthanc writes) or, `direct`, with O_DIRECT from a reused buffer (as
    pacsbox writes an instance held in memory, `DirectWrites`).
    """
    folder.mkdir(exist_ok=True)
    (folder / "tmp").mkdir(exist_ok=True)
    writes = DirectWrites()

    def store(i: int) -> None:
        tmp, final = folder / "tmp" / f"{i}.part", folder / f"{i}.dcm"
        if direct:  # pacsbox's own write of an instance held in memory (buffered when too small or refused)
            PendingFile(tmp, sample, writes).finish()
        else:
            _write_through_page_cache(tmp, sample)
        tmp.rename(final)
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    before, start = os.times(), time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(store, range(count)))
    seconds, after = time.perf_counter() - start, os.times()
    system_ms = 1000 * (after.system - before.system) / count
    source = f" from {threads} threads" if threads > 1 else ""
    how = "written with O_DIRECT as pacsbox does" if direct else "written through the page cache"
    return Ceiling(files_ceiling(threads, direct),
                   f"{count} files of {len(sample) / 1e3:.0f} kB{source}, {how}, each fsync'd and renamed",
                   "instances/s", figure([count / seconds]), f"{system_ms:.2f} ms of system CPU per file")


def _certificate(folder: Path) -> tuple[Path, Path, Path]:
    """(CA, certificate, key) for 127.0.0.1, made with `cryptography` (the wizard's pki)."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key, ca = issue_ca(Subject(), "pacsbox bench CA", now)
    key, cert = issue_server(ca_key, ca, Subject(), ("127.0.0.1", "localhost"), now)
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(certificate_pem(ca))
    paths[1].write_bytes(certificate_pem(cert))
    paths[2].write_bytes(private_pem(key))
    paths[2].chmod(0o600)
    return paths


SERVER = """\
    server {{
        listen 127.0.0.1:{port}{tls};
        location = /big {{ alias {big}; sendfile on; }}
        location = /small {{ alias {small}; }}
    }}"""


def nginx_available() -> bool:
    """True when this build has the test suite's nginx runner (tests/support/nginx_front.py, from the stack)."""
    return importlib.util.find_spec("tests.support.nginx_front") is not None


def _nginx_static(folder: Path, big: Path, runs: int, requests: int) -> list[Ceiling]:
    """A series-sized file and a small JSON answer served by nginx, over TLS and over plain HTTP."""
    from tests.support.nginx_front import nginx_config, running_nginx  # type: ignore[import-not-found,unused-ignore]

    ca, cert, key = _certificate(folder / "tls")
    small = folder / "small.json"
    small.write_text("[" + ",".join(['{"00100010":{"vr":"PN"}}'] * 60) + "]")
    mb, kb = big.stat().st_size / 1e6, small.stat().st_size / 1e3
    found = []
    for scheme, tls in (("https", f" ssl;\n        ssl_certificate {cert};\n        ssl_certificate_key {key}"),
                        ("http", "")):
        prefix, port = folder / f"nginx-{scheme}", free_port()
        prefix.mkdir()
        config = nginx_config(prefix, SERVER.format(port=port, tls=tls, big=big, small=small))
        with running_nginx(prefix, config, port):
            client = Target("nginx", "", "", 0, curl_options=(f'cacert = "{ca}"',))
            url = f"{scheme}://127.0.0.1:{port}"
            big_answers = get_many(client, [f"{url}/big"] * (runs + 1), "*/*")[1:]
            small_answers = get_many(client, [f"{url}/small"] * (requests + 1), "*/*")[1:]
        over, key = ("loopback TLS", "tls") if tls else ("loopback plain HTTP", "http")
        found += [
            Ceiling(f"{key}_mb", f"nginx static file over {over} ({mb:.0f} MB, kept-alive curl)", "MB/s",
                    figure([a.size / 1e6 / a.seconds for a in big_answers], better="higher")),
            Ceiling(f"{key}_small", f"nginx static file over {over} ({kb:.1f} kB)", "ms",
                    figure([a.seconds for a in small_answers], 1000)),
        ]
    return found


def ceilings(folder: Path, series: list[Path], megabytes: int, runs: int, requests: int) -> list[Ceiling]:
    """Every ceiling; `folder` is on the disk the servers write to, `series` the files of a CT series.

    The files written stay until the run's folder is removed: on ext4, creating a
    file costs more while inodes freed in the last minute or so are skipped
    (`recently_deleted`), and the ingest rows come next.
    """
    folder.mkdir(parents=True, exist_ok=True)
    sample = series[0].read_bytes()
    disk = [_sequential_write(folder, megabytes)] + [
        _instance_files(folder / f"files-{threads}{'-direct' if direct else ''}", sample, len(series), threads, direct)
        for direct in (False, True) for threads in (1, CLIENTS)
    ]
    if not nginx_available():
        return [*disk, Ceiling("nginx", "nginx static file over loopback TLS and plain HTTP", "MB/s", None,
                               "skipped: this build lacks tests/support/nginx_front.py (the stack's nginx runner)")]
    return [*disk, *_nginx_static(folder, stow_body(series, folder / "series.body"), runs, requests)]
