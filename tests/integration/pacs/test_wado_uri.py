"""WADO-URI (`/wado?requestType=WADO...`) and the byte identity of a stored instance through every door."""

from __future__ import annotations

import io

import httpx
import pydicom
import pytest
from PIL import Image

from tests.support.dicom import TEST_FILES, dataset_bytes, make_series
from tests.support.dicomweb import Stored, multipart_parts, renamed, store

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def ct(http: httpx.Client) -> Stored:
    return store(http, dataset_bytes(next(make_series(1, rows=50, columns=80))))


@pytest.fixture(scope="module")
def multiframe(http: httpx.Client) -> Stored:
    return store(http, renamed(TEST_FILES / "examples_ybr_color.dcm"))


def wado(stored: Stored, **params: str) -> dict[str, str]:
    return {"requestType": "WADO", "studyUID": stored.study, "seriesUID": stored.series, "objectUID": stored.sop, **params}


def through_wado_rs_as_stored(http: httpx.Client, stored: Stored) -> bytes:
    answer = http.get(stored.path, headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'})
    return multipart_parts(answer)[0].content


def through_wado_rs_by_default(http: httpx.Client, stored: Stored) -> bytes:
    return multipart_parts(http.get(stored.path))[0].content


def through_wado_uri(http: httpx.Client, stored: Stored) -> bytes:
    answer = http.get("/wado", params=wado(stored, contentType="application/dicom"))
    assert answer.headers["content-type"].startswith("application/dicom")
    return answer.content


def through_wado_uri_as_ohif_asks(http: httpx.Client, stored: Stored) -> bytes:
    return http.get("/wado", params=wado(stored, contentType="application/dicom", transferSyntax="*")).content


@pytest.mark.parametrize(
    "door", [through_wado_rs_as_stored, through_wado_rs_by_default, through_wado_uri, through_wado_uri_as_ohif_asks]
)
def test_what_was_sent_comes_back_byte_for_byte(http: httpx.Client, ct: Stored, door) -> None:
    assert door(http, ct) == ct.data


def test_image_defaults_to_jpeg_and_honours_size_window_and_quality(http: httpx.Client, ct: Stored) -> None:
    plain = http.get("/wado", params=wado(ct))
    assert plain.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(plain.content)).size == (80, 50)
    small = http.get("/wado", params=wado(ct, contentType="image/png", rows="25", windowCenter="40", windowWidth="400"))
    assert small.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(small.content)).size == (40, 25)
    region = http.get("/wado", params=wado(ct, region="0,0,0.5,0.5", imageQuality="50"))
    assert Image.open(io.BytesIO(region.content)).size == (40, 25)


def test_frame_number_picks_the_frame(http: httpx.Client, multiframe: Stored) -> None:
    first = http.get("/wado", params=wado(multiframe, contentType="image/png", frameNumber="1")).content
    last = http.get("/wado", params=wado(multiframe, contentType="image/png", frameNumber="30")).content
    assert first != last
    assert http.get("/wado", params=wado(multiframe, contentType="image/png", frame="30")).content == last


def test_instance_without_pixels_defaults_to_dicom_in_explicit_little_endian(http: httpx.Client) -> None:
    plan = store(http, renamed(TEST_FILES / "rtplan.dcm"))  # stored as Implicit VR Little Endian
    answer = http.get("/wado", params=wado(plan))
    assert answer.headers["content-type"] == "application/dicom; transfer-syntax=1.2.840.10008.1.2.1"
    ds = pydicom.dcmread(io.BytesIO(answer.content))
    assert (ds.file_meta.TransferSyntaxUID, ds.SOPInstanceUID) == ("1.2.840.10008.1.2.1", plan.sop)
    assert ds.BeamSequence[0].BeamName == plan.header.BeamSequence[0].BeamName


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"requestType": "WADO-RS"}, "requestType"),
        ({"studyUID": ""}, "studyUID"),
        ({"objectUID": ""}, "objectUID"),
        ({"rows": "-3"}, "rows"),
        ({"frameNumber": "x"}, "frameNumber"),
        ({"frameNumber": "2"}, "frameNumber"),
        ({"windowCenter": "40"}, "windowWidth"),
        ({"region": "0.5,0,0.2,1"}, "region"),
        ({"imageQuality": "101"}, "imageQuality"),
        ({"anonymize": "yes"}, "anonymize"),
    ],
)
def test_bad_parameters_are_400_naming_them(http: httpx.Client, ct: Stored, change: dict, name: str) -> None:
    answer = http.get("/wado", params={**wado(ct), **change})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(name)


def test_unknown_object_is_404_and_unknown_content_type_406(http: httpx.Client, ct: Stored) -> None:
    assert http.get("/wado", params={**wado(ct), "objectUID": "1.2.3.4.5.6"}).status_code == 404
    assert http.get("/wado", params=wado(ct, contentType="text/html")).status_code == 406
