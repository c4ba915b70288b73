"""Fuzzing profiles: a short run in `make test`, a long one in `make fuzz` (HYPOTHESIS_PROFILE=fuzz).

Every fuzz test runs under a memory cap, so an input that makes pacsbox
allocate without bound fails the test instead of the machine.
"""

from __future__ import annotations

import os
import resource

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

MEMORY_CAP = 2 * 1024**3
_soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
if _hard == resource.RLIM_INFINITY or _hard > MEMORY_CAP * 4:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP * 4, _hard))
