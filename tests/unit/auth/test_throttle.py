"""Failed logins: slowed, then refused, per address and per username; a success clears them."""

from __future__ import annotations

import pytest
from pacsbox.auth.throttle import LoginThrottle
from pacsbox.core.errors import TooManyRequests
from pacsbox.core.settings import AuthSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle() -> tuple[LoginThrottle, Clock]:
    clock = Clock()
    settings = AuthSettings(login_delay_after=2, login_delay_seconds=1, login_lockout_after=5, login_lockout_seconds=600)
    return LoginThrottle(settings, clock), clock


def retry_after(limiter: LoginThrottle, *keys: str) -> int:
    with pytest.raises(TooManyRequests) as refused:
        limiter.check(*keys)
    return int(refused.value.headers["Retry-After"])


def test_waits_double_then_lock_out() -> None:
    limiter, clock = throttle()
    keys = limiter.keys("10.0.0.1", "Ann")
    limiter.failed(*keys)
    limiter.check(*keys)
    limiter.failed(*keys)
    assert retry_after(limiter, *keys) == 1
    clock.now += 1
    limiter.failed(*keys)
    assert retry_after(limiter, *keys) == 2
    clock.now += 2
    limiter.failed(*keys)
    clock.now += 4
    penalty = limiter.failed(*keys)
    assert penalty.locked and penalty.failures == 5
    assert retry_after(limiter, *keys) == 600
    clock.now += 601
    limiter.check(*keys)


def test_keys_are_per_address_and_per_username() -> None:
    limiter, _ = throttle()
    for address in ("10.0.0.1", "10.0.0.2"):
        limiter.failed(*limiter.keys(address, "ann"))
    assert retry_after(limiter, *limiter.keys("10.0.0.3", "ANN")) == 1  # usernames fold case
    limiter.check(*limiter.keys("10.0.0.3", "bob"))
    limiter.succeeded(*limiter.keys("10.0.0.3", "ann"))
    limiter.check(*limiter.keys("10.0.0.3", "ann"))


def test_old_failures_are_forgotten() -> None:
    limiter, clock = throttle()
    keys = limiter.keys("10.0.0.1", "ann")
    limiter.failed(*keys)
    clock.now += 700
    assert limiter.failed(*keys).failures == 1
