"""How many instances a series expects, and whether it has them: Orthanc's series Status.

A series expects as many instances as the count tags of an instance say:
ImagesInAcquisition x NumberOfTemporalPositions, else NumberOfSlices x
NumberOfTimeSlices, else CardiacNumberOfImages (the first pair present decides;
a value that is not a positive count says nothing). Its status compares the
InstanceNumbers with that count: `Complete` when each of 1..N is there once,
`Missing` when some are absent, `Inconsistent` for a number out of range or
repeated, `Unknown` when nothing says how many to expect. An instance without
a number is not counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

__all__ = ["COUNT_TAGS", "expected_instances", "series_status"]

_EXPECTED_FROM = (
    ("ImagesInAcquisition", "NumberOfTemporalPositions"), ("NumberOfSlices", "NumberOfTimeSlices"),
    ("CardiacNumberOfImages",),
)
"""Keywords whose product is the expected count, by precedence."""
COUNT_TAGS = tuple(keyword for keywords in _EXPECTED_FROM for keyword in keywords)
"""Every keyword `expected_instances` may read."""


def expected_instances(value_of: Callable[[str], str | None]) -> int | None:
    """The expected count from the text of the count tags (`value_of` answers None for an absent tag)."""
    for keywords in _EXPECTED_FROM:
        values = [value_of(keyword) for keyword in keywords]
        if all(value is not None for value in values):
            try:
                count = math.prod(int(str(value).strip()) for value in values)
            except ValueError:
                return None
            return count if count > 0 else None
    return None


def series_status(expected: int | None, numbers: Iterable[int | None]) -> str:
    """`Complete`, `Missing`, `Inconsistent` or `Unknown`: the instance numbers against the expected count."""
    if expected is None:
        return "Unknown"
    seen: set[int] = set()
    for number in numbers:
        if number is None:
            continue
        if not 0 < number <= expected or number in seen:
            return "Inconsistent"
        seen.add(number)
    return "Complete" if len(seen) == expected else "Missing"
