"""Requests made by curl, so that the client is C on both sides and never the bottleneck.

Many requests go through one curl process (a config file with `next` between
them), which keeps the connection open as a real client would; `-w` reports
each request's own status, time and size. Bodies are streamed from their files
(`upload-file` with `request = POST`, Content-Length from the file's size), as
an uploading client streams them: with `data-binary @file` curl first read the
whole body into fresh memory, and a quarter of a CT series (37 MB) cost it
about 10,000 page faults and 0.95 ms of CPU per slice against 0.38 ms
streamed (Dec 6 2026, either server), CPU the two cores then lacked for the
server being measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Answer", "Target", "count_matches", "get_many", "post_files", "stow", "stow_body"]


@dataclass(frozen=True)
class Target:
    """One server as the scenarios see it."""

    name: str
    rest: str
    """Base URL of the Orthanc-style REST API (`POST /instances`)."""
    dicomweb: str
    """DICOMweb root (`.../studies`)."""
    pid: int
    """The server process, for its memory."""
    dicom: tuple[str, int] | None = None
    """(AE title, port) of its C-STORE SCP on loopback; None when it has none."""
    curl_options: tuple[str, ...] = field(default=())
    """Extra curl config lines for every request (CA file, Authorization header)."""


@dataclass(frozen=True)
class Answer:
    status: int
    seconds: float
    size: int


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _run(
    target: Target, requests: list[list[tuple[str, str]]], ok: tuple[int, ...], output: str = "/dev/null"
) -> tuple[list[Answer], float]:
    """Send `requests` (lists of curl config options) in one curl, bodies to `output`; (answers, wall seconds)."""
    lines: list[str] = []
    for i, options in enumerate(requests):
        if i:
            lines.append("next")
        lines += [f"{key} = {_quoted(value)}" for key, value in options]
        lines += [f"output = {_quoted(output)}", 'write-out = "%{http_code} %{time_total} %{size_download}\\n"']
        lines += list(target.curl_options)
    with tempfile.NamedTemporaryFile("w", suffix=".curl") as config:
        config.write("\n".join(lines) + "\n")
        config.flush()
        start = time.perf_counter()
        out = subprocess.run(["curl", "-s", "-K", config.name], capture_output=True, text=True, check=True).stdout
        wall = time.perf_counter() - start
    answers = [Answer(int(s), float(t), int(n)) for s, t, n in (line.split() for line in out.splitlines())]
    bad = [a.status for a in answers if a.status not in ok]
    if bad or len(answers) != len(requests):
        raise RuntimeError(f"{target.name}: {len(bad)} of {len(requests)} requests failed (HTTP {sorted(set(bad))})")
    return answers, wall


def get_many(target: Target, urls: list[str], accept: str, ok: tuple[int, ...] = (200,)) -> list[Answer]:
    """GET each URL once, in order, on one kept-alive connection."""
    return _run(target, [[("url", u), ("header", f"Accept: {accept}")] for u in urls], ok)[0]


def count_matches(target: Target, url: str) -> int:
    """How many results a QIDO-RS URL answers (0 for 204 No Content), asked as the target's clients ask."""
    with tempfile.NamedTemporaryFile(suffix=".json") as body:
        _run(target, [[("url", url), ("header", "Accept: application/dicom+json")]], (200, 204), body.name)
        text = Path(body.name).read_bytes()
    return len(json.loads(text)) if text.strip() else 0


def _streamed(body: Path) -> list[tuple[str, str]]:
    """curl options POSTing the file at `body` as the request's body, read as it is sent."""
    return [("upload-file", str(body)), ("request", "POST")]


def post_files(target: Target, url: str, files: list[Path], content_type: str) -> tuple[list[Answer], float]:
    """POST each file as the whole body of its own request, one after the other; (answers, wall seconds)."""
    requests = [[("url", url), *_streamed(f), ("header", f"Content-Type: {content_type}"), ("header", "Expect:")]
                for f in files]
    return _run(target, requests, (200,))


BOUNDARY = "pacsbox-bench-7d1c2e"
STOW_TYPE = f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'


def stow_body(files: list[Path], path: Path) -> Path:
    """Write the multipart/related body of a STOW-RS request holding `files`.

    Flushed to disk before it is sent: otherwise the kernel writes it back while
    the server is measured, and the server's own fsyncs wait behind it.
    """
    with path.open("wb") as out:
        for f in files:
            out.write(f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode())
            out.write(f.read_bytes())
            out.write(b"\r\n")
        out.write(f"--{BOUNDARY}--\r\n".encode())
        out.flush()
        os.fsync(out.fileno())
    return path


def _failure_reasons(answer: bytes) -> Counter[str]:
    """The FailureReason (0008,1197) of each item of a STOW-RS answer's FailedSOPSequence (0008,1198), counted."""
    failed = json.loads(answer).get("00081198", {}).get("Value", []) if answer.strip() else []
    reasons: Counter[str] = Counter()
    for item in failed:
        values = item.get("00081197", {}).get("Value", [])
        reasons[f"0x{values[0]:04X}" if values and isinstance(values[0], int) else "(none given)"] += 1
    return reasons


def stow(target: Target, body: Path) -> Answer:
    """One STOW-RS request to `{dicomweb}/studies` with a prepared body.

    Raises:
        RuntimeError: the server answered 200 yet listed instances it did not store (FailedSOPSequence).
    """
    requests = [[("url", f"{target.dicomweb}/studies"), *_streamed(body),
                 ("header", f"Content-Type: {STOW_TYPE}"), ("header", "Accept: application/dicom+json"),
                 ("header", "Expect:")]]
    with tempfile.NamedTemporaryFile(suffix=".json") as answer:
        result = _run(target, requests, (200,), answer.name)[0][0]
        reasons = _failure_reasons(Path(answer.name).read_bytes())
    if reasons:
        listed = ", ".join(f"{count} x {reason}" for reason, count in reasons.most_common())
        raise RuntimeError(f"{target.name} did not store {reasons.total()} instance(s) of {body.name}: "
                           f"FailureReason {listed}")
    return result
