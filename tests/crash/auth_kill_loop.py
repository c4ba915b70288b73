"""Crash consistency of the auth store: `kill -9` the auth service while clients issue, exchange and refresh.

Clients issue one-off tokens (`POST /generate-token`), exchange them
(`/generate-access-token`), rotate refresh tokens (`/refresh-token`) and now
and then present an old refresh token on purpose (a reuse, which must revoke
its family). Each client remembers what the server answered. The service is
killed at random moments; after each restart the store is audited:

- every one-off token the client saw issued is in the store, used exactly when
  the client saw it exchanged; a used one opened exactly one session;
- every refresh family (session) holds exactly one live refresh token unless
  it is revoked, and that token is the newest one the client received (when
  the client saw the last rotation's answer); a revoked family is in the
  revocation feed the verifier follows;
- SQLite's `integrity_check` answers ok (checked between kill and restart);
- a few unused one-off tokens exchange once, a few families refresh.

At the end, with the clients stopped, every token is checked over HTTP: unused
one-off tokens exchange once and only once, used ones are refused; each live
family refreshes with its newest token, refuses the one before (which revokes
it) and then refuses everything, access tokens included.

`make crash-test` runs many kills; the test suite runs a short loop.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pacsbox.auth.piccolo_app import SCHEMA
from pacsbox.auth.tables import User
from pacsbox.core.db import close_engine, open_engine, sqlite_integrity_ok
from pacsbox.core.settings import Settings
from tests.crash.kill_loop import command_line
from tests.support.auth import ADMIN_PASSWORD, write_auth_config
from tests.support.servers import ServiceProcess

__all__ = ["AuthCrashReport", "run_auth_kill_loop"]


def _claims(token: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class OneOff:
    token: str
    username: str
    state: str = "issued"
    """issued (never sent back), exchanged (the client saw the tokens), uncertain (sent, no answer)."""


@dataclass
class Family:
    """A refresh token family as the client knows it."""

    refresh: list[str]
    access: str
    uncertain: bool = False
    """A rotation got no answer: the server may have rotated to a token the client never saw."""
    revoked: bool = False
    """The client presented an old token and was refused: the family must stay revoked."""


@dataclass
class AuthCrashReport:
    kills: int = 0
    one_offs: dict[str, OneOff] = field(default_factory=dict)
    """jti -> what the client knows of the one-off token."""
    families: dict[str, Family] = field(default_factory=dict)
    """sid -> the family's tokens as the client received them."""
    operations: int = 0
    audits: int = 0
    tokens_checked: int = 0
    problems: list[str] = field(default_factory=list)
    busy: set[str] = field(default_factory=set)
    """jtis and sids a thread is working on (one at a time each)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    gate: threading.Condition = field(default_factory=threading.Condition)
    active: int = 0
    paused: bool = False

    def summary(self) -> str:
        return (f"{self.kills} kills, {self.operations} token operations, {len(self.one_offs)} one-off tokens and "
                f"{len(self.families)} refresh families audited {self.audits} times, {self.tokens_checked} tokens "
                f"checked over HTTP, {len(self.problems)} problems")

    def claim(self, pick: str, rng: random.Random) -> str | None:
        """A free one-off jti (`pick="issued"`, `"uncertain"`) or family sid (`"live"`, `"reusable"`), now busy."""
        with self.lock:
            if pick in ("issued", "uncertain"):
                keys = [j for j, o in self.one_offs.items() if o.state == pick and j not in self.busy]
            else:
                keys = [s for s, f in self.families.items() if s not in self.busy and not f.revoked
                        and not f.uncertain and (pick == "live" or len(f.refresh) > 1)]
            if not keys:
                return None
            key = rng.choice(keys)
            self.busy.add(key)
            return key

    def release(self, key: str) -> None:
        with self.lock:
            self.busy.discard(key)

    @contextlib.contextmanager
    def operation(self) -> Iterator[None]:
        """One client operation; waits while an audit runs."""
        with self.gate:
            while self.paused:
                self.gate.wait()
            self.active += 1
        try:
            yield
        finally:
            with self.gate:
                self.active -= 1
                self.gate.notify_all()

    @contextlib.contextmanager
    def pause(self) -> Iterator[None]:
        """No client operation runs inside: the clients' knowledge and the store hold still."""
        with self.gate:
            self.paused = True
            while self.active:
                self.gate.wait()
        try:
            yield
        finally:
            with self.gate:
                self.paused = False
                self.gate.notify_all()

    def problem(self, text: str) -> None:
        with self.lock:
            if text not in self.problems:  # each audit finds a lasting problem again
                self.problems.append(text)


class _Client:
    """Speaks the token contract and records every answer in the report."""

    def __init__(self, server: ServiceProcess, report: AuthCrashReport, name: str = "checker") -> None:
        self.server, self.report, self.name = server, report, name
        self.http = httpx.Client(timeout=10)

    def issue(self, username: str) -> None:
        answer = self.http.post(f"{self.server.url}/generate-token", json={
            "password": ADMIN_PASSWORD, "name": username, "username": username, "canEditResource": True,
            "createUserIfNotExists": True,
        })
        if answer.status_code == 200:
            token = answer.json()["token"]
            with self.report.lock:
                self.report.one_offs[_claims(token)["jti"]] = OneOff(token, username)

    def exchange(self, jti: str) -> None:
        """Exchange a one-off token; a token never sent before must work."""
        one_off = self.report.one_offs[jti]
        try:
            answer = self.http.post(f"{self.server.url}/generate-access-token",
                                    headers={"Authorization": f"Bearer {one_off.token}"})
        except httpx.TransportError:
            one_off.state = "uncertain"
            raise
        if answer.status_code == 200:
            access = answer.headers["authorization"].removeprefix("Bearer ")
            with self.report.lock:
                one_off.state = "exchanged"
                self.report.families[_claims(answer.text)["sid"]] = Family([answer.text], access)
        elif one_off.state == "issued":
            self.report.problem(f"one-off token {jti} was issued, never sent, and its exchange answered "
                                f"{answer.status_code}: {answer.text[:120]}")
        else:  # an earlier exchange went through but its answer was lost
            one_off.state = "exchanged"

    def refresh(self, sid: str, *, token: str | None = None) -> httpx.Response:
        family = self.report.families[sid]
        try:
            return self.http.post(f"{self.server.url}/refresh-token",
                                  headers={"Authorization": f"Bearer {token or family.refresh[-1]}"})
        except httpx.TransportError:
            family.uncertain = True  # rotated, reused or neither: the client cannot tell
            raise

    def rotate(self, sid: str) -> None:
        """Refresh a family with its newest token: it must work."""
        family = self.report.families[sid]
        answer = self.refresh(sid)
        if answer.status_code == 200:
            family.refresh.append(answer.text)
            family.access = answer.headers["authorization"].removeprefix("Bearer ")
        else:
            self.report.problem(f"family {sid}: its newest refresh token was refused ({answer.status_code}: "
                                f"{answer.text[:120]})")
            family.revoked = True

    def reuse(self, sid: str) -> None:
        """Present an older refresh token: refused, and the family revoked."""
        family = self.report.families[sid]
        answer = self.refresh(sid, token=family.refresh[-2])
        family.revoked = True  # whatever the answer, the reuse may have revoked it
        if answer.status_code != 403:
            self.report.problem(f"family {sid}: a reused refresh token answered {answer.status_code}")

    def verify(self, access: str) -> int:
        return self.http.get(f"{self.server.url}/verify", headers={
            "X-Original-URI": "/zhiva/pacs/studies", "X-Original-Method": "GET",
            "Authorization": f"Bearer {access}"}).status_code

    def close(self) -> None:
        self.http.close()


def _step(client: _Client, report: AuthCrashReport, rng: random.Random, serial: int) -> bool:
    """One random operation: issue 35 %, exchange 30 %, rotate 30 %, reuse an old refresh token 5 %.

    Returns False when there was nothing to exchange, rotate or reuse.
    """
    roll = rng.random()
    if roll < 0.35:
        client.issue(f"{client.name}n{serial}")
        return True
    pick = "issued" if roll < 0.65 else "live" if roll < 0.95 else "reusable"
    key = report.claim(pick, rng) or (report.claim("uncertain", rng) if pick == "issued" else None)
    if key is None:
        return False
    try:
        {"issued": client.exchange, "live": client.rotate, "reusable": client.reuse}[pick](key)
    finally:
        report.release(key)
    return True


def _work(server: ServiceProcess, report: AuthCrashReport, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    client = _Client(server, report, f"c{seed}")
    serial = 0
    try:
        while not stop.is_set():
            serial += 1
            try:
                with report.operation():
                    done = _step(client, report, rng, serial)
                with report.lock:
                    report.operations += done
            except httpx.TransportError:
                time.sleep(0.05)  # the service is down: try again once it is back
    finally:
        client.close()


_STORE_QUERIES = {
    "one_offs": "SELECT jti, used_at IS NOT NULL AS used FROM auth_one_off_tokens",
    # one statement each, so PostgreSQL answers from one snapshot while the clients write
    "users": "SELECT u.username, "
             '(SELECT COUNT(*) FROM auth_one_off_tokens o WHERE o."user" = u.id AND o.used_at IS NOT NULL) AS used, '
             '(SELECT COUNT(*) FROM auth_sessions s WHERE s."user" = u.id) AS sessions FROM auth_users u',
    "sessions": "SELECT s.sid, s.revoked_at IS NOT NULL AS revoked, "
                "(SELECT COUNT(*) FROM auth_refresh_tokens r WHERE r.session = s.id AND r.used_at IS NULL) AS live, "
                "(SELECT MIN(r.digest) FROM auth_refresh_tokens r WHERE r.session = s.id AND r.used_at IS NULL) "
                "AS newest, EXISTS (SELECT 1 FROM auth_revocations v WHERE v.sid = s.sid) AS fed FROM auth_sessions s",
}


async def _read_store(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    engine = SCHEMA.bind(settings)
    await open_engine(engine)
    try:
        return {name: await User.raw(sql) for name, sql in _STORE_QUERIES.items()}
    finally:
        await close_engine(engine)


def _in_thread(coroutine: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _audit_store(server: ServiceProcess, report: AuthCrashReport) -> None:
    """The store against what the clients saw (safe while they run: only committed facts are compared)."""
    with report.pause():
        one_offs = {jti: o.state for jti, o in report.one_offs.items()}
        families = {sid: (f.refresh[-1], f.uncertain, f.revoked) for sid, f in report.families.items()}
        store = _in_thread(_read_store(Settings.load(server.env)))
    report.audits += 1
    used = {row["jti"]: bool(row["used"]) for row in store["one_offs"]}
    for jti, state in one_offs.items():
        if jti not in used:
            report.problem(f"one-off token {jti} was issued and is forgotten")
        elif state == "exchanged" and not used[jti]:
            report.problem(f"one-off token {jti} was exchanged and is unused again")
        elif state == "issued" and used[jti]:
            report.problem(f"one-off token {jti} was never exchanged and is used")
    for row in store["users"]:
        if row["used"] != row["sessions"]:
            report.problem(f"user {row['username']}: {row['used']} used one-off token(s), {row['sessions']} session(s)")
    sessions = {row["sid"]: row for row in store["sessions"]}
    for row in sessions.values():
        if not row["revoked"] and row["live"] != 1:
            report.problem(f"family {row['sid']} is half-rotated: {row['live']} live refresh tokens")
        if row["revoked"] and not row["fed"]:
            report.problem(f"family {row['sid']} is revoked but missing from the revocation feed")
    for sid, (newest, uncertain, revoked) in families.items():
        row = sessions.get(sid)
        if row is None:
            report.problem(f"family {sid} was opened and is forgotten")
        elif revoked and not row["revoked"]:
            report.problem(f"family {sid}: a reuse was refused but the family is not revoked")
        elif not row["revoked"] and not uncertain and row["newest"] != _digest(newest):
            report.problem(f"family {sid}: the live refresh token is not the newest the client received")


def _probe(client: _Client, report: AuthCrashReport, rng: random.Random) -> None:
    """After a restart: a couple of never-used one-off tokens exchange once; a couple of families refresh."""
    for _ in range(2):
        jti = report.claim("issued", rng)
        if jti:
            try:
                client.exchange(jti)
                answer = client.http.post(f"{client.server.url}/generate-access-token",
                                          headers={"Authorization": f"Bearer {report.one_offs[jti].token}"})
                if answer.status_code != 403:
                    report.problem(f"one-off token {jti} exchanged a second time: {answer.status_code}")
                report.tokens_checked += 1
            finally:
                report.release(jti)
        sid = report.claim("live", rng)
        if sid:
            try:
                client.rotate(sid)
                report.tokens_checked += 1
            finally:
                report.release(sid)


def _final_check(client: _Client, report: AuthCrashReport) -> None:
    """Clients stopped: every token the clients hold behaves as designed."""
    url = client.server.url
    for jti, one_off in report.one_offs.items():
        answer = client.http.post(f"{url}/generate-access-token", headers={"Authorization": f"Bearer {one_off.token}"})
        if one_off.state == "exchanged" and answer.status_code != 403:
            report.problem(f"used one-off token {jti} exchanged again: {answer.status_code}")
        if one_off.state == "issued":
            if answer.status_code != 200:
                report.problem(f"unused one-off token {jti} refused: {answer.status_code}")
            else:
                one_off.state = "exchanged"
                report.families[_claims(answer.text)["sid"]] = Family(
                    [answer.text], answer.headers["authorization"].removeprefix("Bearer "))
        report.tokens_checked += 1
    for sid, family in report.families.items():
        if family.revoked or family.uncertain:
            answer = client.refresh(sid)  # an uncertain family may answer either way
            if family.revoked and answer.status_code != 403:
                report.problem(f"revoked family {sid} refreshed: {answer.status_code}")
            if family.revoked and client.verify(family.access) != 403:
                report.problem(f"revoked family {sid}: its access token still verifies")
            report.tokens_checked += 1
            continue
        client.rotate(sid)
        if len(family.refresh) > 1:
            client.reuse(sid)
            if client.refresh(sid).status_code != 403:
                report.problem(f"family {sid}: the newest token still works after a reuse")
            if client.verify(family.access) != 403:
                report.problem(f"family {sid}: its access token still verifies after a reuse")
        report.tokens_checked += 1


def run_auth_kill_loop(folder: Path, kills: int, *, clients: int = 3, seed: int = 1,
                       env: dict[str, str] | None = None) -> AuthCrashReport:
    rng = random.Random(seed)
    report = AuthCrashReport()
    write_auth_config(folder, jwt_issuer="pacsbox-crash", public_url="https://pacs.example")
    server = ServiceProcess("auth", folder, env).start()
    database = server.data_dir / "auth.sqlite"
    sqlite = not (env or {}).get("PACSBOX_DATABASE_URL")
    stop = threading.Event()
    workers = [threading.Thread(target=_work, args=(server, report, stop, seed + n), daemon=True)
               for n in range(clients)]
    for worker in workers:
        worker.start()
    checker = _Client(server, report)
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(0.3, 1.5))
            server.kill()
            report.kills += 1
            if sqlite and not sqlite_integrity_ok(str(database)):
                report.problem(f"SQLite integrity_check failed after kill {report.kills}")
            server.start()
            _audit_store(server, report)
            _probe(checker, report, rng)
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        _audit_store(server, report)
        _final_check(checker, report)
        _audit_store(server, report)
    finally:
        stop.set()
        checker.close()
        server.stop()
    if sqlite and not sqlite_integrity_ok(str(database)):
        report.problem("SQLite integrity_check failed at the end")
    return report


if __name__ == "__main__":
    sys.exit(command_line(__doc__ or "", "auth crash test", run_auth_kill_loop, lambda report: len(report.families)))
