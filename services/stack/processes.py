"""Child processes of `pacsbox up`: started in their own session, their output merged into one
stream with each line prefixed by the child's name, stopped in reverse order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

import httpx

__all__ = ["Child", "Output"]


class Output:
    """One stream (standard output) that several children write whole lines to."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout
        self.lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        with self.lock:
            self.stream.write(f"{name:<6} | {text}\n")
            self.stream.flush()

    def pump(self, name: str, pipe: IO[bytes]) -> threading.Thread:
        """Copy `pipe` line by line until it closes."""

        def copy() -> None:
            for raw in iter(pipe.readline, b""):
                self.line(name, raw.decode(errors="replace").rstrip("\n"))
            pipe.close()

        thread = threading.Thread(target=copy, name=f"log-{name}", daemon=True)
        thread.start()
        return thread


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    env: dict[str, str]
    health_url: str | None = None
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen[bytes] | None = None
    pumps: list[threading.Thread] = field(default_factory=list)

    def start(self, output: Output) -> None:
        # A session of its own: Ctrl-C reaches `pacsbox up` alone, which then stops the children in order.
        self.process = subprocess.Popen(
            list(self.argv), env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        assert self.process.stdout is not None
        self.pumps.append(output.pump(self.name, self.process.stdout))

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def wait_healthy(self, timeout: float, stopping: threading.Event) -> bool:
        """Until `/healthz` answers 200; False when the child exits, time runs out or we are stopping."""
        if self.health_url is None:
            return self.exited() is None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stopping.is_set():
            if self.exited() is not None:
                return False
            try:
                if httpx.get(self.health_url, timeout=2).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            stopping.wait(0.2)
        return False

    def stop(self, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.kill(self.process.pid, self.stop_signal)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        except ProcessLookupError:
            pass
        for pump in self.pumps:
            pump.join(timeout=2)
