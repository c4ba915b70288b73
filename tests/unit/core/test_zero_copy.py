"""Bodies handed to the socket whole (`core.zero_copy`) under a real uvicorn, read by a real HTTP client."""

from __future__ import annotations

import errno
import http.client
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from pacsbox.core.zero_copy import SEND_FILES, with_file_sending
from tests.support.ports import free_port


@dataclass(frozen=True)
class Span:
    path: Path
    offset: int
    length: int


class FilesApp:
    """Answers GET /<name> with the body registered under that name, sent through `SEND_FILES`."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[bytes | Span]] = {}
        self.offered: list[bool] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        segments = self.bodies[scope["path"].lstrip("/")]
        send_files = (scope.get("extensions") or {}).get(SEND_FILES)
        self.offered.append(send_files is not None)
        length = sum(len(s) if isinstance(s, bytes) else s.length for s in segments)
        headers = [(b"content-type", b"application/octet-stream"), (b"content-length", str(length).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send_files(segments)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


@pytest.fixture()
def served() -> Iterator[tuple[FilesApp, int]]:
    app = FilesApp()
    port = free_port()
    config = uvicorn.Config(with_file_sending(app), host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield app, port
    server.should_exit = True
    thread.join(10)


def _file(folder: Path, name: str, size: int) -> Path:
    path = folder / name
    path.write_bytes(os.urandom(size))
    return path


def _get(port: int, path: str) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    return response, response.read()


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_body_of_literals_and_file_spans_arrives_exactly_on_a_kept_alive_connection(
    served: tuple[FilesApp, int], tmp_path: Path
) -> None:
    app, port = served
    first, second = _file(tmp_path, "a", 3 << 20), _file(tmp_path, "b", 100_000)
    app.bodies["mixed"] = [b"--head\r\n", Span(first, 0, 3 << 20), b"\r\n--middle\r\n", Span(second, 1000, 5000), b"--end"]
    expected = b"--head\r\n" + first.read_bytes() + b"\r\n--middle\r\n" + second.read_bytes()[1000:6000] + b"--end"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(2):  # the second request reuses the connection: the first response ended where it said
        connection.request("GET", "/mixed")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("content-length") == str(len(expected))
        assert response.read() == expected
    assert app.offered == [True, True]


def test_a_client_reading_slowly_gets_the_whole_body(served: tuple[FilesApp, int], tmp_path: Path) -> None:
    app, port = served
    path = _file(tmp_path, "big", 8 << 20)
    app.bodies["big"] = [b"start", Span(path, 0, 8 << 20)]
    expected = b"start" + path.read_bytes()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the server's socket fills and must wait
    sock.connect(("127.0.0.1", port))
    # two requests sent at once on one connection: the second answer follows the first, byte for byte
    sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n" * 2)
    time.sleep(0.5)
    received = bytearray()
    while received.count(expected[-64:]) < 2:
        time.sleep(0.0005)
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection after {len(received)} bytes"
        received += chunk
    sock.close()
    first, second = bytes(received).split(b"HTTP/1.1 200 OK")[1:]
    assert first.partition(b"\r\n\r\n")[2] == expected
    assert second.partition(b"\r\n\r\n")[2] == expected


def test_a_client_gone_mid_body_leaves_the_server_serving_and_no_descriptor_open(
    served: tuple[FilesApp, int], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app, port = served
    path = _file(tmp_path, "big", 32 << 20)
    app.bodies["big"] = [Span(path, 0, 32 << 20)]
    app.bodies["small"] = [b"still here"]
    _get(port, "/small")
    before = _open_descriptors()
    for _ in range(5):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset
        sock.close()
    response, body = _get(port, "/small")
    assert (response.status, body) == (200, b"still here")
    deadline = time.monotonic() + 5
    while _open_descriptors() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _open_descriptors() <= before
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]  # a client leaving is no error


def test_a_file_shorter_than_its_span_ends_the_connection_short_instead_of_padding_it(
    served: tuple[FilesApp, int], tmp_path: Path
) -> None:
    app, port = served
    path = _file(tmp_path, "shrunk", 10_000)
    app.bodies["shrunk"] = [b"head", Span(path, 0, 20_000)]
    app.bodies["small"] = [b"still here"]
    with pytest.raises(http.client.IncompleteRead) as error:
        _get(port, "/shrunk")
    assert error.value.partial == b"head" + path.read_bytes()
    assert _get(port, "/small")[1] == b"still here"


def test_a_file_system_refusing_sendfile_still_gets_the_body_sent_exactly(
    served: tuple[FilesApp, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some FUSE mounts answer sendfile with EINVAL; their files are read and sent instead."""

    def refused(*_: Any) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(os, "sendfile", refused)
    app, port = served
    path = _file(tmp_path, "fuse", 5 << 20)
    app.bodies["fuse"] = [b"head", Span(path, 100, (5 << 20) - 100), b"tail"]
    response, body = _get(port, "/fuse")
    assert response.status == 200
    assert body == b"head" + path.read_bytes()[100:] + b"tail"
