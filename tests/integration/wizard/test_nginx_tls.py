"""A real nginx serving HTTPS with the wizard's key and certificate: TLS 1.2 and 1.3, never 1.0 or 1.1.

The configuration here is the smallest that exercises the files; the stack's
own nginx template is tested with the stack.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.tls import client_context, handshake
from tests.support.wizard import layout, run_setup

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

CONFIG = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{ return 200 "pacsbox\\n"; }}
    }}
}}
"""


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("config")
    result = run_setup(folder, "--non-interactive", "--generate-admin-password", "--hostname", "localhost",
                       "--hostname", "127.0.0.1", "--hostname", "pacs.clinic.test")
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def nginx(certs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """nginx in the foreground with its own prefix, on a free loopback port."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed: make debian-test-tools installs it")
    prefix = tmp_path_factory.mktemp("nginx")
    port = free_port()
    files = layout(certs)
    (prefix / "nginx.conf").write_text(CONFIG.format(prefix=prefix, port=port, cert=files.server_crt, key=files.server_key))
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
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(("version", "name"), [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")])
@pytest.mark.parametrize("host", ["localhost", "pacs.clinic.test", "127.0.0.1"])
def test_nginx_serves_tls_12_and_13_with_a_verified_chain(certs: Path, nginx: int, version: ssl.TLSVersion, name: str, host: str) -> None:
    request = f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    negotiated, reply = handshake(nginx, host, client_context(layout(certs).ca_crt, version), request)
    assert negotiated == name
    assert reply.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("old", ["TLSv1", "TLSv1_1"])
def test_nginx_refuses_tls_10_and_11(certs: Path, nginx: int, old: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context = client_context(layout(certs).ca_crt, getattr(ssl.TLSVersion, old))
    with pytest.raises(ssl.SSLError) as refused:
        handshake(nginx, "localhost", context)
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION"  # the server's alert, not a client-side refusal
