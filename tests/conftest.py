"""Shared pytest set-up: hypothesis profiles.

CI (CI set in the environment) draws the same examples on every run, so a landing never depends on
luck; local runs draw fresh ones each time and keep exploring. GRADCORE_HYPOTHESIS=random picks fresh
examples under CI as well: CI runs the property tests once more that way, so flakiness shows.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, print_blob=True, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("random", deadline=None, print_blob=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
_CHOSEN = os.environ.get("GRADCORE_HYPOTHESIS")
settings.load_profile(_CHOSEN if _CHOSEN else "ci" if os.environ.get("CI") else "dev")
