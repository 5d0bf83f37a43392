"""Hypothesis settings for the property tests here.

The properties assert behaviour, not speed: under the full suite's load on
2 cores a first call took 306 ms (seen in `make test`), past hypothesis's
default 200 ms deadline, and the run failed as "flaky". Speed is measured by
benchmarks and timed reports, never by a test's deadline."""

from hypothesis import settings

settings.register_profile("runbook", deadline=None)
settings.load_profile("runbook")
