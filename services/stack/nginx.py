"""nginx's configuration, rendered from `nginx/nginx.conf.template` and the settings.

The same template serves the native run (`pacsbox up` renders it under the data folder) and the
container (`pacsbox nginx render` at the container's start). Everything the template needs comes
from `Settings` plus where nginx listens, which differs between the two: the native run listens on
the public ports, the container on 443/80 behind the ports compose publishes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import pwd
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pacsbox.auth.urls import PublicUrls
from pacsbox.core.errors import SettingsError
from pacsbox.core.settings import Settings

__all__ = ["ACCEL_PREFIX", "TEMPLATE", "NginxOptions", "render", "viewer_csp", "write_config"]

TEMPLATE = Path(__file__).resolve().parents[2] / "nginx" / "nginx.conf.template"
"""The template in a source checkout; an installed copy (the nginx image) names its own with `--template`."""

ACCEL_PREFIX = "/_pacsbox_storage"
"""Internal location aliasing the pacs storage folder; nginx tells the pacs in `X-Pacsbox-Accel-Prefix`."""

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'self'"
)
"""Default policy of pages that set none (the explorer): its own scripts and styles only."""

VIEWER_CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'self'"
)
"""Default policy under `/viewer/`: OHIF decodes images in WebAssembly workers, styles inline, and its
`index.html` holds two small inline scripts, allowed by their hashes (no 'unsafe-inline' for scripts)."""

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)

MIME_TYPES = ("/etc/nginx/mime.types", "/usr/local/nginx/conf/mime.types")
_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)+")


@dataclass(frozen=True)
class NginxOptions:
    """Where and how this nginx runs (the settings say what it serves)."""

    run_dir: Path
    """Holds the rendered configuration, the pid file and nginx's temporary folders."""
    https_port: int
    http_port: int
    """0: no plain HTTP listener."""
    listen: str = ""
    """Address to listen on; empty for every interface (IPv4 and, where the host has it, IPv6)."""
    access_log: str = "/dev/stdout"
    user: str | None = None
    """Worker user when nginx starts as root; None: root's workers run as the user who owns the data."""
    template: Path = TEMPLATE


UNREACHABLE = "127.0.0.1:9 down"
"""An upstream whose host name does not resolve (a service not in this stack): nginx answers 502 there."""


def _upstream(name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
        raise SettingsError(f"PACSBOX_{name}_URL={url!r}: expected http://host:port")
    port = parts.port or 80
    try:
        socket.getaddrinfo(parts.hostname, port)
    except socket.gaierror:
        return UNREACHABLE  # nginx would refuse to start on a name it cannot resolve
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}"


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::", 0))
        return True
    except OSError:
        return False


def _listen_prefix(address: str) -> str:
    if not address:
        return ""
    return f"[{address}]:" if ":" in address else f"{address}:"


def _worker_user(options: NginxOptions, storage: Path) -> str | None:
    """nginx started by root drops its workers to a user; they must read the stored files."""
    if os.geteuid() != 0:
        return None
    if options.user:
        return options.user
    owner = storage.stat().st_uid if storage.exists() else 0
    return pwd.getpwuid(owner).pw_name


def viewer_csp(settings: Settings) -> str:
    """`VIEWER_CSP` with the hash of each inline script of the installed OHIF's `index.html`."""
    index = settings.viewer.ohif_dir / "index.html"
    scripts = _INLINE_SCRIPT.findall(index.read_text(errors="replace")) if index.is_file() else []
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'" for body in scripts
    )
    return VIEWER_CSP.format(hashes=hashes)


def render(settings: Settings, options: NginxOptions) -> str:
    """The nginx configuration for these settings and options.

    Raises:
        SettingsError: a setting nginx cannot use (prefix, upstream URL, template missing).
    """
    http = settings.http
    prefix = http.url_prefix.rstrip("/")
    if not _PREFIX.fullmatch(prefix):
        raise SettingsError(f"PACSBOX_URL_PREFIX={http.url_prefix!r}: expected a path such as /zhiva")
    if not options.template.is_file():
        raise SettingsError(f"nginx template {options.template} is missing")
    storage = settings.paths.data_dir / "storage"
    mime_types = next((path for path in MIME_TYPES if Path(path).is_file()), None)
    if mime_types is None:
        raise SettingsError("nginx's mime.types was not found (is nginx installed?)")
    env = Environment(
        loader=FileSystemLoader(options.template.parent), undefined=StrictUndefined, keep_trailing_newline=True
    )
    return env.get_template(options.template.name).render(
        user=_worker_user(options, storage),
        run_dir=options.run_dir,
        mime_types=mime_types,
        access_log=options.access_log,
        listen=_listen_prefix(options.listen),
        listen_v6=not options.listen and _has_ipv6(),
        https_port=options.https_port,
        http_port=options.http_port,
        https_suffix="" if http.https_port == 443 else f":{http.https_port}",
        certificate=settings.paths.certs_dir / "server.crt",
        certificate_key=settings.paths.certs_dir / "server.key",
        max_body_size=http.max_body_size,
        hsts_max_age=http.hsts_max_age,
        prefix=prefix,
        pacs=_upstream("PACS", http.pacs_url),
        auth=_upstream("AUTH", http.auth_url),
        viewer=_upstream("VIEWER", http.viewer_url),
        allowed_origins=sorted(PublicUrls(http).allowed_origins),
        accel_prefix=ACCEL_PREFIX,
        storage_dir=storage,
        csp=CSP,
        viewer_csp=viewer_csp(settings),
    )


def write_config(settings: Settings, options: NginxOptions) -> Path:
    """Render into `run_dir/nginx.conf` and make the folders nginx writes to; returns the file."""
    for folder in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (options.run_dir / folder).mkdir(parents=True, exist_ok=True, mode=0o700)
    (settings.paths.data_dir / "storage").mkdir(parents=True, exist_ok=True)
    target = options.run_dir / "nginx.conf"
    target.write_text(render(settings, options))
    return target
