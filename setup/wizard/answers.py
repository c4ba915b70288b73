"""What the wizard needs to know, and the rules every answer must follow.

Flags, environment variables and the interactive prompts all fill the same
`Answers`; each parser below raises `AnswerError` naming the answer at fault,
so a typo fails the same way whichever door it came through.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

__all__ = [
    "AnswerError",
    "Answers",
    "JwtAlgorithm",
    "Subject",
    "parse_aet",
    "parse_country",
    "parse_name",
    "parse_names",
    "parse_origin",
    "parse_origins",
    "parse_port",
    "parse_public_url",
    "parse_url_prefix",
    "public_url_for",
]


class AnswerError(ValueError):
    """An answer is missing or malformed; the message names it (the command exits 2)."""


class JwtAlgorithm(StrEnum):
    """Token signing algorithm, which fixes the JWT key type (`PACSBOX_JWT_ALGORITHM`)."""

    RS256 = "RS256"
    """RSA 3072 (the default: every JWT library verifies it)."""
    ES256 = "ES256"
    """ECDSA P-256 (smaller tokens and keys)."""


@dataclass(frozen=True)
class Subject:
    """Organisation details written into the certificates' subject (each may be empty)."""

    country: str = ""
    locality: str = ""
    organization: str = "pacsbox"


@dataclass(frozen=True)
class Answers:
    """Everything `apply` needs; nothing in here is read from a terminal by `apply` itself."""

    admin_password: str | None
    """The new admin password, or None to keep the hash already in `.env`."""
    password_generated: bool
    """The password was generated here and must be shown once."""
    subject: Subject
    names: tuple[str, ...]
    """DNS names and IP addresses the server certificate covers (normalised, no duplicates)."""
    public_url: str
    https_port: int
    url_prefix: str
    allowed_origins: tuple[str, ...]
    dicom_aet: str
    dicom_port: int
    jwt_algorithm: JwtAlgorithm
    renew_cert: bool = False
    """Reissue the server certificate from the same CA even when nothing changed."""
    rotate_jwt_keys: bool = False
    """Replace the JWT key pair: every token signed so far stops working."""
    force: bool = False
    """Start over: set the current files aside and generate everything anew."""


def parse_port(what: str, text: str | int, *, allow_zero: bool = False) -> int:
    """A TCP port; 0 only where it means "off"."""
    try:
        port = int(text)
    except ValueError:
        raise AnswerError(f"{what}: {text!r} is not a port number") from None
    low = 0 if allow_zero else 1
    if not low <= port <= 65535:
        raise AnswerError(f"{what}: {port} is outside {low}-65535")
    return port


def parse_aet(text: str) -> str:
    """A DICOM AE title: 1-16 characters of the default repertoire, no backslash (PS3.5 6.2, AE)."""
    title = text.strip()
    if not 1 <= len(title) <= 16:
        raise AnswerError(f"DICOM AE title: {text!r} must have 1 to 16 characters")
    if not all(" " <= c <= "~" and c != "\\" for c in title):
        raise AnswerError(f"DICOM AE title: {text!r} may hold printable ASCII only, no backslash")
    return title


def parse_country(text: str) -> str:
    """A two-letter ISO 3166 country code, or empty."""
    code = text.strip().upper()
    if code and not re.fullmatch(r"[A-Z]{2}", code):
        raise AnswerError(f"country: {text!r} is not a two-letter code such as PL or DE")
    return code


_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def parse_name(text: str) -> str:
    """A certificate name: an IP address (normalised) or a DNS host name (lower case, punycode)."""
    raw = text.strip().strip("[]")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        pass
    try:
        name = raw.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise AnswerError(f"host name: {text!r} is not a valid host name") from None
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise AnswerError(f"host name: {text!r} is not a host name or IP address")
    return name


def parse_names(items: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Several names (each item may be a comma list), normalised, first occurrence kept."""
    names: list[str] = []
    for item in items:
        for part in item.split(","):
            if part.strip() and (name := parse_name(part)) not in names:
                names.append(name)
    return tuple(names)


def parse_origin(text: str, what: str = "allowed origin") -> str:
    """A browser origin `scheme://host[:port]`, without a path."""
    origin = text.strip().rstrip("/")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AnswerError(f"{what}: {text!r} must look like https://host[:port]")
    if parts.path or parts.query or parts.fragment or parts.username:
        raise AnswerError(f"{what}: {text!r} must be an origin, without path, query or user")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise AnswerError(f"{what}: {text!r} has an invalid port")
    parse_name(parts.hostname)
    return origin


def parse_origins(text: str) -> tuple[str, ...]:
    """A comma list of origins (empty: none besides the public URL)."""
    return tuple(dict.fromkeys(parse_origin(part) for part in text.split(",") if part.strip()))


def parse_public_url(text: str) -> str:
    """The HTTPS origin users reach; its host is always covered by the certificate."""
    url = parse_origin(text, "public URL")
    if not url.startswith("https://"):
        raise AnswerError(f"public URL: {text!r} must start with https://")
    return url


def public_url_for(host: str, https_port: int) -> str:
    """`https://host[:port]` with IPv6 brackets and the port left out when it is 443."""
    shown = f"[{host}]" if ":" in host else host
    return f"https://{shown}" if https_port == 443 else f"https://{shown}:{https_port}"


_RESERVED_PREFIXES = ("/auth", "/viewer", "/admin")
"""Paths nginx routes to the other services (DESIGN.md, URL layout)."""


def parse_url_prefix(text: str) -> str:
    """The path the PACS is published under: `/name[/name...]`, not clashing with other routes."""
    prefix = "/" + text.strip().strip("/")
    if prefix == "/" or not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", prefix):
        raise AnswerError(f"URL prefix: {text!r} must look like /zhiva (letters, digits, . _ ~ -)")
    if any(prefix == used or prefix.startswith(used + "/") for used in _RESERVED_PREFIXES):
        raise AnswerError(f"URL prefix: {prefix} is taken by {', '.join(_RESERVED_PREFIXES)}")
    return prefix
