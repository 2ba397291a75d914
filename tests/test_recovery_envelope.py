"""The bundled flood and earthquake, left to the utilities (do-nothing), recover like the real
events of docs/reference_data.md: Sandy's power for the flood, Northridge's and Christchurch's
power and Christchurch's water for the earthquake, Texas 2021's water lag behind power.  The
tolerances and why 20 seeds are enough are in docs/recovery.md."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import recovery_envelope as env

SEEDS = 20


@pytest.fixture(scope="module")
def envelopes() -> dict[str, env.Envelope]:
    return {name: env.measure(name, SEEDS) for name in ("riverton_flood", "riverton_earthquake")}


@pytest.mark.parametrize("scenario", ["riverton_flood", "riverton_earthquake"])
def test_do_nothing_recovery_passes_every_reference_point(envelopes: dict[str, env.Envelope], scenario: str) -> None:
    outside = [c for c in envelopes[scenario].checks() if not c[-1]]
    assert outside == []


def test_water_is_safe_again_two_to_seven_days_after_power_as_in_texas_2021(
        envelopes: dict[str, env.Envelope]) -> None:
    import numpy as np

    lags = [lag for e in envelopes.values() for lag in e.lags_d]
    assert len(lags) >= SEEDS  # districts ran dry in most runs: the lag is measured, not assumed
    assert env.WATER_LAG_D[0] <= float(np.median(lags)) <= env.WATER_LAG_D[1]


def test_the_check_fails_a_recovery_that_jumps_back_at_once(envelopes: dict[str, env.Envelope]) -> None:
    """The envelope discriminates: the old behaviour (everything back within the first day) fails it."""
    import numpy as np

    e = envelopes["riverton_flood"]
    jump = env.Envelope(e.scenario, e.seeds, {"power": np.tile((env.GRID_D >= 0.5).astype(float), (3, 1)),
                                              "water": e.curves["water"]}, e.lags_d)
    assert not all(c[-1] for c in jump.checks())
