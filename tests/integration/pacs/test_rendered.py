"""Rendered images and thumbnails (PS3.18 8.3.5): what a browser or a viewer gets back."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pydicom
import pytest
from dicomweb_client.api import DICOMwebClient
from PIL import Image

from tests.support.dicom import TEST_FILES, dataset_bytes, make_series, pydicom_test_files
from tests.support.dicomweb import Stored, multipart_parts, renamed, store
from tests.support.dimse import dcmtk
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def series(http: httpx.Client) -> list[Stored]:
    return [store(http, dataset_bytes(ds)) for ds in make_series(3, rows=40, columns=60)]


@pytest.fixture(scope="module")
def multiframe(http: httpx.Client) -> Stored:
    return store(http, renamed(TEST_FILES / "examples_ybr_color.dcm"))


def image(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def test_rendered_instance_is_a_jpeg_of_the_image(pacs: ServiceProcess, series: list[Stored]) -> None:
    stored = series[0]
    client = DICOMwebClient(url=f"{pacs.url}/pacs")
    picture = image(client.retrieve_instance_rendered(stored.study, stored.series, stored.sop, media_types=("image/jpeg",)))
    assert (picture.format, picture.size, picture.mode) == ("JPEG", (60, 40), "L")


def test_png_and_viewport_keep_the_aspect_ratio(http: httpx.Client, series: list[Stored]) -> None:
    answer = http.get(f"{series[0].path}/rendered", params={"viewport": "30,30"}, headers={"Accept": "image/png"})
    picture = image(answer.content)
    assert answer.headers["content-type"] == "image/png"
    assert (picture.format, picture.size) == ("PNG", (30, 20))
    cropped = image(http.get(f"{series[0].path}/rendered", params={"viewport": "10,10,0,0,20,20"}).content)
    assert cropped.size == (10, 10)


def test_window_decides_the_grey_levels(http: httpx.Client, series: list[Stored]) -> None:
    def mean(window: str) -> float:
        data = http.get(f"{series[0].path}/rendered", params={"window": window}, headers={"Accept": "image/png"}).content
        return float(np.asarray(image(data)).mean())

    assert mean("-5000,10") == 255  # every value above the window: white
    assert mean("5000,10,linear-exact") == 0
    assert 0 < mean("-700,400,sigmoid") < 255


def test_thumbnails_are_small_at_every_level(http: httpx.Client, series: list[Stored], multiframe: Stored) -> None:
    stored = series[0]
    for path in (
        f"/pacs/studies/{stored.study}/thumbnail",
        f"/pacs/studies/{stored.study}/series/{stored.series}/thumbnail",
        f"{stored.path}/thumbnail",
        f"{multiframe.path}/frames/3/thumbnail",
    ):
        answer = http.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert max(image(answer.content).size) <= 128


def test_series_and_frames_render_as_multipart_when_asked(http: httpx.Client, series: list[Stored], multiframe: Stored) -> None:
    stored = series[0]
    accept = {"Accept": 'multipart/related; type="image/jpeg"'}
    parts = multipart_parts(http.get(f"/pacs/studies/{stored.study}/series/{stored.series}/rendered", headers=accept))
    assert [image(p.content).size for p in parts] == [(60, 40)] * 3
    frames = multipart_parts(http.get(f"{multiframe.path}/frames/1,2,30/rendered", headers=accept))
    assert [(p.headers["content-type"], image(p.content).mode) for p in frames] == [("image/jpeg", "RGB")] * 3


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"quality": "0"}, "quality"),
        ({"quality": "high"}, "quality"),
        ({"viewport": "100"}, "viewport"),
        ({"viewport": "0,100"}, "viewport"),
        ({"window": "40"}, "window"),
        ({"window": "40,0"}, "window"),
        ({"window": "40,400,cubic"}, "window"),
    ],
)
def test_bad_parameters_are_400_naming_them(http: httpx.Client, series: list[Stored], params: dict, name: str) -> None:
    answer = http.get(f"{series[0].path}/rendered", params=params)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(f"{name}:")


def test_accept_without_an_image_type_is_406(http: httpx.Client, series: list[Stored]) -> None:
    answer = http.get(f"{series[0].path}/rendered", headers={"Accept": "text/html"})
    assert answer.status_code == 406


@pytest.mark.parametrize("path", pydicom_test_files(), ids=lambda p: p.name)
def test_every_pydicom_file_renders_or_says_why_not(http: httpx.Client, path: Path) -> None:
    answer = http.post("/instances", content=path.read_bytes())
    if answer.status_code != 200:
        assert answer.status_code == 400  # not storable: nothing to render
        return
    stored = Stored(path.read_bytes(), pydicom.dcmread(path, stop_before_pixels=True, force=True))
    for suffix in ("/rendered", "/thumbnail", "/frames/1"):
        reply = http.get(stored.path + suffix)
        assert reply.status_code in (200, 406, 415), (suffix, reply.status_code, reply.text)
        if reply.status_code != 200:
            assert reply.json()["error"]
        elif reply.headers["content-type"] == "image/jpeg":
            assert image(reply.content).format == "JPEG"
        elif suffix == "/rendered":
            assert [image(p.content).format for p in multipart_parts(reply)] == ["JPEG"] * len(multipart_parts(reply))


@pytest.mark.parametrize(
    "name",
    [
        "examples_palette.dcm", "examples_ybr_color.dcm", "SC_rgb_rle_16bit.dcm", "JPEG2000.dcm", "MR_small_RLE.dcm",
        "MR_small_bigendian.dcm", "image_dfl.dcm", "liver_1frame.dcm", "MR_small_jpeg_ls_lossless.dcm",
        "SC_rgb_jpeg_dcmtk.dcm", "GDCMJ2K_TextGBR.dcm", "rtdose.dcm", "SC_rgb_jpeg.dcm",
    ],
)
def test_each_kind_of_pixel_data_renders(http: httpx.Client, name: str) -> None:
    stored = store(http, (TEST_FILES / name).read_bytes())
    answer = http.get(f"{stored.path}/rendered", headers={"Accept": "image/png"})
    assert answer.status_code == 200, answer.text
    pixels = np.asarray(image(answer.content))
    assert pixels.std() > 0  # not a blank image


@pytest.mark.parametrize("compressed", [False, True], ids=["native", "jpeg-lossless"])
def test_an_instance_stored_again_renders_its_new_pixels(http: httpx.Client, tmp_path: Path, compressed: bool) -> None:
    (ds,) = make_series(1, rows=16, columns=16)  # window 40/400: -1000 shows black, 1000 white

    def version(level: int) -> bytes:
        ds.PixelData = np.full((16, 16), level, np.int16).tobytes()
        native = tmp_path / "native.dcm"
        native.write_bytes(dataset_bytes(ds))
        if not compressed:
            return native.read_bytes()
        assert dcmtk("dcmcjpeg", native, tmp_path / "lossless.dcm").returncode == 0
        return (tmp_path / "lossless.dcm").read_bytes()

    def shown() -> float:
        answer = http.get(f"{stored.path}/rendered", headers={"Accept": "image/png"})
        assert answer.status_code == 200, answer.text
        return float(np.asarray(image(answer.content)).mean())

    stored = store(http, version(-1000))
    assert [shown(), shown()] == [0, 0]  # the second time from what the first one kept
    store(http, version(1000))
    assert shown() == 255
    if not compressed:
        accept = {"Accept": "multipart/related; type=application/octet-stream"}
        frame = multipart_parts(http.get(f"{stored.path}/frames/1", headers=accept))
        assert np.frombuffer(frame[0].content, "<i2").tolist() == [1000] * 256
