"""REST resources: `/system`, `/statistics`, lists, descriptions, `/changes` and deletion, as an Orthanc client sees them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.dicom import TEST_FILES, dataset_bytes, make_series
from tests.support.dicomweb import renamed
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db


def upload(http: httpx.Client, data: bytes) -> dict[str, Any]:
    answer = http.post("/instances", content=data)
    assert answer.status_code == 200, answer.text
    return answer.json()


def stored_files(pacs: ServiceProcess) -> set[str]:
    return {path.stem for path in (pacs.data_dir / "storage").rglob("*.dcm")}


@pytest.fixture(scope="module")
def series(http: httpx.Client) -> list[dict[str, Any]]:
    """Three CT slices of one series, as `POST /instances` answered them."""
    return [upload(http, dataset_bytes(ds)) for ds in make_series(3, patient_name="Rest^Resources", accession_number="A42")]


def test_system_names_the_server_and_its_ports(pacs: ServiceProcess, http: httpx.Client) -> None:
    system = http.get("/system").json()
    assert system["Name"] == "pacsbox"
    assert system["DicomAet"] == "PACSBOX"
    assert system["HttpPort"] == pacs.port
    assert system["DatabaseBackendPlugin"] is None
    assert isinstance(system["ApiVersion"], int) and system["Version"]


def test_statistics_count_what_is_stored(fresh_pacs: ServiceProcess) -> None:
    with httpx.Client(base_url=fresh_pacs.url) as http:
        assert http.get("/statistics").json()["CountInstances"] == 0
        files = [dataset_bytes(ds) for ds in make_series(2)] + [(TEST_FILES / "CT_small.dcm").read_bytes()]
        for data in files:
            upload(http, data)
        stats = http.get("/statistics").json()
    total = sum(len(data) for data in files)
    assert {k: stats[k] for k in ("CountPatients", "CountStudies", "CountSeries", "CountInstances")} == {
        "CountPatients": 2, "CountStudies": 2, "CountSeries": 2, "CountInstances": 3,
    }
    assert stats["TotalDiskSize"] == str(total) and stats["TotalDiskSizeMB"] == 0


def test_each_level_is_described_with_its_family(http: httpx.Client, series: list[dict[str, Any]]) -> None:
    first = series[0]
    patient = http.get(f"/patients/{first['ParentPatient']}").json()
    study = http.get(f"/studies/{first['ParentStudy']}").json()
    one_series = http.get(f"/series/{first['ParentSeries']}").json()
    instance = http.get(f"/instances/{first['ID']}").json()

    assert patient["Type"] == "Patient" and patient["Studies"] == [first["ParentStudy"]]
    assert patient["MainDicomTags"]["PatientName"] == "Rest^Resources"
    assert study["ParentPatient"] == first["ParentPatient"] and study["Series"] == [first["ParentSeries"]]
    assert study["MainDicomTags"]["AccessionNumber"] == "A42"
    assert study["PatientMainDicomTags"]["PatientName"] == "Rest^Resources"
    assert one_series["ParentStudy"] == first["ParentStudy"]
    assert one_series["Instances"] == [s["ID"] for s in series]  # in instance-number order
    assert one_series["MainDicomTags"]["Modality"] == "CT" and one_series["MainDicomTags"]["SeriesNumber"] == "1"
    assert instance["ParentSeries"] == first["ParentSeries"]
    assert instance["MainDicomTags"]["InstanceNumber"] == "1" and instance["IndexInSeries"] == 1
    assert instance["FileSize"] == len(http.get(f"/instances/{first['ID']}/file").content)
    # just stored: more instances may follow for a minute (PACSBOX_STABLE_AGE); an instance is complete
    assert [r["IsStable"] for r in (patient, study, one_series, instance)] == [False, False, False, True]
    assert all(len(resource["LastUpdate"]) == 15 for resource in (patient, study, one_series, instance))


def test_a_new_instance_updates_its_patient_too(http: httpx.Client) -> None:
    """Orthanc refreshes LastUpdate of every ancestor of an arriving instance, the patient's included."""
    first = upload(http, dataset_bytes(next(make_series(1, patient_id="LASTUPDATE-1"))))
    before = http.get(f"/patients/{first['ParentPatient']}").json()["LastUpdate"]
    time.sleep(1.1)  # LastUpdate counts whole seconds
    second = upload(http, dataset_bytes(next(make_series(1, patient_id="LASTUPDATE-1"))))
    patient = http.get(f"/patients/{first['ParentPatient']}").json()
    study = http.get(f"/studies/{second['ParentStudy']}").json()
    assert patient["LastUpdate"] == study["LastUpdate"] > before


def test_other_patient_ids_are_a_main_tag_of_the_patient(http: httpx.Client) -> None:
    """Orthanc's patient main tags include OtherPatientIDs, in the patient's and its studies' descriptions."""
    ds = next(make_series(1))
    ds.OtherPatientIDs = ["MRN-7", "NHS-9"]
    stored = upload(http, dataset_bytes(ds))
    patient = http.get(f"/patients/{stored['ParentPatient']}").json()
    study = http.get(f"/studies/{stored['ParentStudy']}").json()
    assert patient["MainDicomTags"]["OtherPatientIDs"] == "MRN-7\\NHS-9"
    assert study["PatientMainDicomTags"]["OtherPatientIDs"] == "MRN-7\\NHS-9"


def test_lists_page_with_since_and_limit_and_expand(fresh_pacs: ServiceProcess) -> None:
    with httpx.Client(base_url=fresh_pacs.url) as http:
        ids = [upload(http, dataset_bytes(next(make_series(1))))["ParentStudy"] for _ in range(3)]
        assert http.get("/studies").json() == ids
        assert http.get("/studies", params={"limit": 2}).json() == ids[:2]
        assert http.get("/studies", params={"since": 2, "limit": 2}).json() == ids[2:]
        assert http.get("/studies", params={"since": 1}).json() == ids[1:]
        expanded = http.get("/studies?expand&limit=1").json()
        assert [s["ID"] for s in expanded] == ids[:1] and expanded[0]["Type"] == "Study"
        assert http.get("/studies", params={"expand": "false"}).json() == ids
        assert http.get("/studies", params={"limit": "-1"}).status_code == 400


def test_descendants_and_ancestors_of_a_resource(http: httpx.Client, series: list[dict[str, Any]]) -> None:
    first = series[0]
    instances = http.get(f"/studies/{first['ParentStudy']}/instances").json()
    assert [i["ID"] for i in instances] == [s["ID"] for s in series] and instances[0]["Type"] == "Instance"
    assert [s["ID"] for s in http.get(f"/patients/{first['ParentPatient']}/series").json()] == [first["ParentSeries"]]
    assert http.get(f"/instances/{first['ID']}/study").json()["ID"] == first["ParentStudy"]
    assert http.get(f"/series/{first['ParentSeries']}/patient").json()["ID"] == first["ParentPatient"]
    assert http.get("/studies/00000000-00000000-00000000-00000000-00000000/instances").status_code == 404


@pytest.mark.parametrize("level", ["patients", "studies", "series", "instances"])
def test_unknown_ids_answer_404_with_a_json_error(http: httpx.Client, level: str) -> None:
    answer = http.get(f"/{level}/00000000-00000000-00000000-00000000-00000000")
    assert answer.status_code == 404
    assert "not stored" in answer.json()["error"]
    assert http.delete(f"/{level}/00000000-00000000-00000000-00000000-00000000").status_code == 404


def test_delete_removes_files_and_parents_left_empty(pacs: ServiceProcess, http: httpx.Client) -> None:
    a1, a2 = (upload(http, dataset_bytes(ds)) for ds in make_series(2))
    gone = http.delete(f"/instances/{a1['ID']}").json()
    assert gone == {"RemainingAncestor": {"ID": a1["ParentSeries"], "Path": f"/series/{a1['ParentSeries']}", "Type": "Series"}}
    assert a1["ID"] not in stored_files(pacs) and a2["ID"] in stored_files(pacs)
    assert http.get(f"/instances/{a1['ID']}").status_code == 404
    assert http.delete(f"/instances/{a2['ID']}").json() == {"RemainingAncestor": None}  # its patient went with it
    assert a2["ID"] not in stored_files(pacs)
    for path in (f"/series/{a1['ParentSeries']}", f"/studies/{a1['ParentStudy']}", f"/patients/{a1['ParentPatient']}"):
        assert http.get(path).status_code == 404

    first = list(make_series(2, series_number=1))
    second = make_series(1, series_number=2, patient_id=str(first[0].PatientID), study_uid=str(first[0].StudyInstanceUID))
    b1, b2, c1 = (upload(http, dataset_bytes(ds)) for ds in [*first, *second])
    gone = http.delete(f"/series/{b1['ParentSeries']}").json()
    assert gone["RemainingAncestor"]["ID"] == b1["ParentStudy"]
    assert http.get(f"/studies/{b1['ParentStudy']}").json()["Series"] == [c1["ParentSeries"]]
    assert http.delete(f"/studies/{b1['ParentStudy']}").json() == {"RemainingAncestor": None}
    assert not {b1["ID"], b2["ID"], c1["ID"]} & stored_files(pacs)
    assert http.get(f"/patients/{b1['ParentPatient']}").status_code == 404


def test_only_editors_may_delete(http: httpx.Client) -> None:
    stored = upload(http, renamed(TEST_FILES / "MR_small.dcm"))
    viewer = {"X-Pacsbox-User": "viewer", "X-Pacsbox-Can-Edit": "false"}
    refused = http.delete(f"/studies/{stored['ParentStudy']}", headers=viewer)
    assert refused.status_code == 403
    assert http.get(f"/instances/{stored['ID']}").status_code == 200
    assert http.post("/instances", content=renamed(TEST_FILES / "MR_small.dcm"), headers=viewer).status_code == 403
    editor = {"X-Pacsbox-User": "editor", "X-Pacsbox-Can-Edit": "true"}
    assert http.delete(f"/studies/{stored['ParentStudy']}", headers=editor).status_code == 200


def test_changes_follow_stores_and_deletions(fresh_pacs: ServiceProcess) -> None:
    with httpx.Client(base_url=fresh_pacs.url) as http:
        assert http.get("/changes").json() == {"Changes": [], "Done": True, "Last": 0}
        stored = upload(http, (TEST_FILES / "CT_small.dcm").read_bytes())
        log = http.get("/changes").json()
        assert [(c["ChangeType"], c["ResourceType"], c["ID"]) for c in log["Changes"]] == [
            ("NewInstance", "Instance", stored["ID"]),  # Orthanc's order: the instance, then its new parents
            ("NewSeries", "Series", stored["ParentSeries"]),
            ("NewStudy", "Study", stored["ParentStudy"]),
            ("NewPatient", "Patient", stored["ParentPatient"]),
        ]
        assert log["Changes"][0]["Path"] == f"/instances/{stored['ID']}" and log["Done"] and log["Last"] == 4

        page = http.get("/changes", params={"since": 1, "limit": 2}).json()
        assert [c["Seq"] for c in page["Changes"]] == [2, 3] and page["Done"] is False and page["Last"] == 3

        http.delete(f"/patients/{stored['ParentPatient']}")
        after = http.get("/changes", params={"since": 4}).json()
        assert ("Deleted", "Patient", stored["ParentPatient"]) in [
            (c["ChangeType"], c["ResourceType"], c["ID"]) for c in after["Changes"]
        ]
        assert http.get("/changes?last").json()["Changes"][0]["Seq"] == after["Last"]
        assert http.get("/changes", params={"since": 999}).json() == {"Changes": [], "Done": True, "Last": after["Last"]}
        assert http.get("/changes", params={"limit": "many"}).status_code == 400
        huge = http.get("/changes", params={"limit": 50_000})  # Orthanc serves it; pages hold 10000 at most
        assert huge.status_code == 200 and huge.json()["Done"] is True and huge.json()["Last"] == after["Last"]


def test_description_matches_orthanc_for_pydicom_files(http: httpx.Client, tmp_path: Path) -> None:
    """The main tags a real Orthanc reports for the same file, the same way (numbers compared as numbers)."""
    from tests.support.orthanc import OrthancProcess

    data = (TEST_FILES / "CT_small.dcm").read_bytes()
    ours_ids = upload(http, data)
    orthanc = OrthancProcess(tmp_path / "orthanc").start()
    try:
        with httpx.Client(base_url=orthanc.url) as peer:
            theirs_ids = peer.post("/instances", content=data).json()
            assert ours_ids["ID"] == theirs_ids["ID"]
            for level, key in (("patients", "ParentPatient"), ("studies", "ParentStudy"), ("series", "ParentSeries"), ("instances", "ID")):
                ours = http.get(f"/{level}/{ours_ids[key]}").json()
                theirs = peer.get(f"/{level}/{theirs_ids[key]}").json()
                assert set(ours) >= set(theirs) - {"Labels"}
                assert same_values(ours["MainDicomTags"], theirs["MainDicomTags"]), level
    finally:
        orthanc.stop()


SERIES_COUNTS = {  # main tags of each instance, instance numbers: Orthanc's ExpectedNumberOfInstances and Status
    "complete": ({"CardiacNumberOfImages": 3}, [1, 2, 3], 3, "Complete"),
    "missing": ({"ImagesInAcquisition": 2, "NumberOfTemporalPositions": 2}, [1, 2, 4], 4, "Missing"),
    "out of range": ({"CardiacNumberOfImages": 2}, [1, 2, 3], 2, "Inconsistent"),
    "repeated": ({"CardiacNumberOfImages": 3}, [1, 1, 2], 3, "Inconsistent"),
    "unknown": ({"ImagesInAcquisition": 3}, [1, 2, 3], None, "Unknown"),  # alone, it says nothing
}


def test_series_status_counts_instances_as_orthanc_does(http: httpx.Client, tmp_path: Path) -> None:
    from tests.support.orthanc import OrthancProcess

    orthanc = OrthancProcess(tmp_path / "orthanc").start()
    try:
        with httpx.Client(base_url=orthanc.url) as peer:
            for case, (tags, numbers, expected, status) in SERIES_COUNTS.items():
                series = list(make_series(len(numbers)))
                for ds, number in zip(series, numbers):
                    ds.InstanceNumber = number
                    for keyword, value in tags.items():
                        setattr(ds, keyword, value)
                for data in [dataset_bytes(ds) for ds in series]:
                    stored = upload(http, data)
                    peer.post("/instances", content=data)
                ours = http.get(f"/series/{stored['ParentSeries']}").json()
                theirs = peer.get(f"/series/{stored['ParentSeries']}").json()
                assert (ours["ExpectedNumberOfInstances"], ours["Status"]) == (expected, status), case
                assert (theirs["ExpectedNumberOfInstances"], theirs["Status"]) == (expected, status), case
                assert completions(http, stored["ParentSeries"]) == completions(peer, stored["ParentSeries"]), case
    finally:
        orthanc.stop()


def completions(client: httpx.Client, series: str) -> list[int]:
    """Where CompletedSeries of `series` stands among the series' changes (by position, from 0)."""
    log = client.get("/changes", params={"limit": 10_000}).json()["Changes"]
    mine = [c["ChangeType"] for c in log if c["ID"] == series and not c["ChangeType"].startswith("Stable")]
    return [index for index, kind in enumerate(mine) if kind == "CompletedSeries"]


def same_values(ours: dict[str, str], theirs: dict[str, str]) -> bool:
    """Equal keys and values, numbers compared by value ("1.000000" == "1")."""
    if set(ours) != set(theirs):
        return False

    def parsed(value: str) -> list[object]:
        out: list[object] = []
        for item in value.split("\\"):
            try:
                out.append(float(item))
            except ValueError:
                out.append(item)
        return out

    return all(parsed(ours[k]) == parsed(theirs[k]) for k in ours)
