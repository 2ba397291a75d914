"""The run's state (engine/state.py): one object of plain arrays, built at hour 0, documented field by field."""

from __future__ import annotations

import ast
import inspect
import math

import numpy as np

from scro_sim.engine import Simulation
from scro_sim.engine._common import DOWN, UP
from scro_sim.engine.state import FIELDS, RunState
from tests.enginekit import act, asset, cyber, make_city, make_scenario


def _kit() -> Simulation:
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]})])
    sc = make_scenario([cyber("PP", start_h=2)], times_h=(1.0,),
                       resources={"budget": 100_000, "crews": [{"id": "power", "count": 2, "skills": ["power"],
                                                             "depot": "PP"}],
                                  "generators": {"count": 3}})
    return Simulation(sc, city, seed=1)


def test_every_run_state_field_says_what_it_holds_in_a_comment() -> None:
    """A newcomer reads each field's meaning, unit and index next to it (same line or the line above)."""
    source = inspect.getsource(RunState)
    lines = source.splitlines()
    body = ast.parse(source).body[0]
    assert isinstance(body, ast.ClassDef)
    undocumented = []
    for node in body.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            here, above = lines[node.lineno - 1], lines[node.lineno - 2].strip()
            if "#" not in here and not above.startswith("#"):
                undocumented.append(node.target.id)
    assert undocumented == []
    assert len(FIELDS) > 50  # the whole run's state is here, not a few fields of it


def test_the_state_at_hour_zero_has_everything_up_undamaged_and_served() -> None:
    sim = _kit()
    rs = sim.rs
    assert (rs.state == UP).all() and not rs.damage.any() and not rs.flooded.any() and not rs.cyber.any()
    assert not rs.district_unserved.any()
    assert (rs.assigned == -1).all()
    assert [cr.id for cr in rs.crews] == ["power#1", "power#2"]
    assert rs.generators_left == 3 and rs.spent == 0.0
    assert all(math.isnan(x) for x in rs._dry_since)


def test_the_byte_flags_and_their_numpy_views_share_memory() -> None:
    rs = _kit().rs
    rs._st[1] = DOWN
    assert rs.state[1] == DOWN
    rs.cyber[0] = True
    assert rs._cy[0] == 1
    rs._assigned[0] = 1
    assert rs.assigned[0] == 1


def test_a_field_read_or_written_on_the_simulation_is_the_run_states_field() -> None:
    """Action and hazard modules may write ``sim.<field>``: it is the same field as ``sim.rs.<field>``."""
    sim = _kit()
    for name in FIELDS:
        assert getattr(sim, name) is getattr(sim.rs, name), name
    sim.generators_left -= 1
    assert sim.rs.generators_left == 2
    assert "generators_left" not in vars(sim)  # nothing of the state lands on the simulation itself


def test_a_decision_changes_the_run_state_that_the_next_observation_reports() -> None:
    sim = _kit()
    sim.advance()
    sim.apply([act("deploy_generator", "SS")])
    assert sim.rs.generators_left == 2
    obs = sim.advance()
    assert obs.generators_available == sim.rs.generators_left == 2
    assert obs.spent == sim.rs.spent > 0


def test_two_runs_share_no_state() -> None:
    a, b = _kit(), _kit()
    for name in FIELDS:
        x, y = getattr(a.rs, name), getattr(b.rs, name)
        if isinstance(x, np.ndarray | list | dict | bytearray):
            assert x is not y, name
    a.rs.state[0] = DOWN
    assert b.rs.state[0] == UP
