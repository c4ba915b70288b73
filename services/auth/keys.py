"""The token signing key pair, read from the PEM files the wizard wrote, with the checks that make
the service refuse to start rather than sign with something weak or exposed.

The algorithm is pinned by `PACSBOX_JWT_ALGORITHM`: RS256 wants an RSA pair of at least 3072 bits,
ES256 an ECDSA P-256 pair. The private key must not be readable by group or others (mode 0600),
and the public key must be the private key's own.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pacsbox.core.errors import SettingsError
from pacsbox.core.settings import AuthSettings

__all__ = ["ALGORITHMS", "KeyPair", "load_key_pair"]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

ALGORITHMS = ("RS256", "ES256")
"""The signing algorithms pacsbox can be configured with (exactly one at a time)."""

MIN_RSA_BITS = 3072


@dataclass(frozen=True)
class KeyPair:
    algorithm: str
    private_key: PrivateKey
    public_key: PublicKey


def _read(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise SettingsError(f"{what} {path} is missing: run `pacsbox setup` (or set PACSBOX_JWT_PRIVATE_KEY / PACSBOX_JWT_PUBLIC_KEY)")
    return path.read_bytes()


def _check_private_mode(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SettingsError(
            f"JWT private key {path} is readable by others (mode {stat.S_IMODE(mode):04o}): run `chmod 600 {path}`"
        )


def _check_kind(algorithm: str, key: PublicKey, path: Path) -> None:
    if algorithm == "RS256":
        if not isinstance(key, rsa.RSAPublicKey):
            raise SettingsError(f"PACSBOX_JWT_ALGORITHM=RS256 needs an RSA key; {path} is not one")
        if key.key_size < MIN_RSA_BITS:
            raise SettingsError(f"{path}: RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} are required")
    elif not (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)):
        raise SettingsError(f"PACSBOX_JWT_ALGORITHM=ES256 needs an ECDSA P-256 key; {path} is not one")


def load_key_pair(settings: AuthSettings) -> KeyPair:
    """Read and check the key pair named by the settings.

    Raises:
        SettingsError: a file is missing or unreadable, the private key is exposed, the keys do not
            match each other or the algorithm.
    """
    algorithm = settings.jwt_algorithm
    if algorithm not in ALGORITHMS:
        raise SettingsError(f"PACSBOX_JWT_ALGORITHM={algorithm!r}: expected one of {', '.join(ALGORITHMS)}")
    try:
        public_key = serialization.load_pem_public_key(_read(settings.jwt_public_key, "JWT public key"))
    except ValueError as error:
        raise SettingsError(f"JWT public key {settings.jwt_public_key} is not a PEM public key: {error}") from None
    if not isinstance(public_key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        raise SettingsError(f"JWT public key {settings.jwt_public_key}: only RSA and ECDSA keys are supported")
    _check_kind(algorithm, public_key, settings.jwt_public_key)
    path = settings.jwt_private_key
    data = _read(path, "JWT private key")
    _check_private_mode(path)
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise SettingsError(f"JWT private key {path} is not an unencrypted PEM private key: {error}") from None
    if private_key.public_key().public_numbers() != public_key.public_numbers():  # type: ignore[union-attr]
        raise SettingsError(f"JWT keys {path} and {settings.jwt_public_key} are not one pair")
    return KeyPair(algorithm, private_key, public_key)  # type: ignore[arg-type]
