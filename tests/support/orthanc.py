"""A real Orthanc (Debian's `orthanc` package) on loopback: the peer pacsbox is compared with."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port

__all__ = ["OrthancProcess", "comparable"]

DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


class OrthancProcess:
    def __init__(self, folder: Path | None = None, *, aet: str = "ORTHANC", config: dict[str, Any] | None = None) -> None:
        self.folder = folder or Path(tempfile.mkdtemp(prefix="orthanc-"))
        self._owns_folder = folder is None
        """A folder the caller gave stays theirs on `stop` (the benchmark removes its own at the end: deleting
        thousands of files just before its next rows would slow their file creation on ext4)."""
        self.http_port = free_port()
        self.dicom_port = free_port()
        self.aet = aet
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.config = {
            "Name": "orthanc-peer",
            "StorageDirectory": str(self.folder / "storage"),
            "IndexDirectory": str(self.folder / "index"),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": aet,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomCheckCalledAet": False,
            "Plugins": [str(DICOMWEB_PLUGIN)] if DICOMWEB_PLUGIN.exists() else [],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
            **(config or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> OrthancProcess:
        binary = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
        self.folder.mkdir(parents=True, exist_ok=True)
        config_path = self.folder / "orthanc.json"
        config_path.write_text(json.dumps(self.config))
        log = open(self.folder / "orthanc.log", "ab")
        self.process = subprocess.Popen([binary, str(config_path)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("Orthanc exited at start: " + (self.folder / "orthanc.log").read_text())
            try:
                if httpx.get(f"{self.url}/system", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("Orthanc did not start")

    def stop(self) -> None:
        """Kill the peer: it is only ever stopped to be thrown away, and its clean shutdown takes 3.4 s."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self._owns_folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def comparable(tags: dict[str, Any]) -> dict[str, Any]:
    """Tags with private names dropped and numbers parsed, so that `5.000000` equals `5`."""
    out = {}
    for key, entry in tags.items():
        value = entry["Value"]
        if entry["Type"] == "Sequence":
            value = [comparable(item) for item in value]
        elif entry["Type"] == "String":
            value = [number_or_text(v) for v in value.split("\\")]
        name = entry["Name"] if int(key[:4], 16) % 2 == 0 else "private"
        out[key] = (name, entry["Type"], entry.get("PrivateCreator"), value)
    return out


def number_or_text(value: str) -> object:
    try:
        return round(float(value), 6)
    except ValueError:
        return value
