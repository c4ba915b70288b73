"""WADO-RS: instances, metadata, bulk data and frames, checked with dicomweb-client and raw requests."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pydicom
import pytest
from dicomweb_client.api import DICOMwebClient
from pydicom.encaps import generate_frames

from tests.support.dicom import TEST_FILES, dataset_bytes, make_series
from tests.support.dicomweb import Stored, multipart_parts, renamed, store
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db

EXPLICIT_LE = "1.2.840.10008.1.2.1"
OHIF_FRAMES = "multipart/related; type=application/octet-stream; transfer-syntax=*"
FILES = ("examples_ybr_color.dcm", "JPEG2000.dcm", "MR_small_bigendian.dcm", "rtdose.dcm", "MR_small_RLE.dcm")
OHIF_METADATA_TAGS = (
    "00080016", "00080018", "0020000D", "0020000E", "00200013", "00200032", "00200037", "00280030",
    "00280002", "00280004", "00280010", "00280011", "00280100", "00280101", "00280102", "00280103",
    "00281050", "00281051", "00281052", "00281053", "00020010",
)


@pytest.fixture(scope="module")
def client(pacs: ServiceProcess) -> DICOMwebClient:
    return DICOMwebClient(url=f"{pacs.url}/pacs")


@pytest.fixture(scope="module")
def series(http: httpx.Client) -> list[Stored]:
    return [store(http, dataset_bytes(ds)) for ds in make_series(3, rows=32, columns=32)]


@pytest.fixture(scope="module")
def files(http: httpx.Client) -> dict[str, Stored]:
    return {name: store(http, renamed(TEST_FILES / name)) for name in FILES}


def full(stored: Stored) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(stored.data))


def test_study_series_and_instance_come_back_whole(client: DICOMwebClient, series: list[Stored]) -> None:
    first = series[0]
    study = client.retrieve_study(first.study)
    assert sorted(ds.SOPInstanceUID for ds in study) == sorted(s.sop for s in series)
    in_series = client.retrieve_series(first.study, first.series)
    assert [ds.InstanceNumber for ds in in_series] == [1, 2, 3]
    one = client.retrieve_instance(first.study, first.series, first.sop)
    assert np.array_equal(one.pixel_array, full(first).pixel_array)


@pytest.mark.parametrize("accept", ['multipart/related; type="application/dicom"; transfer-syntax=*', None])
def test_retrieved_instance_is_byte_identical(http: httpx.Client, series: list[Stored], accept: str | None) -> None:
    stored = series[1]
    answer = http.get(stored.path, headers={"Accept": accept} if accept else {})
    (part,) = multipart_parts(answer)
    assert part.content == stored.data
    assert part.headers["content-type"] == f"application/dicom; transfer-syntax={EXPLICIT_LE}"
    assert answer.headers["content-length"] == str(len(answer.content))


def test_compressed_instance_is_sent_as_stored_when_any_syntax_is_accepted(
    client: DICOMwebClient, http: httpx.Client, files: dict[str, Stored]
) -> None:
    stored = files["examples_ybr_color.dcm"]
    answer = http.get(stored.path, headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'})
    (part,) = multipart_parts(answer)
    assert part.content[128:] == stored.data[128:]  # the stored file's preamble is zeroed
    ds = client.retrieve_instance(stored.study, stored.series, stored.sop, media_types=(("application/dicom", "*"),))
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"


def test_explicit_little_endian_is_made_by_decompressing(client: DICOMwebClient, files: dict[str, Stored]) -> None:
    stored = files["JPEG2000.dcm"]
    ds = client.retrieve_instance(
        stored.study, stored.series, stored.sop, media_types=(("application/dicom", EXPLICIT_LE),)
    )
    assert ds.file_meta.TransferSyntaxUID == EXPLICIT_LE
    assert ds.SOPInstanceUID == stored.sop
    assert np.array_equal(ds.pixel_array, full(stored).pixel_array)


def test_an_impossible_conversion_is_406_pointing_at_transfer_syntax_star(
    http: httpx.Client, files: dict[str, Stored]
) -> None:
    stored = files["MR_small_bigendian.dcm"]
    answer = http.get(stored.path, headers={"Accept": 'multipart/related; type="application/dicom"'})
    assert answer.status_code == 406
    assert "transfer-syntax=*" in answer.json()["error"]


def test_metadata_at_every_level_has_what_ohif_reads(
    client: DICOMwebClient, http: httpx.Client, series: list[Stored]
) -> None:
    first = series[0]
    instances = client.retrieve_series_metadata(first.study, first.series)
    assert sorted(m["00080018"]["Value"][0] for m in instances) == sorted(s.sop for s in series)
    for item in instances:
        assert set(OHIF_METADATA_TAGS) <= set(item), set(OHIF_METADATA_TAGS) - set(item)
        uid = item["00080018"]["Value"][0]
        assert item["7FE00010"]["BulkDataURI"] == (
            f"/zhiva/pacs/studies/{first.study}/series/{first.series}/instances/{uid}/bulk/7FE00010"
        )
    assert len(client.retrieve_study_metadata(first.study)) == 3
    one = client.retrieve_instance_metadata(first.study, first.series, first.sop)
    assert one["00080018"]["Value"] == [first.sop]
    answer = http.get(f"{first.path}/metadata")
    assert answer.headers["content-type"] == "application/dicom+json"
    assert answer.json() == [one]


def test_empty_values_in_metadata_follow_the_dicom_json_model(client: DICOMwebClient, http: httpx.Client) -> None:
    """PS3.18 F.2.5: an empty attribute, an empty sequence too, has no "Value"; an empty value among several
    is null; an empty sequence item is {}. The REST tags read the same stored JSON."""
    (ds,) = make_series(1)
    ds.ImageType = ["ORIGINAL", "", "AXIAL"]
    ds.ReferencedStudySequence = pydicom.Sequence([])
    item = pydicom.Dataset()
    item.ReferencedSeriesSequence = pydicom.Sequence([])
    ds.SourceImageSequence = pydicom.Sequence([item, pydicom.Dataset()])
    stored = store(http, dataset_bytes(ds))
    metadata = client.retrieve_instance_metadata(stored.study, stored.series, stored.sop)
    assert metadata["00080008"] == {"vr": "CS", "Value": ["ORIGINAL", None, "AXIAL"]}
    assert metadata["00081110"] == {"vr": "SQ"}
    assert metadata["00082112"] == {"vr": "SQ", "Value": [{"00081115": {"vr": "SQ"}}, {}]}
    instance = http.post("/tools/lookup", content=stored.sop).json()[0]["ID"]
    assert http.get(f"/instances/{instance}/simplified-tags").json()["ImageType"] == "ORIGINAL\\\\AXIAL"  # three values, the middle one empty


def test_bulkdata_uri_answers_the_raw_value_or_one_part(
    pacs: ServiceProcess, client: DICOMwebClient, http: httpx.Client, series: list[Stored]
) -> None:
    stored = series[2]
    item = client.retrieve_instance_metadata(stored.study, stored.series, stored.sop)
    path = item["7FE00010"]["BulkDataURI"].removeprefix("/zhiva")
    pixels = full(stored).PixelData
    plain = http.get(path)
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("application/octet-stream")
    assert plain.content == pixels
    (part,) = multipart_parts(http.get(path, headers={"Accept": "multipart/related; type=application/octet-stream"}))
    assert part.content == pixels
    assert client.retrieve_bulkdata(f"{pacs.url}{path}") == [pixels]


def test_uncompressed_frames_are_the_stored_pixel_bytes(
    client: DICOMwebClient, series: list[Stored], files: dict[str, Stored]
) -> None:
    stored = series[0]
    (frame,) = client.retrieve_instance_frames(stored.study, stored.series, stored.sop, [1])
    assert frame == full(stored).PixelData
    dose = files["rtdose.dcm"]
    second, fifth = client.retrieve_instance_frames(dose.study, dose.series, dose.sop, [2, 5])
    assert second == full(dose).PixelData[400:800]
    assert fifth == full(dose).PixelData[1600:2000]


def test_big_endian_frames_are_sent_little_endian(client: DICOMwebClient, files: dict[str, Stored]) -> None:
    stored = files["MR_small_bigendian.dcm"]
    (frame,) = client.retrieve_instance_frames(stored.study, stored.series, stored.sop, [1])
    assert frame == full(stored).pixel_array.astype("<i2").tobytes()


def test_compressed_frames_go_out_as_stored_labelled_with_their_syntax(
    client: DICOMwebClient, http: httpx.Client, files: dict[str, Stored]
) -> None:
    stored = files["examples_ybr_color.dcm"]
    frames = list(generate_frames(full(stored).PixelData, number_of_frames=30))
    parts = multipart_parts(http.get(f"{stored.path}/frames/1,30", headers={"Accept": OHIF_FRAMES}))
    assert [p.content for p in parts] == [frames[0], frames[29]]
    assert {p.headers["content-type"] for p in parts} == {"image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50"}
    (jpeg,) = client.retrieve_instance_frames(
        stored.study, stored.series, stored.sop, [7], media_types=(("image/jpeg", "1.2.840.10008.1.2.4.50"),)
    )
    assert jpeg == frames[6]


def test_compressed_frames_are_decoded_for_octet_stream(client: DICOMwebClient, files: dict[str, Stored]) -> None:
    stored = files["JPEG2000.dcm"]
    (frame,) = client.retrieve_instance_frames(stored.study, stored.series, stored.sop, [1])
    assert frame == full(stored).pixel_array.astype("<i2").tobytes()


@pytest.mark.parametrize(
    "accept",
    [
        'multipart/related; type="application/octet-stream"; transfer-syntax="*"',
        "multipart/related;type=application/octet-stream;transfer-syntax=*",
        'image/webp, multipart/related; type="image/jpeg"; transfer-syntax=1.2.840.10008.1.2.4.50',
        'multipart/related; type="image/jp2"; q=0.9, multipart/related; type="image/jpeg"; q=0.5',
        "*/*",
    ],
)
def test_accept_header_forms_are_understood(http: httpx.Client, files: dict[str, Stored], accept: str) -> None:
    stored = files["examples_ybr_color.dcm"]
    answer = http.get(f"{stored.path}/frames/3", headers={"Accept": accept})
    assert answer.status_code == 200, answer.text
    (part,) = multipart_parts(answer)
    assert part.content


def test_merged_accept_headers_are_read_together(http: httpx.Client, series: list[Stored]) -> None:
    stored = series[0]
    answer = http.get(stored.path, headers=[("Accept", "text/html"), ("Accept", 'multipart/related; type="application/dicom"')])
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("suffix", "accept"),
    [
        ("", "application/json"),
        ("/metadata", 'multipart/related; type="application/dicom+xml"'),
        ("/frames/1", 'multipart/related; type="image/jp2"'),
        ("/frames/1", "text/html"),
    ],
)
def test_unsatisfiable_accept_is_406(http: httpx.Client, files: dict[str, Stored], suffix: str, accept: str) -> None:
    answer = http.get(files["examples_ybr_color.dcm"].path + suffix, headers={"Accept": accept})
    assert answer.status_code == 406
    assert accept.split(";")[0] in answer.json()["error"]


@pytest.mark.parametrize(
    "template",
    [
        "/pacs/studies/{unknown}",
        "/pacs/studies/{unknown}/metadata",
        "/pacs/studies/{study}/series/{unknown}",
        "/pacs/studies/{study}/series/{unknown}/metadata",
        "/pacs/studies/{study}/series/{series}/instances/{unknown}",
        "/pacs/studies/{study}/series/{series}/instances/{unknown}/metadata",
        "/pacs/studies/{study}/series/{series}/instances/{unknown}/frames/1",
        "/pacs/studies/{study}/series/{series}/instances/{unknown}/bulk/7FE00010",
        "/pacs/studies/{study}/series/{series}/instances/{sop}/bulk/00091001",
        "/pacs/studies/{study}/series/{series}/instances/{sop}/frames/2",
    ],
)
def test_unknown_resources_are_404(http: httpx.Client, series: list[Stored], template: str) -> None:
    stored = series[0]
    path = template.format(unknown="1.2.3.999", study=stored.study, series=stored.series, sop=stored.sop)
    answer = http.get(path)
    assert answer.status_code == 404, answer.text
    assert answer.json()["status"] == 404


@pytest.mark.parametrize(("suffix", "name"), [("/frames/0", "frames"), ("/frames/1,a", "frames"), ("/bulk/7FE0", "tag")])
def test_bad_parameters_are_400_naming_them(http: httpx.Client, series: list[Stored], suffix: str, name: str) -> None:
    answer = http.get(series[0].path + suffix)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(f"{name}:")


@pytest.mark.parametrize("suffix", ["", "/metadata", "/rendered"])
def test_query_parameters_named_like_path_segments_leave_a_study_url_whole(
    http: httpx.Client, series: list[Stored], suffix: str
) -> None:
    """`?series=`, `?instance=` or `?frames=` on a study's URL name nothing: the answer is the whole study."""
    unknown = {"series": "1.2.3.999", "instance": "1.2.3.999", "frames": "2"}
    answer = http.get(f"/pacs/studies/{series[0].study}{suffix}", params=unknown)
    assert answer.status_code == 200, answer.text
    count = len(answer.json()) if suffix == "/metadata" else len(multipart_parts(answer))
    assert count == len(series)
