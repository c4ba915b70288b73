"""QIDO-RS through dicomweb-client and plain HTTP: matching kinds, return keys, paging, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dicomweb_client.api import DICOMwebClient
from pydicom.uid import generate_uid

from tests.conftest import start_pacs
from tests.support.dicom import TEST_FILES, dataset_bytes, make_series
from tests.support.dicomweb import renamed, store
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db

VECTORS = json.loads((Path(__file__).parents[2] / "data" / "qido_vectors.json").read_text())


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory, postgres: Any) -> Iterator[tuple[ServiceProcess, dict[str, str]]]:
    """An empty pacs holding exactly the vector studies; yields it and label -> StudyInstanceUID."""
    server = start_pacs(tmp_path_factory.mktemp("qido"), postgres)
    client = DICOMwebClient(f"{server.url}/pacs")
    uids = {}
    for label, study in VECTORS["studies"].items():
        uids[label] = generate_uid()
        for number, modality in enumerate(study["modalities"], start=1):
            series = list(make_series(
                2, modality=modality, patient_name=study["patient_name"], patient_id=study["patient_id"],
                study_uid=uids[label], study_date=study["study_date"], study_description=study["description"],
                accession_number=study["accession"], series_number=number,
            ))
            for ds in series:
                ds.StudyTime = study["study_time"]
            client.store_instances(series)
    try:
        yield server, uids
    finally:
        server.stop()


def _labels(answer: list[dict[str, Any]], uids: dict[str, str]) -> list[str]:
    by_uid = {uid: label for label, uid in uids.items()}
    return sorted(by_uid[item["0020000D"]["Value"][0]] for item in answer)


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: f"{v['kind']}:{v['query']}")
def test_matching(catalogue: tuple[ServiceProcess, dict[str, str]], vector: dict[str, Any]) -> None:
    server, uids = catalogue
    params = {k: v.format(**uids) for k, v in vector["query"].items()}
    answer = httpx.get(f"{server.url}/pacs/studies", params=params, headers={"Accept": "application/dicom+json"})
    assert answer.status_code == 200, answer.text
    assert _labels(answer.json(), uids) == sorted(vector["expect"])


def test_study_attributes_counts_and_retrieve_url(catalogue: tuple[ServiceProcess, dict[str, str]]) -> None:
    server, uids = catalogue
    client = DICOMwebClient(f"{server.url}/pacs")
    [study] = client.search_for_studies(search_filters={"StudyInstanceUID": uids["S2"]})
    assert study["00100010"]["Value"] == [{"Alphabetic": "MULLER^Anna"}]
    assert study["00080061"]["Value"] == ["CT", "MR"]
    assert study["00201206"]["Value"] == [2]
    assert study["00201208"]["Value"] == [4]
    # RetrieveURL follows the Host the client used (dicomweb-client sends one without the port)
    plain = httpx.get(f"{server.url}/pacs/studies", params={"StudyInstanceUID": uids["S2"]}).json()[0]
    assert plain["00081190"]["Value"] == [f"{server.url}/pacs/studies/{uids['S2']}"]
    assert study["00080005"]["Value"] == ["ISO_IR 192"]


def test_includefield_of_an_attribute_outside_the_index(catalogue: tuple[ServiceProcess, dict[str, str]]) -> None:
    server, uids = catalogue
    client = DICOMwebClient(f"{server.url}/pacs")
    [study] = client.search_for_studies(search_filters={"StudyInstanceUID": uids["S1"]}, fields=["SliceThickness", "00280030"])
    assert study["00180050"]["Value"] == [1.25]
    assert study["00280030"]["Value"] == [0.7, 0.7]


def test_an_empty_key_outside_the_index_is_returned_and_a_value_for_it_is_400(
    catalogue: tuple[ServiceProcess, dict[str, str]],
) -> None:
    """`SliceThickness=` is universal matching (PS3.4 C.2.2.2.3): nothing to match, the attribute to return."""
    server, uids = catalogue
    url = f"{server.url}/pacs/studies"
    for universal in ("", "*"):
        answer = httpx.get(url, params={"StudyInstanceUID": uids["S1"], "SliceThickness": universal, "00280030": ""})
        assert answer.status_code == 200, answer.text
        (study,) = answer.json()
        assert (study["00180050"]["Value"], study["00280030"]["Value"]) == ([1.25], [0.7, 0.7])
    refused = httpx.get(url, params={"SliceThickness": "1.25"})
    assert refused.status_code == 400 and "SliceThickness" in refused.json()["error"]


def test_series_and_instances_of_a_study(catalogue: tuple[ServiceProcess, dict[str, str]]) -> None:
    server, uids = catalogue
    client = DICOMwebClient(f"{server.url}/pacs")
    series = client.search_for_series(study_instance_uid=uids["S2"])
    assert sorted(s["00080060"]["Value"][0] for s in series) == ["CT", "MR"]
    assert all(s["00201209"]["Value"] == [2] for s in series)
    mr = next(s for s in series if s["00080060"]["Value"] == ["MR"])
    instances = client.search_for_instances(study_instance_uid=uids["S2"], series_instance_uid=mr["0020000E"]["Value"][0])
    assert sorted(i["00200013"]["Value"][0] for i in instances) == [1, 2]
    assert all(i["00280010"]["Value"] == [64] for i in instances)
    everywhere = client.search_for_series(search_filters={"Modality": "MR"})
    assert [s["0020000D"]["Value"][0] for s in everywhere] == [uids["S2"]]


def test_includefield_all_returns_the_attributes_of_the_level_searched(
    catalogue: tuple[ServiceProcess, dict[str, str]],
) -> None:
    """`includefield=all` (PS3.18 10.6.3.3) answers a study with the patient's and the study's attributes and a series
    with those and the series', as dcm4chee does, not with those of the instance their values are read from."""
    server, uids = catalogue
    query = {"StudyInstanceUID": uids["S1"], "includefield": "all"}
    (study,) = httpx.get(f"{server.url}/pacs/studies", params=query).json()
    (series,) = httpx.get(f"{server.url}/pacs/series", params=query).json()
    (instance, _) = httpx.get(f"{server.url}/pacs/instances", params=query).json()
    patient_and_study = {"00100010", "00100030", "0020000D", "00081030", "00080090", "00200010"}
    series_only = {"0020000E", "00080060", "0008103E", "00080021"}
    instance_only = {"00080018", "00080016", "00180050", "00280010", "00200032", "7FE00010"}
    assert patient_and_study <= study.keys() and not (series_only | instance_only) & study.keys()
    assert patient_and_study | series_only <= series.keys() and not instance_only & series.keys()
    assert patient_and_study | series_only | instance_only <= instance.keys()


def test_limit_and_offset_page_through_results(catalogue: tuple[ServiceProcess, dict[str, str]]) -> None:
    server, uids = catalogue
    pages = [
        httpx.get(f"{server.url}/pacs/studies", params={"limit": 3, "offset": offset}).json()
        for offset in (0, 3)
    ]
    assert [len(p) for p in pages] == [3, 1]
    assert _labels(pages[0] + pages[1], uids) == ["S1", "S2", "S3", "S4"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "-1"}, "limit"),
        ({"offset": "x"}, "offset"),
        ({"fuzzymatching": "maybe"}, "fuzzymatching"),
        ({"PatientNam": "x"}, "PatientNam"),
        ({"StudyDate": "2024-01-01"}, "StudyDate"),
        ({"includefield": "NotAKeyword"}, "NotAKeyword"),
        ({"SeriesNumber": "one"}, "SeriesNumber"),
    ],
)
def test_bad_parameters_are_400_naming_them(catalogue: tuple[ServiceProcess, dict[str, str]], params: dict[str, str], message: str) -> None:
    server, _ = catalogue
    path = "/pacs/series" if "SeriesNumber" in params else "/pacs/studies"
    answer = httpx.get(f"{server.url}{path}", params=params)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_unsupported_accept_is_406(catalogue: tuple[ServiceProcess, dict[str, str]]) -> None:
    server, _ = catalogue
    answer = httpx.get(f"{server.url}/pacs/studies", headers={"Accept": "application/dicom+xml"})
    assert answer.status_code == 406


FUZZ_FINDINGS = json.loads((Path(__file__).parents[2] / "data" / "fuzz" / "qido-500s.json").read_text())


@pytest.mark.parametrize("finding", FUZZ_FINDINGS, ids=[f["names"] for f in FUZZ_FINDINGS])
def test_queries_that_answered_500_answer_or_name_the_key(
    catalogue: tuple[ServiceProcess, dict[str, str]], finding: dict[str, Any]
) -> None:
    """Queries the fuzzer (or its review) found answering 500: a 400 naming the key, or an answer."""
    server, _ = catalogue
    answer = httpx.get(f"{server.url}{finding['path']}", params=finding["params"])
    assert answer.status_code == finding["status"]
    if answer.status_code == 400:
        assert finding["names"] in answer.json()["error"]


def test_a_nul_padded_uid_still_matches(catalogue: tuple[ServiceProcess, dict[str, str]]) -> None:
    server, uids = catalogue
    uid = next(iter(uids.values()))
    assert len(httpx.get(f"{server.url}/pacs/studies", params={"StudyInstanceUID": uid + "\x00"}).json()) == 1


def test_pre_3_0_dates_and_times_are_indexed_as_dicom_3_values(pacs_http: httpx.Client) -> None:
    """ExplVR_BigEnd.dcm has StudyDate `1997.04.24` and StudyTime `14:04:38` (the ACR-NEMA forms PS3.5 6.2 asks to accept)."""
    stored = store(pacs_http, renamed(TEST_FILES / "ExplVR_BigEnd.dcm"))
    (study,) = pacs_http.get("/pacs/studies", params={"StudyInstanceUID": stored.study}).json()
    assert (study["00080020"]["Value"], study["00080030"]["Value"]) == (["19970424"], ["140438"])
    in_range = {"StudyInstanceUID": stored.study, "StudyDate": "19970101-19971231", "StudyTime": "1400-1405"}
    assert len(pacs_http.get("/pacs/studies", params=in_range).json()) == 1


def test_studies_sharing_a_patient_id_keep_their_own_patient_details(pacs_http: httpx.Client) -> None:
    """Anonymised data often reuses one PatientID (or none) for different people: each study is found by,
    and shows, the name, sex and birth date its own instances give."""
    patient_id = f"SHARED-{generate_uid()[-12:]}"
    people = {"Shared^Anna": ("F", "19800101"), "Shared^Bert": ("M", "19700101")}
    studies = {}
    for name, (sex, birth_date) in people.items():  # Bert is stored last: the patient's latest details are his
        (ds,) = make_series(1, patient_name=name, patient_id=patient_id)
        ds.PatientSex, ds.PatientBirthDate = sex, birth_date
        studies[name] = store(pacs_http, dataset_bytes(ds)).study

    fields = {"PatientID": patient_id, "includefield": "PatientSex,PatientBirthDate"}
    answer = pacs_http.get("/pacs/studies", params=fields).json()
    shown = {item["0020000D"]["Value"][0]: (item["00100010"]["Value"][0]["Alphabetic"], item["00100040"]["Value"][0],
                                            item["00100030"]["Value"][0]) for item in answer}
    assert shown == {studies[name]: (name, *people[name]) for name in people}

    def found(**params: str) -> set[str]:
        return {item["0020000D"]["Value"][0] for item in pacs_http.get("/pacs/studies", params=params).json()}

    assert found(PatientID=patient_id, PatientName="Shared^Anna") == {studies["Shared^Anna"]}
    assert found(PatientID=patient_id, PatientName="anna", fuzzymatching="true") == {studies["Shared^Anna"]}
    assert found(PatientID=patient_id, PatientSex="F") == {studies["Shared^Anna"]}
    series = pacs_http.get("/pacs/series", params={"PatientID": patient_id, "PatientName": "Shared^Bert"}).json()
    assert {item["0020000D"]["Value"][0] for item in series} == {studies["Shared^Bert"]}


def test_timezone_offset_from_utc_is_returned_at_every_level_when_known(pacs_http: httpx.Client) -> None:
    """PS3.18 tables 10.6.3-3 to -5: TimezoneOffsetFromUTC is in every study, series and instance answer when
    known (Orthanc answers it too), without includefield."""
    (ds,) = make_series(1, patient_name="Zone^Offset")
    ds.TimezoneOffsetFromUTC = "+0530"
    stored = store(pacs_http, dataset_bytes(ds))
    for path in ("/pacs/studies", "/pacs/series", "/pacs/instances"):
        (item,) = pacs_http.get(path, params={"StudyInstanceUID": stored.study}).json()
        assert item["00080201"] == {"vr": "SH", "Value": ["+0530"]}, path


def test_attributes_outside_the_index_come_from_headers_the_database_cannot_read_as_json(
    pacs_http: httpx.Client,
) -> None:
    """A header with NaN or Infinity (a DS or FD value) or a NUL in a text is no JSON the database reads: a search
    reads the attributes outside the index from it all the same."""
    (ds,) = make_series(1, patient_name="Odd^Header")
    ds.TimezoneOffsetFromUTC = "-0300"
    ds.SliceThickness = "NaN"
    ds.add_new(0x00189089, "FD", [float("inf"), 1.0, 0.0])
    ds.add_new(0x00090010, "LO", "PRIVATE")
    ds.add_new(0x00091010, "LO", "a\x00b")
    stored = store(pacs_http, dataset_bytes(ds))
    for path in ("/pacs/studies", "/pacs/series", "/pacs/instances"):
        answer = pacs_http.get(path, params={"StudyInstanceUID": stored.study, "includefield": "ImageType"})
        assert answer.status_code == 200, answer.text
        assert answer.json()[0]["00080201"]["Value"] == ["-0300"], path
