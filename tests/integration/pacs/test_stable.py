"""Stable resources: `StableSeries`, `StableStudy` and `StablePatient` in /changes once no instance arrived
for PACSBOX_STABLE_AGE seconds, as clients that process whole studies expect from Orthanc."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import start_pacs
from tests.support.dicom import dataset_bytes, make_series
from tests.support.dicomweb import store

pytestmark = pytest.mark.db


@pytest.fixture
def http(tmp_path: Path, postgres: Any) -> Iterator[httpx.Client]:
    # Long enough that the stores below end before anything turns stable, on a machine under load too.
    server = start_pacs(tmp_path / "pacs", postgres, PACSBOX_STABLE_AGE="3")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client
    finally:
        server.stop()


def _stable_changes(http: httpx.Client, since: int, until: str) -> tuple[list[tuple[str, str]], int]:
    """The Stable* changes after `since`, waiting until one of type `until` arrives; and the last Seq."""
    found: list[tuple[str, str]] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        page = http.get("/changes", params={"since": since, "limit": 1000}).json()
        found += [(c["ChangeType"], c["ID"]) for c in page["Changes"] if c["ChangeType"].startswith("Stable")]
        since = page["Last"]
        if any(kind == until for kind, _ in found):
            return found, since
        time.sleep(0.2)
    raise AssertionError(f"no {until} within 20 s; saw {found}")


def test_resources_become_stable_once_nothing_arrives_and_unstable_again_with_a_new_instance(
    http: httpx.Client,
) -> None:
    patient_id = "STABLE-1"
    first = list(make_series(2, patient_id=patient_id))
    second = list(make_series(1, patient_id=patient_id))
    a = [store(http, dataset_bytes(ds)) for ds in first]
    b = store(http, dataset_bytes(second[0]))
    ids = {key: http.post("/tools/lookup", content=uid).json()[0]["ID"] for key, uid in (
        ("series_a", a[0].series), ("series_b", b.series), ("study_1", a[0].study), ("study_2", b.study))}
    patient = http.get(f"/studies/{ids['study_1']}").json()["ParentPatient"]
    assert http.get(f"/studies/{ids['study_1']}").json()["IsStable"] is False

    changes, last = _stable_changes(http, 0, until="StablePatient")
    assert sorted(changes[:2]) == sorted([("StableSeries", ids["series_a"]), ("StableSeries", ids["series_b"])])
    assert sorted(changes[2:4]) == sorted([("StableStudy", ids["study_1"]), ("StableStudy", ids["study_2"])])
    assert changes[4:] == [("StablePatient", patient)]  # once, after its last study
    assert all(http.get(path).json()["IsStable"] for path in (
        f"/patients/{patient}", f"/studies/{ids['study_1']}", f"/series/{ids['series_b']}"))

    (late,) = make_series(1, patient_id=patient_id, study_uid=a[0].study, series_uid=a[0].series)
    store(http, dataset_bytes(late))
    assert http.get(f"/series/{ids['series_a']}").json()["IsStable"] is False
    assert http.get(f"/patients/{patient}").json()["IsStable"] is False
    assert http.get(f"/studies/{ids['study_2']}").json()["IsStable"] is True  # nothing new there

    again, _ = _stable_changes(http, last, until="StablePatient")
    assert again == [("StableSeries", ids["series_a"]), ("StableStudy", ids["study_1"]), ("StablePatient", patient)]
