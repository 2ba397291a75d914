"""The utility's repair order kept up to date as damage changes (scro_sim/engine/repair_order.py)."""

from __future__ import annotations

import numpy as np

from scro_sim.engine.repair_order import RepairOrder


def _ranked(damage: bytearray, feeds: np.ndarray, people: np.ndarray, hours: np.ndarray) -> list[int]:
    """The order the utility's choice took before it was kept sorted: numpy's argmax, again and again."""
    cand = np.flatnonzero(np.frombuffer(bytes(damage), np.int8) != 0)
    out: list[int] = []
    while len(cand):
        crit = cand[feeds[cand]]
        pool = crit if len(crit) else cand
        codes = np.frombuffer(bytes(damage), np.int8)[pool]
        best = int(pool[np.argmax(people[pool] / np.maximum(hours[codes, pool], 0.1))])
        out.append(best)
        cand = cand[cand != best]
    return out


def test_the_order_follows_every_change_of_damage_as_a_fresh_ranking_would() -> None:
    rng = np.random.default_rng(7)
    n = 60
    feeds = rng.random(n) < 0.3
    people = rng.integers(0, 4, n).astype(float) * 100.0  # ties, and assets that bring nobody back
    people[5] = np.nan  # a NaN score ranks first, as numpy's argmax took it
    hours = rng.choice([0.05, 6.0, 12.0, 36.0], size=(3, n))  # by damage code 0..2; some under 0.1 h
    damage = bytearray(n)
    order = RepairOrder(damage, feeds, people, (hours[1], hours[2]), lambda i, code: float(hours[2, i]))
    assert order.assets(False).tolist() == []
    for step in range(200):
        k = int(rng.integers(1, 3 if step % 10 else 40))  # mostly a repair or two, sometimes a hazard's many
        for i in rng.choice(n, size=k, replace=False).tolist():
            damage[i] = int(rng.integers(0, 3))
            if step % 3 == 0:  # a repair that tells the order at once, as a crew does
                order.note(i)
        expected = _ranked(damage, feeds, people, hours)
        assert order.in_order(False) == expected
        assert order.assets(False).tolist() == expected


def test_a_group_reads_the_order_of_its_own_assets_through_every_change_of_damage() -> None:
    """A crew with one skill reads its group's part of the order: the same assets, in the same order."""
    rng = np.random.default_rng(11)
    n = 50
    groups = rng.choice(["power", "water", "general"], size=n).tolist()
    feeds, people, hours = rng.random(n) < 0.3, rng.integers(0, 4, n) * 100.0, rng.choice([1.0, 6.0, 36.0], (3, n))
    damage = bytearray(n)
    order = RepairOrder(damage, feeds, people, (hours[1], hours[2]), lambda i, code: float(hours[2, i]), groups)
    for step in range(150):
        for i in rng.choice(n, size=int(rng.integers(1, 3 if step % 10 else 30)), replace=False).tolist():
            damage[i] = int(rng.integers(0, 3))
            if step % 2:
                order.note(i)
        group = ("power", "water", "general")[step % 3]
        assert order.in_group(False, group) == [i for i in order.in_order(False) if groups[i] == group]


def test_the_order_is_made_again_when_the_damage_states_get_hours_of_their_own() -> None:
    damage = bytearray([0, 3, 1])  # asset 1 in a HAZUS state (slight), asset 2 degraded
    deg, fail = np.array([0.0, 0.0, 1.0]), np.array([0.0, 10.0, 0.0])
    order = RepairOrder(damage, np.zeros(3, bool), np.ones(3), (deg, fail), lambda i, code: 0.5)
    assert order.assets(False).tolist() == [2, 1]  # a code above 2 takes the failed hours: 10 h against 1 h
    assert order.assets(True).tolist() == [1, 2]  # its state's own: 0.5 h
