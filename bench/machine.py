"""What the figures were measured on: cores, memory, CPU, versions of every server and tool, load."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psutil

__all__ = ["load", "machine"]


def _first_line(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "missing"
    text = (result.stdout or result.stderr).strip()
    return text.splitlines()[0] if text else "?"


def _cpu_model() -> str:
    match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    return match.group(1) if match else platform.processor()


def _pacsbox_source() -> tuple[str, str]:
    """The commit measured and its subject; outside a git checkout (an unpacked archive), the installed version."""
    try:
        result = subprocess.run(
            ["git", "-C", str(Path(__file__).parent), "log", "-1", "--format=%h%n%s"],
            capture_output=True, text=True, timeout=10,
        )
    except OSError:  # git is not installed
        result = None
    if result is not None and result.returncode == 0 and result.stdout.strip():
        commit, _, subject = result.stdout.strip().partition("\n")
        return commit, subject
    try:
        installed = f"version {version('pacsbox')}"
    except PackageNotFoundError:
        installed = "version unknown"
    return installed, "not a git checkout"


def load() -> list[float]:
    """1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def machine(data_dir: Path, versions: dict[str, str]) -> dict[str, Any]:
    commit, subject = _pacsbox_source()
    disk = psutil.disk_usage(str(data_dir))
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "pacsbox_commit": commit,
        "pacsbox_commit_subject": subject,
        **versions,
        "dcmtk": _first_line(["storescu", "--version"]).strip("$ ").removeprefix("dcmtk: "),
        "nginx": _first_line(["nginx", "-v"]),
        "curl": _first_line(["curl", "--version"]),
        "data_disk_free_gb": round(disk.free / 2**30, 1),
    }
