"""A batch's results: the frame of rows, the summary per policy and of paired differences, CVaR."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..scenario import Scenario
from ..scoring import HIGHER_IS_BETTER as CATALOGUE_HIGHER_IS_BETTER
from ..scoring import SUMMARY
from .replication import replication_seed

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Metrics the summary covers by default (rubric metrics of the scenario are added).
DEFAULT_METRICS: tuple[str, ...] = ("score", *SUMMARY)
#: Metrics where more is better (everything else is a loss: less is better).
HIGHER_IS_BETTER: frozenset[str] = frozenset({"score", *CATALOGUE_HIGHER_IS_BETTER})
#: The columns before the metrics, in this order (then ``digest`` if asked for); metric columns follow sorted by name.
FIXED_COLUMNS: tuple[str, ...] = ("index", "seed", "policy", "score", "passed", "provisional", "events")
_POLICY_ORDER = ("plan", "baseline", "expert")


@dataclass
class BatchResult:
    """What :func:`evaluate` returns.

    ``frame``: one row per (replication, policy), sorted by index then policy.
    ``summary``: per policy (and per paired difference) per key metric: mean, std, p10, p50,
    p90, cvar10 (mean of the worst 10 %), p_pass, p_better.  ``failed``: replications that
    failed ``max_attempts`` times (index, seed, attempts, error).  ``ran``: replications
    computed in this call; ``resumed``: taken from the store.
    """

    batch_id: str
    n: int
    seed: int
    frame: pd.DataFrame
    summary: pd.DataFrame
    failed: pd.DataFrame
    ran: int = 0
    resumed: int = 0
    attempts: int = 0
    elapsed_s: float = 0.0
    executor: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    incidents: list[str] = field(default_factory=list)  # task-level failures (lost workers, broken pools)

    @property
    def complete(self) -> bool:
        """Every replication finished (none failed)."""
        return self.failed.empty

    def to_parquet(self, path: str | Path, *, summary_path: str | Path | None = None) -> Path:
        """Write the frame (with the batch's parameters as file metadata); optionally the summary too."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        table = pa.Table.from_pandas(self.frame, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[b"scro_sim.batch"] = json.dumps({"batch_id": self.batch_id, "n": self.n, "seed": self.seed,
                                              **self.meta}, sort_keys=True).encode("utf-8")
        pq.write_table(table.replace_schema_metadata(meta), path)
        if summary_path is not None:
            self.summary.to_parquet(summary_path, index=False)
        return path


def _frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Rows to the canonical frame: fixed columns, then metrics sorted; floats; sorted rows."""
    import pandas as pd

    df = pd.DataFrame.from_records(list(rows))
    fixed = [*FIXED_COLUMNS, "digest"] if "digest" in df.columns else list(FIXED_COLUMNS)
    metric_cols = sorted(c for c in df.columns if c not in fixed)
    df = df.reindex(columns=[*fixed, *metric_cols])
    types = {"index": "int64", "seed": "int64", "score": "float64", "passed": "bool", "provisional": "bool",
             "events": "int64"}
    for c, t in types.items():
        df[c] = df[c].astype(t)
    for c in [c for c in ("policy", "digest") if c in fixed]:
        df[c] = df[c].astype("str") if len(df) else df[c].astype(object).astype("str")
    for c in metric_cols:
        col = pd.to_numeric(df[c].astype(object).where(df[c].notna(), np.nan), errors="coerce").astype("float64")
        if c.startswith("downtime."):
            col = col.fillna(0.0)  # an asset missing from a run's metrics never went down in it
        df[c] = col
    return df.sort_values(["index", "policy"], kind="stable").reset_index(drop=True)


def cvar(values: Iterable[float], *, alpha: float = 0.1, higher_is_better: bool = False) -> float:
    """Mean of the worst ``alpha`` share (at least one value): the highest losses or the lowest scores.

    >>> cvar([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
    19.5
    >>> cvar([5.0, 1.0, 3.0], higher_is_better=True)
    1.0
    """
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if not len(x):
        return math.nan
    k = max(1, math.ceil(alpha * len(x) - 1e-9))
    x = np.sort(x)
    worst = x[:k] if higher_is_better else x[-k:]
    return float(math.fsum(worst.tolist()) / k)


def _stats(x: np.ndarray, higher: bool, alpha: float) -> dict[str, float]:
    x = x[~np.isnan(x)]
    if not len(x):
        return {"n": 0, "mean": math.nan, "std": math.nan, "p10": math.nan, "p50": math.nan, "p90": math.nan,
                "cvar10": math.nan}
    q = np.quantile(x, [0.1, 0.5, 0.9])
    return {"n": len(x), "mean": float(math.fsum(x.tolist()) / len(x)),
            "std": float(np.std(x, ddof=1)) if len(x) > 1 else 0.0,
            "p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2]),
            "cvar10": cvar(x.tolist(), alpha=alpha, higher_is_better=higher)}


def summarize(frame: pd.DataFrame, metrics: Sequence[str] | None = None, *,
              higher_is_better: Iterable[str] = (), alpha: float = 0.1) -> pd.DataFrame:
    """Per policy per metric: n, mean, std, p10, p50, p90, cvar10, p_pass; then paired differences.

    Difference rows (``plan-baseline``, ``plan-expert``) are per-replication ``plan - other``
    on the indices both have; their ``cvar10`` is the worst 10 % of differences and
    ``p_better`` the share of replications where the plan did strictly better.
    """
    import pandas as pd

    higher = set(HIGHER_IS_BETTER) | set(higher_is_better)
    metrics = [m for m in (metrics or DEFAULT_METRICS) if m in frame.columns]
    present = [p for p in _POLICY_ORDER if p in set(frame["policy"])] if len(frame) else []
    present += sorted(set(frame["policy"]) - set(present)) if len(frame) else []
    rows: list[dict[str, Any]] = []
    by_policy = {p: frame[frame["policy"] == p].set_index("index") for p in present}
    for p in present:
        sub = by_policy[p]
        p_pass = float(sub["passed"].mean()) if len(sub) else math.nan
        for m in metrics:
            st = _stats(sub[m].to_numpy(dtype=float), m in higher, alpha)
            rows.append({"policy": p, "metric": m, **st, "p_pass": p_pass, "p_better": math.nan})
    if "plan" in by_policy:
        for other in ("baseline", "expert"):
            if other not in by_policy:
                continue
            a, b = by_policy["plan"], by_policy[other]
            common = a.index.intersection(b.index)
            for m in metrics:
                d = a.loc[common, m].to_numpy(dtype=float) - b.loc[common, m].to_numpy(dtype=float)
                st = _stats(d, m in higher, alpha)
                ok = d[~np.isnan(d)]
                better = float(np.mean(ok > 0) if m in higher else np.mean(ok < 0)) if len(ok) else math.nan
                rows.append({"policy": f"plan-{other}", "metric": m, **st, "p_pass": math.nan, "p_better": better})
    cols = ["policy", "metric", "n", "mean", "std", "p10", "p50", "p90", "cvar10", "p_pass", "p_better"]
    out = pd.DataFrame(rows, columns=cols)
    out["n"] = out["n"].astype("int64")
    return out


def _rubric_metrics(scenario: Scenario) -> tuple[list[str], set[str], set[str]]:
    """(metric names, higher-is-better names, assets named) from the scenario's computed criteria."""
    names: list[str] = []
    higher: set[str] = set()
    assets: set[str] = set()
    for c in scenario.rubric.criteria:
        if c.kind != "computed" or not c.metric:
            continue
        m = c.metric[len("relative."):] if c.metric.startswith("relative.") else c.metric
        if m.startswith("downtime."):
            assets.add(m[len("downtime."):])
        if c.metric.startswith("relative."):
            continue  # a relative value is 0..1 against the references, not a column
        if m not in names:
            names.append(m)
        if not c.lower_is_better:
            higher.add(m)
    return names, higher, assets


def _failed_frame(failed: Mapping[int, tuple[int, str]], root_seed: int) -> pd.DataFrame:
    import pandas as pd

    idx = sorted(failed)
    return pd.DataFrame({"index": pd.Series(idx, dtype="int64"),
                         "seed": pd.Series([replication_seed(root_seed, i) for i in idx], dtype="int64"),
                         "attempts": pd.Series([failed[i][0] for i in idx], dtype="int64"),
                         "error": pd.Series([failed[i][1] for i in idx], dtype="str")})
