"""The compose check: the images on a local base, the stack up, a study stored and fetched through
nginx over HTTPS with a token, the stack taken down and up again, the study still there, then down.

Run by `make compose-check` (which builds the images first) and by CI (scripts/ci-compose-check); it
needs a Docker engine (scripts/docker-engine starts one) and `docker compose` or `docker-compose` 1.29
(`--compose` picks one). The stack runs as its own compose project on other ports, with a fresh
configuration folder, and is removed at the end with its volumes, also when a step fails or the check
is interrupted. Prints one line per step; exits 0 when every step passed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.support.dicom import dataset_bytes, make_series

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "pacsboxcheck"


def compose_command(chosen: str = "") -> list[str]:
    """`chosen`, else `docker compose` when the plugin is there, else docker-compose 1.29."""
    if chosen:
        return shlex.split(chosen)
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise SystemExit("compose-check: neither `docker compose` nor `docker-compose` is installed")


class Stack:
    def __init__(self, config: Path, https_port: int, compose: list[str]) -> None:
        self.config = config
        self.https_port = https_port
        self.base = compose + ["-p", PROJECT, "-f", str(ROOT / "docker-compose.yml"),
                               "-f", str(Path(__file__).with_name("quick-health.yml"))]
        self.env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "PACSBOX_CONFIG_PATH": str(config),
            "PACSBOX_HTTPS_PORT": str(https_port),
            "PACSBOX_HTTP_PORT": str(https_port + 1),
            "PACSBOX_DICOM_PORT": str(https_port + 2),
            "PACSBOX_DICOM_TLS_PORT": str(https_port + 3),
            "PACSBOX_SETUP_HOSTNAMES": "localhost,127.0.0.1",
        }

    def run(self, *args: str, capture: bool = False) -> str:
        result = subprocess.run([*self.base, *args], env=self.env, capture_output=capture, text=True, check=False)
        if result.returncode != 0:
            raise SystemExit(f"compose-check: `{' '.join(args)}` failed:\n{result.stderr if capture else ''}")
        return result.stdout if capture else ""

    def wait_healthy(self, service: str, timeout: float = 240) -> None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            container = self.run("ps", "-q", service, capture=True).strip()
            if container:
                state = subprocess.run(["docker", "inspect", "-f", "{{.State.Health.Status}}", container],
                                       capture_output=True, text=True).stdout.strip()
                if state == "healthy":
                    return
            time.sleep(2)
        print(self.run("logs", "--tail", "50", capture=True))
        raise SystemExit(f"compose-check: {service} not healthy after {timeout:.0f} s")

    def process_users(self, service: str) -> list[tuple[str, str]]:
        """(command, uid) of each process of the service's container."""
        container = self.run("ps", "-q", service, capture=True).strip()
        top = subprocess.run(["docker", "top", container, "-o", "pid,uid,comm"],
                             capture_output=True, text=True, check=True).stdout.splitlines()[1:]
        return [(line.split()[2], line.split()[1]) for line in top]

    def client(self, token: str = "") -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.config / "certs" / "ca.crt"))
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=f"https://localhost:{self.https_port}", verify=context, headers=headers, timeout=60)


def step(text: str) -> None:
    print(f"compose-check: {text}", flush=True)


def admin_password(log: str) -> str:
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if "Admin password (shown this once" in line:
            return lines[index + 1].split("|", 1)[-1].strip()
    raise SystemExit("compose-check: the setup service printed no generated admin password")


def editor_token(stack: Stack, password: str) -> str:
    with stack.client() as http:
        issued = http.post("/auth/generate-token", json={
            "password": password, "name": "Compose Check", "username": "composecheck",
            "canEditResource": True, "createUserIfNotExists": True})
        issued.raise_for_status()
        exchanged = http.post("/auth/generate-access-token", headers={"Authorization": issued.json()["token"]})
        exchanged.raise_for_status()
        return exchanged.headers["Authorization"].removeprefix("Bearer ")


def unprivileged(stack: Stack) -> str:
    """Which uid each service runs as; fails when a Python service or an nginx worker runs as root."""
    found = []
    for service in ("pacs", "auth", "viewer", "nginx"):
        users = stack.process_users(service)
        # nginx's master is root by design; `setpriv` is root only for the instant before it execs the
        # healthcheck or the service as pacsbox (a run caught that instant and failed)
        workers = [uid for command, uid in users if (command != "nginx" or uid != "0") and command != "setpriv"]
        if not workers or "0" in workers:
            raise SystemExit(f"compose-check: {service} runs processes as root: {users}")
        found.append(f"{service} uid {','.join(sorted(set(workers)))}")
    return "; ".join(found) + " (nginx's master alone as root)"


def volumes() -> set[str]:
    listed = subprocess.run(["docker", "volume", "ls", "-q"], capture_output=True, text=True, check=True)
    return set(listed.stdout.split())


def files_sent(stack: Stack, token: str, ids: list[str]) -> int:
    """Whole stored files fetched through /instances/{id}/file, which nginx's unprivileged workers send
    themselves from the data volume (X-Accel-Redirect)."""
    with stack.client(token) as http:
        return sum(http.get(f"/zhiva/instances/{public_id}/file").content[128:132] == b"DICM" for public_id in ids)


def find_study(stack: Stack, token: str, study_uid: str) -> int:
    """Instances of the study QIDO-RS reports, after fetching each one through WADO-RS."""
    with stack.client(token) as http:
        answer = http.get("/zhiva/pacs/instances", params={"StudyInstanceUID": study_uid})
        if answer.status_code == 204:
            return 0
        answer.raise_for_status()
        for instance in answer.json():
            sop = instance["00080018"]["Value"][0]
            series = instance["0020000E"]["Value"][0]
            got = http.get(f"/zhiva/pacs/studies/{study_uid}/series/{series}/instances/{sop}",
                           headers={"Accept": 'multipart/related; type="application/dicom"'})
            if got.status_code != 200 or b"DICM" not in got.content:
                raise SystemExit(f"compose-check: WADO-RS of {sop} answered {got.status_code}")
        return len(answer.json())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--https-port", type=int, default=18443)
    parser.add_argument("--compose", default="", help='"docker compose" or "docker-compose" (default: the first found)')
    parser.add_argument("--config-owner", type=int, default=0,
                        help="uid (and gid) owning the configuration folder; 0: the services run as uid 10001")
    parser.add_argument("--keep", action="store_true", help="leave the stack and its volumes up at the end")
    args = parser.parse_args(argv)
    # `kill` or a CI timeout ends the check through the `finally` below, which takes the stack down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("compose-check: terminated"))
    compose = compose_command(args.compose)
    config = Path(tempfile.mkdtemp(prefix="pacsbox-compose-"))
    config.chmod(0o755)  # as a checkout: the services' user reads it, the wizard's files stay 0600
    os.chown(config, args.config_owner, args.config_owner)
    stack = Stack(config, args.https_port, compose)
    began = time.monotonic()
    volumes_before = volumes()
    try:
        stack.run("down", "-v", "--remove-orphans", capture=True)
        step(f"{' '.join(compose)} up (config {config}, https://localhost:{args.https_port})")
        started = time.monotonic()
        stack.run("up", "-d", "--no-build", capture=True)
        stack.wait_healthy("nginx")
        step(f"setup ran, pacs, auth, viewer and nginx healthy {time.monotonic() - started:.0f} s after `up`")
        step(f"not root: {unprivileged(stack)}")
        token = editor_token(stack, admin_password(stack.run("logs", "--no-color", "setup", capture=True)))
        step("editor token issued through https://.../auth/generate-token and exchanged")
        # 256 x 256 slices (131 kB): stored with O_DIRECT on the data volume, as a real series is
        series = list(make_series(3, rows=256, columns=256, patient_name="Compose^Check"))
        ids = []
        with stack.client(token) as http:
            for ds in series:
                answer = http.post("/zhiva/instances", content=dataset_bytes(ds), headers={"Content-Type": "application/dicom"})
                answer.raise_for_status()
                ids.append(answer.json()["ID"])
        with stack.client() as http:
            anonymous = http.get("/zhiva/pacs/studies").status_code
        study = series[0].StudyInstanceUID
        found = find_study(stack, token, study)
        sent = files_sent(stack, token, ids)
        step(f"stored {len(series)} instances over HTTPS; QIDO finds {found}, each retrieved by WADO-RS; "
             f"{sent} files sent by nginx; no token -> {anonymous}")
        if found != len(series) or sent != len(series) or anonymous != 401:
            raise SystemExit("compose-check: the study is not as stored")
        stack.run("down", capture=True)
        step("down (volumes kept)")
        started = time.monotonic()
        stack.run("up", "-d", "--no-build", capture=True)
        stack.wait_healthy("nginx")
        setup_log = stack.run("logs", "--no-color", "setup", capture=True)
        step(f"up again, healthy {time.monotonic() - started:.0f} s after `up`; setup: "
             + ("nothing to do" if "nothing to do" in setup_log else "ran again"))
        found = find_study(stack, token, study)
        sent = files_sent(stack, token, ids)
        step(f"after the restart QIDO finds {found} of {len(series)} instances, each retrieved; {sent} files sent by nginx")
        if found != len(series) or sent != len(series):
            raise SystemExit("compose-check: the study did not survive the restart")
        status = json.dumps({"instances": found, "seconds": round(time.monotonic() - began)})
        step(f"passed {status}")
        return 0
    finally:
        if not args.keep:
            stack.run("down", "-v", "--remove-orphans", capture=True)
            left = stack.run("ps", "-q", capture=True).split() + sorted(volumes() - volumes_before)
            step(f"down -v: containers and volumes removed ({len(left)} left{': ' if left else ''}{' '.join(left)})")
            shutil.rmtree(config, ignore_errors=True)
            if left:
                raise SystemExit("compose-check: the stack left containers or volumes behind")


if __name__ == "__main__":
    sys.exit(main())
