"""Failed-login throttling, per caller address and per username.

Each failure is remembered (for `lockout_seconds`) under both keys. From the `delay_after`-th
failure on, the next try under that key must wait `delay_seconds`, doubling with each further
failure; from the `lockout_after`-th, every try (even with the right password) is refused until
`lockout_seconds` after the last failure. A refused try is answered at once (429 with
`Retry-After`) and neither counts nor extends anything, so an attacker gains nothing by hammering
and the server spends no argon2 time on him. A success clears both keys.

The state lives in the auth process (one per stack); a restart forgets it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pacsbox.core.errors import TooManyRequests
from pacsbox.core.settings import AuthSettings

__all__ = ["LoginThrottle", "Penalty"]

MAX_KEYS = 100_000
"""Keys remembered at most; past this, the quiet ones are forgotten first."""


@dataclass
class _Failures:
    times: list[float] = field(default_factory=list)
    wait_until: float = 0.0


@dataclass(frozen=True)
class Penalty:
    """What the latest failure brought on: a wait, a lockout, or nothing yet."""

    failures: int
    wait: float
    locked: bool


class LoginThrottle:
    def __init__(self, settings: AuthSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.delay_after = settings.login_delay_after
        self.delay_seconds = settings.login_delay_seconds
        self.lockout_after = settings.login_lockout_after
        self.lockout_seconds = settings.login_lockout_seconds
        self._clock = clock
        self._keys: dict[str, _Failures] = {}

    @staticmethod
    def keys(address: str, username: str) -> tuple[str, str]:
        return f"address:{address}", f"user:{username.lower()}"

    def check(self, *keys: str) -> None:
        """Raise `TooManyRequests` (with `Retry-After`) when any key must still wait."""
        now = self._clock()
        wait = max((self._keys[k].wait_until - now for k in keys if k in self._keys), default=0.0)
        if wait > 0:
            seconds = math.ceil(wait)
            raise TooManyRequests(
                f"too many failed logins: try again in {seconds} s", headers={"Retry-After": str(seconds)}
            )

    def failed(self, *keys: str) -> Penalty:
        """Count one failure under each key; returns the heaviest penalty it brought."""
        now = self._clock()
        if len(self._keys) >= MAX_KEYS:
            self._forget_quiet(now)
        worst = Penalty(0, 0.0, False)
        for key in keys:
            entry = self._keys.setdefault(key, _Failures())
            entry.times = [t for t in entry.times if now - t < self.lockout_seconds] + [now]
            count = len(entry.times)
            if count >= self.lockout_after:
                wait, locked = float(self.lockout_seconds), True
            elif count >= self.delay_after:
                wait, locked = self.delay_seconds * 2 ** (count - self.delay_after), False
            else:
                wait, locked = 0.0, False
            entry.wait_until = now + wait
            if (locked, wait, count) > (worst.locked, worst.wait, worst.failures):
                worst = Penalty(count, wait, locked)
        return worst

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._keys.pop(key, None)

    def _forget_quiet(self, now: float) -> None:
        for key in [k for k, v in self._keys.items() if not v.times or now - v.times[-1] >= self.lockout_seconds]:
            del self._keys[key]
        while len(self._keys) >= MAX_KEYS:  # still full: drop the oldest entries
            del self._keys[next(iter(self._keys))]
