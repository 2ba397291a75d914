"""The collector settings for engine runs in a user's process are put back afterwards."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from scro_sim.gc_tuning import FULL_THRESHOLD, RUN_THRESHOLD, engine_gc


@pytest.fixture(autouse=True)
def _clean_collector() -> Iterator[None]:
    before, enabled = gc.get_threshold(), gc.isenabled()
    gc.unfreeze()
    yield
    gc.set_threshold(*before)
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_engine_gc_raises_the_threshold_freezes_and_restores_both() -> None:
    gc.set_threshold(700, 10, 10)
    with engine_gc():
        assert gc.get_threshold() == (RUN_THRESHOLD, 10, FULL_THRESHOLD)
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_engine_gc_restores_the_settings_when_the_run_raises() -> None:
    gc.set_threshold(900, 11, 12)
    with pytest.raises(RuntimeError), engine_gc():
        raise RuntimeError("engine failed")
    assert gc.get_threshold() == (900, 11, 12)
    assert gc.get_freeze_count() == 0


def test_nested_blocks_restore_only_when_the_outermost_ends() -> None:
    gc.set_threshold(700, 10, 10)
    with engine_gc():
        with engine_gc():
            pass
        assert gc.get_threshold()[0] == RUN_THRESHOLD and gc.get_freeze_count() > 0
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


def test_threads_share_the_setting_and_the_last_one_out_restores_it() -> None:
    gc.set_threshold(700, 10, 10)
    inside, release = threading.Event(), threading.Event()

    def session() -> None:
        with engine_gc():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=session)
    t.start()
    assert inside.wait(10)
    with engine_gc():
        pass
    assert gc.get_threshold()[0] == RUN_THRESHOLD  # the other session still runs
    release.set()
    t.join(10)
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


def test_what_someone_else_froze_stays_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    # the frozen count itself may fall a little while the block runs: a frozen object another
    # thread drops (an xdist worker's channel threads do) leaves the permanent generation
    unfrozen: list[bool] = []
    monkeypatch.setattr(gc, "unfreeze", lambda: unfrozen.append(True))
    gc.freeze()
    frozen = gc.get_freeze_count()
    with engine_gc():
        assert gc.get_threshold()[0] >= RUN_THRESHOLD
    assert not unfrozen
    assert gc.get_freeze_count() > frozen // 2 > 0


def test_a_run_under_engine_gc_logs_what_it_logs_without(mini_scenario: Any, mini_city: Any) -> None:
    from scro_sim.engine import Simulation

    plain = Simulation(mini_scenario, mini_city, 5).run().digest()
    with engine_gc():
        tuned = Simulation(mini_scenario, mini_city, 5).run().digest()
    assert tuned == plain
