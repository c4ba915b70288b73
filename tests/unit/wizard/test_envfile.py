from pathlib import Path

import pytest
from pacsbox.core.errors import SettingsError
from pacsbox.core.settings import Settings, read_dotenv
from pacsbox.wizard.envfile import merge, quote, render

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"


def test_every_setting_is_written_and_settings_read_them_back(tmp_path: Path) -> None:
    text = render(merge({}, {"PACSBOX_ADMIN_PASSWORD_HASH": HASH, "PACSBOX_DICOM_AET": "MY AE"}))
    (tmp_path / ".env").write_text(text)
    assert set(read_dotenv(tmp_path / ".env")) == set(Settings.variables()) - {"PACSBOX_CONFIG_DIR"}
    settings = Settings.load({"PACSBOX_CONFIG_DIR": str(tmp_path)})
    assert settings.auth.admin_password_hash == HASH
    assert settings.dicom.aet == "MY AE"
    assert settings.http.max_body_size == Settings().http.max_body_size
    assert settings.limits == Settings().limits


def test_the_hash_is_single_quoted_so_compose_does_not_expand_it() -> None:
    assert f"PACSBOX_ADMIN_PASSWORD_HASH='{HASH}'\n" in render(merge({}, {"PACSBOX_ADMIN_PASSWORD_HASH": HASH}))


def test_values_the_user_set_are_kept_unknown_ones_too() -> None:
    text = render(merge({"PACSBOX_LOG_LEVEL": "DEBUG", "PACSBOX_FUTURE_THING": "x y"}, {"PACSBOX_DICOM_PORT": "104"}))
    assert "PACSBOX_LOG_LEVEL=DEBUG\n" in text
    assert "PACSBOX_DICOM_PORT=104\n" in text
    assert text.endswith("PACSBOX_FUTURE_THING='x y'\n")


def test_a_value_that_cannot_be_quoted_safely_is_refused() -> None:
    assert quote("X", "it's") == '"it\'s"'
    for bad in ("it's $HOME", "two\nlines"):
        with pytest.raises(SettingsError, match="X"):
            quote("X", bad)
