"""`DELETE /changes`: the change log emptied as Orthanc 1.10.1 empties it (checked against it by hand:
200 with an empty text body, `Last` kept, the next change numbered after it)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.dicom import dataset_bytes, make_series
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db

EDITOR = {"X-Pacsbox-User": "editor", "X-Pacsbox-Can-Edit": "true"}
VIEWER = {"X-Pacsbox-User": "viewer", "X-Pacsbox-Can-Edit": "false"}


def test_clearing_the_log_keeps_the_numbering(fresh_pacs: ServiceProcess) -> None:
    with httpx.Client(base_url=fresh_pacs.url) as http:
        assert http.delete("/changes", headers=EDITOR).status_code == 200  # an empty log too
        first, second = (dataset_bytes(ds) for ds in make_series(2))
        assert http.post("/instances", content=first).status_code == 200
        last = http.get("/changes").json()["Last"]
        assert last == 4  # NewInstance, NewSeries, NewStudy, NewPatient

        cleared = http.delete("/changes", headers=EDITOR)
        assert cleared.status_code == 200 and cleared.content == b""
        assert http.get("/changes").json() == {"Changes": [], "Done": True, "Last": last}
        assert http.get("/changes?last").json() == {"Changes": [], "Done": True, "Last": last}

        stored = http.post("/instances", content=second).json()
        log = http.get("/changes").json()
        assert [(c["Seq"], c["ChangeType"], c["ID"]) for c in log["Changes"]] == [(last + 1, "NewInstance", stored["ID"])]
        assert http.get("/changes?last").json()["Changes"][0]["Seq"] == last + 1


def test_only_editors_may_clear_the_log(fresh_pacs: ServiceProcess) -> None:
    with httpx.Client(base_url=fresh_pacs.url) as http:
        assert http.post("/instances", content=dataset_bytes(next(make_series(1)))).status_code == 200
        refused = http.delete("/changes", headers=VIEWER)
        assert refused.status_code == 403 and "may only read" in refused.json()["error"]
        assert len(http.get("/changes").json()["Changes"]) == 4
