"""Many clients storing the same study at once end with exactly one copy of everything.

Each test runs against a pacs service of one process and of three
(`PACSBOX_PACS_PROCESSES`), whose processes share the port, the data folder
and the index: the clients' connections land on different processes.

The second test does the same while other clients search (QIDO-RS) and delete
other studies; deletes go through `InstanceStore.delete`, the domain call every
delete route makes, from a process of their own (as `pacsbox import` writes
beside the service).
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import blake3
import httpx
import pytest
from pydicom.dataset import Dataset

from pacsbox.core.db import close_engine, open_engine
from pacsbox.core.settings import Settings
from pacsbox.pacs.piccolo_app import SCHEMA
from pacsbox.pacs.store import InstanceStore, Level, orthanc_id
from pacsbox.pacs.tables import Instance
from tests.support.dicom import dataset_bytes, make_series
from tests.conftest import start_pacs
from tests.support.postgres import TemporaryPostgres
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db

BOUNDARY = "concurrency"
UPLOADERS = 20


@pytest.fixture(params=[1, 3], ids=["one process", "three processes"])
def fresh_pacs(
    request: pytest.FixtureRequest, tmp_path: Path, postgres: TemporaryPostgres | None
) -> Iterator[ServiceProcess]:
    """An empty pacs service of its own, in one process or three."""
    server = start_pacs(tmp_path / "pacs", postgres, PACSBOX_PACS_PROCESSES=str(request.param))
    try:
        yield server
    finally:
        server.stop()


def _multipart(study: list[bytes]) -> bytes:
    return b"".join(
        f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode() + data + b"\r\n" for data in study
    ) + f"--{BOUNDARY}--\r\n".encode()


def _stow(client: httpx.Client, url: str, body: bytes) -> int:
    return client.post(f"{url}/pacs/studies", content=body, headers={
        "Content-Type": f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'}).status_code


def _uploaders(url: str, study: list[bytes], statuses: Counter[int], lock: threading.Lock) -> list[threading.Thread]:
    """Twenty clients storing `study`: half by STOW-RS at once, half instance by instance over REST."""
    body = _multipart(study)

    def upload(index: int) -> None:
        with httpx.Client(timeout=120) as client:
            if index % 2:
                codes = [_stow(client, url, body)]
            else:
                codes = [client.post(f"{url}/instances", content=data).status_code for data in study]
            with lock:
                statuses.update(codes)

    return [threading.Thread(target=upload, args=(i,)) for i in range(UPLOADERS)]


def _run_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _assert_only(server: ServiceProcess, study: list[bytes]) -> None:
    """The server holds exactly `study` (one series), its files taking exactly its bytes."""
    studies = httpx.get(f"{server.url}/pacs/studies").json()
    assert len(studies) == 1
    assert studies[0]["00201206"]["Value"] == [1]
    assert studies[0]["00201208"]["Value"] == [len(study)]
    assert len(httpx.get(f"{server.url}/pacs/series").json()) == 1
    assert len(httpx.get(f"{server.url}/pacs/instances").json()) == len(study)
    stored = list((server.data_dir / "storage").rglob("*.dcm"))
    assert sorted(p.stat().st_size for p in stored) == sorted(len(d) for d in study)
    assert not list((server.data_dir / "storage" / ".tmp").iterdir())


def _delete_studies(server: ServiceProcess, studies: list[str]) -> None:
    """Delete studies (Orthanc IDs) through the store, as a delete route does, in a process beside the server."""

    async def delete() -> None:
        settings = Settings.load(server.env)
        engine = SCHEMA.bind(settings)
        await open_engine(engine)
        try:
            store = InstanceStore.from_settings(settings)
            for study in studies:
                await store.delete(Level.STUDY, study)
        finally:
            await close_engine(engine)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, delete()).result()


def _recorded_checksum(server: ServiceProcess, instance: str) -> str:
    """The checksum the index holds for an instance (Orthanc ID), read from a process beside the server."""

    async def read() -> str:
        engine = SCHEMA.bind(Settings.load(server.env))
        await open_engine(engine)
        try:
            row = await Instance.select(Instance.checksum).where(Instance.public_id == instance).first()
        finally:
            await close_engine(engine)
        assert row is not None
        return str(row["checksum"])

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()


def test_twenty_clients_re_uploading_one_study(fresh_pacs: ServiceProcess) -> None:
    study = [dataset_bytes(ds) for ds in make_series(50, rows=96, columns=96)]
    statuses: Counter[int] = Counter()
    _run_all(_uploaders(fresh_pacs.url, study, statuses, threading.Lock()))
    assert set(statuses) == {200}
    _assert_only(fresh_pacs, study)


def _study_id(ds: Dataset) -> str:
    return orthanc_id(ds.PatientID, ds.StudyInstanceUID)


def test_re_uploads_while_others_search_and_delete(fresh_pacs: ServiceProcess) -> None:
    first = list(make_series(50, rows=96, columns=96, seed=1))
    study = [dataset_bytes(ds) for ds in first]
    others = [list(make_series(5, rows=64, columns=64, seed=n)) for n in range(8)]
    with httpx.Client(timeout=60) as client:
        for other in others:
            assert _stow(client, fresh_pacs.url, _multipart([dataset_bytes(ds) for ds in other])) == 200
    statuses: Counter[int | str] = Counter()
    lock, done = threading.Lock(), threading.Event()

    def search() -> None:
        with httpx.Client(base_url=fresh_pacs.url, timeout=60) as client:
            while not done.is_set():
                for path, params in (("/pacs/studies", {}), ("/pacs/series", {"Modality": "CT"}),
                                     ("/pacs/instances", {"StudyInstanceUID": first[0].StudyInstanceUID}),
                                     ("/pacs/studies", {"PatientID": others[-1][0].PatientID})):
                    answer = client.get(path, params=params)
                    too_many = path == "/pacs/instances" and len(answer.json()) > len(study)
                    with lock:
                        statuses["more instances than stored" if too_many else answer.status_code] += 1

    def delete() -> None:
        _delete_studies(fresh_pacs, [_study_id(other[0]) for other in others])

    searchers = [threading.Thread(target=search) for _ in range(2)]
    for searcher in searchers:
        searcher.start()
    try:
        _run_all([*_uploaders(fresh_pacs.url, study, statuses, lock), threading.Thread(target=delete)])
    finally:
        done.set()
        for searcher in searchers:
            searcher.join()
    assert set(statuses) == {200}
    assert statuses[200] > UPLOADERS

    _assert_only(fresh_pacs, study)  # the deleted studies are gone, files included
    for other in others:
        assert httpx.get(f"{fresh_pacs.url}/pacs/studies",
                         params={"StudyInstanceUID": other[0].StudyInstanceUID}).json() == []

    _delete_studies(fresh_pacs, [_study_id(first[0])])
    assert httpx.get(f"{fresh_pacs.url}/pacs/studies").json() == []
    assert not list((fresh_pacs.data_dir / "storage").rglob("*.dcm"))


def test_differing_versions_of_one_instance_stored_at_once_leave_one_consistent_copy(
    fresh_pacs: ServiceProcess,
) -> None:
    """Clients racing to replace one instance with versions of different sizes: the file, its recorded size,
    checksum (SHA-256) and metadata all come from the same version (the index never describes a file it does
    not point at)."""
    base = next(iter(make_series(1, rows=64, columns=64, seed=7)))
    versions = []
    for n in range(8):
        base.ImageComments = f"version {n}:" + "x" * (40 * n)  # no trailing space: DICOM JSON drops that padding
        versions.append(dataset_bytes(base))
    instance = orthanc_id(base.PatientID, base.StudyInstanceUID, base.SeriesInstanceUID, base.SOPInstanceUID)

    def upload(data: bytes) -> list[int]:
        with httpx.Client(timeout=60) as client:
            return [client.post(f"{fresh_pacs.url}/instances", content=data).status_code for _ in range(15)]

    with ThreadPoolExecutor(len(versions)) as pool:
        statuses = [code for codes in pool.map(upload, versions) for code in codes]
    assert set(statuses) == {200}
    with httpx.Client(base_url=fresh_pacs.url, timeout=60) as client:
        stored = client.get(f"/instances/{instance}/file").content
        assert stored in versions
        assert client.get(f"/instances/{instance}").json()["FileSize"] == len(stored)
        assert _recorded_checksum(fresh_pacs, instance) == blake3.blake3(stored).hexdigest(24)
        metadata = client.get(f"/pacs/studies/{base.StudyInstanceUID}/series/{base.SeriesInstanceUID}/metadata").json()
    version = versions.index(stored)
    assert metadata[0]["00204000"]["Value"] == [f"version {version}:" + "x" * (40 * version)]
    assert len(list((fresh_pacs.data_dir / "storage").rglob("*.dcm"))) == 1
