"""`pacsbox user add|list|set-password|deactivate` and `pacsbox token issue USER`.

They work on the auth store directly (creating or upgrading its schema if needed), so they also
run while the service is stopped. A deactivation reaches a running service within
`PACSBOX_REVOCATION_CACHE_SECONDS`. Passwords are read without echo from the terminal, or as one
line from standard input with `--password-stdin`; never from the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from pacsbox.auth.context import AuthContext
from pacsbox.auth.oneoff import issue_one_off
from pacsbox.auth.piccolo_app import SCHEMA
from pacsbox.auth.revocations import RevocationCache, deactivate_user
from pacsbox.auth.users import check_password, create_user, get_user, list_users, update_user
from pacsbox.core.db import close_engine, open_engine
from pacsbox.core.errors import BadRequest
from pacsbox.core.settings import Settings

__all__ = ["run_token", "run_user"]

ADDRESS = "shell"
BY = "shell"


def _read_password(args: argparse.Namespace, settings: Settings) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != password:
            raise BadRequest("the two passwords differ")
    else:
        raise BadRequest("no terminal to ask the password on: use --password-stdin (or --no-password)")
    return check_password(password, settings.auth.password_min_length)


def _run(settings: Settings, work: Callable[[], Awaitable[int]]) -> int:
    async def main() -> int:
        engine = SCHEMA.bind(settings)
        await open_engine(engine)
        try:
            await SCHEMA.upgrade()
            return await work()
        finally:
            await close_engine(engine)

    return asyncio.run(main())


def run_user(args: argparse.Namespace, settings: Settings) -> int:
    action: str = args.action

    async def add() -> int:
        password = None if args.no_password else _read_password(args, settings)
        user = await create_user(args.username, name=args.name or args.username, password=password,
                                 can_edit=args.editor, address=ADDRESS, by=BY)
        print(f"user {user.username} created ({user.role})")
        return 0

    async def listing() -> int:
        rows: list[Any] = [("USERNAME", "NAME", "ROLE", "ACTIVE", "PASSWORD")]
        rows += [(u.username, u.name, u.role, "yes" if u.active else "no", "yes" if u.password_hash else "no")
                 for u in await list_users()]
        widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
        return 0

    async def set_password() -> int:
        await get_user(args.username)
        await update_user(args.username, password=_read_password(args, settings), address=ADDRESS, by=BY)
        print(f"password of {args.username} changed")
        return 0

    async def deactivate() -> int:
        await deactivate_user(RevocationCache(0), args.username, access_lifetime=settings.auth.access_token_lifetime,
                              address=ADDRESS, by=BY)
        print(f"user {args.username} deactivated; its tokens are revoked")
        return 0

    actions = {"add": add, "list": listing, "set-password": set_password, "deactivate": deactivate}
    return _run(settings, actions[action])


def run_token(args: argparse.Namespace, settings: Settings) -> int:
    ctx = AuthContext.load(settings)

    async def issue() -> int:
        issued = await issue_one_off(ctx, await get_user(args.username), address=ADDRESS, by=BY)
        print(issued.token)
        print(f"login link (valid once, until {issued.expires_at:%Y-%m-%d %H:%M} UTC): {issued.link}")
        return 0

    return _run(settings, issue)


def add_parsers(verbs: Any) -> None:
    """The `user` and `token` verbs of the `pacsbox` command."""
    user = verbs.add_parser("user", help="manage users: add, list, set-password, deactivate")
    actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create a user")
    add.add_argument("username")
    add.add_argument("--name", default="", help="the user's full name (default: the username)")
    add.add_argument("--editor", action="store_true", help="may upload, modify and delete (canEditResource)")
    secret = add.add_mutually_exclusive_group()
    secret.add_argument("--password-stdin", action="store_true", help="read the password as one line of stdin")
    secret.add_argument("--no-password", action="store_true", help="no password: one-off token logins only")
    actions.add_parser("list", help="list users")
    set_password = actions.add_parser("set-password", help="set a user's password")
    set_password.add_argument("username")
    set_password.add_argument("--password-stdin", action="store_true", help="read the password as one line of stdin")
    deactivate = actions.add_parser("deactivate", help="deactivate a user and revoke its tokens")
    deactivate.add_argument("username")
    user.set_defaults(run=run_user)

    token = verbs.add_parser("token", help="one-off login tokens")
    token_actions = token.add_subparsers(dest="action", required=True, metavar="ACTION")
    issue = token_actions.add_parser("issue", help="print a one-off token and its login link")
    issue.add_argument("username")
    token.set_defaults(run=run_token)
