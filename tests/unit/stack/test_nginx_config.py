"""The rendered nginx configuration follows the settings, and nginx itself accepts it (`nginx -t`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pacsbox.core.errors import SettingsError
from pacsbox.core.settings import Settings
from pacsbox.stack.nginx import NginxOptions, render, write_config
from pacsbox.wizard.apply import apply
from tests.support.wizard import answers, layout

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("config")
    apply(answers(), layout(folder))
    return folder


def settings(folder: Path, **env: str) -> Settings:
    return Settings.load({"PACSBOX_CONFIG_DIR": str(folder), **{f"PACSBOX_{k}": v for k, v in env.items()}})


def options(folder: Path, **changes: object) -> NginxOptions:
    return NginxOptions(**{"run_dir": folder / "run", "https_port": 8443, "http_port": 8080, "listen": "127.0.0.1", **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("env", [
    {},
    {"URL_PREFIX": "/pacs/main", "HSTS_MAX_AGE": "31536000", "MAX_BODY_SIZE": "512m"},
    {"PACS_URL": "http://pacs.invalid:8042", "ALLOWED_ORIGINS": "https://a.example,https://b.example:8443"},
])
def test_nginx_accepts_the_rendered_configuration(configured: Path, env: dict[str, str]) -> None:
    config = write_config(settings(configured, **env), options(configured))
    checked = subprocess.run([NGINX, "-t", "-e", "stderr", "-p", str(configured / "run"), "-c", str(config)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_settings_reach_the_configuration(configured: Path) -> None:
    text = render(settings(configured, URL_PREFIX="/pacs/main", HSTS_MAX_AGE="600", MAX_BODY_SIZE="512m",
                           ALLOWED_ORIGINS="https://a.example"), options(configured))
    assert "location /pacs/main/pacs/ {" in text
    assert 'add_header Strict-Transport-Security "max-age=600" always;' in text
    assert f"client_max_body_size {512 * 1024 * 1024};" in text
    assert '"https://a.example" "$http_origin";' in text
    assert "listen 127.0.0.1:8443 ssl http2" in text
    assert "return 301 https://$host:443$request_uri" not in text  # the public port 443 is left out


def test_no_hsts_and_no_plain_port_when_off(configured: Path) -> None:
    text = render(settings(configured), options(configured, http_port=0))
    assert "Strict-Transport-Security" not in text
    assert "return 301" not in text


def test_an_unresolvable_upstream_is_marked_down(configured: Path) -> None:
    text = render(settings(configured, VIEWER_URL="http://viewer.invalid:8000"), options(configured))
    assert "server 127.0.0.1:9 down;" in text


@pytest.mark.parametrize(("name", "value"), [("URL_PREFIX", "/a b"), ("PACS_URL", "https://pacs:8042"), ("AUTH_URL", "http://auth:4000/x")])
def test_settings_nginx_cannot_use_are_refused(configured: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        render(settings(configured, **{name: value}), options(configured))


def test_the_benchmark_puts_orthanc_behind_the_same_transport_lines(configured: Path, tmp_path: Path) -> None:
    """bench/front.py compares the two servers behind one front: its nginx for Orthanc keeps every line of
    pacsbox's rendered configuration that decides how bytes move, and nginx accepts it."""
    from bench.front import orthanc_front_config

    pacsbox = render(settings(configured), options(configured))
    orthanc = orthanc_front_config(pacsbox, tmp_path, 8443, 8042)
    for line in ("worker_processes auto;", "proxy_buffers 8 256k;", "proxy_max_temp_file_size 0;",
                 "client_body_buffer_size 256k;", "proxy_request_buffering off;", "ssl_protocols TLSv1.2 TLSv1.3;",
                 f"ssl_certificate {configured / 'certs' / 'server.crt'};"):
        assert line in pacsbox and line in orthanc, line
    assert "auth_request" not in orthanc
    for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / folder).mkdir()
    (tmp_path / "nginx.conf").write_text(orthanc)
    checked = subprocess.run([NGINX, "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
