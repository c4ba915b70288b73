"""Both servers started fresh for a run: pacsbox's pacs service and Debian's Orthanc, on loopback.

pacsbox runs as users run it (`pacsbox serve pacs`, embedded SQLite index, a
fresh data folder, one process per core); Orthanc with Debian's defaults made explicit in
`bench/orthanc.json`, plus its DICOMweb plugin. Both start from
tests/support, the same code the integration tests use.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.http import Target
from tests.support.orthanc import OrthancProcess
from tests.support.ports import free_port
from tests.support.servers import ServiceProcess

__all__ = ["PACSBOX_AET", "dicom_echo", "orthanc_versions", "running_servers"]

ORTHANC_CONFIG = Path(__file__).with_name("orthanc.json")
PACSBOX_AET = "PACSBOX"


def dicom_echo(aet: str, port: int) -> bool:
    """True when a DICOM SCP answers C-ECHO on loopback `port` (dcmtk's echoscu)."""
    result = subprocess.run(["echoscu", "-to", "5", "-aec", aet, "127.0.0.1", str(port)], capture_output=True)
    return result.returncode == 0


def orthanc_versions(url: str) -> dict[str, str]:
    system = httpx.get(f"{url}/system").json()
    plugin = httpx.get(f"{url}/plugins/dicom-web")
    return {"orthanc": system.get("Version", "?"), "orthanc_dicomweb": plugin.json().get("Version", "?")
            if plugin.status_code == 200 else "missing"}


@contextmanager
def running_servers(folder: Path) -> Iterator[tuple[Target, Target, OrthancProcess]]:
    """(pacsbox, orthanc, the Orthanc process) running on fresh folders under `folder`; stopped on exit."""
    dicom_port = free_port()
    pacs = ServiceProcess("pacs", folder / "pacsbox", {
        "PACSBOX_DICOM_PORT": str(dicom_port), "PACSBOX_DICOM_AET": PACSBOX_AET,
    })
    orthanc = OrthancProcess(folder / "orthanc", config=json.loads(ORTHANC_CONFIG.read_text()))
    try:
        pacs.start()
        orthanc.start()
        assert pacs.process and orthanc.process
        pacsbox = Target("pacsbox", pacs.url, f"{pacs.url}/pacs", pacs.process.pid,
                         (PACSBOX_AET, dicom_port) if dicom_echo(PACSBOX_AET, dicom_port) else None)
        peer = Target("orthanc", orthanc.url, f"{orthanc.url}/dicom-web", orthanc.process.pid,
                      (orthanc.aet, orthanc.dicom_port))
        yield pacsbox, peer, orthanc
    finally:
        pacs.stop()
        orthanc.stop()
