"""The Accept header of a DICOMweb request, read tolerantly (RFC 9110 12.5.1, PS3.18 8.7).

Clients write the same wish many ways: `multipart/related; type="application/dicom"`
or with the type unquoted, `transfer-syntax=*`, several Accept headers or
several values merged with commas (commas inside quoted values do not split),
`q` weights. `accepted` turns all of that into `MediaRange`s, best first;
each resource then picks the first range it can satisfy and answers 406
naming what was asked when none fits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pacsbox.core.errors import NotAcceptable

__all__ = ["MULTIPART", "MediaRange", "accepted", "not_acceptable"]

MULTIPART = "multipart/related"

_PARAM = re.compile(r'\s*;\s*([^=;\s]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*)))?')


@dataclass(frozen=True)
class MediaRange:
    """One acceptable media type with its parameters (names lower-cased, values unquoted)."""

    type: str
    params: dict[str, str] = field(default_factory=dict)
    q: float = 1.0

    @property
    def multipart(self) -> bool | None:
        """True: only a multipart body will do; False: only a single part; None: either (`*/*`)."""
        if self.type in (MULTIPART, "multipart/*"):
            return True
        return None if self.type == "*/*" else False

    @property
    def part_type(self) -> str:
        """The media type of the body (single part) or of each part (the `type` parameter of multipart)."""
        if self.multipart:
            return self.params.get("type", "*/*").strip().lower() or "*/*"
        return self.type

    @property
    def transfer_syntax(self) -> str | None:
        """`*`, a UID, or None when the client left it to the media type's default."""
        value = self.params.get("transfer-syntax", "").strip()
        return value or None

    def allows(self, media_type: str) -> bool:
        """Whether `media_type` fits the part type, wildcards (`image/*`, `*/*`) included."""
        wanted = self.part_type
        if wanted in ("*/*", "*"):
            return True
        kind, _, sub = wanted.partition("/")
        target_kind, _, target_sub = media_type.lower().partition("/")
        return kind == target_kind and sub in ("*", target_sub)

    def __str__(self) -> str:
        params = "".join(f"; {k}={v}" for k, v in self.params.items())
        return f"{self.type}{params}"


def _split(header: str) -> list[str]:
    """Split on commas outside quoted strings."""
    items, current, quoted, escaped = [], [], False, False
    for char in header:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _parse(item: str) -> MediaRange | None:
    media, _, rest = item.partition(";")
    media = media.strip().lower()
    if "/" not in media:
        return None
    params: dict[str, str] = {}
    q = 1.0
    for match in _PARAM.finditer(";" + rest):
        name, quoted, bare = match.group(1).lower(), match.group(2), match.group(3)
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else (bare or "").strip()
        if name != "q":
            params[name] = value
            continue
        try:
            q = float(value)
        except ValueError:
            return None
    return MediaRange(media, params, q)


def accepted(headers: Iterable[str]) -> list[MediaRange]:
    """Every acceptable range in the Accept headers, best (highest q) first, in order of mention.

    No Accept header, or one holding nothing readable, means `*/*`. Ranges
    with q=0 are dropped.
    """
    ranges = [r for header in headers for item in _split(header) if (r := _parse(item)) is not None]
    if not ranges:
        return [MediaRange("*/*")]
    return sorted((r for r in ranges if r.q > 0), key=lambda r: -r.q)


def not_acceptable(ranges: list[MediaRange], what: str) -> NotAcceptable:
    """The 406 naming what was asked and what the resource offers."""
    asked = ", ".join(str(r) for r in ranges) or "nothing"
    return NotAcceptable(f"Accept ({asked}) allows no representation of {what}")
