"""CPU cost of `/auth/verify` for a valid access token: in-process and over HTTP.

    .venv/bin/python bench/auth_verify.py [--requests 5000] [--algorithm RS256|ES256]

Prints the median time of:
  - the token check alone, first sight of a token (signature verified) and repeated (cached);
  - the whole verifier (headers -> caller, revocation cache included), in-process;
  - `GET /verify` over HTTP on loopback against a real `pacsbox serve auth` (client-side latency),
    and the server process's CPU time per request (user + system, from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ADMIN_PASSWORD = "bench-admin-password"


def write_config(folder: Path, algorithm: str) -> None:
    key = rsa.generate_private_key(65537, 3072) if algorithm == "RS256" else ec.generate_private_key(ec.SECP256R1())
    certs = folder / "certs"
    certs.mkdir(parents=True)
    (certs / "jwt_private.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(certs / "jwt_private.pem", 0o600)
    (certs / "jwt_public.pem").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (folder / ".env").write_text(
        f"PACSBOX_JWT_ALGORITHM={algorithm}\nPACSBOX_ADMIN_PASSWORD_HASH={PasswordHasher().hash(ADMIN_PASSWORD)}\n"
        f"PACSBOX_DATA_DIR={folder / 'data'}\nPACSBOX_LOG_LEVEL=WARNING\n"
    )


def median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def timed(call, count: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


async def in_process(folder: Path, count: int) -> None:
    os.environ["PACSBOX_CONFIG_DIR"] = str(folder)
    from pacsbox.auth.context import AuthContext
    from pacsbox.auth.piccolo_app import SCHEMA
    from pacsbox.auth.tokens import AccessClaims, TokenKind, new_jti
    from pacsbox.auth.verifier import Verifier
    from pacsbox.core.db import close_engine, open_engine
    from pacsbox.core.settings import Settings

    settings = Settings.load()
    ctx = AuthContext.load(settings)
    now = int(time.time())

    def token() -> str:
        return ctx.codec.sign(AccessClaims(name="Bench", username="bench", can_edit=False, iat=now, exp=now + 3600,
                                           iss=ctx.codec.issuer, jti=new_jti(), sid=new_jti()))

    fresh = [token() for _ in range(min(count, 2000))]
    cold = [0.0] * len(fresh)
    for i, t in enumerate(fresh):
        start = time.perf_counter()
        ctx.codec.verify(t, TokenKind.ACCESS)
        cold[i] = time.perf_counter() - start
    warm_token = fresh[0]
    warm = timed(lambda: ctx.codec.verify(warm_token, TokenKind.ACCESS), count)
    print(f"token check, first sight ({ctx.codec.algorithm}): median {median_us(cold):8.1f} us  (n={len(cold)})")
    print(f"token check, cached:                   median {median_us(warm):8.1f} us  (n={count})")

    engine = SCHEMA.bind(settings)
    await open_engine(engine)
    try:
        await SCHEMA.upgrade()
        verifier = Verifier(ctx, settings.http.url_prefix)
        headers = {"authorization": f"Bearer {warm_token}", "x-original-uri": "/zhiva/pacs/studies",
                   "x-original-method": "GET"}
        samples = []
        cpu_start = time.process_time()
        for _ in range(count):
            start = time.perf_counter()
            await verifier.verify(headers, "127.0.0.1")
            samples.append(time.perf_counter() - start)
        cpu = (time.process_time() - cpu_start) / count
        print(f"verifier in-process (headers->caller): median {median_us(samples):8.1f} us, "
              f"CPU {cpu * 1e6:.1f} us/request  (n={count})")
    finally:
        await close_engine(engine)


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def over_http(folder: Path, count: int) -> None:
    port = free_port()
    env = {**os.environ, "PACSBOX_CONFIG_DIR": str(folder)}
    server = subprocess.Popen([sys.executable, "-m", "pacsbox.cli", "serve", "auth", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base) as http:
            issued = http.post("/generate-token", json={"password": ADMIN_PASSWORD, "name": "Bench",
                                                         "username": "bench", "createUserIfNotExists": True}).json()
            access = http.post("/generate-access-token", headers={"Authorization": issued["token"]}).headers["authorization"]
            headers = {"Authorization": access, "X-Original-URI": "/zhiva/pacs/studies", "X-Original-Method": "GET"}
            for _ in range(200):  # warm up
                http.get("/verify", headers=headers)
            cpu_before = process_cpu(server.pid)
            samples = []
            for _ in range(count):
                start = time.perf_counter()
                answer = http.get("/verify", headers=headers)
                samples.append(time.perf_counter() - start)
                assert answer.status_code == 200
            cpu = (process_cpu(server.pid) - cpu_before) / count
        print(f"GET /verify over HTTP (loopback):      median {median_us(samples):8.1f} us latency, "
              f"server CPU {cpu * 1e6:.1f} us/request  (n={count})")
    finally:
        server.terminate()
        server.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--algorithm", choices=["RS256", "ES256"], default="RS256")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pacsbox-bench-auth-") as tmp:
        folder = Path(tmp)
        write_config(folder, args.algorithm)
        asyncio.run(in_process(folder, args.requests))
        over_http(folder, args.requests)


if __name__ == "__main__":
    main()
