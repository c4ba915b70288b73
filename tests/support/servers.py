"""pacsbox services started as real processes (`pacsbox serve ...`) on free ports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.ports import free_port

__all__ = ["ServiceProcess"]


class ServiceProcess:
    """One `pacsbox serve SERVICE` process with its own config and data folders."""

    def __init__(self, service: str, folder: Path, env: dict[str, str] | None = None) -> None:
        self.service = service
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PACSBOX_CONFIG_DIR": str(folder),
            "PACSBOX_DATA_DIR": str(folder / "data"),
            "PACSBOX_DICOM_PORT": "0",
            "PACSBOX_DICOM_TLS_PORT": "0",
            **(env or {}),
        }
        self.log_path = folder / f"{service}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return Path(self.env["PACSBOX_DATA_DIR"])

    def start(self, timeout: float = 30) -> ServiceProcess:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pacsbox.cli", "serve", self.service, "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.service} exited at start:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.service} not healthy after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """`kill -9`: no shutdown code runs (crash tests)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
