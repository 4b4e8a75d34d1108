"""Hypothesis runs the same cases on every run, here and in CI, so that a failing run is always
reproducible: each property test's cases are derived from its own name (`derandomize`).

To explore new cases, pick the random profile and a seed (each seed is a new, repeatable run):

    python -m pytest --hypothesis-profile=explore --hypothesis-seed=7 tests/test_hand.py
"""

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, database=None, print_blob=True)
settings.load_profile("repeatable")
