"""`POST /api/links`: editors get the viewer address of a study; viewers may not."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from tests.integration.viewer.conftest import Phantom

EDITOR = {"X-Pacsbox-User": "alice", "X-Pacsbox-Can-Edit": "true"}
READER = {"X-Pacsbox-User": "bob", "X-Pacsbox-Can-Edit": "false"}


def test_editor_gets_the_ohif_address_of_a_study(viewer_http: httpx.Client, phantom: Phantom) -> None:
    answer = viewer_http.post("/api/links", json={"studyInstanceUid": phantom.study}, headers=EDITOR)
    assert answer.status_code == 201, answer.text
    url = urlsplit(answer.json()["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "pacs.clinic.test:8443", "/viewer/viewer")
    assert parse_qs(url.query) == {"StudyInstanceUIDs": [phantom.study]}


def test_a_series_link_names_the_series(viewer_http: httpx.Client, phantom: Phantom) -> None:
    body = {"studyInstanceUid": phantom.study, "seriesInstanceUid": phantom.series}
    answer = viewer_http.post("/api/links", json=body, headers=EDITOR)
    assert answer.status_code == 201
    assert parse_qs(urlsplit(answer.json()["url"]).query)["SeriesInstanceUIDs"] == [phantom.series]


def test_readers_may_not_create_links(viewer_http: httpx.Client, phantom: Phantom) -> None:
    answer = viewer_http.post("/api/links", json={"studyInstanceUid": phantom.study}, headers=READER)
    assert answer.status_code == 403
    assert "canEditResource" in answer.json()["error"]


def test_a_link_to_an_unknown_study_is_404(viewer_http: httpx.Client) -> None:
    answer = viewer_http.post("/api/links", json={"studyInstanceUid": "1.2.3.999"}, headers=EDITOR)
    assert answer.status_code == 404
    assert "1.2.3.999" in answer.json()["error"]
