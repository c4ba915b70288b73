"""nginx in front of the stack speaks TLS 1.2 and 1.3 only, HTTP/2, and sends plain HTTP to HTTPS."""

from __future__ import annotations

import ssl
import warnings

import httpx
import pytest

from tests.support.stack import StackProcess
from tests.support.tls import client_context, handshake


@pytest.mark.parametrize(("version", "name"), [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")])
def test_tls_12_and_13_accepted_with_the_wizards_ca(stack: StackProcess, version: ssl.TLSVersion, name: str) -> None:
    request = b"GET /zhiva/app/explorer.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    negotiated, reply = handshake(stack.https_port, "localhost", client_context(stack.ca, version), request)
    assert negotiated == name
    assert reply.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("old", ["TLSv1", "TLSv1_1"])
def test_tls_10_and_11_refused(stack: StackProcess, old: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context = client_context(stack.ca, getattr(ssl.TLSVersion, old))
    with pytest.raises(ssl.SSLError) as refused:
        handshake(stack.https_port, "localhost", context)
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION"


def test_http2_offered(stack: StackProcess) -> None:
    context = client_context(stack.ca)
    context.set_alpn_protocols(["h2", "http/1.1"])
    import socket

    with socket.create_connection(("127.0.0.1", stack.https_port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        assert tls.selected_alpn_protocol() == "h2"


def test_plain_http_redirects_to_https(stack: StackProcess) -> None:
    answer = httpx.get(f"http://127.0.0.1:{stack.http_port}/zhiva/pacs/studies?PatientID=7")
    assert answer.status_code == 301
    assert answer.headers["location"] == f"https://127.0.0.1:{stack.https_port}/zhiva/pacs/studies?PatientID=7"


def test_no_hsts_by_default(stack: StackProcess) -> None:
    with stack.client() as http:
        assert "strict-transport-security" not in http.get("/zhiva/app/explorer.html").headers
