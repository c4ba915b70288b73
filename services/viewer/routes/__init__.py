"""Every route of the viewer service, one module per URL group."""

from __future__ import annotations

from typing import Any

__all__ = ["VIEWER_ROUTES"]

VIEWER_ROUTES: list[Any] = []
"""The controllers and handlers `create_app` registers."""
