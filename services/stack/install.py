"""nginx for the native run: the one on the PATH, else Debian's package installed when we may."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pacsbox.core.errors import SettingsError

__all__ = ["find_nginx"]

_LOCATIONS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
_POLICY = Path("/usr/sbin/policy-rc.d")


def _located() -> str | None:
    return shutil.which("nginx") or next((path for path in _LOCATIONS if os.access(path, os.X_OK)), None)


def _apt_install(package: str) -> None:
    """`apt-get install` without letting the package start the system's own nginx on port 80."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    placed = not _POLICY.exists()
    if placed:
        _POLICY.write_text("#!/bin/sh\n# pacsbox: no service starts while it installs nginx\nexit 101\n")
        _POLICY.chmod(0o755)
    try:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package], env=env, check=True)
    finally:
        if placed:
            _POLICY.unlink(missing_ok=True)


def find_nginx(install: bool = True) -> str:
    """The nginx binary, installing Debian's `nginx` package when it is missing and we are root on Debian.

    Raises:
        SettingsError: nginx is missing and cannot be installed here; the message says how to.
    """
    found = _located()
    if found:
        return found
    can_install = install and os.geteuid() == 0 and shutil.which("apt-get") is not None
    if can_install:
        print("pacsbox: nginx is missing; installing Debian's nginx package", flush=True)
        try:
            _apt_install("nginx")
        except subprocess.CalledProcessError as error:
            raise SettingsError(f"installing nginx failed ({error}); install it yourself and start again") from None
        found = _located()
        if found:
            return found
    raise SettingsError(
        "nginx is not installed: install it (Debian/Ubuntu: `sudo apt-get install nginx`, "
        "Fedora: `sudo dnf install nginx`, macOS: `brew install nginx`) and start again"
    )
