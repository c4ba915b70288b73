"""Reading a series again reuses the memory of the last read: its 4 MB batches take few fresh pages from the kernel.

Fresh pages cost a page fault each 4 kB, which on a virtual machine whose free
memory goes back to its host took more CPU than the copies themselves
(`core.malloc`).
"""

from __future__ import annotations

import statistics
from pathlib import Path

import httpx

from tests.support.dicom import dataset_bytes, make_series
from tests.support.servers import ServiceProcess

BOUNDARY = "series"
SLICES = 60
READS = 8


def _page_faults(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[7])  # minflt


def test_reading_a_series_again_takes_few_fresh_pages(fresh_pacs: ServiceProcess) -> None:
    assert fresh_pacs.process is not None
    datasets = list(make_series(SLICES, rows=512, columns=512))
    series = [dataset_bytes(ds) for ds in datasets]
    body = b"".join(
        f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode() + data + b"\r\n" for data in series
    ) + f"--{BOUNDARY}--\r\n".encode()
    with httpx.Client(base_url=fresh_pacs.url, timeout=60) as client:
        stored = client.post("/pacs/studies", content=body, headers={
            "Content-Type": f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'})
        assert stored.status_code == 200
        url = f"/pacs/studies/{datasets[0].StudyInstanceUID}"
        accept = {"Accept": 'multipart/related; type="application/dicom"'}
        sizes, faults = [], []
        for _ in range(READS):
            before = _page_faults(fresh_pacs.process.pid)
            sizes.append(len(client.get(url, headers=accept).content))
            faults.append(_page_faults(fresh_pacs.process.pid) - before)
    assert sizes[0] > SLICES * 512 * 512 * 2
    assert len(set(sizes)) == 1
    pages = sizes[0] // 4096
    # without the reuse each read after the first faulted in about 60 % of its pages; with it, under 15 %
    # on average (the worker threads' own heaps warm up over the first reads)
    assert statistics.mean(faults[1:]) < pages / 5, f"{faults} page faults for reads of {pages} pages"
