"""The `.env` file: every `PACSBOX_*` setting, the user's values kept, the wizard's answers written in.

The text is a pure function of the values, so writing the same values twice
gives the same bytes. Values holding `$`, spaces, `#` or quotes are single-quoted:
docker compose then takes them literally, and `read_dotenv` removes the quotes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pacsbox.core.errors import SettingsError
from pacsbox.core.settings import Settings

__all__ = ["HEADER", "merge", "quote", "render", "setting_text", "written_settings"]

HEADER = (
    "# pacsbox settings, written by `pacsbox setup`; .env.example explains each one.\n"
    "# Variables set in the environment win over this file; PACSBOX_CONFIG_DIR, which says\n"
    "# where this file is, is read from the environment only. It holds the admin password\n"
    "# hash: keep it mode 0600 and out of git.\n"
)

_LOCATED_BY_ENVIRONMENT = "PACSBOX_CONFIG_DIR"

_PLAIN = re.compile(r"[A-Za-z0-9_./:,@+=*-]*")
_UNITS = (("g", 1024**3), ("m", 1024**2), ("k", 1024))


def setting_text(name: str, value: Any) -> str:
    """A default from `Settings` as `.env` text (sizes with nginx's k/m/g suffixes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, int) and name.endswith("_SIZE") and value:
        for suffix, unit in _UNITS:
            if value % unit == 0:
                return f"{value // unit}{suffix}"
    return str(value)


def quote(name: str, value: str) -> str:
    """`value` as it must appear after `NAME=`."""
    if "\n" in value or "\r" in value:
        raise SettingsError(f"{name}: a value cannot span lines")
    if _PLAIN.fullmatch(value):
        return value
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value and "$" not in value and "\\" not in value:
        return f'"{value}"'
    raise SettingsError(f"{name}={value!r}: cannot be written to .env (mixes quotes with $ or \\)")


def written_settings() -> dict[str, Any]:
    """Every setting `.env` holds, with its default: all of `Settings` but the config folder itself."""
    return {name: default for name, default in Settings.variables().items() if name != _LOCATED_BY_ENVIRONMENT}


def merge(existing: Mapping[str, str], answers: Mapping[str, str]) -> dict[str, str]:
    """The values `.env` must hold, in settings order.

    Args:
        existing: the values the file holds now, kept unless answered (names this
            version does not know too, at the end).
        answers: values the wizard sets.
    """
    known = written_settings()
    values = {
        name: answers[name] if name in answers else existing[name] if name in existing else setting_text(name, default)
        for name, default in known.items()
    }
    values.update((name, value) for name, value in existing.items() if name not in known)
    return values


def render(values: Mapping[str, str]) -> str:
    """The whole `.env` text for `values` (as `merge` orders them)."""
    known = written_settings()
    lines = [HEADER]
    lines += [f"{name}={quote(name, value)}\n" for name, value in values.items() if name in known]
    others = [name for name in values if name not in known]
    if others:
        lines.append("\n# Not settings of this pacsbox version, kept as they were:\n")
        lines += [f"{name}={quote(name, values[name])}\n" for name in others]
    return "".join(lines)
