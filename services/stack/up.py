"""`pacsbox up`: the whole stack in the foreground on this machine.

The services listen on loopback at the addresses `PACSBOX_*_URL` name; nginx, the only port users
reach, listens on every interface (or `--listen`) and starts once each service answers `/healthz`.
All output arrives in one stream, each line prefixed by its process's name. Ctrl-C or SIGTERM stops
nginx first, then the services; if any process dies, the others are stopped and the exit status is 1.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from pacsbox.core.settings import Settings
from pacsbox.stack.addresses import url_lines
from pacsbox.stack.install import find_nginx
from pacsbox.stack.nginx import NginxOptions, write_config
from pacsbox.stack.preflight import check_secure
from pacsbox.stack.processes import Child, Output

__all__ = ["UpOptions", "run_stack"]

HEALTH_TIMEOUT = 120.0


@dataclass(frozen=True)
class UpOptions:
    https_port: int | None = None
    """None: PACSBOX_HTTPS_PORT."""
    http_port: int | None = None
    """None: PACSBOX_HTTP_PORT; 0: no redirecting HTTP port."""
    listen: str = ""
    """nginx's address; empty for every interface."""


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    return urlunsplit(parts._replace(netloc=host if port == 443 else f"{host}:{port}"))


def _effective(settings: Settings, options: UpOptions) -> tuple[Settings, dict[str, str]]:
    """The settings with the command-line ports, and the variables that tell the services so."""
    https = settings.http.https_port if options.https_port is None else options.https_port
    plain = settings.http.http_port if options.http_port is None else options.http_port
    public = settings.http.public_url
    if https != settings.http.https_port:
        public = _with_port(public, https)
    http = dataclasses.replace(settings.http, https_port=https, http_port=plain, public_url=public)
    env = {"PACSBOX_HTTPS_PORT": str(https), "PACSBOX_HTTP_PORT": str(plain), "PACSBOX_PUBLIC_URL": public}
    return settings.replace(http=http), env


def _service_children(settings: Settings, services: Mapping[str, object], env: dict[str, str]) -> list[Child]:
    urls = {"pacs": settings.http.pacs_url, "auth": settings.http.auth_url, "viewer": settings.http.viewer_url}
    children = []
    for name in services:
        parts = urlsplit(urls[name])
        argv = [sys.executable, "-m", "pacsbox.cli", "serve", name, "--host", parts.hostname or "127.0.0.1",
                "--port", str(parts.port or 80)]
        children.append(Child(name, argv, env, health_url=urls[name].rstrip("/") + "/healthz"))
    return children


def run_stack(settings: Settings, services: Mapping[str, object], options: UpOptions, output: Output | None = None) -> int:
    """Run until interrupted. Returns 0 after Ctrl-C/SIGTERM, 1 when a process failed.

    Raises:
        SettingsError: the stack would start insecurely, nginx is missing, or a setting nginx cannot use.
    """
    check_secure(settings)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per health poll
    nginx_binary = find_nginx()
    settings, overrides = _effective(settings, options)
    env = {**os.environ, **overrides}
    run_dir = settings.paths.data_dir / "nginx"
    config = write_config(settings, NginxOptions(run_dir, settings.http.https_port, settings.http.http_port, options.listen))
    nginx = Child("nginx", [nginx_binary, "-e", "stderr", "-p", str(run_dir), "-c", str(config), "-g", "daemon off;"],
                  env, stop_signal=signal.SIGQUIT)
    children = _service_children(settings, services, env)
    output = output or Output()
    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    failed = False
    try:
        for child in children:
            child.start(output)
        for child in children:
            if not child.wait_healthy(HEALTH_TIMEOUT, stopping):
                failed = not stopping.is_set()
                if failed:
                    output.line("up", f"{child.name} did not become healthy; stopping")
                return 1 if failed else 0
        nginx.start(output)
        children.append(nginx)
        if stopping.wait(0.5) or nginx.exited() is not None:
            failed = nginx.exited() is not None
            return 1 if failed else 0
        output.line("up", "pacsbox is up (Ctrl-C stops it). Open:")
        for line in url_lines(settings, options.listen):
            output.line("up", line)
        while not stopping.wait(0.5):
            dead = [child for child in children if child.exited() is not None]
            if dead:
                output.line("up", f"{dead[0].name} exited with status {dead[0].exited()}; stopping the others")
                failed = True
                return 1
        return 0
    finally:
        output.line("up", "stopping")
        for child in reversed(children):
            child.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        output.line("up", "stopped" + (" after a failure" if failed else ""))
