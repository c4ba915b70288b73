"""Many clients storing the same study at once end with exactly one copy of everything."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest

from tests.support.dicom import dataset_bytes, make_series
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db

BOUNDARY = "concurrency"


def test_twenty_clients_re_uploading_one_study(fresh_pacs: ServiceProcess) -> None:
    study = [dataset_bytes(ds) for ds in make_series(50, rows=96, columns=96)]
    body = b"".join(
        f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode() + data + b"\r\n" for data in study
    ) + f"--{BOUNDARY}--\r\n".encode()
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def upload(index: int) -> None:
        with httpx.Client(timeout=120) as client:
            if index % 2:
                answer = client.post(f"{fresh_pacs.url}/pacs/studies", content=body, headers={
                    "Content-Type": f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'})
                codes = [answer.status_code]
            else:
                codes = [client.post(f"{fresh_pacs.url}/instances", content=data).status_code for data in study]
            with lock:
                statuses.update(codes)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) == {200}

    studies = httpx.get(f"{fresh_pacs.url}/pacs/studies").json()
    assert len(studies) == 1
    assert studies[0]["00201206"]["Value"] == [1]
    assert studies[0]["00201208"]["Value"] == [50]
    assert len(httpx.get(f"{fresh_pacs.url}/pacs/instances").json()) == 50
    stored = list((fresh_pacs.data_dir / "storage").glob("*/*/*.dcm"))
    assert sorted(p.stat().st_size for p in stored) == sorted(len(d) for d in study)
    assert not list((fresh_pacs.data_dir / "storage" / ".tmp").iterdir())
