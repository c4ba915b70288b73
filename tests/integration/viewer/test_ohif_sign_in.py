"""OHIF opened with a one-off token, as a login link or the sign-in page hands it out, behind nginx + auth.

nginx asks the real auth service (`auth_request` to `/verify`) before `/zhiva/`
and forwards the identity it answers. The viewer's `app-config.js` must trade
the one-off token for an access token at `/auth/generate-access-token` (the
one-off token then dies) and send the access token with every DICOMweb request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import database_env
from tests.integration.viewer.conftest import Phantom
from tests.support.auth import ADMIN_PASSWORD, write_auth_config
from tests.support.nginx_front import nginx_config, running_nginx
from tests.support.ports import free_port
from tests.support.postgres import TemporaryPostgres
from tests.support.servers import ServiceProcess

SERVER = """\
    server {{
        listen 127.0.0.1:{port};
        location = /_verify {{
            internal;
            proxy_pass http://127.0.0.1:{auth}/verify;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
        }}
        location /auth/ {{ proxy_pass http://127.0.0.1:{auth}/; }}
        location /zhiva/ {{
            auth_request /_verify;
            auth_request_set $pacsbox_user $upstream_http_x_pacsbox_user;
            auth_request_set $pacsbox_can_edit $upstream_http_x_pacsbox_can_edit;
            proxy_set_header X-Pacsbox-User $pacsbox_user;
            proxy_set_header X-Pacsbox-Can-Edit $pacsbox_can_edit;
            proxy_pass http://127.0.0.1:{pacs}/;
        }}
        location /viewer/ {{ proxy_pass http://127.0.0.1:{viewer}/; }}
    }}"""


@dataclass(frozen=True)
class SignedFront:
    url: str
    auth: httpx.Client


@pytest.fixture(scope="module")
def signed_front(tmp_path_factory: pytest.TempPathFactory, postgres: TemporaryPostgres | None, pacs: ServiceProcess,
                 viewer: ServiceProcess, ohif_dist: Path | None) -> Iterator[SignedFront]:
    """nginx with `auth_request` in front of a real auth service, the viewer and the pacs."""
    if ohif_dist is None:
        pytest.skip("the OHIF viewer could not be fetched from the npm registry (scripts/fetch-ohif)")
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    folder = write_auth_config(tmp_path_factory.mktemp("auth"), public_url=public)
    auth = ServiceProcess("auth", folder, database_env(postgres)).start()
    prefix = tmp_path_factory.mktemp("nginx")
    server = SERVER.format(port=port, auth=auth.port, pacs=pacs.port, viewer=viewer.port)
    try:
        with running_nginx(prefix, nginx_config(prefix, server), port), httpx.Client(base_url=auth.url) as client:
            yield SignedFront(public, client)
    finally:
        auth.stop()


def test_a_one_off_token_is_exchanged_and_opens_the_study_list(browser: Any, signed_front: SignedFront,
                                                                phantom: Phantom) -> None:
    issued = signed_front.auth.post("/generate-token", json={
        "password": ADMIN_PASSWORD, "name": "Dr Reader", "username": "reader", "canEditResource": False,
        "createUserIfNotExists": True,
    })
    assert issued.status_code == 200, issued.text
    one_off = issued.json()["token"]
    page = browser.new_page()
    try:
        page.goto(f"{signed_front.url}/viewer/?token={one_off}&mrn={phantom.patient_id}", timeout=60_000)
        page.get_by_text("Box phantom").first.wait_for(timeout=90_000)
        session = json.loads(page.evaluate("sessionStorage.getItem('pacsbox.viewer.session')"))
    finally:
        page.close()
    assert session["access"] and session["access"] != one_off and session["refresh"]
    again = signed_front.auth.post("/generate-access-token", headers={"Authorization": f"Bearer {one_off}"})
    assert again.status_code == 403  # the viewer spent it
