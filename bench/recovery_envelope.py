"""Simulated recoveries against real ones: the bundled flood and earthquake under the
utilities' own response (do-nothing policy) over many seeds, against the restoration
points of docs/reference_data.md.  Makes docs/recovery_envelope.png and prints the table.

    .venv/bin/python bench/recovery_envelope.py            # 60 seeds, writes the figure
    .venv/bin/python bench/recovery_envelope.py -n 20 --no-figure

What is measured (docs/recovery.md explains why): for each run and service, the share of
the people who lost it that have it back, ``restored(t) = (people restored so far) / (people
out at the worst)``, with ``t`` in days from the first outage of that service (the reference
figures count from the event's start, and count customers restored against the peak).  The
water lag is, per district whose taps ran dry, the days from its power being whole again to
its water being safe again (boil-water notice lifted).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: (days since the event began, share of the customers out restored), docs/reference_data.md
#: "How fast service came back".  Christchurch's power "> 85 %" is a lower bound.
REFERENCE: dict[str, list[tuple[str, str, float, float, str]]] = {
    "riverton_flood": [
        ("Sandy 2012", "power", 1.5, 0.28, "="), ("Sandy 2012", "power", 2.8, 0.47, "="),
        ("Sandy 2012", "power", 3.4, 0.58, "="), ("Sandy 2012", "power", 5.6, 0.77, "="),
        ("Sandy 2012", "power", 10.6, 0.91, "="),
    ],
    "riverton_earthquake": [
        ("Northridge 1994", "power", 10 / 24, 0.50, "="), ("Northridge 1994", "power", 13 / 24, 0.63, "="),
        ("Northridge 1994", "power", 1.7, 0.955, "="), ("Northridge 1994", "power", 2.5, 0.965, "="),
        ("Christchurch 2011", "power", 8.0, 0.85, ">"), ("Christchurch 2011", "water", 8.0, 0.70, "="),
    ],
}
#: Texas 2021: boil-water notices ran 2-7 days behind the power outages.
WATER_LAG_D = (2.0, 7.0)
#: how far (share points) a simulated median may sit from a reference point, and how far (a share
#: of the point's time) along the time axis it may be looked for: see docs/recovery.md
TOLERANCE = 0.20
TIME_TOLERANCE = 0.25
GRID_D = np.round(np.arange(0.0, 14.0 + 1e-9, 1 / 24), 9)


@dataclass
class Envelope:
    scenario: str
    seeds: int
    curves: dict[str, np.ndarray]  # service -> (runs, len(GRID_D)) restored share
    lags_d: list[float]  # water safe again minus power whole again, per dry district

    def band(self, service: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c = self.curves[service]
        return np.percentile(c, 10, 0), np.median(c, 0), np.percentile(c, 90, 0)

    def median_at(self, service: str, day: float) -> float:
        return float(np.interp(day, GRID_D, np.median(self.curves[service], 0)))

    def checks(self, tol: float = TOLERANCE, time_tol: float = TIME_TOLERANCE,
               ) -> list[tuple[str, str, float, float, float, bool]]:
        """(event, service, day, reference, simulated median at that day, inside) per reference point.

        Inside: somewhere within ``time_tol`` of the point's day (as a share of it), the median is
        within ``tol`` of the reference (at least ``reference - tol`` for a lower bound)."""
        out = []
        for event, svc, day, ref, how in REFERENCE[self.scenario]:
            med = self.median_at(svc, day)
            days = np.linspace(day * (1 - time_tol), day * (1 + time_tol), 25)
            near = np.array([self.median_at(svc, d) for d in days])
            ok = bool((near >= ref - tol).any() if how == ">" else (np.abs(near - ref) <= tol).any())
            out.append((event, svc, day, ref, med, ok))
        return out


def restored_curve(log, service: str) -> np.ndarray | None:
    """Share of the people who lost ``service`` that have it back, on GRID_D days from its first outage."""
    per: dict[str, float] = {}
    total, times, totals = 0.0, [], []
    for r in log.of_kind("service"):
        if r.data["service"] != service:
            continue
        total += float(r.data["unserved"]) - per.get(r.subject, 0.0)
        per[r.subject] = float(r.data["unserved"])
        times.append(r.time)
        totals.append(total)
    if not totals or max(totals) <= 0:
        return None
    u = np.array(totals)
    t = np.array(times)
    first = t[np.argmax(u > 0)]
    restored = np.cumsum(np.maximum(0.0, -np.diff(u, prepend=0.0)))  # people given the service back so far
    share = restored / u.max()
    k = np.searchsorted(t - first, GRID_D * 24.0, side="right") - 1
    return np.where(k >= 0, share[np.maximum(k, 0)], 0.0)


def water_lags(log) -> list[float]:
    """Days from a dry district's power being whole again to its water being safe again."""
    power_back: dict[str, float] = {}
    dry: set[str] = set()
    safe: dict[str, float] = {}
    for r in log.records:
        if r.kind == "service" and r.data["service"] == "power":
            if r.data["unserved"] == 0:
                power_back[r.subject] = r.time
            else:
                power_back.pop(r.subject, None)
        elif r.kind == "water_refill":
            dry.add(r.subject)
        elif r.kind == "boil_water" and r.data.get("status") == "lifted" and r.data.get("reason") == "flushed":
            safe[r.subject] = r.time
    return [(safe[d] - power_back[d]) / 24.0 for d in sorted(dry) if d in safe and d in power_back]


def measure(scenario: str, seeds: int) -> Envelope:
    from scro_sim.engine import run
    from scro_sim.policy import DoNothing
    from scro_sim.scenario import load_scenario

    sc, city = load_scenario(ROOT / "scenarios" / f"{scenario}.yaml")
    curves: dict[str, list[np.ndarray]] = {"power": [], "water": []}
    lags: list[float] = []
    for seed in range(seeds):
        log = run(sc, city, seed, DoNothing())
        for svc in curves:
            c = restored_curve(log, svc)
            if c is not None:
                curves[svc].append(c)
        lags.extend(water_lags(log))
    return Envelope(scenario, seeds, {s: np.array(v) if v else np.ones((1, len(GRID_D)))
                                      for s, v in curves.items()}, lags)


def figure(envs: list[Envelope], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    panels = [(envs[0], "power", "Flood: power (Sandy 2012)"), (envs[1], "power", "Earthquake: power"),
              (envs[1], "water", "Earthquake: water (Christchurch 2011)")]
    marks = {"Sandy 2012": "o", "Northridge 1994": "s", "Christchurch 2011": "^"}
    for ax, (env, svc, title) in zip(axes, panels, strict=True):
        lo, med, hi = env.band(svc)
        ax.fill_between(GRID_D, lo, hi, color="tab:blue", alpha=0.25, label="simulated 10-90 %")
        ax.plot(GRID_D, med, color="tab:blue", lw=2, label=f"simulated median ({env.seeds} seeds)")
        for event, s, day, ref, how in REFERENCE[env.scenario]:
            if s != svc:
                continue
            ax.errorbar([day], [ref], yerr=[[TOLERANCE], [0 if how == ">" else TOLERANCE]],
                        xerr=[[day * TIME_TOLERANCE], [day * TIME_TOLERANCE]], fmt=marks[event],
                        color="k", capsize=3, label=event)
        h, lab = ax.get_legend_handles_labels()
        keep = dict(zip(lab, h, strict=True))
        ax.legend(keep.values(), keep.keys(), loc="lower right", fontsize=8)
        ax.set(title=title, xlabel="days since the first outage", ylabel="share of those out restored",
               xlim=(0, 14), ylim=(0, 1.05))
        ax.grid(alpha=0.3)
    lags = [lag for env in envs for lag in env.lags_d]
    if lags:
        q = np.percentile(lags, [10, 50, 90])
        fig.suptitle(f"Riverton, do-nothing (the utilities on their own).  Water safe again after power: "
                     f"median {q[1]:.1f} d (10-90 %: {q[0]:.1f}-{q[2]:.1f} d); Texas 2021: 2-7 d", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--seeds", type=int, default=60)
    ap.add_argument("--no-figure", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "docs" / "recovery_envelope.png"))
    args = ap.parse_args(argv)
    envs = [measure("riverton_flood", args.seeds), measure("riverton_earthquake", args.seeds)]
    bad = 0
    for env in envs:
        print(f"{env.scenario} ({env.seeds} seeds, do-nothing)")
        for event, svc, day, ref, med, ok in env.checks():
            bad += not ok
            print(f"  {event:18} {svc:6} {day:5.2f} d  reference {ref:5.0%}  simulated median {med:5.0%}  "
                  f"{'inside' if ok else 'OUTSIDE'}")
    lags = [lag for env in envs for lag in env.lags_d]
    if lags:
        q = np.percentile(lags, [10, 50, 90])
        ok = WATER_LAG_D[0] <= q[1] <= WATER_LAG_D[1]
        bad += not ok
        print(f"water safe after power (days, {len(lags)} dry districts): 10 % {q[0]:.2f}, median {q[1]:.2f}, "
              f"90 % {q[2]:.2f}; Texas 2021 2-7 d: {'inside' if ok else 'OUTSIDE'}")
    if not args.no_figure:
        figure(envs, Path(args.out))
        print(f"wrote {args.out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
