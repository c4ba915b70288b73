"""OHIF in Debian's chromium, served by the viewer service, reading the pacs over DICOMweb with a token.

A real nginx stands in front as the stack's does: `/viewer/` goes to the viewer
service and `/zhiva/` to the pacs, both with their prefix stripped. Instead of
`auth_request` it lets `/zhiva/` through only with one bearer token, so the
study list shows the phantom only if OHIF sends the token it was given as
`?token=`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.viewer.conftest import Phantom
from tests.support.nginx_front import nginx_config, running_nginx
from tests.support.ports import free_port
from tests.support.servers import ServiceProcess

TOKEN = secrets.token_urlsafe(24)

SERVER = """\
    server {{
        listen 127.0.0.1:{port};
        location /zhiva/ {{
            if ($http_authorization != "Bearer {token}") {{ return 401; }}
            proxy_pass http://127.0.0.1:{pacs}/;
        }}
        location /viewer/ {{ proxy_pass http://127.0.0.1:{viewer}/; }}
    }}"""


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory, pacs: ServiceProcess, viewer: ServiceProcess,
          ohif_dist: Path | None) -> Iterator[str]:
    """nginx on a free port in front of the viewer and the pacs; yields its base URL."""
    if ohif_dist is None:
        pytest.skip("the OHIF viewer could not be fetched from the npm registry (scripts/fetch-ohif)")
    prefix = tmp_path_factory.mktemp("nginx")
    port = free_port()
    server = SERVER.format(port=port, token=TOKEN, pacs=pacs.port, viewer=viewer.port)
    with running_nginx(prefix, nginx_config(prefix, server), port):
        yield f"http://127.0.0.1:{port}"


def test_study_list_shows_the_phantom_with_the_token(browser: Any, front: str, phantom: Phantom) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{front}/viewer/?token={TOKEN}&mrn={phantom.patient_id}", timeout=60_000)
        page.get_by_text("Box phantom").first.wait_for(timeout=90_000)
        assert page.get_by_text("Phantom, Box").first.is_visible()
        assert "token=" not in page.url  # taken out of the address bar at once
        assert page.evaluate("sessionStorage.getItem('pacsbox.viewer.session')").count(TOKEN) == 1
    finally:
        page.close()


RENDERED = """() => {
    const engines = window.cornerstone?.getRenderingEngines?.() || [];
    const viewports = engines.flatMap(engine => engine.getViewports());
    return viewports.length > 0 && viewports.every(v => v.viewportStatus === 'rendered');
}"""

BRIGHTEST_SLICE = """async () => {
    // The share of lit pixels on the brightest of two slices: the box fills slices 25 to 34 of 40,
    // so one of slices 5 and 30 shows it whichever way the viewer orders the stack.
    const viewport = window.services.cornerstoneViewportService.getCornerstoneViewport('default');
    let best = 0;
    for (const index of [5, 30]) {
        await viewport.setImageIdIndex(index);
        await new Promise(resolve => setTimeout(resolve, 1500));
        const canvas = viewport.getCanvas();
        const copy = document.createElement('canvas');
        copy.width = canvas.width;
        copy.height = canvas.height;
        const context = copy.getContext('2d');
        context.drawImage(canvas, 0, 0);
        const data = context.getImageData(0, 0, copy.width, copy.height).data;
        let lit = 0;
        for (let i = 0; i < data.length; i += 4) {
            if (data[i] + data[i + 1] + data[i + 2] > 300) lit++;
        }
        best = Math.max(best, lit / (data.length / 4));
    }
    return best;
}"""


def test_viewer_draws_the_phantom_slices_fetched_with_the_token(browser: Any, front: str, phantom: Phantom
                                                                ) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{front}/viewer/viewer?StudyInstanceUIDs={phantom.study}&token={TOKEN}", timeout=60_000)
        page.wait_for_function(RENDERED, timeout=120_000, polling=500)
        assert "token=" not in page.url
        share = page.evaluate(BRIGHTEST_SLICE)
        assert share > 0.01  # the bone box is drawn: frames came through with the token
    finally:
        page.close()


def test_without_a_token_the_study_list_cannot_read_the_pacs(browser: Any, front: str, phantom: Phantom) -> None:
    page = browser.new_page()
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/zhiva/pacs/studies" in r.url else None)
    try:
        page.goto(f"{front}/viewer/?mrn={phantom.patient_id}", timeout=60_000)
        deadline = time.monotonic() + 60
        while 401 not in statuses and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert 401 in statuses
        # OHIF's error handler sends the browser to the sign-in page, asking to come back here.
        page.wait_for_url("**/auth/sign-in?redirect=*", timeout=30_000)
        assert "%2Fviewer%2F" in page.url
    finally:
        page.close()
