"""Signing and verifying: one algorithm, one issuer, one kind per place; forged is 403, expired 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pacsbox.auth.keys import KeyPair
from pacsbox.auth.tokens import (
    AccessClaims,
    OneOffClaims,
    RefreshClaims,
    TokenCodec,
    TokenKind,
    new_jti,
)
from pacsbox.core.errors import Forbidden, Unauthorized

from tests.support.auth import generate_key_pair


def codec_for(algorithm: str) -> tuple[TokenCodec, bytes, bytes]:
    private, public = generate_key_pair(algorithm)
    pair = KeyPair(algorithm, serialization.load_pem_private_key(private, None),  # type: ignore[arg-type]
                   serialization.load_pem_public_key(public))  # type: ignore[arg-type]
    return TokenCodec(pair, "pacsbox"), private, public


@pytest.fixture(scope="module", params=["RS256", "ES256"])
def codec(request: pytest.FixtureRequest) -> tuple[TokenCodec, bytes, bytes]:
    return codec_for(request.param)


def access(**changes: object) -> AccessClaims:
    now = int(time.time())
    values = dict(name="Ann", username="ann", can_edit=False, iat=now, exp=now + 60, iss="pacsbox",
                  jti=new_jti(), sid="s1")
    return AccessClaims(**{**values, **changes})  # type: ignore[arg-type]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_round_trip_keeps_the_claims_and_the_contract_names(codec: tuple[TokenCodec, bytes, bytes]) -> None:
    tokens, _, public = codec
    claims = access(aud="https://viewer.example")
    token = tokens.sign(claims)
    assert tokens.verify(token, TokenKind.ACCESS) == claims
    payload = jwt.decode(token, public, algorithms=[tokens.algorithm], audience="https://viewer.example")
    assert payload["canEditResource"] is False and "can_edit" not in payload
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"


def test_one_off_claims_use_the_zhiva_names(codec: tuple[TokenCodec, bytes, bytes]) -> None:
    tokens, _, _ = codec
    now = int(time.time())
    claims = OneOffClaims(name="A", username="a", can_edit=True, iat=now, exp=now + 9, iss="pacsbox", jti="j",
                          token_server="https://h/auth/generate-access-token", refresh_server="https://h/auth/refresh-token",
                          pacs="https://h/zhiva/pacs")
    payload = json.loads(base64.urlsafe_b64decode(tokens.sign(claims).split(".")[1] + "=="))
    assert {"tokenServer", "refreshServer", "pacs", "canEditResource"} <= set(payload)
    assert "aud" not in payload


def test_each_kind_is_accepted_only_where_expected(codec: tuple[TokenCodec, bytes, bytes]) -> None:
    tokens, _, _ = codec
    refresh = tokens.sign(RefreshClaims(**access().__dict__))
    with pytest.raises(Forbidden, match="not an access token"):
        tokens.verify(refresh, TokenKind.ACCESS)
    assert tokens.verify(refresh, TokenKind.REFRESH).sid == "s1"


def test_expired_is_unauthorized_and_future_is_forbidden(codec: tuple[TokenCodec, bytes, bytes]) -> None:
    tokens, _, _ = codec
    now = int(time.time())
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(tokens.sign(access(iat=now - 20, exp=now - 10)), TokenKind.ACCESS)
    with pytest.raises(Forbidden, match="future"):
        tokens.verify(tokens.sign(access(iat=now + 3600, exp=now + 7200)), TokenKind.ACCESS)


def test_alg_none_and_hs256_with_the_public_key_are_refused(codec: tuple[TokenCodec, bytes, bytes]) -> None:
    tokens, _, public = codec
    payload = access().payload()
    none = f"{b64(json.dumps({'alg': 'none', 'typ': 'at+jwt'}).encode())}.{b64(json.dumps(payload).encode())}."
    with pytest.raises(Forbidden, match="algorithm not allowed"):
        tokens.verify(none, TokenKind.ACCESS)
    unsigned = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'at+jwt'}).encode())}.{b64(json.dumps(payload).encode())}"
    mac = hmac.new(public, unsigned.encode(), hashlib.sha256).digest()
    with pytest.raises(Forbidden, match="algorithm not allowed"):
        tokens.verify(f"{unsigned}.{b64(mac)}", TokenKind.ACCESS)


@pytest.mark.parametrize(("configured", "others"), [("RS256", ["RS384", "RS512", "PS256", "PS512"]), ("ES256", ["ES384"])])
def test_only_the_configured_algorithm_is_accepted_even_with_the_right_key(configured: str, others: list[str]) -> None:
    """Exactly one algorithm: the same key under any other algorithm of its family is refused."""
    tokens, private, _ = codec_for(configured)
    payload = access().payload()
    assert tokens.verify(jwt.encode(payload, private, algorithm=configured, headers={"typ": "at+jwt"}), TokenKind.ACCESS)
    for algorithm in others:
        if algorithm == "ES384":  # ES384 needs a P-384 key: the token is forged with one
            key = ec.generate_private_key(ec.SECP384R1())
        else:
            key = serialization.load_pem_private_key(private, None)
        token = jwt.encode(payload, key, algorithm=algorithm, headers={"typ": "at+jwt"})  # type: ignore[arg-type]
        with pytest.raises(Forbidden, match="algorithm not allowed"):
            tokens.verify(token, TokenKind.ACCESS)


def test_pyjwt_is_a_release_without_the_key_confusion_flaws() -> None:
    assert tuple(int(part) for part in jwt.__version__.split(".")[:2]) >= (2, 13)


def test_other_keys_issuers_and_tampering_are_refused(codec: tuple[TokenCodec, bytes, bytes]) -> None:
    tokens, _, _ = codec
    other, _, _ = codec_for(tokens.algorithm)
    with pytest.raises(Forbidden, match="bad signature"):
        tokens.verify(other.sign(access()), TokenKind.ACCESS)
    with pytest.raises(Forbidden, match="issuer"):
        tokens.verify(tokens.sign(access(iss="zhiva.ai")), TokenKind.ACCESS)
    header, _, signature = tokens.sign(access()).split(".")
    raised = b64(json.dumps(access(can_edit=True).payload()).encode())
    with pytest.raises(Forbidden):
        tokens.verify(f"{header}.{raised}.{signature}", TokenKind.ACCESS)


@pytest.mark.parametrize("payload", [
    {"name": "a", "username": "a", "canEditResource": "yes", "iat": 1, "exp": 2**40, "iss": "pacsbox", "jti": "j", "sid": "s"},
    {"name": "a", "username": "a", "canEditResource": False, "iat": 1, "exp": "never", "iss": "pacsbox", "jti": "j", "sid": "s"},
    {"name": "a", "canEditResource": False, "iat": 1, "exp": 2**40, "iss": "pacsbox", "jti": "j", "sid": "s"},
])
def test_malformed_claims_are_refused_by_name(payload: dict, codec: tuple[TokenCodec, bytes, bytes]) -> None:
    tokens, private, _ = codec
    token = jwt.encode(payload, private, algorithm=tokens.algorithm, headers={"typ": "at+jwt"})
    with pytest.raises(Forbidden, match="claim"):
        tokens.verify(token, TokenKind.ACCESS)
