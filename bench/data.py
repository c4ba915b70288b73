"""The benchmark's data, written once to disk and sent identically to both servers.

CT series of 16-bit slices with a noisy body phantom (so compressed sizes are
realistic), an MR series, one multi-frame instance, a JPEG Lossless set made by
dcmtk's `dcmcjpeg`, and many one-instance studies for the searches. Every set
has fresh UIDs, so no server ever sees an instance twice.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from bench.sizes import Sizes
from tests.support.dicom import dataset_bytes, make_series

__all__ = ["BenchData", "IngestSets", "SeriesFiles", "ct_series", "generate", "search_studies"]

MULTIFRAME_SC = "1.2.840.10008.5.1.4.1.1.7.3"
"""Multi-frame Grayscale Word Secondary Capture Image Storage."""

SEARCH_MODALITIES = {
    "CT": "1.2.840.10008.5.1.4.1.1.2", "MR": "1.2.840.10008.5.1.4.1.1.4", "CR": "1.2.840.10008.5.1.4.1.1.1",
    "DX": "1.2.840.10008.5.1.4.1.1.1.1", "US": "1.2.840.10008.5.1.4.1.1.6.1", "MG": "1.2.840.10008.5.1.4.1.1.1.2",
    "PT": "1.2.840.10008.5.1.4.1.1.128", "NM": "1.2.840.10008.5.1.4.1.1.20",
}
SURNAMES = (
    "SMITH", "JONES", "NOWAK", "KOWALSKI", "MUELLER", "SCHMIDT", "GARCIA", "MARTIN", "BERNARD", "DUBOIS",
    "ROSSI", "RUSSO", "BIANCHI", "JANSEN", "DEVRIES", "NIELSEN", "HANSEN", "JOHANSSON", "LARSEN", "NOVAK",
    "HORVATH", "POPESCU", "IVANOV", "PETROV", "KIM", "LEE", "PARK", "TANAKA", "SATO", "WANG",
    "LIU", "CHEN", "SILVA", "SANTOS", "OLIVEIRA", "PEREIRA", "COSTA", "WALSH", "BYRNE", "OCONNOR",
)
GIVEN_NAMES = ("ANNA", "JOHN", "MARIA", "PIOTR", "LUKAS", "SOFIA", "LIAM", "EMMA", "NOAH", "OLGA")


@dataclass(frozen=True)
class SeriesFiles:
    """Files of one set on disk, with the UIDs the requests need."""

    study: str
    series: str
    sops: tuple[str, ...]
    files: tuple[Path, ...]

    @property
    def size(self) -> int:
        return sum(f.stat().st_size for f in self.files)


@dataclass(frozen=True)
class IngestSets:
    """The sets of one round of the ingest rows, each with UIDs of its own."""

    stow: SeriesFiles
    """Stored with one STOW-RS request."""
    stow_parallel: SeriesFiles
    """Stored by 4 concurrent STOW-RS clients, a quarter each."""
    cstore: SeriesFiles
    rest: SeriesFiles
    mr: SeriesFiles
    jpeg: SeriesFiles
    multiframe: SeriesFiles


@dataclass(frozen=True)
class BenchData:
    runs: tuple[IngestSets, ...]
    studies: SeriesFiles
    """One small instance per study (several studies, so `study`/`series` are those of the first)."""

    @property
    def stow(self) -> SeriesFiles:
        """The series every retrieval reads: the first one stored by STOW-RS."""
        return self.runs[0].stow

    @property
    def jpeg(self) -> SeriesFiles:
        """The JPEG Lossless set the retrieval rows read: the first round's."""
        return self.runs[0].jpeg

    @property
    def multiframe(self) -> SeriesFiles:
        """The multi-frame instance the frame rows read: the first round's."""
        return self.runs[0].multiframe


def _phantom(size: int) -> np.ndarray:
    """A body cross-section in Hounsfield units: air, soft tissue ellipse, two bone discs."""
    y, x = np.mgrid[0:size, 0:size] / size - 0.5
    image = np.full((size, size), -1000, np.int16)
    image[(x / 0.42) ** 2 + (y / 0.32) ** 2 < 1] = 40
    image[(x + 0.2) ** 2 + y**2 < 0.004] = 700
    image[(x - 0.2) ** 2 + y**2 < 0.004] = 700
    return image


def _write(folder: Path, datasets: Iterable[Dataset], pixels: np.ndarray | None, seed: int) -> SeriesFiles:
    """Write `datasets` as NNNN.dcm; with `pixels`, each slice gets the phantom plus fresh noise."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    files, sops = [], []
    first: Dataset | None = None
    for index, ds in enumerate(datasets):
        if pixels is not None:
            ds.PixelData = (pixels + rng.integers(-20, 21, pixels.shape, dtype=np.int16)).tobytes()
        path = folder / f"{index:05d}.dcm"
        path.write_bytes(dataset_bytes(ds))
        files.append(path)
        sops.append(str(ds.SOPInstanceUID))
        first = first or ds
    assert first is not None, f"empty set {folder}"
    return SeriesFiles(str(first.StudyInstanceUID), str(first.SeriesInstanceUID), tuple(sops), tuple(files))


def ct_series(folder: Path, sizes: Sizes, seed: int) -> SeriesFiles:
    series = make_series(sizes.ct_slices, rows=sizes.ct_size, columns=sizes.ct_size, patient_name="BENCH^CT",
                         seed=seed)
    return _write(folder, series, _phantom(sizes.ct_size), seed)


def _mr(folder: Path, sizes: Sizes, seed: int) -> SeriesFiles:
    series = make_series(sizes.mr_slices, modality="MR", rows=256, columns=256, patient_name="BENCH^MR", seed=seed)
    return _write(folder, series, None, 0)


def _multiframe(folder: Path, sizes: Sizes) -> SeriesFiles:
    ds = next(make_series(1, rows=sizes.ct_size, columns=sizes.ct_size, patient_name="BENCH^MULTIFRAME"))
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = MULTIFRAME_SC
    ds.Modality = "OT"
    ds.NumberOfFrames = sizes.frames
    ds.FrameIncrementPointer = 0x00181063  # FrameTime
    ds.FrameTime = 40.0
    rng = np.random.default_rng(7)
    phantom = _phantom(sizes.ct_size)
    frames = np.stack([phantom + rng.integers(-20, 21, phantom.shape, dtype=np.int16) for _ in range(sizes.frames)])
    ds.PixelData = frames.tobytes()
    return _write(folder, [ds], None, 0)


def _jpeg(folder: Path, sizes: Sizes, seed: int) -> SeriesFiles:
    """A CT set compressed JPEG Lossless (process 14, SV1) by dcmcjpeg, as many archives hold CT."""
    native = ct_series(folder / "native", Sizes(ct_slices=sizes.jpeg_slices, ct_size=sizes.ct_size), seed=seed)
    folder.mkdir(exist_ok=True)
    targets = tuple(folder / f.name for f in native.files)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda pair: subprocess.run(["dcmcjpeg", str(pair[0]), str(pair[1])], check=True),
                      zip(native.files, targets)))
    return SeriesFiles(native.study, native.series, native.sops, targets)


def search_studies(folder: Path, count: int) -> SeriesFiles:
    """`count` one-instance studies of 16x16 pixels: names, dates and modalities spread for the searches."""
    modalities = list(SEARCH_MODALITIES)

    def studies() -> Iterable[Dataset]:
        for i in range(count):
            modality = modalities[i % len(modalities)]
            year, day = 2010 + i % 15, 1 + (i * 7) % 365
            date = np.datetime64(f"{year}-01-01") + np.timedelta64(day - 1, "D")
            ds = next(make_series(
                1, rows=16, columns=16, modality=modality, seed=i, series_number=1,
                patient_name=f"{SURNAMES[i % len(SURNAMES)]}^{GIVEN_NAMES[(i // len(SURNAMES)) % len(GIVEN_NAMES)]}",
                study_date=str(date).replace("-", ""), study_description=f"{modality} study {i}",
                accession_number=f"A{i:07d}",
            ))
            ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = SEARCH_MODALITIES[modality]
            yield ds

    return _write(folder, studies(), None, 0)


def _round_sets(folder: Path, sizes: Sizes, round_number: int) -> IngestSets:
    seed = 10 * round_number
    cts = (ct_series(folder / name, sizes, seed=seed + i) for i, name in enumerate(("stow", "stow4", "cstore", "rest")))
    return IngestSets(*cts, mr=_mr(folder / "mr", sizes, seed=seed + 4), jpeg=_jpeg(folder / "jpeg", sizes, seed=seed + 5),
                      multiframe=_multiframe(folder / "multiframe", sizes))


def generate(root: Path, sizes: Sizes) -> BenchData:
    """Write every set under `root` (a few seconds per hundred CT slices)."""
    runs = tuple(_round_sets(root / f"run{r}", sizes, r) for r in range(sizes.ingest_runs))
    return BenchData(runs=runs, studies=search_studies(root / "studies", sizes.studies))
