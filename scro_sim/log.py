"""The event log: the plain record of a run that scoring, storage, reports and the app read.

Records are flat (time, seq, kind, subject, data) so pandas reads them directly.  The
digest is a SHA-256 over a canonical text form; floats are written with 12 significant
digits so that a last-bit difference in a transcendental function on another CPU does not
change a digest, while any real change to the log does.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, count, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["KINDS", "EventLog", "EventRecord", "canonical"]

#: Every kind of record the engine writes, with what its ``data`` holds.
KINDS: dict[str, str] = {
    "run_start": "scenario, city, seed, engine version, start time, duration, population",
    "hazard": "hazard id and its state (e.g. gauge stage in m) at this time",
    "damage": "asset damaged: hazard, intensity, damage state, repair hours",
    "asset_down": "asset stopped working: cause (damage, service lost, backup exhausted, cyber)",
    "asset_up": "asset working again: cause (repaired, supply returned, generator)",
    "backup_start": "asset running on its backup: hours of backup left",
    "backup_stop": "asset back on supply: backup hours left",
    "backup_exhausted": "backup ran out",
    "service": "district service change: unserved people and unserved vulnerable people",
    "water_refill": "water supply back to a district whose taps ran dry: hours dry, when water reaches the taps",
    "boil_water": "boil-water notice issued (until when, people) or lifted (flushed, or supply lost again)",
    "population": "people moved (evacuation): district residents and evacuees",
    "exposure": "hazard reached a district: people exposed, warned, evacuated, at risk",
    "road": "road edge closed or reopened, with cause",
    "crew": "crew state change: dispatched, arrived, repairing, idle, with route time",
    "repair": "repair started or finished on an asset",
    "generator": "mobile generator deployed, running, exhausted or removed",
    "surge_beds": "a hospital's surge beds closed because its staff could hold them no longer: beds, capacity left",
    "inject": "MSEL inject delivered: id, channel, pause, contingency (its words are looked up in the scenario)",
    "cause_revealed": "a hidden cause came to light (the player sees it from now on): cause, how, targets",
    "decision_point": "the game paused for decisions",
    "decision": "a learner's or plan's decision: actions, rationale, answers",
    "action": "an action took effect (after its lead time)",
    "cost": "money spent: action kind, amount, budget left",
    "expected": "an MSEL expected action became due or was met",
    "run_end": "end of the run",
}


_PLAIN = (str, int, bool, type(None))


def _canon_value(value: Any) -> Any:
    t = type(value)
    if t in _PLAIN:
        return value
    if t is dict:
        return {str(k): _canon_value(v) for k, v in value.items()}  # the encoder sorts the keys
    if t is float:
        if value != value or value in (math.inf, -math.inf):
            raise ValueError(f"non-finite number {value!r} in event log")
        if value == int(value) and abs(value) < 2**53:
            return int(value)
        return float(f"{value:.12g}")
    if t is list:
        return [_canon_value(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"non-finite number {value!r} in event log")
        if value == int(value) and abs(value) < 2**53:
            return int(value)
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {str(k): _canon_value(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_canon_value(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return _canon_value(value.item())
    raise TypeError(f"cannot put {type(value).__name__} in an event log")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical(obj: Any) -> str:
    """Canonical JSON text of ``obj``: sorted keys, 12 significant digits, no spaces."""
    return _ENCODER.encode(_canon_value(obj))


_quote = json.encoder.encode_basestring  # the C string encoder json uses with ensure_ascii=False
_BIG = 2**53
_MAX_FLOAT = sys.float_info.max
_MIN_FLOAT = -_MAX_FLOAT
_TRUE_FALSE = ("false", "true")


def _float_text(value: float) -> str:
    """Canonical text of a float: integers without a point, otherwise 12 significant digits."""
    if value.is_integer():
        if -_BIG < value < _BIG:
            return str(int(value))
    elif not _MIN_FLOAT <= value <= _MAX_FLOAT:  # NaN and the infinities
        raise ValueError(f"non-finite number {value!r} in event log")
    text = repr(value)
    if len(text) <= 13:  # at most 12 digits: rounding to 12 significant digits would not change it
        return text
    return repr(float(f"{value:.12g}"))


#: canonical text of the plain scalar types, by exact type (bool is not int here)
_SCALAR_TEXT: dict[type, Callable[[Any], str]] = {
    str: _quote,
    float: _float_text,
    int: int.__repr__,
    bool: _TRUE_FALSE.__getitem__,
    type(None): lambda v: "null",
}

_CACHE_MAX = 4096  # shapes kept per cache: a log from elsewhere may have any keys, so do not grow without bound


def _fields(keys: tuple[Any, ...]) -> tuple[tuple[str, ...], str] | None:
    """(the keys sorted, ``"key":%s`` for each joined by commas); None if a key is not a string."""
    if any(type(k) is not str for k in keys):
        return None
    order = tuple(sorted(keys))
    return order, ",".join(_quote(k).replace("%", "%%") + ":%s" for k in order)


#: a nested dict's keys in insertion order -> (keys sorted, %-format of its text): tables repeat their row shape
_DICT_FORMATS: dict[tuple[Any, ...], tuple[tuple[str, ...], str]] = {}


def _text(value: Any) -> str:
    """Canonical text of any value: scalars, and lists and dicts of them, directly; anything else generally."""
    scalar = _SCALAR_TEXT.get(type(value))
    if scalar is not None:
        return scalar(value)
    t = type(value)
    if t is list or t is tuple:
        return "[" + ",".join(map(_text, value)) + "]"
    if t is dict:
        shape = tuple(value)
        fmt = _DICT_FORMATS.get(shape)
        if fmt is None:
            fields = _fields(shape)
            if fields is None:
                return canonical(value)
            fmt = (fields[0], "{" + fields[1] + "}")
            if len(_DICT_FORMATS) < _CACHE_MAX:
                _DICT_FORMATS[shape] = fmt
        return fmt[1] % tuple([_text(value[k]) for k in fmt[0]])
    return canonical(value)


#: (kind, data keys in insertion order) -> (keys sorted, %-format of the whole line with the values left out)
_TEMPLATES: dict[tuple[Any, ...], tuple[tuple[str, ...], str]] = {}


def _template(shape: tuple[Any, ...]) -> tuple[tuple[str, ...], str] | None:
    kind = shape[0]
    fields = _fields(shape[1:])
    if type(kind) is not str or fields is None:
        return None
    tpl = (fields[0], '{"data":{' + fields[1] + '},"kind":' + _quote(kind).replace("%", "%%")
           + ',"seq":%d,"subject":%s,"time":%s}\n')
    if len(_TEMPLATES) < _CACHE_MAX:
        _TEMPLATES[shape] = tpl
    return tpl


def _column_text(values: list[Any]) -> list[str]:
    """Canonical text of one column of values (the same key across records of one shape)."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return list(map(_quote, values))
    if kinds == {float}:
        return list(map(_float_text, values))
    return list(map(_text, values))


def _record_lines(records: Iterable[EventRecord]) -> list[str]:
    """``canonical(rec.to_dict()) + "\\n"`` for each record, built without the general path's copies.

    Every digest goes through here, thousands of records per run, so it works by columns:
    records are grouped by shape (kind and keys), each shape has a %-format of the whole line
    (:func:`_template`), and each key's values are converted together, mostly by C functions
    mapped over the column.  Records with non-string keys, or a time, seq or subject of an
    unexpected type, take the general path.
    """
    records = list(records)
    out: list[str] = [""] * len(records)
    shapes: dict[tuple[Any, ...], list[int]] = {}
    for k, rec in enumerate(records):
        key = (rec[2], *rec[4])
        members = shapes.get(key)
        if members is None:
            shapes[key] = [k]
        else:
            members.append(k)
    time_text: dict[float, str] = {}
    for shape, members in shapes.items():
        group = [records[k] for k in members]
        tpl = _TEMPLATES.get(shape) or _template(shape)
        if tpl is None or {type(r[0]) for r in group} != {float} or {type(r[1]) for r in group} != {int} \
                or {type(r[3]) for r in group} != {str}:
            for k, rec in zip(members, group, strict=True):
                out[k] = canonical(rec.to_dict()) + "\n"
            continue
        order, fmt = tpl
        columns = [_column_text([r[4][key] for r in group]) for key in order]
        for r in group:
            if r[0] not in time_text:
                time_text[r[0]] = _float_text(r[0])
        columns += ([r[1] for r in group], list(map(_quote, [r[3] for r in group])),
                    [time_text[r[0]] for r in group])
        for k, line in zip(members, map(fmt.__mod__, zip(*columns, strict=True)), strict=True):
            out[k] = line
    return out


class EventRecord(NamedTuple):
    """One thing that happened: at ``time`` hours after the start, the ``seq``-th record.

    A named tuple: the engine writes thousands per run, and a tuple is the cheapest record.
    """

    time: float
    seq: int
    kind: str
    subject: str
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "seq": self.seq, "kind": self.kind, "subject": self.subject, "data": self.data}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EventRecord:  # type: ignore[override]
        return cls(float(d["time"]), int(d["seq"]), str(d["kind"]), str(d["subject"]), dict(d.get("data") or {}))


_INF = math.inf
_new_record = tuple.__new__  # builds a record without the named tuple's Python-level __new__


class EventLog:
    """An append-only, ordered list of :class:`EventRecord`.

    The engine writes with :meth:`add` and :meth:`add_many`, which keep a record's fields in a
    flat list of pending fields and make the :class:`EventRecord` tuples only when the log is
    first read: a named tuple is always tracked by the cycle collector, and thousands of them
    made one by one during a run set off collections that scan them again and again (about a
    tenth of a run's CPU), while the pending fields (floats, strings, flat dicts) are not
    tracked at all.  Every reader sees the made records, in the same order with the same numbers.
    """

    def __init__(self, records: Iterable[EventRecord] = ()) -> None:
        self._records: list[EventRecord] = list(records)
        self._pending: list[Any] = []  # (time, kind, subject, data) of each record not made yet, flat
        self._last = self._records[-1].time if self._records else _MIN_FLOAT  # not -inf: refuse a first time of -inf
        self._canon: list[str] = []  # canonical lines of the first len(_canon) records (records never change)

    def _made(self) -> list[EventRecord]:
        """Every record, the pending ones made now (numbered and converted in C, in one pass)."""
        pending = self._pending
        if pending:
            records = self._records
            records.extend(map(_new_record, repeat(EventRecord), zip(map(float, pending[0::4]), count(len(records)),
                                                                     pending[1::4], pending[2::4], pending[3::4])))
            pending.clear()
        return self._records

    def add(self, time: float, kind: str, subject: str, data: dict[str, Any]) -> None:
        """Add a record stamped with the next sequence number (what :meth:`append` does, returning nothing)."""
        if not self._last - 1e-9 <= time < _INF:  # also refuses NaN
            raise ValueError(f"event log time must be finite and never go backwards: {time!r} after {self._last!r}")
        self._last = time
        self._pending += (time, kind, subject, data)

    def at(self, time: float) -> list[Any]:
        """Where to write records of ``time`` the cheapest way, without a call per record:
        ``out += (time, kind, subject, data)`` adds one.  The time is checked here, once; the
        caller writes that same ``time`` into each (the engine's cascade, within one instant)."""
        if not self._last - 1e-9 <= time < _INF:
            raise ValueError(f"event log time must be finite and never go backwards: {time!r} after {self._last!r}")
        self._last = time
        return self._pending

    def append(self, time: float, kind: str, subject: str = "", data: dict[str, Any] | None = None) -> EventRecord:
        """Add a record stamped with the next sequence number and return it."""
        self.add(time, kind, subject, {} if data is None else data)
        return self._made()[-1]

    def extend(self, time: float, kind: str, subjects: list[str], data: list[dict[str, Any]]) -> None:
        """Add one record per (subject, data) pair, all at ``time`` and of ``kind`` (a hazard step's damage)."""
        if not self._last - 1e-9 <= time < _INF:
            raise ValueError(f"event log time must be finite and never go backwards: {time!r} after {self._last!r}")
        if len(subjects) != len(data):
            raise ValueError(f"{len(subjects)} subjects for {len(data)} data")
        self._last = time
        # interleaved in C: a Python loop here cost a third of a flood step's damage records
        self._pending.extend(chain.from_iterable(zip(repeat(time), repeat(kind), subjects, data)))

    def __len__(self) -> int:
        return len(self._records) + len(self._pending) // 4

    def __iter__(self) -> Iterator[EventRecord]:
        return iter(self._made())

    def __getitem__(self, i: int) -> EventRecord:
        return self._made()[i]

    @property
    def records(self) -> list[EventRecord]:
        return self._made()

    def of_kind(self, *kinds: str) -> list[EventRecord]:
        """Records whose kind is one of ``kinds``, in log order."""
        return [r for r in self._made() if r.kind in kinds]

    def first(self, kind: str) -> EventRecord | None:
        return next((r for r in self._made() if r.kind == kind), None)

    # -- serialisation ---------------------------------------------------------------
    def _canonical_lines(self) -> list[str]:
        """Canonical JSON of every record, made once per record (digest and JSONL share it)."""
        done, records = len(self._canon), self._made()
        if done < len(records):
            self._canon.extend(_record_lines(records[done:]))
        return self._canon

    def to_jsonl(self) -> str:
        """The log as canonical JSON Lines (one record per line)."""
        return "".join(self._canonical_lines())

    def write_jsonl(self, path: str | Path) -> None:
        Path(path).write_text(self.to_jsonl(), encoding="utf-8")

    @classmethod
    def from_jsonl(cls, text: str) -> EventLog:
        recs = [EventRecord.from_dict(json.loads(line)) for line in text.splitlines() if line.strip()]
        return cls(recs)

    @classmethod
    def read_jsonl(cls, path: str | Path) -> EventLog:
        return cls.from_jsonl(Path(path).read_text(encoding="utf-8"))

    def digest(self) -> str:
        """SHA-256 of the canonical form of the whole log."""
        return hashlib.sha256("".join(self._canonical_lines()).encode("utf-8")).hexdigest()

    def to_dataframe(self) -> pd.DataFrame:
        """One row per record: time, seq, kind, subject, and ``data`` as a dict column."""
        import pandas as pd

        records = self._made()
        return pd.DataFrame(
            {
                "time": [r.time for r in records],
                "seq": [r.seq for r in records],
                "kind": [r.kind for r in records],
                "subject": [r.subject for r in records],
                "data": [r.data for r in records],
            }
        )
