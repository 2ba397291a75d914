"""The property tests replay the same examples on every run unless a developer asks to explore.

tests/conftest.py registers the profiles; these tests pin that the default is the derandomised
"ci" profile, that a test's own ``@settings(max_examples=...)`` keeps it, and that no test file
switches it off again.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

TESTS = Path(__file__).resolve().parent
exploring = os.environ.get("HYPOTHESIS_PROFILE") == "explore" and not os.environ.get("CI")


def test_the_mutation_profile_replays_the_ci_examples_without_shrinking() -> None:
    from hypothesis import Phase

    mutation, ci = settings.get_profile("mutation"), settings.get_profile("ci")
    assert (mutation.derandomize, mutation.database, mutation.max_examples) == (True, None, ci.max_examples)
    assert Phase.shrink not in mutation.phases and Phase.generate in mutation.phases


@pytest.mark.skipif(exploring, reason="HYPOTHESIS_PROFILE=explore draws new examples on purpose")
def test_the_default_profile_is_derandomised_without_a_database() -> None:
    assert settings.default.derandomize is True
    assert settings.default.database is None
    assert settings.default.print_blob is True
    assert settings.default.deadline is None


def test_the_explore_profile_draws_new_examples() -> None:
    explore = settings.get_profile("explore")
    assert explore.derandomize is False
    assert explore.max_examples > settings.get_profile("ci").max_examples


def _examples_of_one_run() -> list[int]:
    seen: list[int] = []

    @settings(max_examples=30)  # as the suite's tests do: a per-test count must not re-randomise
    @given(st.integers(0, 2**32 - 1))
    def prop(n: int) -> None:
        seen.append(n)

    prop()
    return seen


@pytest.mark.skipif(exploring, reason="HYPOTHESIS_PROFILE=explore draws new examples on purpose")
def test_a_property_test_sees_the_same_examples_on_every_run() -> None:
    assert _examples_of_one_run() == _examples_of_one_run()


def test_no_test_file_turns_randomness_or_the_example_database_back_on() -> None:
    pattern = re.compile(r"derandomize\s*=\s*False|@seed\(|database\s*=|load_profile\(")
    offenders = [
        f"{p.relative_to(TESTS)}:{i}"
        for p in sorted(TESTS.rglob("*.py")) if p.name not in {"conftest.py", Path(__file__).name}
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)
    ]
    assert not offenders, f"these lines override the derandomised profile: {offenders}"
