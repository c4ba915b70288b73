"""The wizard as tests use it: a configuration folder, Answers with defaults, `pacsbox setup` as a process."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from pacsbox.core.settings import Settings
from pacsbox.wizard.answers import Answers, JwtAlgorithm, Subject
from pacsbox.wizard.files import Layout

__all__ = ["PASSWORD", "answers", "clean_env", "copy_config", "layout", "run_setup", "snapshot"]

PASSWORD = "Correct-Horse-42-battery"
"""An admin password the strength check accepts."""


def answers(**changes: Any) -> Answers:
    """Answers as a first non-interactive run would give them, with `changes` applied."""
    base = Answers(
        admin_password=PASSWORD,
        password_generated=False,
        subject=Subject("PL", "Wroclaw", "Clinic"),
        names=("localhost", "127.0.0.1", "::1", "pacs.clinic.test", "192.168.1.50"),
        public_url="https://localhost",
        https_port=443,
        url_prefix="/zhiva",
        allowed_origins=(),
        dicom_aet="PACSBOX",
        dicom_port=4242,
        jwt_algorithm=JwtAlgorithm.RS256,
    )
    return dataclasses.replace(base, **changes)


def layout(folder: Path) -> Layout:
    return Layout.from_settings(Settings.load({"PACSBOX_CONFIG_DIR": str(folder)}))


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file under `folder`: (content, mode, mtime_ns)."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def copy_config(source: Path, target: Path) -> Path:
    """A copy of a configured folder, modes kept, so each test changes its own."""
    shutil.copytree(source, target, copy_function=shutil.copy2)
    return target


def clean_env(folder: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any PACSBOX_ variable, pointed at `folder`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACSBOX_")}
    return {**env, "PACSBOX_CONFIG_DIR": str(folder), **extra}


def run_setup(folder: Path, *args: str, input: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """`pacsbox setup ARGS` on `folder`, without a terminal (standard input is `input`, or empty)."""
    return subprocess.run(
        [sys.executable, "-m", "pacsbox.cli", "setup", *args],
        env=clean_env(folder, **env), input=input or "", capture_output=True, text=True, timeout=120, check=False,
    )
