"""Golden files of the bundled exercises: the guard every refactor must keep.

- ``golden_digests.json``: each bundled scenario run with do-nothing, greedy and its expert plan
  on three seeds; the event log's digest.
- ``golden_observations.json``: on seed 1, every field of what the player (or plan) sees at each
  decision point and rule check, and the condition language's answers there, one digest per field,
  so a change names the field it moved.
- ``golden_refusals.json``: at every decision point of the do-nothing run (seed 1), every action kind tried
  with generated fields (the first and last choices, an unknown target, nothing, the same action
  twice); the exact English words of every refusal, one digest per action kind.

A change that is meant to change any of them regenerates all three with ``python tests/golden.py``
and says why in its commit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scro_sim.engine import Simulation
from scro_sim.engine.actions import REGISTRY
from scro_sim.policy import Decision, Observation, PlanPolicy, baseline_policy
from scro_sim.scenario import Action, load_scenario

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
GOLDEN = DATA / "golden_digests.json"
GOLDEN_OBSERVATIONS = DATA / "golden_observations.json"
GOLDEN_REFUSALS = DATA / "golden_refusals.json"
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


def refusals_of(path: Path) -> dict[str, str]:
    """``{action kind: digest of every refusal}`` at every decision point of the do-nothing run."""
    sc, city = load_scenario(path)
    sim = Simulation(sc, city, SEEDS[0], None)
    seen: dict[str, list[Any]] = {k: [] for k in REGISTRY}
    points: list[Any] = []
    while not sim.done:
        obs = sim.advance()
        if obs.done:
            break
        if obs.kind == "decision":
            points.append(obs.point)
            down = [d["id"] for d in obs.assets_down]
            for k, kind in REGISTRY.items():
                seen[k].append({v: _refusals(sim, acts) for v, acts in _candidates(kind, sc, city, down).items()})
    out = {k: _digest(v) for k, v in seen.items()}
    out["points"] = str(len(points))
    return out


def write_all() -> None:
    """Regenerate the three golden files (for a change meant to alter them)."""
    stems = bundled()
    files = ((GOLDEN, digests_of), (GOLDEN_OBSERVATIONS, observations_of), (GOLDEN_REFUSALS, refusals_of))
    for target, compute in files:
        target.write_text(json.dumps({p.stem: compute(p) for p in stems}, indent=1, sort_keys=True) + "\n")
        print(f"wrote {target.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    write_all()
