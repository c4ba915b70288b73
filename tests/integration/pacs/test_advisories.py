"""Each class of the 2026 DICOM server advisories, sent as a crafted file: refused cleanly or made harmless.

Out-of-bounds lengths in the meta header and the dataset, pixel dimensions whose
product overflows or passes the cap, lookup tables that disagree with their
descriptors, DICOMDIR file IDs and ZIP entry names that climb out of their
folder, and DICOM/PE polyglots.
"""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MediaStorageDirectoryStorage, generate_uid

from tests.conftest import start_pacs
from tests.support.dicom import dataset_bytes, make_series
from tests.support.dicomweb import Stored, multipart_parts, store
from tests.support.hostile import (
    cut_inside_pixel_data_header,
    element_length_past_end,
    group_length_past_end,
    huge_pixel_claims,
    lut_image,
    palette_image,
    pe_polyglot,
)
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db

BOUNDARY = "advisories"


def _stow(client: httpx.Client, *files: bytes) -> httpx.Response:
    body = b"".join(
        f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode() + data + b"\r\n" for data in files
    ) + f"--{BOUNDARY}--\r\n".encode()
    return client.post("/pacs/studies", content=body, headers={
        "Content-Type": f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'})


def _stored_files(server: ServiceProcess) -> set[Path]:
    return set((server.data_dir / "storage").rglob("*.dcm"))


@pytest.mark.parametrize("kept", [1, 4, 7])
def test_a_file_cut_inside_an_element_header_is_refused(pacs: ServiceProcess, http: httpx.Client, kept: int) -> None:
    """pydicom reads such a file without the cut element: stored, it would be an image without pixel data."""
    before = _stored_files(pacs)
    answer = http.post("/instances", content=cut_inside_pixel_data_header(kept))
    assert answer.status_code == 400 and "cut short" in answer.json()["error"]
    assert _stow(http, cut_inside_pixel_data_header(kept)).status_code == 409
    assert _stored_files(pacs) == before


@pytest.mark.parametrize(
    ("crafted", "named"),
    [
        (group_length_past_end, "File Meta Information Group Length"),
        (lambda: element_length_past_end("meta"), "(0002,0001)"),
        (lambda: element_length_past_end("pixels"), "(7FE0,0010)"),
        (lambda: element_length_past_end("text"), "(0010,4000)"),
    ],
    ids=["meta group length", "meta element", "pixel data", "last element"],
)
def test_lengths_past_the_end_are_refused(pacs: ServiceProcess, http: httpx.Client, crafted: Any, named: str) -> None:
    before = _stored_files(pacs)
    answer = http.post("/instances", content=crafted())
    assert answer.status_code == 400
    assert named in answer.json()["error"] and "past the end" in answer.json()["error"]
    assert _stow(http, crafted()).status_code == 409
    assert _stored_files(pacs) == before
    assert not list((pacs.data_dir / "storage" / ".tmp").iterdir())


@pytest.mark.parametrize(
    "claims",
    [(65535, 65535, 2**31 - 1, 4, 64), (65535, 65535, 1, 3, 16), (40000, 40000, 4096, 1, 8)],
    ids=["overflows 64 bits", "one huge frame", "many huge frames"],
)
def test_pixel_dimensions_past_the_cap_are_refused_before_decoding(http: httpx.Client, claims: tuple) -> None:
    stored = store(http, huge_pixel_claims(*claims))
    for suffix in ("/rendered", "/thumbnail", "/frames/1", "/frames/1/rendered"):
        answer = http.get(stored.path + suffix)
        assert answer.status_code == 415, (suffix, answer.status_code)
        assert answer.json()["error"]
    assert "PACSBOX_MAX_PIXEL_DATA_SIZE" in http.get(stored.path + "/frames/1/rendered").json()["error"]


def test_a_frame_count_the_pixel_data_cannot_hold_is_refused_at_once(http: httpx.Client) -> None:
    """2**31 frames claimed over 64 bytes: once, rendering it built a list of every frame and hung the server."""
    stored = store(http, huge_pixel_claims(8, 8, 2**31 - 1, 1, 8))
    for suffix in ("/rendered", "/thumbnail"):
        answer = http.get(stored.path + suffix, timeout=10)
        assert answer.status_code == 415
        assert "NumberOfFrames 2147483647" in answer.json()["error"]
    assert http.get(stored.path + "/frames/1/rendered").status_code == 200  # the one frame it holds


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory, postgres: Any) -> Iterator[httpx.Client]:
    server = start_pacs(tmp_path_factory.mktemp("capped"), postgres, PACSBOX_MAX_PIXEL_DATA_SIZE="64k")
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            yield client
    finally:
        server.stop()


def test_pixel_data_cap_just_under_and_just_over(capped: httpx.Client) -> None:
    under = store(capped, dataset_bytes(next(make_series(1, rows=128, columns=256))))  # 64 KiB decoded
    assert capped.get(under.path + "/rendered").status_code == 200
    over = store(capped, dataset_bytes(next(make_series(1, rows=129, columns=256))))
    answer = capped.get(over.path + "/rendered")
    assert answer.status_code == 415
    assert "PACSBOX_MAX_PIXEL_DATA_SIZE" in answer.json()["error"]


@pytest.mark.parametrize(
    ("crafted", "named"),
    [
        (lambda: palette_image([256, 0, 16], 10), "palette"),
        (lambda: palette_image([0, 0, 16], 256), "palette"),
        (lambda: palette_image([256, 0, 40], 256), "palette"),
        (lambda: lut_image("VOI", [0, 0, 16], 4), "VOI LUT"),
        (lambda: lut_image("VOI", [4096, 0, 64], 4096), "VOI LUT"),
        (lambda: lut_image("Modality", [0, 0, 16], 4), "Modality LUT"),
    ],
    ids=["palette shorter than descriptor", "palette of 65536 announced", "palette of 40 bits",
         "VOI LUT of 65536 announced", "VOI LUT of 64 bits", "modality LUT shorter than descriptor"],
)
def test_lookup_tables_inconsistent_with_their_descriptors_are_a_clear_4xx(
    http: httpx.Client, crafted: Any, named: str
) -> None:
    stored = store(http, crafted())
    for suffix in ("/rendered", "/thumbnail"):
        answer = http.get(stored.path + suffix)
        assert 400 <= answer.status_code < 500, (suffix, answer.status_code, answer.text)
        assert named in answer.json()["error"]


def test_consistent_lookup_tables_render(http: httpx.Client) -> None:
    for crafted in (palette_image([256, 0, 16], 256), lut_image("VOI", [4096, 0, 16], 4096)):
        assert http.get(store(http, crafted).path + "/rendered").status_code == 200


def _dicomdir(folder: Path, *file_ids: list[str]) -> Path:
    directory = Dataset()
    directory.file_meta = FileMetaDataset()
    directory.file_meta.MediaStorageSOPClassUID = MediaStorageDirectoryStorage
    directory.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    directory.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    directory.FileSetID = "HOSTILE"
    records = []
    for parts in file_ids:
        record = Dataset()
        record.DirectoryRecordType = "IMAGE"
        record.ReferencedFileID = parts
        records.append(record)
    directory.DirectoryRecordSequence = records
    path = folder / "DICOMDIR"
    directory.save_as(path, enforce_file_format=True)
    return path


def _import(folder: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    env = {"PACSBOX_CONFIG_DIR": str(folder), "PACSBOX_DATA_DIR": str(folder / "data"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "pacsbox.cli", "import", *map(str, paths)],
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "escape",
    ["relative", "absolute", "symlink"],
)
def test_dicomdir_file_ids_cannot_leave_the_import_root(tmp_path: Path, escape: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.dcm"
    secret.write_bytes(dataset_bytes(next(make_series(1))))
    media = tmp_path / "media" / "disc"
    media.mkdir(parents=True)
    if escape == "relative":
        file_id = ["..", "..", "outside", "secret.dcm"]
    elif escape == "absolute":
        file_id = [str(secret)]
    else:
        (media / "LINK").symlink_to(secret)
        file_id = ["LINK"]
    dicomdir = _dicomdir(media, file_id)
    result = _import(tmp_path, dicomdir)
    assert result.returncode == 1
    assert "refers outside its folder" in result.stdout
    assert not list((tmp_path / "data" / "storage").rglob("*.dcm"))


def test_dicomdir_inside_its_folder_imports(tmp_path: Path) -> None:
    media = tmp_path / "media"
    (media / "IMAGES").mkdir(parents=True)
    (media / "IMAGES" / "IM1").write_bytes(dataset_bytes(next(make_series(1))))
    result = _import(tmp_path, _dicomdir(media, ["IMAGES", "IM1"]))
    assert result.returncode == 0, result.stdout
    assert len(list((tmp_path / "data" / "storage").rglob("*.dcm"))) == 1


def test_zip_entry_names_never_become_paths(pacs: ServiceProcess, http: httpx.Client, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    names = [f"../../../{tag}-a.dcm", f"{tmp_path}/{tag}-b.dcm", f"..\\..\\{tag}-c.dcm", f"x/../../{tag}-d.dcm"]
    instances = [dataset_bytes(ds) for ds in make_series(len(names))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in zip(names, instances, strict=True):
            archive.writestr(zipfile.ZipInfo(name), data)
    answer = http.post("/instances", content=buffer.getvalue())
    assert answer.status_code == 200
    assert [item["Status"] for item in answer.json()] == ["Success"] * len(names)
    storage = pacs.data_dir / "storage"
    for base in (Path.cwd(), pacs.folder, pacs.data_dir, storage, storage / ".tmp", tmp_path):
        for name in names:
            assert not (base / name).resolve().exists()
    assert not list(Path("/").glob(f"*{tag}*")) and not list(Path("/tmp").glob(f"*{tag}*"))
    for data in instances:  # stored by content, under a name of our own
        sop = pydicom.dcmread(io.BytesIO(data)).SOPInstanceUID
        assert http.get("/pacs/instances", params={"SOPInstanceUID": sop}).json()


def _preamble_is_zero(data: bytes) -> bool:
    return data[:128] == bytes(128) and data[128:132] == b"DICM"


def test_pe_polyglots_are_stored_and_served_with_a_zeroed_preamble(
    pacs: ServiceProcess, http: httpx.Client, tmp_path: Path
) -> None:
    sent = [pe_polyglot() for _ in range(3)]
    assert all(data[:2] == b"MZ" for data in sent)
    rest = store(http, sent[0])
    assert _stow(http, sent[1]).status_code == 200
    (tmp_path / "poly.dcm").write_bytes(sent[2])
    assert _import(tmp_path, tmp_path / "poly.dcm").returncode == 0
    imported = tmp_path / "data" / "storage"
    assert [_preamble_is_zero(p.read_bytes()) for p in imported.rglob("*.dcm")] == [True]
    for data in sent[:2]:
        stored = Stored(data, pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True))
        on_disk = [p for p in _stored_files(pacs) if p.read_bytes()[132:] == data[132:]]
        assert len(on_disk) == 1 and _preamble_is_zero(on_disk[0].read_bytes())
        whole = http.get(stored.path, headers={"Accept": 'multipart/related; type="application/dicom"; transfer-syntax=*'})
        assert whole.status_code == 200
        assert all(_preamble_is_zero(part.content) for part in multipart_parts(whole))
        uri = http.get("/wado", params={"requestType": "WADO", "studyUID": stored.study, "seriesUID": stored.series,
                                        "objectUID": stored.sop, "contentType": "application/dicom"})
        assert uri.status_code == 200 and _preamble_is_zero(uri.content)
    assert rest.sop
