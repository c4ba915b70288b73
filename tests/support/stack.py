"""`pacsbox up` as a real process: the services and nginx on free loopback ports, the wizard's CA."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.support.ports import free_port
from tests.support.wizard import PASSWORD, clean_env

__all__ = ["StackProcess"]


class StackProcess:
    """One `pacsbox up --listen 127.0.0.1` on a configured folder; the log is its whole output."""

    def __init__(self, folder: Path, **env: str) -> None:
        self.folder = folder
        self.data_dir = folder.with_name(folder.name + "-data")  # beside the configuration, which tests copy
        self.https_port, self.http_port = free_port(), free_port()
        self.env = clean_env(
            folder,
            PACSBOX_DATA_DIR=str(self.data_dir),
            PACSBOX_PACS_URL=f"http://127.0.0.1:{free_port()}",
            PACSBOX_AUTH_URL=f"http://127.0.0.1:{free_port()}",
            PACSBOX_VIEWER_URL=f"http://127.0.0.1:{free_port()}",
            PACSBOX_DICOM_PORT="0",
            PACSBOX_DICOM_TLS_PORT="0",
            **env,
        )
        self.log_path = folder / "up.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def origin(self) -> str:
        return f"https://localhost:{self.https_port}"

    @property
    def ca(self) -> Path:
        return self.folder / "certs" / "ca.crt"

    def start(self, timeout: float = 60) -> StackProcess:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pacsbox.cli", "up", "--listen", "127.0.0.1",
                 "--https-port", str(self.https_port), "--http-port", str(self.http_port)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while "pacsbox is up" not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pacsbox up did not come up:\n{self.log()}")
            time.sleep(0.1)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, **kwargs: object) -> httpx.Client:
        """An HTTPS client trusting only the wizard's CA."""
        return httpx.Client(base_url=self.origin, verify=ssl.create_default_context(cafile=str(self.ca)),
                            timeout=120, **kwargs)  # type: ignore[arg-type]

    def service_process(self, name: str) -> psutil.Process:
        """The `pacsbox serve NAME` child of this stack."""
        assert self.process is not None
        for child in psutil.Process(self.process.pid).children():
            if child.cmdline()[-5:-4] == [name]:
                return child
        raise LookupError(name)

    def token(self, *, can_edit: bool) -> str:
        """An access token of a new user, obtained as a user would: admin page API, then the exchange."""
        username = f"{'editor' if can_edit else 'viewer'}{time.monotonic_ns()}"
        with self.client() as http:
            issued = http.post("/auth/generate-token", json={
                "password": PASSWORD, "name": username, "username": username,
                "canEditResource": can_edit, "createUserIfNotExists": True,
            })
            assert issued.status_code == 200, issued.text
            exchanged = http.post("/auth/generate-access-token", headers={"Authorization": issued.json()["token"]})
            assert exchanged.status_code == 200, exchanged.text
            return exchanged.headers["Authorization"].removeprefix("Bearer ")

    def stop(self) -> int | None:
        """Ctrl-C, as a user stops it; returns the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
