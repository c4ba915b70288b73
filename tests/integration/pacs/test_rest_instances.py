"""REST instance routes: `/file` (and its nginx hand-off), `/tags` in Orthanc's forms, `/content`, `/frames`,
`/preview`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pydicom
import pytest
from PIL import Image

from tests.support.dicom import TEST_FILES, dataset_bytes, make_series
from tests.support.dicomweb import renamed
from tests.support.orthanc import OrthancProcess, comparable
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db

FILES = ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm", "examples_ybr_color.dcm", "SC_rgb_rle.dcm"]


def upload(http: httpx.Client, data: bytes) -> str:
    answer = http.post("/instances", content=data)
    assert answer.status_code == 200, answer.text
    return answer.json()["ID"]


@pytest.mark.parametrize("name", FILES)
def test_file_is_the_stored_bytes(http: httpx.Client, name: str) -> None:
    data = renamed(TEST_FILES / name)
    answer = http.get(f"/instances/{upload(http, data)}/file")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/dicom"
    assert answer.content == bytes(128) + data[128:]  # the preamble is zeroed on the way in (files.py)


def test_file_is_handed_to_nginx_when_it_asks(pacs: ServiceProcess, http: httpx.Client) -> None:
    instance = upload(http, dataset_bytes(next(make_series(1))))
    answer = http.get(f"/instances/{instance}/file", headers={"X-Pacsbox-Accel-Prefix": "/_storage"})
    assert answer.status_code == 200 and answer.content == b""
    redirect = answer.headers["x-accel-redirect"]
    assert redirect == f"/_storage/{instance[:2]}/{instance}.dcm"
    stored = pacs.data_dir / "storage" / redirect.removeprefix("/_storage/")
    assert stored.read_bytes() == http.get(f"/instances/{instance}/file").content


def test_unknown_instance_answers_404_on_every_route(http: httpx.Client) -> None:
    unknown = "ffffffff-ffffffff-ffffffff-ffffffff-ffffffff"
    for route in ("file", "tags", "simplified-tags", "frames", "preview", "frames/0/preview", "frames/0/raw"):
        answer = http.get(f"/instances/{unknown}/{route}")
        assert answer.status_code == 404, route
        assert unknown in answer.json()["error"]


def test_tags_in_full_simplified_and_short_forms(http: httpx.Client) -> None:
    ds = next(make_series(1, patient_name="Tags^Test"))
    ds.ImageComments = "x" * 1000
    ds.ReferencedImageSequence = [pydicom.Dataset()]
    ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID = "1.2.3.4"
    ds.add_new(0x00410010, "LO", "ACME")
    ds.add_new(0x00411001, "LO", "private value")
    instance = upload(http, dataset_bytes(ds))

    full = http.get(f"/instances/{instance}/tags").json()
    assert full["0010,0010"] == {"Name": "PatientName", "Type": "String", "Value": "Tags^Test"}
    assert full["0020,0037"]["Value"] == "1\\0\\0\\0\\1\\0"
    assert full["0020,4000"] == {"Name": "ImageComments", "Type": "TooLong", "Value": None}
    assert full["7fe0,0010"] == {"Name": "PixelData", "Type": "Null", "Value": None}
    assert full["0008,1140"]["Type"] == "Sequence"
    assert full["0008,1140"]["Value"][0]["0008,1155"]["Value"] == "1.2.3.4"
    assert full["0041,1001"] == {"Name": "Unknown Tag & Data", "PrivateCreator": "ACME", "Type": "String", "Value": "private value"}
    assert not [key for key in full if key.startswith("0002,")]

    simple = http.get(f"/instances/{instance}/simplified-tags").json()
    assert simple["PatientName"] == "Tags^Test" and simple["PixelData"] is None
    assert simple["ReferencedImageSequence"] == [{"ReferencedSOPInstanceUID": "1.2.3.4"}]
    assert http.get(f"/instances/{instance}/tags", params={"simplify": ""}).json() == simple
    short = http.get(f"/instances/{instance}/tags?short").json()
    assert short["0010,0010"] == "Tags^Test" and short["0008,1140"] == [{"0008,1155": "1.2.3.4"}]


def test_tags_match_what_orthanc_answers(http: httpx.Client, tmp_path: Path) -> None:
    """Same tags, names, types and values as a real Orthanc for pydicom's files (private names aside)."""
    names = ("CT_small.dcm", "rtplan.dcm", "MR_small.dcm", "waveform_ecg.dcm")  # the last has OtherPatientIDs
    datasets = {name: renamed(TEST_FILES / name) for name in names}
    orthanc = OrthancProcess(tmp_path / "orthanc").start()
    try:
        with httpx.Client(base_url=orthanc.url) as peer:
            for name, data in datasets.items():
                ours = http.get(f"/instances/{upload(http, data)}/tags").json()
                theirs = peer.get(f"/instances/{peer.post('/instances', content=data).json()['ID']}/tags").json()
                assert comparable(ours) == comparable(theirs), name
    finally:
        orthanc.stop()


RAW_FRAMES = {  # file: (frame to fetch, media type)
    "CT_small.dcm": (0, "application/octet-stream"),
    "MR_small_bigendian.dcm": (0, "application/octet-stream"),  # the stored big-endian bytes
    "JPEG2000.dcm": (0, "image/jp2"),
    "examples_ybr_color.dcm": (29, "image/jpeg"),  # the last of 30
    "rtdose.dcm": (14, "application/octet-stream"),
    "SC_rgb_rle_2frame.dcm": (1, None),  # Orthanc says application/octet-stream; we name the RLE type
}


def test_raw_frames_are_orthanc_s(http: httpx.Client, tmp_path: Path) -> None:
    """`/frames/{n}/raw` answers the bytes a real Orthanc answers for the same file and frame."""
    orthanc = OrthancProcess(tmp_path / "orthanc").start()
    try:
        with httpx.Client(base_url=orthanc.url, headers={"Accept-Encoding": "identity"}) as peer:
            for name, (frame, media_type) in RAW_FRAMES.items():
                data = renamed(TEST_FILES / name)
                instance = upload(http, data)
                ours = http.get(f"/instances/{instance}/frames/{frame}/raw")
                peer.post("/instances", content=data)
                theirs = peer.get(f"/instances/{instance}/frames/{frame}/raw")
                assert ours.status_code == theirs.status_code == 200, name
                assert ours.content == theirs.content, name
                if media_type:
                    assert ours.headers["content-type"] == media_type == theirs.headers["content-type"]
                assert http.get(f"/instances/{instance}/frames/{frame + 1}/raw").status_code == 404
    finally:
        orthanc.stop()


def test_content_is_browsed_as_in_orthanc(http: httpx.Client, tmp_path: Path) -> None:
    """Every path under `/content` (tags, items, fragments, values) answers what a real Orthanc answers."""
    orthanc = OrthancProcess(tmp_path / "orthanc").start()
    try:
        with httpx.Client(base_url=orthanc.url, headers={"Accept-Encoding": "identity"}) as peer:
            for name in ("rtplan.dcm", "JPEG2000.dcm", "MR_small_bigendian.dcm", "CT_small.dcm"):
                data = renamed(TEST_FILES / name)
                instance = upload(http, data)
                peer.post("/instances", content=data)
                pending, seen = [f"/instances/{instance}/content"], 0
                while pending:
                    path = pending.pop()
                    ours, theirs = http.get(path), peer.get(path)
                    assert ours.status_code == theirs.status_code == 200, path
                    if theirs.headers["content-type"].startswith("application/json"):
                        assert ours.json() == theirs.json(), path
                        pending += [f"{path}/{step}" for step in theirs.json()]
                    else:
                        assert ours.headers["content-type"] == "application/octet-stream", path
                        assert ours.content == theirs.content, path
                    seen += 1
                assert seen > 20, name
    finally:
        orthanc.stop()


def test_content_paths_that_name_nothing(http: httpx.Client) -> None:
    instance = upload(http, renamed(TEST_FILES / "rtplan.dcm"))
    content = f"/instances/{instance}/content"
    assert http.get(f"{content}/PatientName").content == http.get(f"{content}/0010,0010").content
    assert http.get(f"{content}/300a-00b0/7").status_code == 404  # one beam: item 0 only
    assert http.get(f"{content}/0010-0010/0").status_code == 404  # a value has nothing below it
    assert http.get(f"{content}/ffff-ffff").status_code == 404
    assert "neither a tag" in http.get(f"{content}/NoSuchKeyword").json()["error"]


def test_frames_and_previews(http: httpx.Client) -> None:
    ds = next(make_series(1, rows=48, columns=80))
    instance = upload(http, dataset_bytes(ds))
    assert http.get(f"/instances/{instance}/frames").json() == [0]
    for path in (f"/instances/{instance}/preview", f"/instances/{instance}/frames/0/preview"):
        answer = http.get(path)
        assert answer.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(answer.content))
        assert image.format == "PNG" and image.size == (80, 48)
    jpeg = http.get(f"/instances/{instance}/preview", headers={"Accept": "image/jpeg"})
    assert Image.open(io.BytesIO(jpeg.content)).format == "JPEG"
    missing = http.get(f"/instances/{instance}/frames/1/preview")
    assert missing.status_code == 404 and "no frame 1" in missing.json()["error"]


def test_every_frame_of_a_multiframe_instance_previews(http: httpx.Client) -> None:
    instance = upload(http, renamed(TEST_FILES / "examples_ybr_color.dcm"))
    frames = http.get(f"/instances/{instance}/frames").json()
    assert frames == list(range(len(frames))) and len(frames) > 1
    last = http.get(f"/instances/{instance}/frames/{frames[-1]}/preview")
    assert Image.open(io.BytesIO(last.content)).mode == "RGB"


def test_preview_of_an_instance_without_pixels_is_a_clear_error(http: httpx.Client) -> None:
    answer = http.get(f"/instances/{upload(http, renamed(TEST_FILES / 'rtplan.dcm'))}/preview")
    assert answer.status_code == 415
    assert "pixel" in answer.json()["error"].lower()
