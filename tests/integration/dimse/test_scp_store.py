"""C-ECHO and C-STORE from dcmtk's echoscu and storescu, in every family of transfer syntax."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)

from tests.support.dicom import make_series
from tests.support.dimse import DicomPacs, dcmtk, write_files

pytestmark = pytest.mark.db


def test_echoscu_gets_success(scp: DicomPacs) -> None:
    result = dcmtk("echoscu", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("option", "syntax"),
    [("-xe", ExplicitVRLittleEndian), ("-xb", ExplicitVRBigEndian), ("-xi", ImplicitVRLittleEndian)],
)
def test_storescu_uncompressed_lands_in_index_and_on_disk(
    scp: DicomPacs, tmp_path: Path, option: str, syntax: str
) -> None:
    datasets = list(make_series(3, patient_name="Store^Uncompressed"))
    files = write_files(datasets, tmp_path)
    result = dcmtk("storescu", option, "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, *files)
    assert result.returncode == 0, result.stderr
    assert scp.count_instances(datasets[0].StudyInstanceUID) == 3
    for ds in datasets:
        stored = scp.stored(ds)
        assert stored is not None
        assert stored.file_meta.TransferSyntaxUID == syntax
        assert stored.PixelData == ds.PixelData or syntax == ExplicitVRBigEndian


def _convert(tool: str, source: Path, target: Path, *options: str) -> Path:
    result = dcmtk(tool, *options, source, target)
    assert result.returncode == 0, result.stderr
    return target


@pytest.mark.parametrize(
    ("tool", "options", "propose", "syntax"),
    [
        ("dcmcjpeg", ("+e1",), "-xs", JPEGLosslessSV1),
        ("dcmcjpls", ("+el",), "-xt", JPEGLSLossless),
        ("dcmcrle", (), "-xr", RLELossless),
    ],
)
def test_storescu_compressed_files_are_stored_as_sent(
    scp: DicomPacs, tmp_path: Path, tool: str, options: tuple[str, ...], propose: str, syntax: str
) -> None:
    datasets = list(make_series(2, patient_name="Store^Compressed", rows=128, columns=128))
    plain = write_files(datasets, tmp_path / "plain")
    converted = [_convert(tool, path, tmp_path / f"{tool}-{path.name}", *options) for path in plain]
    result = dcmtk("storescu", propose, "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, *converted)
    assert result.returncode == 0, result.stderr
    for ds in datasets:
        stored = scp.stored(ds)
        assert stored is not None
        assert stored.file_meta.TransferSyntaxUID == syntax
        assert (stored.pixel_array == ds.pixel_array).all()


def test_jpeg2000_from_pydicom_is_stored(scp: DicomPacs, tmp_path: Path) -> None:
    ds = next(make_series(1, patient_name="Store^J2K", rows=64, columns=64))
    ds.compress(JPEG2000Lossless)
    [path] = write_files([ds], tmp_path)
    result = dcmtk("storescu", "-xv", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, path)
    assert result.returncode == 0, result.stderr
    stored = scp.stored(ds)
    assert stored is not None and stored.file_meta.TransferSyntaxUID == JPEG2000Lossless


def test_storescu_deflated_proposal(scp: DicomPacs, tmp_path: Path) -> None:
    datasets = list(make_series(2, patient_name="Store^Deflated"))
    plain = write_files(datasets, tmp_path / "plain")
    files = [_convert("dcmconv", path, tmp_path / f"deflated-{path.name}", "+td") for path in plain]
    result = dcmtk("storescu", "-xd", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, *files)
    assert result.returncode == 0, result.stderr
    for ds in datasets:
        stored = scp.stored(ds)
        assert stored is not None
        assert stored.file_meta.TransferSyntaxUID == DeflatedExplicitVRLittleEndian
        assert stored.PixelData == ds.PixelData


def test_c_store_records_origin_ae(scp: DicomPacs, tmp_path: Path) -> None:
    ds = next(make_series(1, patient_name="Store^Origin"))
    [path] = write_files([ds], tmp_path)
    result = dcmtk("storescu", "-aet", "CT_SCANNER_1", "-aec", "PACSBOX", "127.0.0.1", scp.dicom_port, path)
    assert result.returncode == 0, result.stderr
    answer = scp.http.get(f"/pacs/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances")
    assert answer.status_code == 200 and len(answer.json()) == 1
