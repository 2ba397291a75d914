"""Golden files of the bundled exercises: the guard every refactor must keep.

- ``golden_digests.json``: each bundled scenario run with do-nothing, greedy and its expert plan
  on three seeds; the event log's digest.
- ``golden_observations.json``: on seed 1, every field of what the player (or plan) sees at each
  decision point and rule check, and the condition language's answers there, one digest per field,
  so a change names the field it moved.
- ``golden_refusals.json``: at every decision point of the do-nothing and expert runs (seed 1),
  every action kind tried with generated fields (the first and last choices, one asset of each
  type, an unknown target, nothing, the same action twice); the exact English words of every
  refusal, one digest per action kind.

- ``golden_gallery.json``: the reference flood with one more hazard or effect at a time (every kind
  the bundled exercises leave out or use one way only, each way it can be set), played by
  do-nothing and greedy on seed 1; one digest per record kind (and per field of what greedy is
  shown), so a change names the kind it moved.

A change that is meant to change any of them regenerates all four with ``python tests/golden.py``
and says why in its commit.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scro_sim.engine import Simulation
from scro_sim.engine.actions import REGISTRY
from scro_sim.policy import Decision, Observation, PlanPolicy, baseline_policy
from scro_sim.scenario import Action, load_scenario
from scro_sim.yamlio import load_yaml

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
GOLDEN = DATA / "golden_digests.json"
GOLDEN_OBSERVATIONS = DATA / "golden_observations.json"
GOLDEN_REFUSALS = DATA / "golden_refusals.json"
GOLDEN_GALLERY = DATA / "golden_gallery.json"
#: the scenario the gallery adds its hazards to (a river, a flood plain, hospitals, crews of each kind)
GALLERY_BASE = REPO / "scenarios" / "riverton_flood.yaml"
#: the condition language's questions asked of every observation (policy.condition_met)
_STATES = ("up", "backup", "down", "overloaded")

POLICIES = ("do_nothing", "greedy", "expert")
SEEDS = (1, 2, 3)


def bundled() -> list[Path]:
    """The bundled exercise files, in a fixed order."""
    return sorted((REPO / "scenarios").glob("*.yaml"))


def digests_of(path: Path) -> dict[str, str]:
    """``{"policy/seed": digest}`` for one scenario file."""
    sc, city = load_scenario(path)
    out: dict[str, str] = {}
    for name in POLICIES:
        for seed in SEEDS:
            policy = PlanPolicy(sc.reference_plans.expert, "expert") if name == "expert" else baseline_policy(name)
            out[f"{name}/{seed}"] = Simulation(sc, city, seed, policy).run().digest()
    return out


def compute_all() -> dict[str, dict[str, str]]:
    """Every bundled scenario's golden digests, keyed by file stem."""
    return {p.stem: digests_of(p) for p in bundled()}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _seen(obs: Observation, sc: Any, city: Any) -> dict[str, Any]:
    """Every field of ``obs`` and the condition language's answers, as plain data."""
    out = {f.name: getattr(obs, f.name) for f in dataclasses.fields(Observation)}
    types = sorted({str(t) for t in city.asset_type})
    out["state_of"] = [obs.state_of(a) for a in city.asset_ids[:400]]
    out["first_with"] = {f"{t}/{st}": obs.first_with(t, st) for t in types for st in _STATES}
    services = sorted({s for d in obs.services.values() for s in d} | set(obs.service_totals))
    out["served_share"] = {f"{d}/{sv}": obs.served_share(d, sv) for d in city.district_ids for sv in services}
    out["total_served"] = {sv: obs.total_served(sv) for sv in services}
    out["has_inject"] = {i.id: obs.has_inject(i.id) for i in sc.msel}
    return out


class _Recording:
    """A policy that writes down all it is shown, then lets ``inner`` decide."""

    def __init__(self, inner: Any, sc: Any, city: Any) -> None:
        self.inner, self.sc, self.city, self.seen = inner, sc, city, []

    def __getattr__(self, name: str) -> Any:  # check_every_h, extra_points: the engine asks the policy
        return getattr(self.inner, name)

    def decide(self, obs: Observation) -> Decision | None:
        self.seen.append(_seen(obs, self.sc, self.city))
        return self.inner.decide(obs)


def observations_of(path: Path) -> dict[str, dict[str, str]]:
    """``{"policy": {field: digest over every point}}`` for one scenario file, on seed 1 (with the
    number of points and the run's log digest)."""
    sc, city = load_scenario(path)
    out: dict[str, dict[str, str]] = {}
    for name in POLICIES:
        policy = PlanPolicy(sc.reference_plans.expert, "expert") if name == "expert" else baseline_policy(name)
        rec = _Recording(policy, sc, city)
        log = Simulation(sc, city, SEEDS[0], rec).run()
        fields = rec.seen[0].keys() if rec.seen else ()
        out[name] = {f: _digest([s[f] for s in rec.seen]) for f in fields}
        out[name]["points"] = str(len(rec.seen))
        out[name]["log"] = log.digest()  # reading all of it must not change the run
    return out


def _value(f: Any, choices: list[str] | None, variant: str) -> Any:
    if f.kind == "count":
        return 1 if variant == "first" else 10**6
    if f.kind == "text":
        return "golden"
    if not choices:
        return None
    pick = choices[0] if variant == "first" else choices[-1]
    return [pick] if f.kind == "assets" else pick


def _candidates(kind: Any, sc: Any, city: Any, down: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Actions of ``kind`` to try, by name: fields from the first and the last choices, the first asset
    that is down, an unknown target, no fields, and the first twice in one decision."""
    choices = {f.name: kind.choices_for(f, city, sc) or (list(city.asset_ids) if f.kind == "assets" else None)
               for f in kind.fields}
    out: dict[str, list[dict[str, Any]]] = {}
    for variant in ("first", "last"):
        out[variant] = [{"action": kind.name, **{f.name: v for f in kind.fields
                                                  if (v := _value(f, choices[f.name], variant)) is not None}}]
    target = kind.target
    if target is not None:
        if target.kind == "asset" and down:
            fit = [a for a in down if a in (choices[target.name] or ())]
            if fit:
                out["down"] = [{**out["first"][0], target.name: fit[0]}]
        if target.kind == "asset":  # one asset of each type the field takes: the checks that depend on it
            fit = set(choices[target.name] or ())
            for t in sorted({str(x) for x in city.asset_type}):
                one = next((city.asset_ids[i] for i in city.by_type.get(t, ()) if city.asset_ids[i] in fit), None)
                if one is not None:
                    out[f"type {t}"] = [{**out["first"][0], target.name: one}]
        out["unknown"] = [{**out["first"][0], target.name: "nowhere"}]
    out["bare"] = [{"action": kind.name}]
    out["twice"] = out["first"] * 2
    return out


def _refusals(sim: Simulation, actions: list[dict[str, Any]]) -> Any:
    try:
        built = [Action(**a) for a in actions]
    except ValidationError as e:  # the schema's refusal: where and what kind (pydantic's wording is its own)
        return {"invalid": [[list(x["loc"]), x["type"]] for x in e.errors()]}
    return [str(m) for m in sim.check(Decision(built))]


class _Trying:
    """A policy that, at each decision point, first tries every action kind with generated fields
    (:func:`_candidates`) and writes down the refusals, then lets ``inner`` decide."""

    def __init__(self, inner: Any, sc: Any, city: Any) -> None:
        self.inner, self.sc, self.city, self.sim = inner, sc, city, None
        self.seen: dict[str, list[Any]] = {k: [] for k in REGISTRY}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def decide(self, obs: Observation) -> Decision | None:
        if obs.kind == "decision":
            down = [d["id"] for d in obs.assets_down]
            for k, kind in REGISTRY.items():
                self.seen[k].append({v: _refusals(self.sim, acts)
                                     for v, acts in _candidates(kind, self.sc, self.city, down).items()})
        return self.inner.decide(obs)


def refusals_of(path: Path) -> dict[str, dict[str, str]]:
    """``{"policy": {action kind: digest of every refusal}}`` at every decision point of the do-nothing
    and expert runs on seed 1 (the expert's actions make the refusals of what is done already)."""
    sc, city = load_scenario(path)
    out: dict[str, dict[str, str]] = {}
    for name in ("do_nothing", "expert"):
        policy = PlanPolicy(sc.reference_plans.expert, "expert") if name == "expert" else baseline_policy(name)
        trying = _Trying(policy, sc, city)
        trying.sim = sim = Simulation(sc, city, SEEDS[0], trying)
        log = sim.run()
        out[name] = {k: _digest(v) for k, v in trying.seen.items()}
        out[name]["points"] = str(len(trying.seen[next(iter(REGISTRY))]))
        out[name]["log"] = log.digest()  # trying must not change the run
    return out


#: hazards and effects added to the reference flood one at a time, by name (``start_h`` in hours from the start)
GALLERY: dict[str, dict[str, Any]] = {
    "degradation until repaired": {"type": "degradation", "targets": ["SS1", "PS1"], "capacity": 0.5, "start_h": 3},
    "degradation for hours": {"type": "degradation", "asset_types": ["water_treatment"], "capacity": 0.3,
                              "start_h": 2, "duration_h": 10},
    "demand change in a district": {"type": "demand_change", "service": "power", "districts": ["D1", "D2"],
                                    "factor": 1.4, "start_h": 5, "duration_h": 12},
    "demand change everywhere": {"type": "demand_change", "service": "water", "factor": 1.8, "headroom": 0.0,
                                 "start_h": 1},
    "road closure": {"type": "road_closure", "roads": ["N01~N04"], "start_h": 2, "duration_h": 6},
    "road closure of a zone": {"type": "road_closure", "zones": ["floodplain"], "start_h": 8},
    "gauge stuck": {"type": "sensor_fault", "mode": "stuck", "start_h": 10, "duration_h": 8},
    "gauge drifting": {"type": "sensor_fault", "mode": "drift", "drift_m_per_h": 0.2, "start_h": 6},
    "gauge missing": {"type": "sensor_fault", "mode": "missing", "start_h": 12, "duration_h": 20},
    "staff absence": {"type": "staff_absence", "start_h": 0, "peak_h": 20, "end_h": 60, "peak_share": 0.4,
                      "hospitals": ["H1"], "step_h": 2},
    "staff absence of some teams": {"type": "staff_absence", "start_h": 4, "peak_h": 10, "end_h": 30,
                                    "peak_share": 0.6, "teams": ["power_crews"]},
    "data platform that fails": {"type": "data_platform", "host": "DC1", "private": ["water"], "failure_h": 10,
                                 "failure_duration_h": 12},
    "data platform without the gauge": {"type": "data_platform", "gauge": False, "carries": ["power", "health"]},
    "outage, degraded for hours": {"type": "outage", "targets": ["SS2"], "state": "degraded", "start_h": 3,
                                   "duration_h": 9},
    "outage, extensive damage": {"type": "outage", "asset_types": ["telecom_tower"], "state": "extensive",
                                 "start_h": 6},
    "outage, slight damage": {"type": "outage", "targets": ["PS2", "TK1"], "state": "slight", "start_h": 1},
    "earthquake with aftershocks": {"type": "earthquake", "time_h": 30, "epicentre": [3000, 2000],
                                    "magnitude": 6.2, "aftershock_count": 3},
    "storm": {"type": "storm", "start_h": 12, "duration_h": 10, "centre": [2000, 3000], "radius_km": 6,
              "peak_wind_ms": 40},
    "heatwave": {"type": "heatwave", "start_h": 7, "duration_h": 48, "peak_temp_c": 41, "baseline_temp_c": 24},
    "cyber attack": {"type": "cyber", "start_h": 9, "targets": ["WT1", "PS3"], "detection_delay_h": 2,
                     "recovery_h": 20},
}


def gallery_scenario(name: str) -> tuple[Any, Any]:
    """The reference flood with the gallery's hazard ``name`` added (as ``gallery``)."""
    loaded = load_yaml(GALLERY_BASE)
    data = copy.deepcopy(loaded.data)
    data["hazards"] = [*data["hazards"], {"id": "gallery", **GALLERY[name]}]
    return load_scenario(GALLERY_BASE, text=yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                         base_dir=GALLERY_BASE.parent)


def gallery_of(name: str) -> dict[str, dict[str, str]]:
    """``{"policy": {record kind: digest}}`` for one gallery entry, on seed 1 (greedy's also has a digest
    of each field of what it was shown)."""
    sc, city = gallery_scenario(name)
    out: dict[str, dict[str, str]] = {}
    for policy in ("do_nothing", "greedy"):
        rec = _Recording(baseline_policy(policy), sc, city)
        log = Simulation(sc, city, SEEDS[0], rec).run()
        by_kind: dict[str, list[Any]] = {}
        for r in log:
            by_kind.setdefault(r.kind, []).append([r.time, r.subject, r.data])
        out[policy] = {k: _digest(v) for k, v in sorted(by_kind.items())}
        if policy == "greedy":  # and what the player sees on the way
            out[policy].update({f"seen {f}": _digest([x[f] for x in rec.seen]) for f in rec.seen[0]})
    return out


def write_all() -> None:
    """Regenerate the four golden files (for a change meant to alter them)."""
    stems = bundled()
    files = ((GOLDEN, digests_of), (GOLDEN_OBSERVATIONS, observations_of), (GOLDEN_REFUSALS, refusals_of))
    for target, compute in files:
        target.write_text(json.dumps({p.stem: compute(p) for p in stems}, indent=1, sort_keys=True) + "\n")
        print(f"wrote {target.relative_to(REPO)}", file=sys.stderr)
    GOLDEN_GALLERY.write_text(json.dumps({n: gallery_of(n) for n in GALLERY}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN_GALLERY.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    write_all()
