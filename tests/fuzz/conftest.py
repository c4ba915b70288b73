"""Fuzzing profiles: a short run in `make test`, a long one in `make fuzz` (HYPOTHESIS_PROFILE=fuzz).

Every fuzz test runs under a memory cap (address space), so an input that
makes pacsbox allocate without bound fails the test instead of the machine.
The cap is lifted after each test: browsers and servers other tests start
need more address space than they use.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ADDRESS_SPACE_CAP = 8 * 1024**3


@pytest.fixture(autouse=True)
def memory_cap() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = ADDRESS_SPACE_CAP if hard == resource.RLIM_INFINITY else min(ADDRESS_SPACE_CAP, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
