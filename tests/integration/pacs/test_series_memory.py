"""Reading a series: its files go from the page cache to the socket (`sendfile`), and reading it again and again
neither faults in fresh pages nor grows the process.

Before `sendfile`, each read went through 4 MB batches read into memory; fresh
pages cost a page fault each 4 kB, which on a virtual machine whose free
memory goes back to its host took more CPU than the copies themselves
(`core.malloc`). The two memory tests keep guarding that, should a read take
the streaming path again.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import time
from pathlib import Path

import httpx
import psutil

from tests.support.dicom import dataset_bytes, make_series
from tests.support.servers import ServiceProcess

BOUNDARY = "series"
SLICES = 60
READS = 8


def _page_faults(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[7])  # minflt


def _resident_mb(pid: int) -> float:
    """The process's proportional set size (smaps_rollup), MB."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no Pss line for process {pid}")


def _stored_series(client: httpx.Client) -> str:
    """Store a 60-slice CT series (31 MB); the URL that retrieves its study."""
    datasets = list(make_series(SLICES, rows=512, columns=512))
    body = b"".join(
        f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode() + dataset_bytes(ds) + b"\r\n"
        for ds in datasets
    ) + f"--{BOUNDARY}--\r\n".encode()
    stored = client.post("/pacs/studies", content=body, headers={
        "Content-Type": f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'})
    assert stored.status_code == 200
    return f"/pacs/studies/{datasets[0].StudyInstanceUID}"


ACCEPT = {"Accept": 'multipart/related; type="application/dicom"'}


def test_reading_a_series_again_takes_few_fresh_pages(fresh_pacs: ServiceProcess) -> None:
    assert fresh_pacs.process is not None
    with httpx.Client(base_url=fresh_pacs.url, timeout=60) as client:
        url = _stored_series(client)
        sizes, faults = [], []
        for _ in range(READS):
            before = _page_faults(fresh_pacs.process.pid)
            sizes.append(len(client.get(url, headers=ACCEPT).content))
            faults.append(_page_faults(fresh_pacs.process.pid) - before)
    assert sizes[0] > SLICES * 512 * 512 * 2
    assert len(set(sizes)) == 1
    pages = sizes[0] // 4096
    # without the reuse each read after the first faulted in about 60 % of its pages; with it, under 15 %
    # on average (the worker threads' own heaps warm up over the first reads)
    assert statistics.mean(faults[1:]) < pages / 5, f"{faults} page faults for reads of {pages} pages"


def test_reading_a_series_over_and_over_does_not_grow_the_process(fresh_pacs: ServiceProcess) -> None:
    """Twenty reads in a row, each batch read by whichever worker thread is free, keep the process's size: the
    threads share the memory kept. With an arena of its own per thread it grew by 23 to 42 MB (measured)."""
    assert fresh_pacs.process is not None
    pid = fresh_pacs.process.pid
    with httpx.Client(base_url=fresh_pacs.url, timeout=60) as client:
        url = _stored_series(client)
        size = len(client.get(url, headers=ACCEPT).content)
        before = _resident_mb(pid)
        for _ in range(20):
            assert len(client.get(url, headers=ACCEPT).content) == size
        grown = _resident_mb(pid) - before
    assert grown < 10, f"the pacs process grew by {grown:.0f} MB over 20 reads of a {size / 1e6:.0f} MB series"


def test_a_series_read_sends_the_stored_files_with_sendfile(fresh_pacs: ServiceProcess, tmp_path: Path) -> None:
    """The bytes of the stored files never pass through the pacs processes: `strace` sees them sent by sendfile."""
    assert fresh_pacs.process is not None
    primary = psutil.Process(fresh_pacs.process.pid)
    pids = [primary.pid, *(p.pid for p in primary.children(recursive=True))]
    trace = tmp_path / "sendfile.trace"
    with httpx.Client(base_url=fresh_pacs.url, timeout=60) as client:
        url = _stored_series(client)
        tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=sendfile", "-o", str(trace),
                                   *(f"-p{pid}" for pid in pids)], stderr=subprocess.DEVNULL)
        try:
            time.sleep(1)  # attached
            size = len(client.get(url, headers=ACCEPT).content)
        finally:
            tracer.terminate()
            tracer.wait(10)
    sent = sum(int(n) for n in re.findall(r"sendfile\(.*\) = (\d+)", trace.read_text()))
    assert sent > 0.99 * SLICES * 512 * 512 * 2, f"{sent} of {size} bytes sent with sendfile"
