"""Password checks for the admin and for users, throttled and logged.

Every check goes through the throttle first (a refused try costs no argon2 time), then argon2id;
a failure is counted under the caller's address and the username, and logged with its reason. The
caller only learns "wrong username or password": the reason stays in the log.
"""

from __future__ import annotations

from pacsbox.auth.authlog import Event, record
from pacsbox.auth.context import AuthContext
from pacsbox.auth.passwords import verify_password_async
from pacsbox.auth.users import ADMIN, UserInfo, find_user
from pacsbox.core.errors import Forbidden, Unauthorized

__all__ = ["check_admin", "sign_in_user"]


async def _failed(ctx: AuthContext, keys: tuple[str, str], event: Event, username: str, address: str, reason: str) -> None:
    penalty = ctx.throttle.failed(*keys)
    await record(event, username, address, reason=reason, failures=penalty.failures)
    if penalty.locked:
        await record(Event.LOGIN_LOCKED, username, address, seconds=int(penalty.wait))


async def check_admin(ctx: AuthContext, password: str, address: str) -> None:
    """Return when `password` is the admin password.

    Raises:
        TooManyRequests: too many recent failures from this address or for the admin.
        Unauthorized: no password given.
        Forbidden: wrong password.
    """
    keys = ctx.throttle.keys(address, ADMIN)
    ctx.throttle.check(*keys)
    if not password:
        raise Unauthorized("the admin password is required")
    if await verify_password_async(ctx.settings.admin_password_hash, password):
        ctx.throttle.succeeded(*keys)
        return
    await _failed(ctx, keys, Event.ADMIN_AUTH_ERROR, ADMIN, address, "wrong admin password")
    raise Forbidden("wrong admin password")


async def sign_in_user(ctx: AuthContext, username: str, password: str, address: str) -> UserInfo:
    """The active user `username` whose password is `password`.

    Raises:
        TooManyRequests: too many recent failures from this address or for this username.
        Unauthorized: username or password missing.
        Forbidden: unknown user, wrong password, no password set, or deactivated user.
    """
    if not username or not password:
        raise Unauthorized("username and password are required")
    keys = ctx.throttle.keys(address, username)
    ctx.throttle.check(*keys)
    user = await find_user(username) if len(username) <= 32 else None
    matches = await verify_password_async(user.password_hash if user else None, password)
    if user and matches and user.active:
        ctx.throttle.succeeded(*keys)
        return user
    reason = (
        "unknown user" if user is None else "no password set" if not user.password_hash
        else "wrong password" if not matches else "user deactivated"
    )
    await _failed(ctx, keys, Event.USER_AUTH_ERROR, username[:64], address, reason)
    raise Forbidden("wrong username or password")
