"""A configuration folder for the auth service: a fresh key pair and admin hash, as the wizard would write them."""

from __future__ import annotations

import os
from pathlib import Path

from argon2 import PasswordHasher
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

__all__ = ["ADMIN_PASSWORD", "generate_key_pair", "write_auth_config"]

ADMIN_PASSWORD = "correct horse battery staple"


def generate_key_pair(algorithm: str = "RS256") -> tuple[bytes, bytes]:
    """PEM (private, public) for RS256 (RSA 3072) or ES256 (P-256)."""
    key = rsa.generate_private_key(65537, 3072) if algorithm == "RS256" else ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def write_auth_config(folder: Path, algorithm: str = "RS256", keys: tuple[bytes, bytes] | None = None,
                      **settings: str) -> Path:
    """Write certs/jwt_*.pem (private key 0600) and a `.env` with the admin hash and `settings`."""
    certs = folder / "certs"
    certs.mkdir(parents=True, exist_ok=True)
    private, public = keys or generate_key_pair(algorithm)
    (certs / "jwt_private.pem").write_bytes(private)
    os.chmod(certs / "jwt_private.pem", 0o600)
    (certs / "jwt_public.pem").write_bytes(public)
    lines = {
        "PACSBOX_JWT_ALGORITHM": algorithm,
        "PACSBOX_ADMIN_PASSWORD_HASH": PasswordHasher().hash(ADMIN_PASSWORD),
        **{f"PACSBOX_{k.upper()}": v for k, v in settings.items()},
    }
    (folder / ".env").write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    return folder
