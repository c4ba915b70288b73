"""The key pair is checked before the service signs anything."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pacsbox.auth.context import AuthContext
from pacsbox.auth.keys import load_key_pair
from pacsbox.core.errors import SettingsError
from pacsbox.core.settings import AuthSettings, Settings

from tests.support.auth import generate_key_pair, write_auth_config


def settings_for(folder: Path, algorithm: str = "ES256") -> AuthSettings:
    return AuthSettings(jwt_algorithm=algorithm, jwt_private_key=folder / "certs" / "jwt_private.pem",
                        jwt_public_key=folder / "certs" / "jwt_public.pem")


@pytest.fixture(scope="module")
def ec_pair() -> tuple[bytes, bytes]:
    return generate_key_pair("ES256")


def test_a_good_pair_loads(tmp_path: Path, ec_pair: tuple[bytes, bytes]) -> None:
    write_auth_config(tmp_path, "ES256", ec_pair)
    assert load_key_pair(settings_for(tmp_path)).algorithm == "ES256"


def test_keys_that_are_not_one_pair_are_refused(tmp_path: Path, ec_pair: tuple[bytes, bytes]) -> None:
    write_auth_config(tmp_path, "ES256", (ec_pair[0], generate_key_pair("ES256")[1]))
    with pytest.raises(SettingsError, match="not one pair"):
        load_key_pair(settings_for(tmp_path))


def test_small_rsa_keys_are_refused(tmp_path: Path) -> None:
    key = rsa.generate_private_key(65537, 2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    write_auth_config(tmp_path, "RS256", (private, public))
    with pytest.raises(SettingsError, match="2048 bits"):
        load_key_pair(settings_for(tmp_path, "RS256"))


def test_unknown_algorithm_and_exposed_private_key_are_refused(tmp_path: Path, ec_pair: tuple[bytes, bytes]) -> None:
    write_auth_config(tmp_path, "ES256", ec_pair)
    with pytest.raises(SettingsError, match="HS256"):
        load_key_pair(settings_for(tmp_path, "HS256"))
    os.chmod(tmp_path / "certs" / "jwt_private.pem", 0o640)
    with pytest.raises(SettingsError, match="readable by others"):
        load_key_pair(settings_for(tmp_path))


def test_admin_hash_must_be_argon2id_and_is_read_literally(tmp_path: Path, ec_pair: tuple[bytes, bytes]) -> None:
    write_auth_config(tmp_path, "ES256", ec_pair)
    settings = Settings.load({"PACSBOX_CONFIG_DIR": str(tmp_path)})
    assert settings.auth.admin_password_hash.startswith("$argon2id$v=19$m=")
    AuthContext.load(settings)
    bcrypt = "$2b$12$abcdefghijklmnopqrstuuVhV4bXm0ZcO0tEjVg3bM3n9p0JTaL1e"
    with pytest.raises(SettingsError, match="not an argon2id hash"):
        AuthContext.load(Settings.load({"PACSBOX_CONFIG_DIR": str(tmp_path), "PACSBOX_ADMIN_PASSWORD_HASH": bcrypt}))
