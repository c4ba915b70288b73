"""`pacsbox setup` flags and environment variables, resolved into `Answers`.

Each answer comes from, in order: its flag, its environment variable, the
configuration on disk (so a second run changes nothing), the default. The same
resolution gives the interactive prompts their defaults.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pacsbox.core.settings import Settings
from pacsbox.wizard.answers import (
    AnswerError,
    Answers,
    JwtAlgorithm,
    Subject,
    parse_aet,
    parse_country,
    parse_names,
    parse_origins,
    parse_port,
    parse_public_url,
    parse_url_prefix,
    public_url_for,
)
from pacsbox.wizard.envfile import setting_text
from pacsbox.wizard.password import generate_password, weakness

if TYPE_CHECKING:
    from pacsbox.wizard.current import Current
    from pacsbox.wizard.network import Candidate

__all__ = ["ENV", "add_arguments", "require_complete", "resolve"]

ENV = {
    "hostname": "PACSBOX_SETUP_HOSTNAMES",
    "country": "PACSBOX_SETUP_COUNTRY",
    "locality": "PACSBOX_SETUP_LOCALITY",
    "organization": "PACSBOX_SETUP_ORGANIZATION",
    "admin_password_file": "PACSBOX_SETUP_ADMIN_PASSWORD_FILE",
    "generate_admin_password": "PACSBOX_SETUP_GENERATE_ADMIN_PASSWORD",
    "public_url": "PACSBOX_PUBLIC_URL",
    "https_port": "PACSBOX_HTTPS_PORT",
    "url_prefix": "PACSBOX_URL_PREFIX",
    "allowed_origins": "PACSBOX_ALLOWED_ORIGINS",
    "dicom_aet": "PACSBOX_DICOM_AET",
    "dicom_port": "PACSBOX_DICOM_PORT",
    "jwt_algorithm": "PACSBOX_JWT_ALGORITHM",
}
"""Answer -> environment variable (`PACSBOX_SETUP_*` for answers that are not settings)."""

_MISSING_PASSWORD = (
    "admin password: none given and none set yet; use --admin-password-file FILE, "
    "--admin-password-stdin or --generate-admin-password"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `pacsbox setup` flags."""
    mode = parser.add_argument_group("what to do")
    mode.add_argument("--non-interactive", action="store_true",
                      help="ask nothing: answers from flags, environment, the current configuration, defaults")
    mode.add_argument("--check", action="store_true", help="report the configuration's state; exit 1 if wrong")
    mode.add_argument("--renew-cert", action="store_true",
                      help="reissue the server certificate from the same CA (new addresses, expiry)")
    mode.add_argument("--rotate-jwt-keys", action="store_true",
                      help="new JWT key pair: every token issued so far stops working")
    mode.add_argument("--force", action="store_true",
                      help="start over (current files are renamed *.old-TIME), after confirmation")
    mode.add_argument("--yes", action="store_true", help="confirm --force without asking")

    secret = parser.add_argument_group("admin password (kept when already set and none is given)")
    secret.add_argument("--admin-password-file", metavar="FILE", help=f"read it from FILE (env {ENV['admin_password_file']})")
    secret.add_argument("--admin-password-stdin", action="store_true", help="read it from standard input")
    secret.add_argument("--generate-admin-password", action="store_true", default=None,
                        help=f"generate a strong one when none is set, shown once (env {ENV['generate_admin_password']}=true)")

    cert = parser.add_argument_group("certificate")
    cert.add_argument("--hostname", action="append", metavar="NAME",
                      help="a name or address the certificate covers; repeat for each "
                           f"(env {ENV['hostname']}, comma list; default: loopback, host name, LAN addresses)")
    cert.add_argument("--country", help=f"two-letter country code (env {ENV['country']})")
    cert.add_argument("--locality", help=f"city (env {ENV['locality']})")
    cert.add_argument("--organization", help=f"organisation name (env {ENV['organization']})")

    web = parser.add_argument_group("settings written to .env (env: the setting itself)")
    web.add_argument("--public-url", help="origin users reach, default https://localhost[:PORT]")
    web.add_argument("--https-port", help="HTTPS port of nginx, default 443")
    web.add_argument("--url-prefix", help="path of the PACS, default /zhiva")
    web.add_argument("--allowed-origins", metavar="LIST", help="other browser origins, comma-separated ('' for none)")
    web.add_argument("--dicom-aet", help="our DICOM AE title, default PACSBOX")
    web.add_argument("--dicom-port", help="DIMSE port, default 4242 (0: off)")
    web.add_argument("--jwt-algorithm", choices=[a.value for a in JwtAlgorithm],
                     help="RS256 (RSA 3072, default) or ES256 (ECDSA P-256)")


def _given(args: argparse.Namespace, environ: Mapping[str, str], dest: str) -> str | None:
    """The flag's value, else the environment's, else None."""
    value = getattr(args, dest)
    if value is not None:
        return value
    return environ.get(ENV[dest])


def _setting(args: argparse.Namespace, environ: Mapping[str, str], current: Current, dest: str) -> str:
    """An answer that is a setting: flag, environment, `.env`, else the setting's default."""
    given = _given(args, environ, dest)
    if given is not None:
        return given
    name = ENV[dest]
    return current.dotenv.get(name, setting_text(name, Settings.variables()[name]))


def resolve(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    current: Current,
    offered: list[Candidate],
    stdin: IO[str],
) -> Answers:
    """The answers flags and environment give, the rest from the current configuration or defaults.

    Raises:
        AnswerError: an answer is malformed (the message names it).
    """
    https_port = parse_port("HTTPS port", _setting(args, environ, current, "https_port"))
    url = _given(args, environ, "public_url")
    if url is None:
        url = _follow_port(current, https_port)
    password, generated = _password(args, environ, current, stdin)
    return Answers(
        admin_password=password,
        password_generated=generated,
        subject=_subject(args, environ, current),
        names=_names(args, environ, current, offered),
        public_url=parse_public_url(url),
        https_port=https_port,
        url_prefix=parse_url_prefix(_setting(args, environ, current, "url_prefix")),
        allowed_origins=parse_origins(_setting(args, environ, current, "allowed_origins")),
        dicom_aet=parse_aet(_setting(args, environ, current, "dicom_aet")),
        dicom_port=parse_port("DICOM port", _setting(args, environ, current, "dicom_port"), allow_zero=True),
        jwt_algorithm=_algorithm(args, environ, current),
        renew_cert=args.renew_cert,
        rotate_jwt_keys=args.rotate_jwt_keys,
        force=args.force,
    )


def _follow_port(current: Current, https_port: int) -> str:
    """The current public URL; when it only followed the old default port, it follows the new one."""
    existing = current.dotenv.get("PACSBOX_PUBLIC_URL")
    if existing is None:
        return public_url_for("localhost", https_port)
    old_port = current.dotenv.get("PACSBOX_HTTPS_PORT", "443")
    if old_port.isdigit() and existing.rstrip("/") == public_url_for("localhost", int(old_port)):
        return public_url_for("localhost", https_port)
    return existing


def _subject(args: argparse.Namespace, environ: Mapping[str, str], current: Current) -> Subject:
    base = current.subject or Subject()

    def pick(dest: str) -> str:
        given = _given(args, environ, dest)
        return (given if given is not None else getattr(base, dest)).strip()

    return Subject(country=parse_country(pick("country")), locality=pick("locality"), organization=pick("organization"))


def _names(args: argparse.Namespace, environ: Mapping[str, str], current: Current, offered: list[Candidate]) -> tuple[str, ...]:
    """Flags name the whole list; otherwise the certificate's names, plus new ones on `--renew-cert`."""
    if args.hostname:
        names = parse_names(args.hostname)
    elif environ.get(ENV["hostname"], "").strip():
        names = parse_names([environ[ENV["hostname"]]])
    else:
        ticked = tuple(c.name for c in offered if c.checked)
        names = parse_names(current.names + ticked) if (args.renew_cert or not current.names) else current.names
    if not names:
        raise AnswerError("host names: the certificate needs at least one name or address")
    return names


def _algorithm(args: argparse.Namespace, environ: Mapping[str, str], current: Current) -> JwtAlgorithm:
    given = _given(args, environ, "jwt_algorithm")
    if given is None:
        given = current.jwt_algorithm or _setting(args, environ, current, "jwt_algorithm")
    try:
        return JwtAlgorithm(given.strip().upper())
    except ValueError:
        raise AnswerError(f"JWT algorithm: {given!r} is not RS256 or ES256") from None


def _password(args: argparse.Namespace, environ: Mapping[str, str], current: Current, stdin: IO[str]) -> tuple[str | None, bool]:
    """(password, generated): None keeps the current hash."""
    path = _given(args, environ, "admin_password_file")
    generate = args.generate_admin_password or environ.get(ENV["generate_admin_password"], "").lower() in ("1", "true", "yes")
    if sum((path is not None, args.admin_password_stdin, bool(generate))) > 1:
        raise AnswerError("admin password: give only one of --admin-password-file, --admin-password-stdin, --generate-admin-password")
    if path is not None:
        try:
            text = Path(path).read_text()
        except OSError as error:
            raise AnswerError(f"admin password file: {path}: {error.strerror}") from None
        return _checked(text, f"admin password file {path}"), False
    if args.admin_password_stdin:
        if not args.non_interactive:
            raise AnswerError("--admin-password-stdin: standard input is the terminal; add --non-interactive")
        return _checked(stdin.read(), "admin password from standard input"), False
    if generate and not current.admin_hash:
        return generate_password(), True
    return None, False


def _checked(text: str, what: str) -> str:
    password = text.rstrip("\r\n")
    if not password:
        raise AnswerError(f"{what}: empty")
    if problem := weakness(password):
        raise AnswerError(f"{what}: too weak: {problem}")
    return password


def require_complete(answers: Answers, current: Current) -> None:
    """Fail, naming it, when a `--non-interactive` run lacks an answer nothing else can give."""
    if answers.admin_password is None and not current.admin_hash:
        raise AnswerError(_MISSING_PASSWORD)
