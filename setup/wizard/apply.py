"""Answers -> files: the CA, the server certificate, the JWT keys and `.env`. Never prompts.

Idempotent: a file is generated only when it is missing, no longer fits the
answers, or the user asked (`--renew-cert`, `--rotate-jwt-keys`, `--force`);
everything else is left byte for byte as it was. Private keys and `.env` are
created mode 0600 and put back to 0600 if someone widened them.
"""

from __future__ import annotations

import datetime as dt
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography import x509
from pacsbox.core.errors import Conflict
from pacsbox.core.settings import read_dotenv
from pacsbox.wizard import pki
from pacsbox.wizard.answers import Answers, parse_name
from pacsbox.wizard.envfile import merge, render
from pacsbox.wizard.files import PRIVATE, PUBLIC, Layout, mode_of, set_aside, write_file
from pacsbox.wizard.password import hash_password, password_matches

__all__ = ["Outcome", "apply", "certificate_names"]


@dataclass
class Outcome:
    """What `apply` did, for the summary."""

    ca: x509.Certificate
    server: x509.Certificate
    changes: list[str] = field(default_factory=list)
    """One line per file created, replaced or corrected."""
    warnings: list[str] = field(default_factory=list)
    """What the user must know: tokens that stop working, files set aside."""


def certificate_names(answers: Answers) -> tuple[str, ...]:
    """The chosen names, plus the public URL's host when it is not among them."""
    host = parse_name(urlsplit(answers.public_url).hostname or "localhost")
    return answers.names if host in answers.names else (*answers.names, host)


def apply(answers: Answers, layout: Layout, now: dt.datetime | None = None) -> Outcome:
    """Bring the files in `layout` in line with `answers`.

    Raises:
        Conflict: the files on disk contradict each other (e.g. a CA certificate
            without its key) and only the user can tell which one to keep.
    """
    now = now or dt.datetime.now(dt.UTC)
    changes: list[str] = []
    warnings: list[str] = []
    if answers.force:
        stamp = now.strftime("%Y%m%dT%H%M%S")
        for old, new in set_aside(layout.all(), stamp):
            warnings.append(f"set aside {old} as {new.name}")
    ca_key, ca_cert = _ca(layout, answers, now, changes)
    _trust(layout, ca_cert, changes)
    server = _server(layout, answers, ca_key, ca_cert, now, changes, warnings)
    _jwt_keys(layout, answers, changes, warnings)
    _env(layout, answers, changes)
    for path in layout.secrets:
        if path.is_file() and mode_of(path) != PRIVATE:
            path.chmod(PRIVATE)
            changes.append(f"{path}: mode set to 0600")
    return Outcome(ca_cert, server, changes, warnings)


def _ca(layout: Layout, answers: Answers, now: dt.datetime, changes: list[str]) -> tuple[pki.PrivateKey | None, x509.Certificate]:
    """The existing CA (its key may be absent if no signing is needed), or a new one."""
    has_crt, has_key = layout.ca_crt.is_file(), layout.ca_key.is_file()
    if has_crt:
        cert = pki.load_certificate(layout.ca_crt)
        if not has_key:
            return None, cert
        key = pki.load_private_key(layout.ca_key)
        if not pki.key_matches(cert, key):
            raise Conflict(f"{layout.ca_key} is not the key of {layout.ca_crt}; restore the pair or start over with --force")
        return key, cert
    if has_key:
        raise Conflict(f"{layout.ca_key} exists without {layout.ca_crt}; restore it or start over with --force")
    common_name = f"pacsbox local CA {socket.gethostname()} {now:%Y-%m-%d}"
    key, cert = pki.issue_ca(answers.subject, common_name, now)
    write_file(layout.ca_key, pki.private_pem(key), PRIVATE)
    write_file(layout.ca_crt, pki.certificate_pem(cert), PUBLIC)
    changes.append(f"{layout.ca_crt}: new local CA, valid until {cert.not_valid_after_utc:%Y-%m-%d}")
    return key, cert


def _trust(layout: Layout, ca_cert: x509.Certificate, changes: list[str]) -> None:
    """`trusted.crt` holds the CA; certificates the user added to it stay."""
    pem = pki.certificate_pem(ca_cert)
    existing = layout.trusted.read_bytes() if layout.trusted.is_file() else b""
    if pem in existing:
        return
    separator = b"" if not existing or existing.endswith(b"\n") else b"\n"
    write_file(layout.trusted, existing + separator + pem, PUBLIC)
    changes.append(f"{layout.trusted}: {'CA added' if existing else 'trusts the local CA'}")


def _reissue_reason(layout: Layout, answers: Answers, ca_cert: x509.Certificate, names: tuple[str, ...], now: dt.datetime) -> str | None:
    if answers.renew_cert:
        return "renewed on request"
    if not (layout.server_crt.is_file() and layout.server_key.is_file()):
        return "new"
    try:
        cert, key = pki.load_certificate(layout.server_crt), pki.load_private_key(layout.server_key)
    except ValueError:
        return "the old one could not be read"
    if not pki.issued_by(cert, ca_cert):
        return "the old one was not signed by this CA"
    if not pki.key_matches(cert, key):
        return "the old one did not match its key"
    if cert.not_valid_after_utc <= now:
        return "the old one had expired"
    old = pki.certificate_names(cert)
    if set(old) != set(names):
        added = [n for n in names if n not in old]
        removed = [n for n in old if n not in names]
        return "names changed (" + ", ".join([*(f"+{n}" for n in added), *(f"-{n}" for n in removed)]) + ")"
    if pki.certificate_subject(cert) != answers.subject:
        return "organisation details changed"
    return None


def _server(
    layout: Layout,
    answers: Answers,
    ca_key: pki.PrivateKey | None,
    ca_cert: x509.Certificate,
    now: dt.datetime,
    changes: list[str],
    warnings: list[str],
) -> x509.Certificate:
    names = certificate_names(answers)
    reason = _reissue_reason(layout, answers, ca_cert, names, now)
    if reason is None:
        cert = pki.load_certificate(layout.server_crt)
        if cert.not_valid_after_utc - now < dt.timedelta(days=30):
            warnings.append(f"{layout.server_crt} expires {cert.not_valid_after_utc:%Y-%m-%d}: run pacsbox setup --renew-cert")
        return cert
    if ca_key is None:
        raise Conflict(f"the server certificate must be reissued ({reason}) but {layout.ca_key} is missing; "
                       "restore it or start over with --force")
    key, cert = pki.issue_server(ca_key, ca_cert, answers.subject, names, now)
    write_file(layout.server_key, pki.private_pem(key), PRIVATE)
    write_file(layout.server_crt, pki.certificate_pem(cert), PUBLIC)
    changes.append(f"{layout.server_crt}: {reason}; covers {', '.join(names)}; valid until {cert.not_valid_after_utc:%Y-%m-%d}")
    return cert


def _jwt_keys(layout: Layout, answers: Answers, changes: list[str], warnings: list[str]) -> None:
    """Keep the key pair unless asked or the algorithm changed; rebuild a lost public half."""
    key = None
    if layout.jwt_private.is_file():
        try:
            key = pki.load_private_key(layout.jwt_private)
        except ValueError:
            key = None
    existing = key is not None
    if key is None or answers.rotate_jwt_keys or pki.algorithm_of(key) is not answers.jwt_algorithm:
        key = pki.new_jwt_key(answers.jwt_algorithm)
        write_file(layout.jwt_private, pki.private_pem(key), PRIVATE)
        what = "rotated" if existing else "new"
        changes.append(f"{layout.jwt_private}: {what} {answers.jwt_algorithm.value} signing key")
        if existing or layout.jwt_public.is_file():
            warnings.append("JWT keys replaced: every token issued before now (one-off, access and refresh) "
                            "stops working; users must sign in again")
    if write_file(layout.jwt_public, pki.public_pem(key), PUBLIC):
        changes.append(f"{layout.jwt_public}: public half of the signing key")


def _admin_hash(answers: Answers, existing: str) -> str:
    if answers.admin_password is None:
        return existing
    if existing and password_matches(existing, answers.admin_password):
        return existing
    return hash_password(answers.admin_password)


def _env(layout: Layout, answers: Answers, changes: list[str]) -> None:
    existing = read_dotenv(layout.env)
    old_hash = existing.get("PACSBOX_ADMIN_PASSWORD_HASH", "")
    new_hash = _admin_hash(answers, old_hash)
    answered = {
        "PACSBOX_PUBLIC_URL": answers.public_url,
        "PACSBOX_HTTPS_PORT": str(answers.https_port),
        "PACSBOX_URL_PREFIX": answers.url_prefix,
        "PACSBOX_ALLOWED_ORIGINS": ",".join(answers.allowed_origins),
        "PACSBOX_DICOM_AET": answers.dicom_aet,
        "PACSBOX_DICOM_PORT": str(answers.dicom_port),
        "PACSBOX_JWT_ALGORITHM": answers.jwt_algorithm.value,
        "PACSBOX_ADMIN_PASSWORD_HASH": new_hash,
    }
    values = merge(existing, answered)
    if write_file(layout.env, render(values).encode(), PRIVATE):
        changed = [name for name, value in values.items() if existing.get(name) != value]
        if not existing:
            changes.append(f"{layout.env}: every setting written")
        else:
            changes.append(f"{layout.env}: " + (f"changed {', '.join(changed)}" if changed else "tidied"))
