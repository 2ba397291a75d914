"""Every bundled exercise's score cards stay identical unless a change means them to differ.

Regenerate with ``python tests/golden_scorecards.py`` only for a change meant to alter scores,
and say why in the commit message.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from golden import bundled
from golden_scorecards import GOLDEN_CARDS, cards_of

EXPECTED = json.loads(GOLDEN_CARDS.read_text())


def test_every_bundled_scenario_has_golden_scorecards() -> None:
    assert sorted(EXPECTED) == [p.stem for p in bundled()], "run `python tests/golden_scorecards.py`"


@pytest.mark.parametrize("path", bundled(), ids=lambda p: p.stem)
def test_bundled_scorecards_match_their_golden_copies(path: Path) -> None:
    got = json.loads(json.dumps(cards_of(path)))  # the same float and tuple forms as the stored file
    want = EXPECTED[path.stem]
    assert sorted(got) == sorted(want)
    for run in want:
        assert got[run] == want[run], f"{path.stem} {run}: score card changed; if meant, regenerate and say why"
