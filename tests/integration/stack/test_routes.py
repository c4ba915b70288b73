"""Each path of DESIGN's URL table reaches its service through nginx, with the prefix stripped."""

from __future__ import annotations

from pacsbox.cli import SERVICES
from tests.support.dicom import dataset_bytes, make_series
from tests.support.stack import StackProcess


def test_rest_api_under_the_prefix(stack: StackProcess, editor: str) -> None:
    with stack.client(headers={"Authorization": f"Bearer {editor}"}) as http:
        answer = http.get("/zhiva/no-such-resource")
    assert answer.status_code == 404
    assert answer.json()["status"] == 404  # the pacs service's JSON answer, past the verifier


def test_dicomweb_store_then_search_and_retrieve(stack: StackProcess, editor: str) -> None:
    ds = next(make_series(1, patient_name="Route^Rita"))
    with stack.client(headers={"Authorization": f"Bearer {editor}"}) as http:
        stored = http.post("/zhiva/instances", content=dataset_bytes(ds), headers={"Content-Type": "application/dicom"})
        assert stored.status_code == 200, stored.text
        found = http.get("/zhiva/pacs/studies", params={"PatientName": "Route^Rita"})
        assert found.status_code == 200
        study = found.json()[0]
        assert study["0020000D"]["Value"] == [ds.StudyInstanceUID]
        assert study["00081190"]["Value"][0].startswith(f"{stack.origin}/zhiva/pacs/studies/")  # public RetrieveURL
        wado = http.get("/zhiva/wado", params={
            "requestType": "WADO", "studyUID": ds.StudyInstanceUID, "seriesUID": ds.SeriesInstanceUID,
            "objectUID": ds.SOPInstanceUID, "contentType": "application/dicom",
        })
        assert wado.status_code == 200
        assert wado.content[128:132] == b"DICM"


def test_explorer_page_is_public(stack: StackProcess) -> None:
    with stack.client() as http:
        page = http.get("/zhiva/app/explorer.html")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert http.get("/").headers["location"] == "/zhiva/app/explorer.html"


def test_auth_pages_reach_the_token_server(stack: StackProcess) -> None:
    with stack.client() as http:
        page = http.get("/auth/token")
        assert page.status_code == 200
        assert "<form" in page.text


def test_verifier_not_reachable_from_outside(stack: StackProcess, editor: str) -> None:
    with stack.client(headers={"Authorization": f"Bearer {editor}", "X-Original-URI": "/zhiva/system"}) as http:
        for path in ("/auth/verify", "/auth/verify/", "/auth/%76erify", "/auth//verify", "/_pacsbox/verify"):
            answer = http.get(path)
            assert answer.status_code == 404, path
            assert "x-pacsbox-user" not in answer.headers


def test_metrics_not_reachable_from_outside(stack: StackProcess, editor: str) -> None:
    """DESIGN: `/metrics` is not routed through nginx. /auth/ and /viewer/ passed it on to anyone, /zhiva/ to
    any token holder: request counts by route and status (failed logins and verifications among them)."""
    with stack.client(headers={"Authorization": f"Bearer {editor}"}) as http:
        for path in ("/auth/metrics", "/viewer/metrics", "/zhiva/metrics", "/auth/metrics/", "/auth/%6detrics"):
            answer = http.get(path)
            assert answer.status_code == 404, path
            assert "litestar_requests_total" not in answer.text, path


def test_stored_files_not_reachable_from_outside(stack: StackProcess, editor: str) -> None:
    ds = next(make_series(1))
    with stack.client(headers={"Authorization": f"Bearer {editor}"}) as http:
        assert http.post("/zhiva/instances", content=dataset_bytes(ds), headers={"Content-Type": "application/dicom"}).status_code == 200
        stored = next((stack.data_dir / "storage").rglob("*.dcm")).relative_to(stack.data_dir / "storage")
        for path in (f"/_pacsbox_storage/{stored}", "/_pacsbox_storage/"):
            assert http.get(path).status_code == 404, path  # nginx sends them only on the pacs's X-Accel-Redirect


def test_admin_console_goes_to_the_auth_service(stack: StackProcess) -> None:
    with stack.client() as http:
        answer = http.get("/admin/")
    assert answer.headers["content-type"].startswith("application/json")  # the service's answer, not nginx's page


def test_viewer_routes(stack: StackProcess, editor: str) -> None:
    with stack.client(headers={"Authorization": f"Bearer {editor}"}) as http:
        public, api = http.get("/viewer/"), http.get("/viewer/api/")
        anonymous = http.get("/viewer/api/", headers={"Authorization": ""})
    assert anonymous.status_code == 401  # the viewer API asks the verifier first
    if "viewer" in SERVICES:
        assert public.status_code == 200
        assert api.status_code != 502
    else:  # the viewer service is not part of this build: nginx says so plainly
        assert public.status_code == api.status_code == 502


def test_instance_file_bytes_sent_by_nginx(stack: StackProcess, editor: str) -> None:
    ds = next(make_series(1))
    data = dataset_bytes(ds)
    with stack.client(headers={"Authorization": f"Bearer {editor}"}) as http:
        stored = http.post("/zhiva/instances", content=data, headers={"Content-Type": "application/dicom"})
        answer = http.get(f"/zhiva/instances/{stored.json()['ID']}/file",
                          headers={"X-Pacsbox-Accel-Prefix": "/etc"})  # a client's value is replaced by nginx's
    assert answer.status_code == 200, answer.text
    assert "x-accel-redirect" not in answer.headers
    assert answer.headers["content-type"].startswith("application/dicom")
    instance = stored.json()["ID"]  # stored under storage/ab/<ID>.dcm
    on_disk = stack.data_dir / "storage" / instance[:2] / f"{instance}.dcm"
    assert answer.content == on_disk.read_bytes()
