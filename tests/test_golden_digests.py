"""Every bundled exercise's event log stays bit-identical unless a change means it to differ.

Regenerate with ``python tests/golden.py`` only for a change meant to alter logs, and say why
in the commit message.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from golden import GOLDEN, bundled, digests_of

EXPECTED = json.loads(GOLDEN.read_text())


def test_every_bundled_scenario_has_golden_digests() -> None:
    assert sorted(EXPECTED) == [p.stem for p in bundled()], "run `python tests/golden.py` for a new scenario"


@pytest.mark.parametrize("path", bundled(), ids=lambda p: p.stem)
def test_bundled_logs_match_their_golden_digests(path: Path) -> None:
    got = digests_of(path)
    want = EXPECTED[path.stem]
    changed = sorted(k for k in want if got.get(k) != want[k])
    assert not changed, f"{path.stem}: logs changed for {changed}; if meant, regenerate and say why"
