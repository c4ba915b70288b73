"""The admin password: strength rule, generation, and the argon2id hash kept in `.env`."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["MIN_LENGTH", "generate_password", "hash_password", "password_matches", "weakness"]

MIN_LENGTH = 12

_HASHER = PasswordHasher(type=Type.ID)
"""argon2id with argon2-cffi's defaults (RFC 9106's second recommended profile)."""

_COMMON = ("password", "admin", "pacsbox", "qwerty", "letmein", "welcome", "123456", "zhiva", "orthanc")

_ALPHABET = string.ascii_letters + string.digits + "-_.!"


def weakness(password: str) -> str | None:
    """Why `password` is too weak for the admin, or None when it is acceptable.

    At least 12 characters mixing three kinds (lower, upper, digits, others), or a
    passphrase of 16 or more; no long run of one character; no common word.
    """
    if len(password) < MIN_LENGTH:
        return f"use at least {MIN_LENGTH} characters"
    if len(set(password)) < 6:
        return "use more different characters"
    lowered = password.lower()
    if any(word in lowered for word in _COMMON):
        return "avoid common words such as 'password', 'admin' or 'pacsbox'"
    kinds = sum((
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ))
    if kinds < 3 and len(password) < 16:
        return "mix upper and lower case, digits and symbols, or use a passphrase of 16+ characters"
    return None


def generate_password() -> str:
    """24 random characters (about 140 bits), safe to paste anywhere."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(24))
        if weakness(password) is None:
            return password


def hash_password(password: str) -> str:
    """The argon2id hash written to `PACSBOX_ADMIN_PASSWORD_HASH`."""
    return _HASHER.hash(password)


def password_matches(hashed: str, password: str) -> bool:
    """Whether `hashed` (an argon2 hash, or anything else) verifies `password`."""
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
