"""The volume cache: a byte budget, least recently used out first, a changed series replaced."""

from __future__ import annotations

import numpy as np

from pacsbox.core.imaging import Window
from pacsbox.viewer.render.geometry import Volume
from pacsbox.viewer.volumes import VolumeCache


def volume(kilobytes: int) -> Volume:
    return Volume(np.zeros(kilobytes * 256, dtype=np.float32), (1.0, 1.0, 1.0), Window(0, 10), False)


def test_least_recently_used_volumes_leave_first() -> None:
    cache = VolumeCache(capacity=3 * 1024)
    for name in "abc":
        cache.put(("study", name, 1), volume(1))
    assert cache.get(("study", "a", 1)) is not None  # a is now the most recent
    cache.put(("study", "d", 1), volume(1))
    assert cache.get(("study", "b", 1)) is None
    assert all(cache.get(("study", name, 1)) is not None for name in "acd")
    assert cache.size == 3 * 1024


def test_a_series_that_changed_replaces_its_old_volume() -> None:
    cache = VolumeCache(capacity=10 * 1024)
    cache.put(("study", "s", 40), volume(1))
    cache.put(("study", "s", 41), volume(2))
    assert cache.get(("study", "s", 40)) is None
    assert cache.size == 2 * 1024


def test_a_volume_larger_than_the_budget_is_not_kept() -> None:
    cache = VolumeCache(capacity=1024)
    cache.put(("study", "big", 1), volume(2))
    assert cache.get(("study", "big", 1)) is None and cache.size == 0
