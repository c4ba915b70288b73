"""Rows of the results table: a figure per server, their ratio, the goal, and whether it is met."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["TURNS", "Ceiling", "Figure", "Goal", "Row", "figure", "files_ceiling", "in_turns", "number", "rate"]


@dataclass(frozen=True)
class Figure:
    """A server's result: the median (or the single value) and the 95th percentile when there are samples."""

    median: float
    p95: float | None = None


def figure(samples: list[float], scale: float = 1.0, better: str = "lower") -> Figure:
    """Median and p95 of `samples` (each multiplied by `scale`, e.g. 1000 for seconds -> ms).

    The p95 is on the bad side: the value 95 % of the samples match or beat
    (the 95th percentile of latencies, the 5th of throughputs).
    """
    ordered = sorted((s * scale for s in samples), reverse=better == "higher")
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Figure(statistics.median(ordered), p95 if len(ordered) > 1 else None)


TURNS = 5
"""How many times each server is measured on a row that reads what is stored, taking turns to go first."""


def in_turns(
    names: list[str], measure: Callable[[str], Figure], better: str, turns: int = TURNS
) -> dict[str, Figure]:
    """`measure` of each server `turns` times, the order reversed every other turn, so a busy moment of the
    machine falls on both; by server, the median of the turns' medians and the worst turn's p95 (a turn that
    is one timed run is its own p95; one turn alone has none)."""
    measured: dict[str, list[Figure]] = {name: [] for name in names}
    for turn in range(turns):
        for name in names if turn % 2 == 0 else names[::-1]:
            measured[name].append(measure(name))
    combined = {}
    for name, figures in measured.items():
        bad = [f.median if f.p95 is None else f.p95 for f in figures]
        worst = (min(bad) if better == "higher" else max(bad)) if len(figures) > 1 else None
        combined[name] = Figure(statistics.median(f.median for f in figures), worst)
    return combined


def number(value: float | None) -> str:
    """A figure as the report prints it: three significant digits, thousands grouped."""
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def rate(count: float, seconds: float) -> Figure:
    return Figure(count / seconds)


@dataclass(frozen=True)
class Goal:
    """`ratio`: pacsbox/Orthanc must be at least (higher is better) or at most (lower) `value`.
    `absolute`: the pacsbox figure itself must stay under `value`."""

    kind: Literal["ratio", "absolute"]
    value: float

    def text(self, better: str, unit: str) -> str:
        if self.kind == "absolute":
            return f"< {self.value:g} {unit}"
        return f"{'≥' if better == 'higher' else '≤'} {self.value:g}x"


@dataclass
class Row:
    name: str
    unit: str
    better: Literal["higher", "lower"]
    goal: Goal
    pacsbox: Figure | None = None
    orthanc: Figure | None = None
    note: str = ""
    key: str = ""
    """Short name other modules find the row by (`stow`, `metadata`, ...)."""
    ceiling: str = ""
    """Key of the machine ceiling this throughput is a fraction of (same unit), if any."""

    @property
    def ratio(self) -> float | None:
        if self.pacsbox is None or self.orthanc is None or not self.orthanc.median:
            return None
        return self.pacsbox.median / self.orthanc.median

    @property
    def met(self) -> bool | None:
        if self.goal.kind == "absolute":
            return None if self.pacsbox is None else self.pacsbox.median < self.goal.value
        if self.ratio is None:
            return None
        return self.ratio >= self.goal.value if self.better == "higher" else self.ratio <= self.goal.value

    def as_json(self) -> dict[str, Any]:
        def value(f: Figure | None) -> float | None:
            return None if f is None else round(f.median, 3)

        def p95(f: Figure | None) -> float | None:
            return None if f is None or f.p95 is None else round(f.p95, 3)

        return {
            "name": self.name, "unit": self.unit, "pacsbox": value(self.pacsbox), "orthanc": value(self.orthanc),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "goal": self.goal.text(self.better, self.unit),
            "better": self.better, "pacsbox_p95": p95(self.pacsbox), "orthanc_p95": p95(self.orthanc),
            "met": self.met, "note": self.note, "goal_rule": asdict(self.goal), "key": self.key,
            "ceiling": self.ceiling,
        }


@dataclass(frozen=True)
class Ceiling:
    """A limit of the machine itself, measured in the same run."""

    key: str
    name: str
    unit: str
    value: Figure | None
    """None when the limit could not be measured on this build (the note says why)."""
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        v = self.value
        return {"key": self.key, "name": self.name, "unit": self.unit,
                "value": None if v is None else round(v.median, 3),
                "p95": None if v is None or v.p95 is None else round(v.p95, 3), "note": self.note}


def files_ceiling(threads: int, direct: bool) -> str:
    """The key of the instance-files ceiling written from `threads` threads, directly or through the page cache."""
    return f"disk_files{'_direct' if direct else ''}{f'_{threads}' if threads > 1 else ''}"
