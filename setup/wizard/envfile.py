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

__all__ = ["HEADER", "quote", "render", "setting_text"]

HEADER = (
    "# pacsbox settings, written by `pacsbox setup`; .env.example explains each one.\n"
    "# Variables set in the environment win over this file. It holds the admin password\n"
    "# hash: keep it mode 0600 and out of git.\n"
)

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


def render(existing: Mapping[str, str], answers: Mapping[str, str]) -> str:
    """The whole `.env` text.

    Args:
        existing: the values the file holds now (kept unless answered, unknown names too).
        answers: values the wizard sets.
    """
    known = Settings.variables()
    lines = [HEADER]
    for name, default in known.items():
        if name in answers:
            value = answers[name]
        elif name in existing:
            value = existing[name]
        else:
            value = setting_text(name, default)
        lines.append(f"{name}={quote(name, value)}\n")
    others = [name for name in existing if name not in known and name not in answers]
    if others:
        lines.append("\n# Not settings of this pacsbox version, kept as they were:\n")
        lines += [f"{name}={quote(name, existing[name])}\n" for name in others]
    return "".join(lines)
