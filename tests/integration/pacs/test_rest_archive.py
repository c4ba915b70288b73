"""REST archives: `/patients|studies|series/{id}/archive` as ZIPs that unpack to the stored files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import httpx
import pytest

from tests.support.dicom import dataset_bytes, make_series

pytestmark = pytest.mark.db


def upload_all(http: httpx.Client, datasets: list[Any]) -> dict[str, tuple[dict[str, Any], bytes]]:
    """Answers and bytes of each uploaded dataset, by instance ID."""
    out = {}
    for ds in datasets:
        data = dataset_bytes(ds)
        answer = http.post("/instances", content=data).json()
        out[answer["ID"]] = (answer, data)
    return out


@pytest.fixture(scope="module")
def study(http: httpx.Client) -> dict[str, tuple[dict[str, Any], bytes]]:
    """A study of two series (CT, MR) of one patient whose name and description try to escape the archive."""
    ct = list(make_series(3, patient_name="../../etc^passwd", study_description="/abs/../path", series_number=1))
    mr = make_series(2, modality="MR", patient_id=str(ct[0].PatientID), study_uid=str(ct[0].StudyInstanceUID), series_number=2)
    return upload_all(http, [*ct, *mr])


def archive(http: httpx.Client, path: str) -> zipfile.ZipFile:
    answer = http.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert "attachment" in answer.headers["content-disposition"]
    return zipfile.ZipFile(io.BytesIO(answer.content))


def test_study_archive_holds_every_file_byte_for_byte(http: httpx.Client, study: dict[str, Any]) -> None:
    first = next(iter(study.values()))[0]
    with archive(http, f"/studies/{first['ParentStudy']}/archive") as zipped:
        assert zipped.testzip() is None
        contents = sorted(zipped.read(info) for info in zipped.infolist())
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zipped.infolist())
    assert contents == sorted(data for _, data in study.values())


def test_entry_names_are_safe_and_follow_the_hierarchy(http: httpx.Client, study: dict[str, Any], tmp_path: Path) -> None:
    first = next(iter(study.values()))[0]
    with archive(http, f"/patients/{first['ParentPatient']}/archive") as zipped:
        names = zipped.namelist()
        zipped.extractall(tmp_path)
    for name in names:
        path = PurePosixPath(name)
        assert not path.is_absolute() and ".." not in path.parts and len(path.parts) == 4, name
    assert len({PurePosixPath(n).parent for n in names}) == 2  # one folder per series
    assert sum(1 for n in names if PurePosixPath(n).name.startswith("MR")) == 2
    assert len(list(tmp_path.rglob("*.dcm"))) == len(study)


def test_study_folders_are_named_as_orthanc_names_them(http: httpx.Client) -> None:
    """Orthanc's study folder is `<AccessionNumber> <StudyDescription>` (its ArchiveJob)."""
    series = list(make_series(1, accession_number="ACC42", study_description="Head CT"))
    (answer, _), = upload_all(http, series).values()
    with archive(http, f"/studies/{answer['ParentStudy']}/archive") as zipped:
        (name,) = zipped.namelist()
    assert PurePosixPath(name).parts[1] == "ACC42 Head CT"


def test_series_archive_holds_only_that_series(http: httpx.Client, study: dict[str, Any]) -> None:
    mr = [(answer, data) for answer, data in study.values() if b"MR series" in data]
    with archive(http, f"/series/{mr[0][0]['ParentSeries']}/archive") as zipped:
        assert sorted(zipped.read(n) for n in zipped.namelist()) == sorted(data for _, data in mr)


def test_files_larger_than_a_read_chunk_stream_whole(http: httpx.Client) -> None:
    files = upload_all(http, list(make_series(2, rows=1536, columns=1536)))  # 4.5 MiB each, over zip_stream.CHUNK
    series = next(iter(files.values()))[0]["ParentSeries"]
    with http.stream("GET", f"/series/{series}/archive") as answer:
        assert "content-length" not in answer.headers
        body = b"".join(answer.iter_bytes())
    with zipfile.ZipFile(io.BytesIO(body)) as zipped:
        assert sorted(zipped.read(n) for n in zipped.namelist()) == sorted(data for _, data in files.values())


def test_archive_of_an_unknown_resource_is_404(http: httpx.Client) -> None:
    answer = http.get("/studies/00000000-00000000-00000000-00000000-00000000/archive")
    assert answer.status_code == 404
    assert "not stored" in answer.json()["error"]
