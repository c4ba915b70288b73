"""QIDO-RS study searches over many indexed studies: by name prefix, date range, modality, with includefield.

The studies (one small instance each) go in by STOW-RS in batches, which is
itself a row: the index's cost per instance with almost no pixel data.
"""

from __future__ import annotations

from pathlib import Path

from bench.cpu import CpuUse, cpu_note, cpu_use
from bench.data import SURNAMES, BenchData
from bench.http import Target, count_matches, get_many, stow, stow_body
from bench.profile import NO_PROFILE, Profiler
from bench.rows import Figure, Goal, Row, figure

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


def _index_rounds(
    targets: list[Target], batches: list[tuple[Path, int]], rounds: int, index: Row, profiler: Profiler
) -> None:
    """The studies go in over `rounds` rounds, the servers taking turns to go first, as in the ingest rows:
    the row's figure is the median of the rounds' rates."""
    per_round = -(-len(batches) // rounds)
    groups = [batches[i:i + per_round] for i in range(0, len(batches), per_round)]
    rates: dict[str, list[float]] = {t.name: [] for t in targets}
    uses: dict[str, list[CpuUse]] = {t.name: [] for t in targets}
    for number, group in enumerate(groups):
        count = sum(size for _, size in group)
        for target in targets[number % 2:] + targets[:number % 2]:
            with profiler.record(target, "index"), cpu_use(target.pid, count) as use:
                rates[target.name].append(count / _index(target, [body for body, _ in group]))
            uses[target.name].append(use)
    for target in targets:
        setattr(index, target.name, figure(rates[target.name], better="higher"))
    index.note = cpu_note(uses)


def search_rows(
    targets: list[Target], data: BenchData, work: Path, runs: int, profiler: Profiler = NO_PROFILE
) -> list[Row]:
    work.mkdir(parents=True, exist_ok=True)
    files = list(data.studies.files)
    batches = [(stow_body(files[i:i + BATCH], work / f"studies-{i}.body"), len(files[i:i + BATCH]))
               for i in range(0, len(files), BATCH)]
    n = len(files)
    index = Row(f"STOW-RS of {n} one-instance studies (16x16), {BATCH} per request", "instances/s", "higher",
                Goal("ratio", 1.0))
    rows = {label: Row(f"QIDO-RS studies, {label}, {n} studies", "ms", "lower", Goal("ratio", 0.5),
                       key=f"qido-{i}") for i, label in enumerate(QUERIES)}
    _index_rounds(targets, batches, len(data.runs), index, profiler)
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
