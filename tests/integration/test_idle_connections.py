"""A kept-alive connection left idle longer than a client's own keep-alive is still served, not reset."""

from __future__ import annotations

import http.client
import time

from tests.support.servers import ServiceProcess


def _health(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/healthz")
    answer = connection.getresponse()
    answer.read()
    return answer.status


def test_a_connection_idle_for_six_seconds_is_still_served(pacs: ServiceProcess) -> None:
    """httpx keeps an idle connection 5 s, nginx's upstream ones 60 s: the service must not close one first
    (http.client sends on the same connection and does not retry on a new one)."""
    connection = http.client.HTTPConnection("127.0.0.1", pacs.port, timeout=10)
    try:
        assert _health(connection) == 200
        time.sleep(6)
        assert _health(connection) == 200
    finally:
        connection.close()
