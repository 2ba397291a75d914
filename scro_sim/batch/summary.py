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


@dataclass(init=False)
class BatchResult:
    """What :func:`evaluate` returns.

    ``frame``: one row per (replication, policy), sorted by index then policy.
    ``summary``: per policy (and per paired difference) per key metric: mean, std, p10, p50,
    p90, cvar10 (mean of the worst 10 %), p_pass, p_better.  ``failed``: replications that
    failed ``max_attempts`` times (index, seed, attempts, error).  ``ran``: replications
    computed in this call; ``resumed``: taken from the store.

    The three tables are pandas DataFrames made on first use: a caller that prints only the
    summary (``scro-sim batch``) reads :meth:`summary_records` and never imports pandas.
    """

    batch_id: str
    n: int
    seed: int
    ran: int = 0
    resumed: int = 0
    attempts: int = 0
    elapsed_s: float = 0.0
    executor: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    incidents: list[str] = field(default_factory=list)  # task-level failures (lost workers, broken pools)

    def __init__(self, batch_id: str, n: int, seed: int, *, rows: list[dict[str, Any]], metrics: Sequence[str],
                 higher_is_better: Iterable[str] = (), failed: Mapping[int, tuple[int, str]] | None = None,
                 ran: int = 0, resumed: int = 0, attempts: int = 0, elapsed_s: float = 0.0, executor: str = "",
                 meta: dict[str, Any] | None = None, incidents: list[str] | None = None) -> None:
        """``rows``: one dict per (replication, policy) in index order; ``metrics``: what the summary covers."""
        self.batch_id, self.n, self.seed = batch_id, n, seed
        self.ran, self.resumed, self.attempts, self.elapsed_s, self.executor = ran, resumed, attempts, elapsed_s, executor
        self.meta = dict(meta or {})
        self.incidents = list(incidents or [])
        self._rows = rows
        self._metrics = list(metrics)
        self._higher = frozenset(higher_is_better)
        self._failed = dict(sorted((failed or {}).items()))
        self._tables: dict[str, Any] = {}

    @property
    def frame(self) -> pd.DataFrame:
        if "frame" not in self._tables:
            import pandas as pd

            self._tables["frame"] = (_frame(self._rows) if self._rows else
                                     pd.DataFrame({c: pd.Series(dtype="object") for c in FIXED_COLUMNS}))
        return self._tables["frame"]

    @property
    def summary(self) -> pd.DataFrame:
        if "summary" not in self._tables:
            import pandas as pd

            out = pd.DataFrame(self.summary_records(), columns=list(SUMMARY_COLUMNS))
            out["n"] = out["n"].astype("int64")
            self._tables["summary"] = out
        return self._tables["summary"]

    @property
    def failed(self) -> pd.DataFrame:
        if "failed" not in self._tables:
            self._tables["failed"] = _failed_frame(self._failed, self.seed)
        return self._tables["failed"]

    def summary_records(self) -> list[dict[str, Any]]:
        """The rows of :attr:`summary` as dicts (the same numbers), made from the replications' rows."""
        if "records" not in self._tables:
            self._tables["records"] = _summary_of_rows(self._rows, self._metrics, self._higher)
        return self._tables["records"]

    def failed_records(self) -> list[tuple[int, int, str]]:
        """(index, attempts, error) of each failed replication, by index: :attr:`failed` without pandas."""
        return [(i, a, e) for i, (a, e) in self._failed.items()]

    @property
    def complete(self) -> bool:
        """Every replication finished (none failed)."""
        return not self._failed

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_tables": {}}

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


SUMMARY_COLUMNS: tuple[str, ...] = ("policy", "metric", "n", "mean", "std", "p10", "p50", "p90", "cvar10", "p_pass",
                                    "p_better")


def summarize(frame: pd.DataFrame, metrics: Sequence[str] | None = None, *,
              higher_is_better: Iterable[str] = (), alpha: float = 0.1) -> pd.DataFrame:
    """Per policy per metric: n, mean, std, p10, p50, p90, cvar10, p_pass; then paired differences.

    Difference rows (``plan-baseline``, ``plan-expert``) are per-replication ``plan - other``
    on the indices both have; their ``cvar10`` is the worst 10 % of differences and
    ``p_better`` the share of replications where the plan did strictly better.
    """
    import pandas as pd

    metrics = [m for m in (metrics or DEFAULT_METRICS) if m in frame.columns]
    present = [p for p in _POLICY_ORDER if p in set(frame["policy"])] if len(frame) else []
    present += sorted(set(frame["policy"]) - set(present)) if len(frame) else []
    columns: dict[str, tuple[list[Any], dict[str, np.ndarray], float]] = {}
    for p in present:
        sub = frame[frame["policy"] == p].set_index("index")
        columns[p] = (sub.index.tolist(), {m: sub[m].to_numpy(dtype=float) for m in metrics},
                      float(sub["passed"].mean()) if len(sub) else math.nan)
    out = pd.DataFrame(_summary_records(columns, metrics, set(higher_is_better), alpha), columns=list(SUMMARY_COLUMNS))
    out["n"] = out["n"].astype("int64")
    return out


def _summary_of_rows(rows: Sequence[Mapping[str, Any]], metrics: Sequence[str], higher_is_better: Iterable[str],
                     alpha: float = 0.1) -> list[dict[str, Any]]:
    """:func:`summarize` of the frame these rows make, read from the rows themselves (no pandas).

    A metric's column holds what :func:`_frame` makes of it: a float, NaN for a value that is
    missing or None, and 0 for a ``downtime.*`` the run never had.
    """
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    metrics = [m for m in (metrics or DEFAULT_METRICS) if m in names]
    by_policy: dict[str, list[Mapping[str, Any]]] = {}
    for r in sorted(rows, key=lambda r: (int(r["index"]), str(r["policy"]))):  # the frame's order
        by_policy.setdefault(str(r["policy"]), []).append(r)
    present = [p for p in _POLICY_ORDER if p in by_policy] + sorted(set(by_policy) - set(_POLICY_ORDER))
    columns: dict[str, tuple[list[Any], dict[str, np.ndarray], float]] = {}
    for p in present:
        sub = by_policy[p]
        cols: dict[str, np.ndarray] = {}
        for m in metrics:
            missing = 0.0 if m.startswith("downtime.") else math.nan
            cols[m] = np.array([missing if (v := r.get(m)) is None else float(v) for r in sub], dtype=float)
            if m.startswith("downtime."):
                cols[m][np.isnan(cols[m])] = 0.0
        passed = np.array([bool(r["passed"]) for r in sub], dtype=bool)
        columns[p] = ([int(r["index"]) for r in sub], cols, float(passed.mean()) if len(sub) else math.nan)
    return _summary_records(columns, metrics, set(higher_is_better), alpha)


def _summary_records(columns: Mapping[str, tuple[list[Any], Mapping[str, np.ndarray], float]], metrics: Sequence[str],
                     higher_is_better: set[str], alpha: float) -> list[dict[str, Any]]:
    """The summary's rows from each policy's (indices, metric columns, pass share), in policy order."""
    higher = set(HIGHER_IS_BETTER) | higher_is_better
    rows: list[dict[str, Any]] = []
    for p, (_idx, cols, p_pass) in columns.items():
        for m in metrics:
            st = _stats(cols[m], m in higher, alpha)
            rows.append({"policy": p, "metric": m, **st, "p_pass": p_pass, "p_better": math.nan})
    if "plan" in columns:
        for other in ("baseline", "expert"):
            if other not in columns:
                continue
            (ia, a, _), (ib, b, _) = columns["plan"], columns[other]
            at_b = {i: k for k, i in enumerate(ib)}
            pairs = [(k, at_b[i]) for k, i in enumerate(ia) if i in at_b]  # the indices both have, in the plan's order
            ka = np.array([k for k, _ in pairs], dtype=np.intp)
            kb = np.array([k for _, k in pairs], dtype=np.intp)
            for m in metrics:
                d = a[m][ka] - b[m][kb]
                st = _stats(d, m in higher, alpha)
                ok = d[~np.isnan(d)]
                better = float(np.mean(ok > 0) if m in higher else np.mean(ok < 0)) if len(ok) else math.nan
                rows.append({"policy": f"plan-{other}", "metric": m, **st, "p_pass": math.nan, "p_better": better})
    return rows


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
