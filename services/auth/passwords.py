"""Password hashing with argon2id, verified in constant time (argon2's own comparison), unknown
users included.

argon2-cffi's defaults follow RFC 9106's second recommended option (argon2id,
t=3, m=64 MiB, p=4). Verifying costs tens of milliseconds of CPU on purpose, so
callers run it off the event loop (`verify_password_async`).
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.exceptions import VerifyMismatchError as _Mismatch

__all__ = [
    "check_hash",
    "hash_password",
    "verify_password",
    "verify_password_async",
]

_HASHER = PasswordHasher(type=Type.ID)
_DUMMY_HASH = _HASHER.hash("pacsbox: no such user")
"""Verified against when a user has no hash, so that unknown users cost as much as known ones."""


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string, `$argon2id$v=19$...`) of `password`."""
    return _HASHER.hash(password)


def check_hash(encoded: str) -> str | None:
    """Why `encoded` is not a usable argon2id hash, or None when it is."""
    if not encoded:
        return "empty"
    if not encoded.startswith("$argon2id$"):
        return "not an argon2id hash (expected $argon2id$v=19$m=...,t=...,p=...$salt$hash)"
    try:
        _HASHER.check_needs_rehash(encoded)
    except (InvalidHashError, ValueError) as error:
        return f"unreadable argon2id hash: {error}"
    return None


def verify_password(encoded: str | None, password: str) -> bool:
    """True when `password` matches `encoded`; a missing hash takes as long and is False."""
    try:
        return _HASHER.verify(encoded or _DUMMY_HASH, password) and bool(encoded)
    except (_Mismatch, VerificationError, InvalidHashError):
        return False


async def verify_password_async(encoded: str | None, password: str) -> bool:
    """`verify_password` on a worker thread (argon2 releases the GIL)."""
    return await asyncio.to_thread(verify_password, encoded, password)
