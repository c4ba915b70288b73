"""A throw-away PostgreSQL server in a temporary folder, for the PostgreSQL pass of `make test`.

Uses the machine's `initdb` and `pg_ctl` (Debian's `postgresql` package). The
server refuses to run as root, so as root it runs as the `postgres` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from tests.support.ports import free_port

__all__ = ["TemporaryPostgres"]


def _tool(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if not found:
        raise RuntimeError(f"{name} not found: install Debian's postgresql package")
    return str(found)


class TemporaryPostgres:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="pacsbox-pg-"))
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            user = "postgres"
            pwd.getpwnam(user)
            shutil.chown(self.folder, user)
            self._as_user = ["runuser", "-u", user, "--"]

    def _run(self, *command: str) -> None:
        subprocess.run([*self._as_user, *command], check=True, capture_output=True, cwd=self.folder)

    def start(self) -> None:
        data = self.folder / "data"
        self._run(_tool("initdb"), "-D", str(data), "-U", "pacsbox", "--auth=trust", "-E", "UTF8")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c max_connections=400"
        self._run(_tool("pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = "pacsbox_" + uuid.uuid4().hex[:12]
        self._run(_tool("psql") if shutil.which("psql") else "psql", "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "pacsbox", "-d", "postgres", "-c", f"CREATE DATABASE {name}")
        return f"postgresql://pacsbox@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run([*self._as_user, _tool("pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"],
                       capture_output=True, cwd=self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)
