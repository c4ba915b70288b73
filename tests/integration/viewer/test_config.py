"""What the viewer tells viewers about the stack: /api/server-config and OHIF's app-config.js; the OHIF files."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.integration.viewer.conftest import start_viewer
from tests.support.servers import ServiceProcess

PUBLIC = "https://pacs.clinic.test:8443"


def test_server_config_names_the_public_endpoints(viewer_http: httpx.Client) -> None:
    answer = viewer_http.get("/api/server-config")
    assert answer.status_code == 200
    config = answer.json()
    assert config["qidoRoot"] == config["wadoRoot"] == config["pacs"] == f"{PUBLIC}/zhiva/pacs"
    assert config["wadoUriRoot"] == f"{PUBLIC}/zhiva/wado"
    assert config["tokenServer"] == f"{PUBLIC}/auth/generate-access-token"
    assert config["refreshServer"] == f"{PUBLIC}/auth/refresh-token"
    assert config["signInUrl"] == f"{PUBLIC}/auth/sign-in"
    assert config["viewerUrl"] == f"{PUBLIC}/viewer/"


def test_server_config_follows_the_url_prefix(tmp_path: Path, pacs: ServiceProcess) -> None:
    server = start_viewer(tmp_path, pacs, PACSBOX_URL_PREFIX="/dicom", PACSBOX_PUBLIC_URL="https://10.0.0.5")
    try:
        config = httpx.get(f"{server.url}/api/server-config").json()
    finally:
        server.stop()
    assert config["qidoRoot"] == "https://10.0.0.5/dicom/pacs"
    assert config["wadoUriRoot"] == "https://10.0.0.5/dicom/wado"


def test_app_config_points_ohif_at_this_pacs_with_the_token_hook(viewer_http: httpx.Client,
                                                                 ohif_dist: Path | None) -> None:
    if ohif_dist is None:
        pytest.skip("the OHIF viewer could not be fetched from the npm registry (scripts/fetch-ohif)")
    answer = viewer_http.get("/app-config.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["cache-control"] == "no-cache"
    script = answer.text
    for expected in ('"qidoRoot": "/zhiva/pacs"', '"wadoRoot": "/zhiva/pacs"', '"wadoUriRoot": "/zhiva/wado"',
                     '"routerBasename": "/viewer"', '"signIn": "/auth/sign-in"',
                     "@ohif/extension-default.dataSourcesModule.dicomweb", "getAuthorizationHeader",
                     "sessionStorage", "history.replaceState", "Authorization: 'Bearer ' + access",
                     "error.status !== 401", "imageRendering: 'wadors'", "thumbnailRendering: 'wadors'",
                     "omitQuotationForMultipartRequest: true", "investigationalUseDialog: { option: 'never' }"):
        assert expected in script, expected


def test_ohif_pages_files_and_missing_files(viewer_http: httpx.Client, ohif_dist: Path | None) -> None:
    if ohif_dist is None:
        pytest.skip("the OHIF viewer could not be fetched from the npm registry (scripts/fetch-ohif)")
    for page in ("/", "/viewer", "/viewer/dicomweb"):
        answer = viewer_http.get(page, params={"StudyInstanceUIDs": "1.2.3"})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        assert 'src="/viewer/app-config.js"' in answer.text  # patched for nginx's /viewer/ prefix
    bundle = re.search(r'src="/viewer/(app\.bundle\.[0-9a-f]+\.js)"', viewer_http.get("/").text)
    assert bundle
    script = viewer_http.get(f"/{bundle.group(1)}")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert '__webpack_require__.p = "/viewer/"' in script.text
    assert viewer_http.get("/no-such-bundle.js").status_code == 404
    assert viewer_http.get("/../pyproject.toml").status_code == 404


def test_without_the_ohif_build_every_page_names_the_fetch_script(tmp_path: Path, pacs: ServiceProcess) -> None:
    server = start_viewer(tmp_path, pacs, PACSBOX_VIEWER_OHIF_DIR=str(tmp_path / "missing"))
    try:
        for path in ("/", "/viewer", "/app-config.js"):
            answer = httpx.get(f"{server.url}{path}")
            assert answer.status_code == 503
            assert "scripts/fetch-ohif" in answer.json()["error"]
        assert httpx.get(f"{server.url}/api/server-config").status_code == 200
    finally:
        server.stop()
