"""Shared pytest set-up: hypothesis profiles (CI runs the full example counts, without deadlines)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")
