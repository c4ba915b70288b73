import re
from pathlib import Path

import pytest

from pacsbox.core.errors import SettingsError
from pacsbox.core.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def test_environment_wins_over_dotenv_and_dotenv_over_defaults(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PACSBOX_DICOM_AET=FROMFILE\nPACSBOX_DICOM_PORT='1104'\n# comment\n")
    settings = Settings.load({"PACSBOX_CONFIG_DIR": str(tmp_path), "PACSBOX_DICOM_AET": "FROMENV"})
    assert settings.dicom.aet == "FROMENV"
    assert settings.dicom.port == 1104
    assert settings.dicom.tls_port == 2762


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    settings = Settings.load({"PACSBOX_CONFIG_DIR": str(tmp_path)})
    assert settings.paths.data_dir == tmp_path / "data"


def test_sizes_accept_nginx_suffixes_and_lists_split_on_commas(tmp_path: Path) -> None:
    settings = Settings.load({
        "PACSBOX_CONFIG_DIR": str(tmp_path),
        "PACSBOX_MAX_BODY_SIZE": "2m",
        "PACSBOX_ALLOWED_ORIGINS": "https://a.example, https://b.example",
    })
    assert settings.http.max_body_size == 2 * 1024 * 1024
    assert settings.http.allowed_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(("name", "value"), [("PACSBOX_DICOM_PORT", "forty"), ("PACSBOX_LOG_JSON", "maybe")])
def test_unreadable_value_names_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"{name}='{value}'"):
        Settings.load({"PACSBOX_CONFIG_DIR": str(tmp_path), name: value})


def test_env_example_documents_exactly_the_settings() -> None:
    documented = set(re.findall(r"^#? ?(PACSBOX_[A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert documented == set(Settings.variables())
