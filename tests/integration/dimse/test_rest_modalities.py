"""`/modalities` and `/jobs` in Orthanc's shapes: listing, validation naming the field, editor-only writes."""

from __future__ import annotations

import pytest

from tests.support.dimse import DicomPacs

pytestmark = pytest.mark.db

READ_ONLY = {"X-Pacsbox-User": "viewer", "X-Pacsbox-Can-Edit": "false"}


def test_put_get_list_delete(scp: DicomPacs) -> None:
    body = {"AET": "WORKSTATION1", "Host": "ws1.clinic.test", "Port": 104, "Manufacturer": "Generic",
            "ListenPort": 11113, "RetrieveMode": "C-GET", "TransferSyntax": "1.2.840.10008.1.2.4.90",
            "CharacterSet": "ISO_IR 100", "Description": "reading room", "UseDicomTls": True,
            "VerifyServerCertificate": False}
    assert scp.http.put("/modalities/ws1", json=body).status_code == 200
    stored = scp.http.get("/modalities/ws1").json()
    assert stored == {k: v for k, v in body.items() if k != "Manufacturer"}
    assert scp.http.get("/modalities/ws1/configuration").json() == stored
    assert "ws1" in scp.http.get("/modalities").json()
    assert scp.http.get("/modalities?expand").json()["ws1"] == stored
    assert scp.http.put("/modalities/ws1", json={**body, "Port": 11112}).json()["Port"] == 11112
    assert scp.http.delete("/modalities/ws1").status_code == 200
    assert scp.http.get("/modalities/ws1").status_code == 404
    assert scp.http.delete("/modalities/ws1").status_code == 404


def test_ipv6_and_ipv4_hosts(scp: DicomPacs) -> None:
    for host in ("::1", "[fe80::1]", "192.168.1.20"):
        answer = scp.http.put("/modalities/addr", json={"AET": "ADDR", "Host": host, "Port": 104})
        assert answer.status_code == 200, answer.text
    scp.http.delete("/modalities/addr")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"AET": "SEVENTEEN_LETTERS"}, "AET"),
        ({"AET": ""}, "AET"),
        ({"AET": "BACK\\SLASH"}, "AET"),
        ({"Host": "not a host!"}, "Host"),
        ({"Host": "999.1.1.1"}, "Host"),
        ({"Port": 0}, "Port"),
        ({"Port": 70000}, "Port"),
        ({"Port": "abc"}, "Port"),
        ({"ListenPort": -1}, "ListenPort"),
        ({"RetrieveMode": "C-SEND"}, "RetrieveMode"),
        ({"TransferSyntax": "not-a-uid"}, "TransferSyntax"),
        ({"UseDicomTls": "yes"}, "UseDicomTls"),
    ],
)
def test_invalid_field_is_400_naming_it(scp: DicomPacs, change: dict[str, object], field: str) -> None:
    body = {"AET": "GOOD", "Host": "127.0.0.1", "Port": 104, **change}
    answer = scp.http.put("/modalities/bad", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(field)
    assert scp.http.get("/modalities/bad").status_code == 404


def test_bad_name_and_body(scp: DicomPacs) -> None:
    assert scp.http.put("/modalities/has space", json={"AET": "A", "Host": "h", "Port": 1}).status_code == 400
    assert scp.http.put("/modalities/x", content=b"not json").status_code == 400


def test_writes_need_an_editor(scp: DicomPacs) -> None:
    body = {"AET": "RO", "Host": "127.0.0.1", "Port": 104}
    assert scp.http.put("/modalities/ro", json=body, headers=READ_ONLY).status_code == 403
    assert scp.http.put("/modalities/ro", json=body).status_code == 200
    assert scp.http.get("/modalities/ro", headers=READ_ONLY).status_code == 200
    for path in ("/modalities/ro/echo", "/modalities/ro/query", "/modalities/ro/store", "/modalities/ro/move"):
        assert scp.http.post(path, json={}, headers=READ_ONLY).status_code == 403
    assert scp.http.delete("/modalities/ro", headers=READ_ONLY).status_code == 403
    assert scp.http.post("/jobs/whatever/cancel", headers=READ_ONLY).status_code == 403
    scp.http.delete("/modalities/ro")


def test_retrieve_and_store_bodies_are_checked(scp: DicomPacs) -> None:
    scp.http.put("/modalities/checks", json={"AET": "CHECKS", "Host": "127.0.0.1", "Port": 104}).raise_for_status()
    no_uid = scp.http.post("/modalities/checks/move", json={"Level": "Series", "Resources": [{"StudyInstanceUID": "1.2"}]})
    assert no_uid.status_code == 400 and "SeriesInstanceUID" in no_uid.json()["error"]
    bad_level = scp.http.post("/modalities/checks/get", json={"Level": "Frame", "Resources": [{}]})
    assert bad_level.status_code == 400 and bad_level.json()["error"].startswith("Level")
    unknown = scp.http.post("/modalities/checks/store", json={"Resources": ["00000000-00000000-00000000-00000000-00000000"]})
    assert unknown.status_code == 404
    assert scp.http.post("/modalities/nobody-here/echo").status_code == 404
    scp.http.delete("/modalities/checks")


def test_unknown_job_is_404(scp: DicomPacs) -> None:
    assert scp.http.get("/jobs/no-such-job").status_code == 404
    assert scp.http.post("/jobs/no-such-job/cancel").status_code == 404
    assert isinstance(scp.http.get("/jobs").json(), list)
