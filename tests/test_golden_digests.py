"""Every bundled exercise's event log, what its players see and the words of its refusals stay
identical unless a change means them to differ.

Regenerate with ``python tests/golden.py`` only for a change meant to alter them, and say why
in the commit message.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from golden import (
    GALLERY,
    GOLDEN,
    GOLDEN_GALLERY,
    GOLDEN_OBSERVATIONS,
    GOLDEN_REFUSALS,
    bundled,
    digests_of,
    gallery_of,
    observations_of,
    refusals_of,
)

EXPECTED = json.loads(GOLDEN.read_text())
OBSERVATIONS = json.loads(GOLDEN_OBSERVATIONS.read_text())
REFUSALS = json.loads(GOLDEN_REFUSALS.read_text())
GALLERY_DIGESTS = json.loads(GOLDEN_GALLERY.read_text())


def test_every_bundled_scenario_has_golden_digests() -> None:
    stems = [p.stem for p in bundled()]
    for golden in (EXPECTED, OBSERVATIONS, REFUSALS):
        assert sorted(golden) == stems, "run `python tests/golden.py` for a new scenario"
    assert sorted(GALLERY_DIGESTS) == sorted(GALLERY), "run `python tests/golden.py` for a new gallery entry"


@pytest.mark.parametrize("path", bundled(), ids=lambda p: p.stem)
def test_bundled_logs_match_their_golden_digests(path: Path) -> None:
    got = digests_of(path)
    want = EXPECTED[path.stem]
    changed = sorted(k for k in want if got.get(k) != want[k])
    assert not changed, f"{path.stem}: logs changed for {changed}; if meant, regenerate and say why"


@pytest.mark.parametrize("path", bundled(), ids=lambda p: p.stem)
def test_what_the_players_of_a_bundled_scenario_see_matches_its_golden_digests(path: Path) -> None:
    got = observations_of(path)
    want = OBSERVATIONS[path.stem]
    for policy, fields in want.items():
        assert got[policy]["log"] == EXPECTED[path.stem][f"{policy}/1"], f"{policy}: reading the observations changed the run"
        changed = sorted(f for f in fields if got[policy].get(f) != fields[f])
        assert not changed, f"{path.stem}, {policy}: what the player sees changed in {changed}; if meant, regenerate"


@pytest.mark.parametrize("path", bundled(), ids=lambda p: p.stem)
def test_the_refusals_of_every_action_in_a_bundled_scenario_match_their_golden_digests(path: Path) -> None:
    got = refusals_of(path)
    for policy, want in REFUSALS[path.stem].items():
        assert got[policy]["log"] == EXPECTED[path.stem][f"{policy}/1"], f"{policy}: trying actions changed the run"
        changed = sorted(k for k in want if got[policy].get(k) != want[k])
        assert not changed, f"{path.stem}, {policy}: the refusals of {changed} changed; if meant, regenerate"


@pytest.mark.parametrize("name", sorted(GALLERY))
def test_each_hazard_of_the_gallery_logs_and_shows_what_its_golden_digests_hold(name: str) -> None:
    got = gallery_of(name)
    want = GALLERY_DIGESTS[name]
    for policy, kinds in want.items():
        changed = sorted(set(kinds) ^ set(got[policy]) | {k for k in kinds if got[policy].get(k) != kinds[k]})
        assert not changed, f"{name}, {policy}: changed {changed}; if meant, regenerate and say why"
