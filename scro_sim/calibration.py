"""Does a rubric discriminate?  Four policies on paired seeds, graded as stored runs are graded.

A grade goes into a certificate, so a rubric must tell a learner who does nothing from one
who plays well, and neither should pass or fail by the luck of the seed.  :func:`calibrate`
runs four policies on the same ``n`` seeds (replication ``k`` gets
:func:`~scro_sim.batch.replication_seed` ``(seed_base, k)``, as batches do):

* ``do_nothing``: the city is left to the hazard;
* ``random``: random legal decisions (:class:`~scro_sim.policy.RandomLegal`);
* ``greedy``: the simple greedy responder (:class:`~scro_sim.policy.Greedy`);
* ``expert``: the scenario's expert plan.

Each run is graded with the scenario's rubric against the do-nothing and expert metrics of
its own seed, exactly as :func:`~scro_sim.assessment.score` grades a stored run; judged
criteria stay unrated (nobody judged them), so totals are over the computed criteria.
:func:`check` then tests the result against the discrimination targets (:data:`TARGETS`)
and returns the ones it fails.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import math
import multiprocessing as mp
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .batch import replication_seed
from .engine import Simulation
from .policy import DoNothing, Greedy, PlanPolicy, RandomLegal, baseline_policy
from .scenario import Plan, Scenario, text_in
from .scoring import compute_metrics, grade

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .city import City

__all__ = ["POLICIES", "RATINGS", "TARGETS", "Calibration", "Flag", "calibrate", "check", "run_seed"]

#: the policies, from the weakest one expects to the strongest
POLICIES: tuple[str, ...] = ("do_nothing", "random", "greedy", "expert")
#: rating columns: the four HSEEP ratings and "not applicable" (its inject never came)
RATINGS: tuple[str, ...] = ("P", "S", "M", "U", "NA")

#: the discrimination targets (issue 14, section 4)
TARGETS: dict[str, str] = {
    "do_nothing_fails": "do-nothing fails the scenario in at least 99 % of seeds",
    "do_nothing_criteria": "do-nothing passes (P or S) no computed criterion in more than 5 % of seeds",
    "expert_passes": "the expert passes in at least 95 % of seeds",
    "expert_criteria": "the expert is rated P or S on every computed criterion in at least 90 % of seeds",
    "in_between": "greedy and random score between do-nothing and the expert (mean totals)",
    "random_below_greedy": "random scores below greedy in at least 90 % of seeds",
    "expert_spread": "the expert's total spreads by at most 15 points between its 10th and 90th percentile",
}
DO_NOTHING_FAIL = 0.99
DO_NOTHING_CRITERION_PASS = 0.05
EXPERT_PASS = 0.95
EXPERT_CRITERION_PASS = 0.90
RANDOM_BELOW_GREEDY = 0.90
EXPERT_SPREAD = 15.0


@dataclass(frozen=True)
class Flag:
    """One failed target: which (``TARGETS`` key), on which criterion or policy if any, and the figure.

    ``value`` is the measured figure and ``limit`` the target's, both as ``message`` shows them
    (percentages as 0-100, points as points), so a front end can word the flag its own way.
    """

    target: str
    message: str
    criterion: str | None = None
    value: float = math.nan
    limit: float = math.nan
    policy: str | None = None

    def __str__(self) -> str:
        return (f"{self.criterion}: " if self.criterion else "") + self.message


@dataclass
class Calibration:
    """The graded runs of :func:`calibrate` and the tables made from them.

    ``runs`` has one row per seed and policy: ``index``, ``seed``, ``policy``, ``total``,
    ``passed``, ``refused`` (decisions the simulation turned down; always 0) and one column
    per computed criterion holding its rating (``P``/``S``/``M``/``U``, or ``NA``).
    """

    scenario: str
    n: int
    seed_base: int
    pass_mark: float
    computed: list[str]
    judged: list[str]
    relative: list[str]  # computed criteria measured relative to the expert (it meets them by construction)
    policies: list[str]
    runs: pd.DataFrame
    titles: dict[str, str] = field(default_factory=dict)

    def shares(self) -> pd.DataFrame:
        """Per computed criterion and policy: the share of each rating (rows sum to 1) and ``pass`` (P or S)."""
        import pandas as pd

        rows = []
        for c in self.computed:
            for p in self.policies:
                col = self.runs.loc[self.runs["policy"] == p, c]
                n = max(len(col), 1)
                share = {r: float((col == r).sum()) / n for r in RATINGS}
                applicable = len(col) - int((col == "NA").sum())
                passed = float(col.isin(("P", "S")).sum()) / applicable if applicable else math.nan
                rows.append({"criterion": c, "policy": p, **share, "pass": passed})
        return pd.DataFrame(rows, columns=["criterion", "policy", *RATINGS, "pass"])

    def totals(self) -> pd.DataFrame:
        """Per policy: pass rate and the mean, 10th and 90th percentile of the total."""
        import pandas as pd

        rows = []
        for p in self.policies:
            t = self.runs.loc[self.runs["policy"] == p, "total"].astype(float)
            rows.append({"policy": p, "pass_rate": float(self.runs.loc[self.runs["policy"] == p, "passed"].mean()),
                         "mean": float(t.mean()), "p10": float(t.quantile(0.1)), "p90": float(t.quantile(0.9))})
        return pd.DataFrame(rows, columns=["policy", "pass_rate", "mean", "p10", "p90"])

    def paired(self, lower: str, higher: str) -> float:
        """Share of seeds where ``lower`` scored strictly below ``higher``."""
        t = self.runs.pivot(index="index", columns="policy", values="total")
        if lower not in t or higher not in t:
            return math.nan
        return float((t[lower] < t[higher]).mean())

    def table(self) -> pd.DataFrame:
        """One tidy table for files: the rating shares, then the totals (``criterion`` = ``TOTAL``)."""
        import pandas as pd

        tot = self.totals().rename(columns={"pass_rate": "pass"})
        tot.insert(0, "criterion", "TOTAL")
        return pd.concat([self.shares(), tot], ignore_index=True)

    def to_json(self, flags: list[Flag] | None = None) -> str:
        """The figures (and flags) as JSON."""
        def clean(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in records]

        return json.dumps({
            "scenario": self.scenario, "n": self.n, "seed_base": self.seed_base, "pass_mark": self.pass_mark,
            "computed": self.computed, "judged_not_computed": self.judged, "relative_to_expert": self.relative,
            "random_below_greedy": self.paired("random", "greedy"),
            "criteria": clean(self.shares().to_dict("records")), "totals": clean(self.totals().to_dict("records")),
            "flags": [{"target": f.target, "criterion": f.criterion, "message": f.message} for f in flags or []],
        }, indent=2)

    def to_markdown(self, flags: list[Flag] | None = None) -> str:
        """The figures (and flags) as Markdown tables, as scenarios/README.md shows them."""
        def pct(x: float) -> str:
            return "–" if isinstance(x, float) and math.isnan(x) else f"{100 * x:.0f}"

        out = [f"`{self.scenario}`, n = {self.n} paired seeds (seed base {self.seed_base}), pass mark "
               f"{self.pass_mark:g}.", "",
               "| criterion | policy | P % | S % | M % | U % | n/a % | passed (P/S) % |", "|---|---|--:|--:|--:|--:|--:|--:|"]
        for r in self.shares().to_dict("records"):
            out.append(f"| {r['criterion']} | {r['policy']} | " + " | ".join(pct(r[k]) for k in (*RATINGS, "pass")) + " |")
        out += ["", "| policy | passes % | mean total | 10th pct | 90th pct |", "|---|--:|--:|--:|--:|"]
        for r in self.totals().to_dict("records"):
            out.append(f"| {r['policy']} | {pct(r['pass_rate'])} | {r['mean']:.1f} | {r['p10']:.1f} | {r['p90']:.1f} |")
        out += ["", f"Random below greedy in {_p(self.paired('random', 'greedy')):g} % of seeds."]
        if self.judged:
            out.append(f"Judged, not computed: {', '.join(self.judged)}.")
        if self.relative:
            out.append(f"Relative to the expert (the expert meets them by construction): {', '.join(self.relative)}.")
        out += ["", "Flags:" if flags else "No flags: every target is met."]
        out += [f"- {f}" for f in flags or []]
        return "\n".join(out) + "\n"


# -- the runs ---------------------------------------------------------------------------------


def _baseline(spec: Plan | str) -> Any:
    return PlanPolicy(spec, "baseline") if isinstance(spec, Plan) else baseline_policy(spec)


def run_seed(scenario: Scenario, city: City, seed: int) -> list[dict[str, Any]]:
    """The four policies on one seed, each graded like a stored run; one row per policy."""
    refs = scenario.reference_plans
    logs: dict[str, Any] = {"do_nothing": Simulation(scenario, city, seed, DoNothing()).run()}
    rand = RandomLegal.for_run(scenario, city, seed)
    sim = Simulation(scenario, city, seed, rand)
    rand.check = sim.check
    logs["random"] = sim.run()
    refused = {"random": len(sim.skipped)}
    logs["greedy"] = Simulation(scenario, city, seed, Greedy()).run()
    if refs.expert is not None:
        logs["expert"] = Simulation(scenario, city, seed, PlanPolicy(refs.expert, "expert")).run()
    metrics = {p: compute_metrics(log) for p, log in logs.items()}
    # the reference metrics, as assessment.reference_metrics makes them for a stored run
    base = metrics["do_nothing"] if refs.baseline == "do_nothing" else compute_metrics(
        Simulation(scenario, city, seed, _baseline(refs.baseline)).run())
    reference = {"baseline": base, **({"expert": metrics["expert"]} if "expert" in metrics else {})}
    rows = []
    for p, log in logs.items():
        card = grade(log, scenario, reference=reference, metrics=metrics[p], digest=False)
        row: dict[str, Any] = {"seed": seed, "policy": p, "total": float(card.total), "passed": bool(card.passed),
                               "refused": refused.get(p, 0)}
        for line in card.criteria:
            if line.kind == "computed":
                row[line.id] = "NA" if line.status == "not applicable" else line.computed_rating
        rows.append(row)
    return rows


_WORKER: dict[str, Any] = {}


def _init(scenario: Scenario, city: City) -> None:
    _WORKER["sc"], _WORKER["city"] = scenario, city


def _chunk(seed_base: int, indices: list[int]) -> list[dict[str, Any]]:
    out = []
    for i in indices:
        for row in run_seed(_WORKER["sc"], _WORKER["city"], replication_seed(seed_base, i)):
            out.append({"index": i, **row})
    return out


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def calibrate(scenario: Scenario, city: City, n: int = 200, seed_base: int = 0, *, workers: int | None = None,
              progress: Callable[[int, int], Any] | None = None) -> Calibration:
    """Run the four :data:`POLICIES` on ``n`` paired seeds and grade every run.

    ``workers``: processes (default: the CPUs this process may use; 1 runs in this process).
    ``progress(done, n)`` is called as seeds finish.
    """
    import pandas as pd

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(seed_base, bool) or not isinstance(seed_base, int) or seed_base < 0:
        raise ValueError(f"the seed base must be a non-negative integer, got {seed_base!r}")
    k = workers if workers is not None else _cpus()
    if k < 1:
        raise ValueError("workers must be at least 1")
    rows: list[dict[str, Any]] = []
    done = 0
    if k == 1 or n < 4:
        _init(scenario, city)
        try:
            for i in range(n):
                rows.extend(_chunk(seed_base, [i]))
                done += 1
                if progress is not None:
                    progress(done, n)
        finally:
            _WORKER.clear()
    else:
        size = max(1, min(10, math.ceil(n / (4 * k))))
        ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
        with cf.ProcessPoolExecutor(max_workers=k, mp_context=ctx, initializer=_init,
                                    initargs=(scenario, city)) as ex:
            futures = {ex.submit(_chunk, seed_base, list(range(j, min(n, j + size)))): j for j in range(0, n, size)}
            for fut in cf.as_completed(futures):
                part = fut.result()
                rows.extend(part)
                done += len({r["index"] for r in part})
                if progress is not None:
                    progress(done, n)
    computed = [c.id for c in scenario.rubric.criteria if c.kind == "computed"]
    frame = pd.DataFrame(rows, columns=["index", "seed", "policy", "total", "passed", "refused", *computed])
    frame["policy"] = pd.Categorical(frame["policy"], categories=list(POLICIES), ordered=True)
    frame = frame.sort_values(["index", "policy"], ignore_index=True)
    frame["policy"] = frame["policy"].astype(str)
    return Calibration(
        scenario=scenario.id, n=n, seed_base=seed_base, pass_mark=float(scenario.rubric.pass_mark), computed=computed,
        judged=[c.id for c in scenario.rubric.criteria if c.kind == "judged"],
        relative=[c.id for c in scenario.rubric.criteria if c.kind == "computed" and (c.metric or "").startswith("relative.")],
        policies=[p for p in POLICIES if p in set(frame["policy"])], runs=frame,
        titles={c.id: text_in(c.title, "en") for c in scenario.rubric.criteria},
    )


def _p(share: float) -> float:
    """A share as the percentage the messages show: to 0.1, so 89.5 % never reads as a met 90 %."""
    return round(100 * share, 1) if not math.isnan(share) else math.nan


# -- the targets ------------------------------------------------------------------------------


def check(cal: Calibration) -> list[Flag]:
    """The discrimination targets (:data:`TARGETS`) this calibration fails; empty: the rubric discriminates."""
    flags: list[Flag] = []
    tot = cal.totals().set_index("policy")
    shares = cal.shares()

    def pass_share(policy: str, criterion: str) -> float:
        hit = shares[(shares["policy"] == policy) & (shares["criterion"] == criterion)]
        return float(hit["pass"].iloc[0]) if len(hit) else math.nan

    def pct(x: float) -> str:
        return f"{_p(x):g} %"

    dn_fail = 1.0 - float(tot.loc["do_nothing", "pass_rate"])
    if dn_fail < DO_NOTHING_FAIL:
        flags.append(Flag("do_nothing_fails", f"do-nothing fails in only {pct(dn_fail)} of seeds "
                                              f"(target ≥ {pct(DO_NOTHING_FAIL)})",
                          value=_p(dn_fail), limit=_p(DO_NOTHING_FAIL), policy="do_nothing"))
    for c in cal.computed:
        s = pass_share("do_nothing", c)
        if not math.isnan(s) and s > DO_NOTHING_CRITERION_PASS:
            flags.append(Flag("do_nothing_criteria", f"do-nothing is rated P or S in {pct(s)} of seeds "
                                                     f"(target ≤ {pct(DO_NOTHING_CRITERION_PASS)})", c,
                              _p(s), _p(DO_NOTHING_CRITERION_PASS), "do_nothing"))
    if "expert" not in tot.index:
        flags.append(Flag("expert_passes", "the scenario has no expert plan: the expert targets cannot be checked"))
    else:
        ex = float(tot.loc["expert", "pass_rate"])
        if ex < EXPERT_PASS:
            flags.append(Flag("expert_passes", f"the expert passes in only {pct(ex)} of seeds "
                                               f"(target ≥ {pct(EXPERT_PASS)})",
                              value=_p(ex), limit=_p(EXPERT_PASS), policy="expert"))
        for c in cal.computed:
            s = pass_share("expert", c)
            if not math.isnan(s) and s < EXPERT_CRITERION_PASS:
                flags.append(Flag("expert_criteria", f"the expert is rated P or S in only {pct(s)} of seeds "
                                                     f"(target ≥ {pct(EXPERT_CRITERION_PASS)})", c,
                                  _p(s), _p(EXPERT_CRITERION_PASS), "expert"))
        spread = float(tot.loc["expert", "p90"] - tot.loc["expert", "p10"])
        if spread > EXPERT_SPREAD:
            flags.append(Flag("expert_spread", f"the expert's total spreads by {spread:.1f} points between its 10th "
                                               f"and 90th percentile (target ≤ {EXPERT_SPREAD:g})",
                              value=round(spread, 1), limit=EXPERT_SPREAD, policy="expert"))
        lo, hi = float(tot.loc["do_nothing", "mean"]), float(tot.loc["expert", "mean"])
        for p in ("greedy", "random"):
            m = float(tot.loc[p, "mean"])
            if not lo < m < hi:
                flags.append(Flag("in_between", f"{p} scores {m:.1f} on average, not between do-nothing ({lo:.1f}) "
                                                f"and the expert ({hi:.1f})", value=round(m, 1), policy=p))
    below = cal.paired("random", "greedy")
    if not below >= RANDOM_BELOW_GREEDY:
        flags.append(Flag("random_below_greedy", f"random scores below greedy in only {pct(below)} of seeds "
                                                 f"(target ≥ {pct(RANDOM_BELOW_GREEDY)})",
                          value=_p(below), limit=_p(RANDOM_BELOW_GREEDY), policy="random"))
    return flags
