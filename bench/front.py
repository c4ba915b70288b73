"""pacsbox measured a second time through its nginx TLS front (`pacsbox up`), to show what the front costs.

Isolated here because `pacsbox up` comes with the native stack: when this
build has no such command, the rows say so and nothing else changes. The
stack runs on a fresh configuration (`pacsbox setup --non-interactive`), an
editor's access token is obtained the way a viewer gets one (admin issues a
one-off token, the client exchanges it), and the same requests as the direct
rows are sent with that token over HTTPS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.data import BenchData
from bench.http import Target, stow_body
from bench.ingest import stow_rate
from bench.retrieve import rendered_slice, series_metadata, series_retrieval
from bench.rows import Figure, Row, number
from bench.sizes import Sizes
from tests.support.ports import free_port

__all__ = ["front_rows", "stack_available"]

PASSWORD = "Bench-front-admin-42"
SUFFIX = " — through nginx TLS (`pacsbox up`)"


def stack_available() -> bool:
    """True when this build has `pacsbox up`."""
    probe = subprocess.run([sys.executable, "-m", "pacsbox.cli", "up", "--help"], capture_output=True)
    return probe.returncode == 0


def _env(folder: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PACSBOX_")}
    return {**clean, "PACSBOX_CONFIG_DIR": str(folder), "PACSBOX_DATA_DIR": str(folder / "data"),
            "PACSBOX_DICOM_PORT": "0", "PACSBOX_DICOM_TLS_PORT": "0",
            "PACSBOX_PACS_URL": f"http://127.0.0.1:{free_port()}", "PACSBOX_AUTH_URL": f"http://127.0.0.1:{free_port()}",
            "PACSBOX_VIEWER_URL": f"http://127.0.0.1:{free_port()}"}


@contextmanager
def _stack(folder: Path) -> Iterator[Target]:
    """`pacsbox up` on a fresh configuration; yields the pacs service as an editor reaches it through nginx."""
    folder.mkdir(parents=True, exist_ok=True)
    https = free_port()
    env = _env(folder)
    (folder / "admin-password").write_text(PASSWORD + "\n")
    subprocess.run([sys.executable, "-m", "pacsbox.cli", "setup", "--non-interactive", "--admin-password-file",
                    str(folder / "admin-password"), "--hostname", "127.0.0.1", "--hostname", "localhost",
                    "--https-port", str(https), "--public-url", f"https://127.0.0.1:{https}"],
                   env=env, check=True, capture_output=True, timeout=120)
    log = open(folder / "up.log", "ab")
    up = subprocess.Popen([sys.executable, "-m", "pacsbox.cli", "up", "--https-port", str(https),
                           "--http-port", str(free_port())], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"https://127.0.0.1:{https}"
    ca = next(folder.rglob("ca.crt"))
    try:
        with httpx.Client(base_url=base, verify=str(ca), timeout=30) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if http.get("/zhiva/pacs/studies").status_code == 401:
                        break
                except httpx.TransportError:
                    pass
                if up.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pacsbox up did not come up: see {folder / 'up.log'}")
                time.sleep(0.2)
            one_off = http.post("/auth/generate-token", json={
                "password": PASSWORD, "name": "Bench", "username": "bench", "canEditResource": True,
                "createUserIfNotExists": True}).raise_for_status().json()["token"]
            access = http.post("/auth/generate-access-token", headers={"Authorization": one_off}).headers["authorization"]
        yield Target("pacsbox", f"{base}/zhiva", f"{base}/zhiva/pacs", up.pid,
                     curl_options=(f'cacert = "{ca}"', f'header = "Authorization: {access}"'))
    finally:
        up.terminate()
        try:
            up.wait(timeout=20)
        except subprocess.TimeoutExpired:
            up.kill()


def front_rows(data: BenchData, sizes: Sizes, folder: Path, direct: list[Row]) -> list[Row]:
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
                 note=f"pacsbox direct: {number(row.pacsbox.median)} {row.unit}" if row.pacsbox else "")
             for row in direct if row.key in measures]
    if not stack_available():
        for row in front:
            row.note = "skipped: this build has no `pacsbox up` (the native stack); " + row.note
        return front
    with _stack(folder / "stack") as target:
        for row in front:
            row.pacsbox = measures[row.key](target)
    return front
