"""A real browser for page tests: Debian's chromium driven by Playwright (no downloaded browser)."""

from __future__ import annotations

import shutil

__all__ = ["CHROMIUM_ARGS", "chromium_path"]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("chromium not found: install Debian's chromium package (make test does)")
    return path
