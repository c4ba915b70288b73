"""Connections of one listening socket shared between processes (`core.shared_accept`), on real sockets."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from pacsbox.core import shared_accept
from pacsbox.core.shared_accept import ConnectionCounts, ConnectionShare, SharedAcceptor
from tests.support import aio


def test_each_process_sees_the_counts_the_others_publish_after_the_fork() -> None:
    counts = ConnectionCounts(2)
    child = os.fork()
    if child == 0:
        counts.share(1).publish(3)
        os._exit(0)
    os.waitpid(child, 0)
    primary = counts.share(0)
    assert not primary.others_hold_fewer(3) and primary.others_hold_fewer(4)
    counts.share(1).ended()  # an ended process is never the one holding fewer
    assert not primary.others_hold_fewer(1 << 30)
    with pytest.raises(ValueError, match="slot 2 of 2"):
        counts.share(2)


class Recorded(asyncio.Protocol):
    def __init__(self, made: list[str], name: str) -> None:
        self.made, self.name = made, name

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made.append(self.name)


def _accepting(
    listener: socket.socket, counts: ConnectionCounts, slot: int, held: int, made: list[str]
) -> SharedAcceptor:
    """An acceptor for process `slot` holding `held` connections, on its own descriptor of the shared socket."""
    own = socket.socket(fileno=os.dup(listener.fileno()))
    own.setblocking(False)
    protocol: Callable[[], asyncio.Protocol] = lambda: Recorded(made, f"process {slot}")  # noqa: E731
    return SharedAcceptor(own, counts.share(slot), protocol, lambda: held)


async def _first_connection(made: list[str], address: tuple[str, int], timeout: float) -> tuple[str, float]:
    """Who took a new connection, and after how long."""
    started = time.monotonic()
    client = socket.create_connection(address)
    try:
        while not made and time.monotonic() - started < timeout:
            await asyncio.sleep(0.005)
        return (made[0] if made else "nobody"), time.monotonic() - started
    finally:
        client.close()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setblocking(False)
    yield sock
    sock.close()


def test_a_process_holding_more_leaves_a_new_connection_to_one_holding_fewer(listener: socket.socket) -> None:
    async def run() -> str:
        counts, made = ConnectionCounts(2), []
        busy = _accepting(listener, counts, 0, held=2, made=made)  # registered first: the first to see it
        idle = _accepting(listener, counts, 1, held=0, made=made)
        try:
            taker, _ = await _first_connection(made, listener.getsockname(), 5)
            return taker
        finally:
            busy.close()
            idle.close()

    assert aio.run(run()) == "process 1"


def _taken_beside(listener: socket.socket, other: Callable[[ConnectionShare], None], timeout: float) -> tuple[str, float]:
    """Who took a new connection, and after how long, when process 0 (holding two) accepts and process 1, set up
    by `other`, does not."""

    async def run() -> tuple[str, float]:
        counts, made = ConnectionCounts(2), []
        other(counts.share(1))
        busy = _accepting(listener, counts, 0, held=2, made=made)
        try:
            return await _first_connection(made, listener.getsockname(), timeout)
        finally:
            busy.close()

    return aio.run(run())


def test_a_connection_left_to_a_process_that_does_not_take_it_is_taken_after_defer(
    listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process holding fewer is stuck (or has not started accepting): the connection still gets served."""
    monkeypatch.setattr(shared_accept, "DEFER", 0.3)
    taker, after = _taken_beside(listener, lambda idle: idle.publish(0), 5)
    assert taker == "process 0" and after >= 0.3


def test_a_process_that_has_ended_is_not_waited_for(listener: socket.socket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_accept, "DEFER", 30)
    taker, after = _taken_beside(listener, ConnectionShare.ended, 10)
    assert taker == "process 0" and after < 10


def test_a_process_that_has_stopped_accepting_is_not_waited_for(
    listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process shutting down holds no connection, but closing its acceptor tells the others to take them."""
    monkeypatch.setattr(shared_accept, "DEFER", 30)
    taker, after = _taken_beside(listener, lambda share: _closed_acceptor(listener, share), 10)
    assert taker == "process 0" and after < 10


def _closed_acceptor(listener: socket.socket, share: ConnectionShare) -> None:
    own = socket.socket(fileno=os.dup(listener.fileno()))
    SharedAcceptor(own, share, asyncio.Protocol, lambda: 0).close()
    own.close()


class OutOfDescriptorsOnce(socket.socket):
    """A listening socket whose first accept fails as a process without free descriptors sees it."""

    failed = False

    def accept(self) -> tuple[socket.socket, object]:
        if not self.failed:
            self.failed = True
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))
        return super().accept()


def test_out_of_descriptors_pauses_accepting_says_why_and_then_serves(
    listener: socket.socket, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(shared_accept, "_RETRY_AFTER", 0.2)

    async def run() -> tuple[str, float]:
        made: list[str] = []
        own = OutOfDescriptorsOnce(fileno=os.dup(listener.fileno()))
        own.setblocking(False)
        acceptor = SharedAcceptor(own, ConnectionCounts(1).share(0), lambda: Recorded(made, "process 0"), lambda: 0)
        try:
            return await _first_connection(made, listener.getsockname(), 5)
        finally:
            acceptor.close()
            own.close()

    with caplog.at_level(logging.ERROR, logger="pacsbox.core.shared_accept"):
        taker, after = aio.run(run())
    assert taker == "process 0" and after >= 0.2
    assert "cannot accept connections" in caplog.text and "Too many open files" in caplog.text
