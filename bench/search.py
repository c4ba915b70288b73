"""QIDO-RS study searches over many indexed studies: by name prefix, date range, modality, with includefield.

The studies (one small instance each) go in by STOW-RS in batches, which is
itself a row: the index's cost per instance with almost no pixel data.
"""

from __future__ import annotations

from pathlib import Path

from bench.cpu import cpu_note, cpu_use
from bench.data import SURNAMES, BenchData
from bench.http import Target, count_matches, get_many, stow, stow_body
from bench.profile import NO_PROFILE, Profiler
from bench.rows import Figure, Goal, Row, figure, rate

__all__ = ["search_rows"]

BATCH = 100
DICOM_JSON = "application/dicom+json"
WARM_UP = 2
QUERIES = {
    "patient name prefix": f"PatientName={SURNAMES[0][:3]}*",
    "date range (one year)": "StudyDate=20150101-20151231",
    "modality": "ModalitiesInStudy=MR",
    "date range with includefield": "StudyDate=20180101-20181231&includefield=PatientBirthDate"
                                    "&includefield=StudyDescription&includefield=NumberOfStudyRelatedInstances"
                                    "&includefield=NumberOfStudyRelatedSeries",
}


def _index(target: Target, bodies: list[Path]) -> float:
    return sum(stow(target, body).seconds for body in bodies)


def search_rows(
    targets: list[Target], data: BenchData, work: Path, runs: int, profiler: Profiler = NO_PROFILE
) -> list[Row]:
    work.mkdir(parents=True, exist_ok=True)
    files = list(data.studies.files)
    bodies = [stow_body(files[i:i + BATCH], work / f"studies-{i}.body") for i in range(0, len(files), BATCH)]
    n = len(files)
    index = Row(f"STOW-RS of {n} one-instance studies (16x16), {BATCH} per request", "instances/s", "higher",
                Goal("ratio", 1.0))
    rows = {label: Row(f"QIDO-RS studies, {label}, {n} studies", "ms", "lower", Goal("ratio", 0.5),
                       key=f"qido-{i}") for i, label in enumerate(QUERIES)}
    uses = {}
    for target in targets:
        with profiler.record(target, "index"), cpu_use(target.pid, n) as use:
            setattr(index, target.name, rate(n, _index(target, bodies)))
        uses[target.name] = [use]
    index.note = cpu_note(uses)
    for label, query in QUERIES.items():
        counts = {}
        for target in targets:
            counts[target.name] = count_matches(target, f"{target.dicomweb}/studies?{query}")
            with profiler.record(target, rows[label].key):
                answers = get_many(target, [f"{target.dicomweb}/studies?{query}"] * (runs + WARM_UP), DICOM_JSON)
            result: Figure = figure([a.seconds for a in answers[WARM_UP:]], 1000)
            setattr(rows[label], target.name, result)
        rows[label].note = "matches: " + ", ".join(f"{k} {v}" for k, v in counts.items())
    return [index, *rows.values()]
