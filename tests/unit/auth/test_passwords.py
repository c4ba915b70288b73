from __future__ import annotations

from pacsbox.auth.passwords import check_hash, hash_password, verify_password


def test_hashes_are_argon2id_salted_and_verified() -> None:
    first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert first.startswith("$argon2id$") and first != second
    assert check_hash(first) is None
    assert verify_password(first, "s3cret-pass")
    assert not verify_password(first, "s3cret-pasS")
    assert not verify_password(None, "anything")
    assert not verify_password("garbage", "anything")
    assert "empty" in check_hash("")
