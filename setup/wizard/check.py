"""`pacsbox setup --check`: the state of the keys, certificates and `.env`, without changing anything.

Each finding is OK, WARN (works, but act soon) or FAIL (broken or unsafe); the
command exits 1 when anything failed, 0 otherwise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from pacsbox.core.settings import Settings, read_dotenv
from pacsbox.wizard import pki
from pacsbox.wizard.answers import JwtAlgorithm
from pacsbox.wizard.envfile import written_settings
from pacsbox.wizard.files import Layout, mode_of

__all__ = ["Finding", "Level", "check", "render"]

EXPIRY_WARNING = dt.timedelta(days=30)


class Level(StrEnum):
    OK = "ok"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    level: Level
    subject: str
    message: str


def _expiry(label: str, cert: x509.Certificate, now: dt.datetime) -> Finding:
    left = cert.not_valid_after_utc - now
    when = f"expires {cert.not_valid_after_utc:%Y-%m-%d} ({left.days} days)"
    if left <= dt.timedelta(0):
        return Finding(Level.FAIL, label, f"expired {cert.not_valid_after_utc:%Y-%m-%d}: run pacsbox setup --renew-cert")
    if left < EXPIRY_WARNING:
        return Finding(Level.WARN, label, f"{when}: run pacsbox setup --renew-cert")
    return Finding(Level.OK, label, when)


def _key_strength(label: str, key: object, minimum_rsa: int) -> Finding:
    algorithm, bits = pki.algorithm_of(key), pki.key_size(key)  # type: ignore[arg-type]
    kind = "RSA" if algorithm is JwtAlgorithm.RS256 else "EC" if algorithm else type(key).__name__
    if algorithm is None or (kind == "RSA" and bits < minimum_rsa):
        return Finding(Level.FAIL, label, f"{kind} {bits} bits is too weak (RSA {minimum_rsa}+ or EC P-256)")
    return Finding(Level.OK, label, f"{kind} {bits} bits")


def _ca(layout: Layout, now: dt.datetime) -> tuple[list[Finding], x509.Certificate | None]:
    if not layout.ca_crt.is_file():
        return [Finding(Level.FAIL, "ca.crt", f"missing ({layout.ca_crt}): run pacsbox setup")], None
    ca = pki.load_certificate(layout.ca_crt)
    found = [_expiry("ca.crt", ca, now), Finding(Level.OK, "ca.crt", f"SHA-256 {pki.fingerprint(ca)}")]
    if not layout.ca_key.is_file():
        found.append(Finding(Level.WARN, "ca.key", "missing: the server certificate cannot be renewed"))
    elif not pki.key_matches(ca, pki.load_private_key(layout.ca_key)):
        found.append(Finding(Level.FAIL, "ca.key", "is not the key of ca.crt"))
    trusted = layout.trusted.read_bytes() if layout.trusted.is_file() else b""
    if pki.certificate_pem(ca) not in trusted:
        found.append(Finding(Level.FAIL, "trusted.crt", "does not contain the local CA (DICOM TLS peers will be refused)"))
    return found, ca


def _server(layout: Layout, ca: x509.Certificate | None, settings: Settings, now: dt.datetime) -> list[Finding]:
    if not (layout.server_crt.is_file() and layout.server_key.is_file()):
        return [Finding(Level.FAIL, "server.crt", "server.crt or server.key missing: run pacsbox setup")]
    cert, key = pki.load_certificate(layout.server_crt), pki.load_private_key(layout.server_key)
    names = pki.certificate_names(cert)
    found = [
        Finding(Level.OK, "server.crt", "names " + ", ".join(names)),
        _expiry("server.crt", cert, now),
        _key_strength("server.key", key, 2048),
    ]
    if cert.not_valid_after_utc - cert.not_valid_before_utc > dt.timedelta(days=pki.SERVER_DAYS):
        found.append(Finding(Level.WARN, "server.crt", f"valid longer than {pki.SERVER_DAYS} days: Apple devices refuse it"))
    if not pki.key_matches(cert, key):
        found.append(Finding(Level.FAIL, "server.key", "is not the key of server.crt"))
    if ca is not None and not pki.issued_by(cert, ca):
        found.append(Finding(Level.FAIL, "server.crt", "not signed by ca.crt: run pacsbox setup --renew-cert"))
    try:
        usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usage = []
    if ExtendedKeyUsageOID.SERVER_AUTH not in usage:
        found.append(Finding(Level.FAIL, "server.crt", "lacks the serverAuth usage: browsers refuse it"))
    host = urlsplit(settings.http.public_url).hostname or ""
    if host and host not in names:
        found.append(Finding(Level.FAIL, "server.crt", f"does not cover the public URL's host {host}: run pacsbox setup --renew-cert"))
    return found


def _jwt(layout: Layout, settings: Settings) -> list[Finding]:
    if not (layout.jwt_private.is_file() and layout.jwt_public.is_file()):
        return [Finding(Level.FAIL, "jwt keys", "jwt_private.pem or jwt_public.pem missing: run pacsbox setup")]
    key = pki.load_private_key(layout.jwt_private)
    found = [_key_strength("jwt_private.pem", key, pki.RSA_BITS)]
    if layout.jwt_public.read_bytes() != pki.public_pem(key):
        found.append(Finding(Level.FAIL, "jwt_public.pem", "is not the public half of jwt_private.pem"))
    algorithm = pki.algorithm_of(key)
    if algorithm and algorithm.value != settings.auth.jwt_algorithm:
        found.append(Finding(Level.FAIL, "PACSBOX_JWT_ALGORITHM",
                             f"{settings.auth.jwt_algorithm} does not match the {algorithm.value} key"))
    return found


def _env(layout: Layout, settings: Settings) -> list[Finding]:
    if not layout.env.is_file():
        return [Finding(Level.FAIL, ".env", f"missing ({layout.env}): run pacsbox setup")]
    written = read_dotenv(layout.env)
    missing = [name for name in written_settings() if name not in written]
    found = []
    if missing:
        found.append(Finding(Level.WARN, ".env", "missing settings (defaults apply; pacsbox setup adds them): " + ", ".join(missing)))
    if not settings.auth.admin_password_hash.startswith("$argon2id$"):
        found.append(Finding(Level.FAIL, "PACSBOX_ADMIN_PASSWORD_HASH", "no argon2id hash: set an admin password with pacsbox setup"))
    return found or [Finding(Level.OK, ".env", "every setting present, admin password hashed with argon2id")]


def _modes(layout: Layout) -> list[Finding]:
    found = []
    for path in layout.secrets:
        if path.is_file() and mode_of(path) & 0o077:
            found.append(Finding(Level.FAIL, path.name, f"mode {mode_of(path):04o}: others can read it (chmod 600 {path})"))
    return found or [Finding(Level.OK, "modes", "private keys and .env are 0600")]


def check(settings: Settings, now: dt.datetime | None = None) -> list[Finding]:
    """Every finding about the configuration `settings` points at."""
    now = now or dt.datetime.now(dt.UTC)
    layout = Layout.from_settings(settings)
    found: list[Finding] = []
    ca = None
    try:
        ca_found, ca = _ca(layout, now)
        found += ca_found
    except ValueError as error:
        found.append(_unreadable("ca", error))
    for label, part in (("server", lambda: _server(layout, ca, settings, now)), ("jwt", lambda: _jwt(layout, settings))):
        try:
            found += part()
        except ValueError as error:
            found.append(_unreadable(label, error))
    return found + _env(layout, settings) + _modes(layout)


def _unreadable(label: str, error: ValueError) -> Finding:
    return Finding(Level.FAIL, label, f"unreadable key or certificate: {error}")


def render(findings: list[Finding], config_dir: Path) -> str:
    lines = [f"pacsbox configuration in {config_dir}:"]
    lines += [f"  {f.level.value:<4}  {f.subject}: {f.message}" for f in findings]
    return "\n".join(lines)
