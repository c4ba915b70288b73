"""The three JWTs pacsbox signs, their claims, and signing and verifying with the algorithm pinned.

    one-off  `typ: oneoff+jwt`  {name, username, canEditResource, tokenServer, refreshServer, pacs,
                                 iat, exp, iss, jti, aud?}        handed to a user, exchanged once
    access   `typ: at+jwt`      {name, username, canEditResource, iat, exp, iss, jti, sid, aud?}
    refresh  `typ: rt+jwt`      the access claims, living as long as the session; rotated on use

`sid` names the session (the refresh token family) an access token belongs to, so that revoking a
session stops its access tokens too. The `typ` header (RFC 8725 section 3.11) keeps one kind from
being accepted where another is expected.

Verification accepts exactly one algorithm, the configured one, with the configured public key:
`alg: none`, HS256 "signed" with the public key, or any other algorithm fails before a claim is
read. Claims are checked here, in a fixed order, when the claims object is built: a forged or
foreign token is refused (403) whatever its `exp` says; only a genuine, expired token is 401.
"""

from __future__ import annotations

import functools
import json
import time
import typing
import uuid
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, ClassVar

import jwt
from pacsbox.auth.keys import KeyPair
from pacsbox.core.errors import Forbidden, Unauthorized

__all__ = ["AccessClaims", "OneOffClaims", "RefreshClaims", "TokenCodec", "TokenKind", "new_jti"]

CLOCK_SKEW = 60
"""Seconds an `iat` may lie in the future (clocks of other hosts) before the token is refused."""


VERIFIED_CACHE_SIZE = 4096
"""Distinct genuine tokens whose signature check is remembered."""


class TokenKind(str, Enum):
    """The JOSE `typ` header of each kind of token."""

    ONE_OFF = "oneoff+jwt"
    ACCESS = "at+jwt"
    REFRESH = "rt+jwt"


def new_jti() -> str:
    return uuid.uuid4().hex


def _claim(payload: dict[str, Any], name: str, kind: type, *, optional: bool = False) -> Any:
    value = payload.get(name)
    if value is None and optional:
        return None
    if kind is int:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise Forbidden(f"invalid token: claim {name!r} missing or not a {kind.__name__}")
    return int(value) if kind is int else value


@dataclass(frozen=True)
class _Claims:
    """What every pacsbox token says: who, may they edit, when, by whom, and its id."""

    KIND: ClassVar[TokenKind]
    JSON_NAMES: ClassVar[dict[str, str]] = {"can_edit": "canEditResource"}

    name: str
    username: str
    can_edit: bool
    iat: int
    exp: int
    iss: str
    jti: str

    def payload(self) -> dict[str, Any]:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and value != "":
                out[self.JSON_NAMES.get(f.name, f.name)] = value
        return out

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Any:
        return cls(**{
            name: _claim(payload, key, kind, optional=optional) for name, key, kind, optional in _schema(cls)
        })


@dataclass(frozen=True)
class OneOffClaims(_Claims):
    KIND: ClassVar[TokenKind] = TokenKind.ONE_OFF
    JSON_NAMES: ClassVar[dict[str, str]] = {
        "can_edit": "canEditResource", "token_server": "tokenServer", "refresh_server": "refreshServer",
    }

    token_server: str = ""
    refresh_server: str = ""
    pacs: str = ""
    aud: str | None = None


@dataclass(frozen=True)
class AccessClaims(_Claims):
    KIND: ClassVar[TokenKind] = TokenKind.ACCESS

    sid: str = ""
    aud: str | None = None


@dataclass(frozen=True)
class RefreshClaims(AccessClaims):
    KIND: ClassVar[TokenKind] = TokenKind.REFRESH


_CLASSES = {cls.KIND: cls for cls in (OneOffClaims, AccessClaims, RefreshClaims)}


@functools.cache
def _schema(cls: type[_Claims]) -> tuple[tuple[str, str, type, bool], ...]:
    """(field, JSON claim, type, optional) for each claim of `cls`, computed once."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in fields(cls):
        optional = hints[f.name] == (str | None)
        out.append((f.name, cls.JSON_NAMES.get(f.name, f.name), str if optional else hints[f.name], optional))
    return tuple(out)


class TokenCodec:
    """Signs with the private key and verifies with the public key, one algorithm, one issuer."""

    def __init__(self, keys: KeyPair, issuer: str) -> None:
        self.algorithm = keys.algorithm
        self.issuer = issuer
        self._private_key = keys.private_key
        self._public_key = keys.public_key
        self._jws = jwt.PyJWS(algorithms=[keys.algorithm])
        # Genuine tokens are checked once per string: a viewer sends the same token with every
        # request. Only successes are kept (exceptions are not cached); expiry is checked each time.
        self._genuine = functools.lru_cache(maxsize=VERIFIED_CACHE_SIZE)(self._check)

    def sign(self, claims: _Claims) -> str:
        return jwt.encode(
            claims.payload(), self._private_key, algorithm=self.algorithm, headers={"typ": claims.KIND.value}
        )

    def verify(self, token: str, *kinds: TokenKind, now: float | None = None) -> Any:
        """The claims of `token` when it is genuine, of one of `kinds`, ours and still valid.

        Raises:
            Forbidden: bad signature or algorithm, wrong kind, wrong issuer, malformed claims.
            Unauthorized: a genuine token whose `exp` has passed.
        """
        claims = self._genuine(token)
        if claims.KIND not in kinds:
            expected = " or ".join(k.name.lower().replace("_", "-") for k in kinds)
            raise Forbidden(f"invalid token: not an {expected} token")
        now = time.time() if now is None else now
        if claims.iat > now + CLOCK_SKEW:
            raise Forbidden("invalid token: issued in the future")
        if claims.exp <= now:
            raise Unauthorized("token expired", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return claims

    def _check(self, token: str) -> _Claims:
        """Signature, algorithm, kind, issuer and claim types: what never changes for a given string."""
        try:
            signed = self._jws.decode_complete(token, self._public_key, algorithms=[self.algorithm])
        except jwt.InvalidTokenError as error:
            raise Forbidden(f"invalid token: {_reason(error)}") from None
        cls = _CLASSES.get(signed["header"].get("typ"))
        if cls is None:
            raise Forbidden("invalid token: unknown typ")
        try:
            payload = json.loads(signed["payload"])
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise Forbidden("invalid token: the payload is not a JSON object")
        if payload.get("iss") != self.issuer:
            raise Forbidden("invalid token: wrong issuer")
        return cls.from_payload(payload)


def _reason(error: jwt.InvalidTokenError) -> str:
    if isinstance(error, jwt.InvalidAlgorithmError):
        return "algorithm not allowed"
    if isinstance(error, jwt.InvalidSignatureError):
        return "bad signature"
    return "malformed"
