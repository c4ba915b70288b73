"""A real nginx serving HTTPS with the wizard's key and certificate: TLS 1.2 and 1.3, never 1.0 or 1.1.

The configuration here is the smallest that exercises the files; the stack's
own nginx template is tested with the stack.
"""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.nginx import run_nginx
from tests.support.tls import client_context, handshake
from tests.support.wizard import layout, run_setup


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("config")
    result = run_setup(folder, "--non-interactive", "--generate-admin-password", "--hostname", "localhost",
                       "--hostname", "127.0.0.1", "--hostname", "pacs.clinic.test")
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def nginx(certs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    files = layout(certs)
    with run_nginx(tmp_path_factory.mktemp("nginx"), '        location / { return 200 "pacsbox\\n"; }',
                   (files.server_crt, files.server_key)) as port:
        yield port


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
