"""A throwaway nginx in the foreground with its own prefix folder, on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.ports import free_port

__all__ = ["NGINX", "run_nginx"]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """\
worker_processes {workers};
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
    server {{
        listen 127.0.0.1:{port}{tls}
{locations}
    }}
}}
"""


@contextmanager
def run_nginx(prefix: Path, locations: str, tls: tuple[Path, Path] | None = None, workers: int = 1) -> Iterator[int]:
    """nginx serving the given `location` blocks, over HTTPS with `tls` = (certificate, key), else plain HTTP.

    Yields its port.

    Raises:
        RuntimeError: nginx is missing, exits, or does not listen within 10 s.
    """
    if not Path(NGINX).exists():
        raise RuntimeError("nginx is not installed: make debian-test-tools installs it")
    port = free_port()
    prefix.mkdir(parents=True, exist_ok=True)
    config = prefix / "nginx.conf"
    listen = (f" ssl;\n        ssl_certificate {tls[0]};\n        ssl_certificate_key {tls[1]};\n"
              "        ssl_protocols TLSv1.2 TLSv1.3;") if tls else ";"
    config.write_text(CONFIG.format(prefix=prefix, port=port, tls=listen, locations=locations, workers=workers))
    process = subprocess.Popen([NGINX, "-e", "stderr", "-p", str(prefix), "-c", str(config), "-g", "daemon off;"],
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited: {process.stderr.read() if process.stderr else ''}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not listen within 10 s") from None
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
