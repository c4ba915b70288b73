import pytest
from pacsbox.wizard.password import generate_password, hash_password, password_matches, weakness


@pytest.mark.parametrize("weak", ["short1A!", "aaaaaaaaaaaaaaaa", "MyPassword2024!", "lowercase123456"])
def test_weak_passwords_are_refused_with_a_reason(weak: str) -> None:
    assert weakness(weak)


@pytest.mark.parametrize("strong", ["Correct-Horse-42-battery", "correct horse staple battery", "T7#kq!mZ2w$r"])
def test_strong_passwords_and_passphrases_pass(strong: str) -> None:
    assert weakness(strong) is None


def test_generated_passwords_are_strong_and_different() -> None:
    passwords = {generate_password() for _ in range(20)}
    assert len(passwords) == 20
    assert all(weakness(p) is None and len(p) >= 24 for p in passwords)


def test_the_hash_is_argon2id_and_verifies_only_the_password() -> None:
    hashed = hash_password("Correct-Horse-42-battery")
    assert hashed.startswith("$argon2id$")
    assert password_matches(hashed, "Correct-Horse-42-battery")
    assert not password_matches(hashed, "Correct-Horse-42-batterY")
    assert not password_matches("not a hash", "Correct-Horse-42-battery")
