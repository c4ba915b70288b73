"""A real nginx for tests: foreground, its own prefix folder, one loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["nginx_config", "running_nginx"]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

MAIN = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    proxy_max_temp_file_size 0;  # workers run as nobody and cannot write under the test's folder
{servers}
}}
"""


def nginx_config(prefix: Path, servers: str) -> str:
    """A whole nginx.conf around `servers` (server blocks), with every temporary path under `prefix`."""
    return MAIN.format(prefix=prefix, servers=servers)


@contextmanager
def running_nginx(prefix: Path, config: str, port: int) -> Iterator[None]:
    """nginx with `config` until the block ends; fails the test unless it listens on `port` within 10 s."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed: make debian-test-tools installs it")
    (prefix / "nginx.conf").write_text(config)
    process = subprocess.Popen([NGINX, "-e", "stderr", "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                                "-g", "daemon off;"], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"nginx exited: {process.stderr.read() if process.stderr else ''}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("nginx did not listen within 10 s")
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)
