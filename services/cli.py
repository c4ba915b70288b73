"""The `pacsbox` command: one verb per job, each a thin call into the package that does it."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import ipaddress
import os
import sys
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from pacsbox.core.errors import PacsboxError
from pacsbox.core.logs import configure_logging
from pacsbox.core.settings import Settings

__all__ = ["main"]

SERVICES = {
    "pacs": ("pacsbox.pacs.app", 8042),
    "auth": ("pacsbox.auth.app", 4000),
    "viewer": ("pacsbox.viewer.app", 8000),
}
"""Service name -> (module with `create_app(settings)`, default port)."""

AUTO_PACS_PROCESSES = 4
"""Most processes `PACSBOX_PACS_PROCESSES=0` starts: beyond, the disk and the index writer are the limit."""

DATABASE_SERVICES = ("pacs", "auth")
"""The services that keep a database (`pacsbox db`); the viewer keeps none."""


def _default_port(service: str, settings: Settings) -> int:
    """The port of the service's internal URL (`PACSBOX_<SERVICE>_URL`), else the table's."""
    url = getattr(settings.http, f"{service}_url", "")
    return urlsplit(url).port or SERVICES[service][1]


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from pacsbox.core.serving import bind, serve

    if not _is_loopback(args.host) and not settings.http.private_network:
        print(
            f"pacsbox: refusing to serve {args.service} on {args.host}: the service trusts the identity headers nginx"
            " sets after checking tokens, so anyone reaching it directly could bypass them. Keep it on loopback"
            " behind nginx (`pacsbox up` does), or, inside a network only nginx can reach (the compose stack),"
            " set PACSBOX_PRIVATE_NETWORK=true.",
            file=sys.stderr,
        )
        return 2
    processes = 1
    if args.service == "pacs":
        processes = settings.http.pacs_processes or min(len(os.sched_getaffinity(0)), AUTO_PACS_PROCESSES)
    if processes < 0:
        print(f"pacsbox: PACSBOX_PACS_PROCESSES must be 0 (one per core) or more, not {processes}", file=sys.stderr)
        return 2
    port = args.port or _default_port(args.service, settings)
    try:
        sock = bind(args.host, port)
    except OSError as error:
        print(f"pacsbox: cannot listen on {args.host}:{port} for {args.service}: {error.strerror}", file=sys.stderr)
        return 1
    workers = None
    if processes > 1:
        from pacsbox.pacs.processes import WorkerProcesses

        # before the app's modules load: it names the metrics folder
        workers = WorkerProcesses(processes - 1, sock, settings.paths.data_dir / "metrics")
    module = importlib.import_module(SERVICES[args.service][0])
    if workers is not None:
        workers.fork_server()
    app = module.create_app(settings) if workers is None else module.create_app(settings, module.Primary(workers))
    serve(app, sock, sends_files=args.service == "pacs", share=None if workers is None else workers.counts.share(0))
    return 0


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from pacsbox.core import dbcli

    services = list(DATABASE_SERVICES) if args.service == "all" else [args.service]
    return asyncio.run(dbcli.run(args.action, services, settings, assume_yes=args.yes))


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from pacsbox.pacs.importer import run_import

    return asyncio.run(run_import(args.paths, settings, progress=not args.quiet))


def _up(args: argparse.Namespace, settings: Settings) -> int:
    from pacsbox.stack.up import UpOptions, run_stack

    return run_stack(settings, SERVICES, UpOptions(args.https_port, args.http_port, args.listen))


def _nginx(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from pacsbox.stack.nginx import TEMPLATE, NginxOptions, write_config

    options = NginxOptions(
        Path(args.run_dir), args.https_port, args.http_port, args.listen, args.access_log, args.user,
        Path(args.template) if args.template else TEMPLATE,
    )
    print(write_config(settings, options))
    return 0


def _setup(args: argparse.Namespace, settings: Settings) -> int:
    from pacsbox.wizard.command import run

    return run(args, settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pacsbox", description="A self-hosted PACS appliance.")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING, ERROR (default: PACSBOX_LOG_LEVEL)")
    parser.add_argument("--log-json", action="store_true", default=None, help="log one JSON object per line")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    from pacsbox.wizard.flags import add_arguments as setup_arguments

    setup = verbs.add_parser("setup", help="the wizard: keys, certificates, admin password, .env (--check reports)")
    setup_arguments(setup)
    setup.set_defaults(run=_setup)

    serve = verbs.add_parser("serve", help="run one service (what each container runs)")
    serve.add_argument("service", choices=sorted(SERVICES))
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="HTTP port (default: the service's)")
    serve.set_defaults(run=_serve)

    up = verbs.add_parser("up", help="run the whole stack natively (services and nginx) in the foreground")
    up.add_argument("--https-port", type=int, default=None, help="HTTPS port (default: PACSBOX_HTTPS_PORT)")
    up.add_argument("--http-port", type=int, default=None, help="redirecting HTTP port, 0 for none (default: PACSBOX_HTTP_PORT)")
    up.add_argument("--listen", default="", help="address nginx listens on (default: every interface)")
    up.set_defaults(run=_up)

    nginx = verbs.add_parser("nginx", help="render nginx's configuration from the settings (the nginx container runs it)")
    nginx.add_argument("action", choices=["render"])
    nginx.add_argument("--run-dir", required=True, help="folder for nginx.conf, the pid file and temporary files")
    nginx.add_argument("--https-port", type=int, default=443)
    nginx.add_argument("--http-port", type=int, default=80)
    nginx.add_argument("--listen", default="", help="address to listen on (default: every interface)")
    nginx.add_argument("--access-log", default="/dev/stdout")
    nginx.add_argument("--user", default=None, help="worker user when started as root")
    nginx.add_argument("--template", default=None, help="template file (default: nginx/nginx.conf.template)")
    nginx.set_defaults(run=_nginx)

    db = verbs.add_parser("db", help="database maintenance: check exits 0 ok, 1 error, 2 unreachable, 3 empty, 4 invalid, 7 outdated")
    db.add_argument("action", choices=["check", "create", "upgrade", "drop"])
    db.add_argument("--service", default="all", choices=["all", *sorted(DATABASE_SERVICES)])
    db.add_argument("--yes", action="store_true", help="do not ask before dropping")
    db.set_defaults(run=_db)

    imp = verbs.add_parser("import", help="bulk import of files, folders, ZIPs and DICOMDIRs")
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    imp.set_defaults(run=_import)

    from pacsbox.auth.shell import add_parsers as add_auth_parsers

    add_auth_parsers(verbs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.load()
    except PacsboxError as error:
        print(f"pacsbox: {error}", file=sys.stderr)
        return 2
    service = getattr(args, "service", None) or args.verb
    configure_logging(
        service if service != "all" else args.verb,
        args.log_level or settings.log.level,
        settings.log.json if args.log_json is None else args.log_json,
    )
    run: Callable[[argparse.Namespace, Settings], int] = args.run
    try:
        return run(args, settings)
    except PacsboxError as error:
        print(f"pacsbox: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
