"""The viewer service as a real process, pointed at the session's pacs, with a phantom series stored there."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.support.dicom import dataset_bytes, make_series
from tests.support.dicomweb import store
from tests.support.servers import ServiceProcess

ROOT = Path(__file__).resolve().parents[3]
OHIF_DIR = ROOT / "build" / "ohif"

SLICES, ROWS, COLUMNS = 40, 48, 64
"""The phantom's size: slices (z, 1.25 mm apart), rows (y) and columns (x), 0.7 mm pixels."""
BOX = (slice(25, 35), slice(20, 40), slice(8, 24))
"""Where the phantom holds bone (1000 HU) in (slice, row, column); air (-1000 HU) elsewhere."""


def start_viewer(folder: Path, pacs: ServiceProcess, **env: str) -> ServiceProcess:
    return ServiceProcess("viewer", folder, {"PACSBOX_PACS_URL": pacs.url, **env}).start()


@dataclass(frozen=True)
class OhifBuild:
    """The OHIF build `scripts/fetch-ohif` made, or why it could not."""

    folder: Path
    problem: str = ""

    def require(self) -> Path:
        """The build folder; fails the test, saying why, when the build could not be fetched (make test needs npm)."""
        if self.problem:
            pytest.fail(f"the OHIF viewer could not be fetched from the npm registry (scripts/fetch-ohif): {self.problem}")
        return self.folder


@pytest.fixture(scope="session")
def ohif_build() -> OhifBuild:
    """Fetch and patch OHIF once (later runs find it in build/ohif)."""
    try:
        result = subprocess.run([str(ROOT / "scripts" / "fetch-ohif"), "--dest", str(OHIF_DIR)],
                                capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return OhifBuild(OHIF_DIR, "no answer within 600 s")
    if result.returncode != 0:
        return OhifBuild(OHIF_DIR, (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1])
    return OhifBuild(OHIF_DIR)


@pytest.fixture(scope="session")
def viewer(tmp_path_factory: pytest.TempPathFactory, pacs: ServiceProcess, ohif_build: OhifBuild
           ) -> Iterator[ServiceProcess]:
    """A viewer serving build/ohif (its pages answer 503 if the fetch failed), public URL as in the tests."""
    server = start_viewer(tmp_path_factory.mktemp("viewer"), pacs, PACSBOX_VIEWER_OHIF_DIR=str(ohif_build.folder),
                          PACSBOX_PUBLIC_URL="https://pacs.clinic.test:8443")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def viewer_http(viewer: ServiceProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=viewer.url, timeout=120) as client:
        yield client


@dataclass(frozen=True)
class Phantom:
    study: str
    series: str
    patient_id: str

    @property
    def api(self) -> str:
        return f"/api/studies/{self.study}/series/{self.series}"


def phantom_volume() -> np.ndarray:
    """(slice, row, column) HU values: air with one bone box."""
    volume = np.full((SLICES, ROWS, COLUMNS), -1000, dtype=np.int16)
    volume[BOX] = 1000
    return volume


@pytest.fixture(scope="session")
def phantom(pacs: ServiceProcess) -> Phantom:
    """The phantom stored as a CT series, slices sent in shuffled order with shuffled instance numbers."""
    volume = phantom_volume()
    patient_id = f"PHANTOM{uuid.uuid4().hex[:8]}"
    slices = list(make_series(SLICES, rows=ROWS, columns=COLUMNS, patient_name="Phantom^Box", patient_id=patient_id,
                              study_description="Box phantom"))
    order = np.random.default_rng(7).permutation(SLICES)
    with httpx.Client(base_url=pacs.url, timeout=60) as client:
        for index in order:
            ds = slices[index]
            ds.InstanceNumber = int(order[index]) + 1
            ds.RescaleIntercept = -1024
            ds.PixelData = (volume[index] + 1024).astype("<i2").tobytes()
            store(client, dataset_bytes(ds))
    return Phantom(str(slices[0].StudyInstanceUID), str(slices[0].SeriesInstanceUID), patient_id)
