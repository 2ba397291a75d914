"""The event log's canonical form: the fast path used for digests equals the general definition."""

from __future__ import annotations

import collections
import enum
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scro_sim.log import EventLog, EventRecord, _record_lines, canonical

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
    st.sampled_from([0.1, 1 / 3, 2.0**53, -(2.0**53), 2.0**53 + 2, 1e-7, 123456789012.5, -0.0, 1e300, 5e-324]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                             max_size=3), max_leaves=6)
records = st.builds(
    EventRecord,
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from(["damage", "asset_down", "service", "décision"]),
    st.text(max_size=8),
    st.dictionaries(st.text(max_size=6), values, max_size=5),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(records, max_size=6))
def test_fast_canonical_lines_equal_the_general_canonical_form(recs: list[EventRecord]) -> None:
    assert _record_lines(recs) == [canonical(r.to_dict()) + "\n" for r in recs]


def test_canonical_form_rounds_to_12_significant_digits_and_writes_whole_floats_as_integers() -> None:
    rec = EventRecord(13.0, 4, "damage", "S\u00e91\n", {"x": 0.1 + 0.2, "n": 2.0, "b": True, "z": None, "k": "\x01"})
    line = _record_lines([rec])[0]
    assert line == ('{"data":{"b":true,"k":"\\u0001","n":2,"x":0.3,"z":null},"kind":"damage","seq":4,'
                    '"subject":"S\u00e91\\n","time":13}\n')
    assert json.loads(line)["data"]["x"] == 0.3


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_in_a_record_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        _record_lines([EventRecord(1.0, 0, "hazard", "f", {"stage_m": bad})])


def test_numpy_scalars_and_tuples_take_the_general_path() -> None:
    rec = EventRecord(1.5, 0, "hazard", "f", {"stage_m": np.float64(2.25), "ids": ("a", "b")})
    assert _record_lines([rec]) == ['{"data":{"ids":["a","b"],"stage_m":2.25},"kind":"hazard","seq":0,'
                                    '"subject":"f","time":1.5}\n']


def test_digest_of_a_fixed_log_does_not_change() -> None:
    """Pins the canonical form: stored runs are verified against digests computed by earlier versions."""
    log = EventLog()
    log.append(0.0, "run_start", "", {"seed": 1, "duration_h": 72.0})
    log.append(2.5, "asset_down", "SS1", {"cause": "flooded", "type": "substation"})
    log.append(2.5, "service", "D1", {"service": "power", "unserved": 1200, "unserved_vulnerable": 180.123456789012345})
    log.append(10.25, "backup_start", "H1", {"sources": ["own"], "missing": ["power"], "hours_left": 8.0})
    assert log.to_jsonl().splitlines()[2] == ('{"data":{"service":"power","unserved":1200,"unserved_vulnerable":'
                                              '180.123456789},"kind":"service","seq":2,"subject":"D1","time":2.5}')
    assert log.digest() == "88e05dc7874bcfd83ece21f6326cfdd911ca4b15bd0e29af15971890fe12ec3b"


def test_extend_numbers_records_in_order_and_refuses_time_going_backwards() -> None:
    log = EventLog()
    log.append(2.0, "hazard", "f", {"stage_m": 1.0})
    log.extend(3.0, "damage", ["A", "B"], [{"state": "failed"}, {"state": "degraded"}])
    assert [(r.seq, r.time, r.subject) for r in log] == [(0, 2.0, "f"), (1, 3.0, "A"), (2, 3.0, "B")]
    with pytest.raises(ValueError, match="backwards"):
        log.extend(1.0, "damage", ["C"], [{}])
    with pytest.raises(ValueError, match="subjects"):
        log.extend(3.0, "damage", ["C"], [])
    assert len(log) == 3


def test_records_added_without_being_returned_read_back_like_appended_ones_in_order() -> None:
    """``add`` and ``at``'s writer keep a record's fields pending; every way of reading the log sees
    them made, in order."""
    added, appended = EventLog(), EventLog()
    for log, write in ((added, added.add), (appended, appended.append)):
        write(0, "run_start", "", {"seed": 1})
        log.extend(2.5, "damage", ["A", "B"], [{"state": "failed"}, {"state": "degraded"}])
        write(np.float64(3.0), "asset_down", "A", {"cause": "damage"})
        assert len(log) == 4
    assert [r.seq for r in added] == [0, 1, 2, 3]
    assert list(added) == list(appended) and added.digest() == appended.digest()
    assert [type(r.time) for r in added.records] == [float] * 4 and type(added[0]) is EventRecord
    out = added.at(4.0)  # the writer: a record per four fields added to it
    out += (4.0, "asset_up", "A", {"on_backup": False})
    assert appended.append(4.0, "asset_up", "A", {"on_backup": False}).seq == 4
    assert added.first("asset_up") == appended[4] and added.of_kind("asset_up") == [appended[4]]
    assert added.to_jsonl() == appended.to_jsonl() and len(added.to_dataframe()) == 5
    with pytest.raises(ValueError, match="backwards"):
        added.add(3.5, "hazard", "f", {})
    with pytest.raises(ValueError, match="backwards"):
        added.at(3.5)
    with pytest.raises(ValueError, match="finite"):
        added.at(math.nan)
    assert len(added) == 5


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_record_time_that_is_not_finite_is_refused_even_as_the_first_record(bad: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        EventLog().append(bad, "hazard", "f")
    log = EventLog()
    log.append(1.0, "hazard", "f")
    with pytest.raises(ValueError, match="finite"):
        log.append(bad, "hazard", "f")
    with pytest.raises(ValueError, match="finite"):
        log.extend(bad, "damage", ["A"], [{}])
    with pytest.raises(ValueError, match="finite"):
        log.at(bad)
    assert len(log) == 1


def test_the_digest_of_a_growing_log_changes_with_every_record_and_matches_a_fresh_copy() -> None:
    """The canonical lines are cached per record; a record appended after a digest must still count."""
    log = EventLog()
    log.append(0.0, "run_start", "", {"seed": 1})
    seen = {log.digest()}
    log.append(1.0, "hazard", "f", {"stage_m": 1.5})
    assert log.digest() not in seen
    seen.add(log.digest())
    log.extend(2.0, "damage", ["A", "B"], [{"state": "failed"}, {"state": "degraded"}])
    assert log.digest() not in seen
    assert log.digest() == EventLog(list(log)).digest()  # the same records, no cache
    assert log.to_jsonl() == EventLog(list(log)).to_jsonl()
    assert len(log.to_jsonl().splitlines()) == len(log) == 4


def test_jsonl_round_trip_keeps_the_digest_and_the_records() -> None:
    log = EventLog()
    log.append(0.0, "run_start", "", {"seed": 1, "duration_h": 72.0})
    log.append(2.5, "service", "D1", {"service": "power", "unserved": 12, "unserved_vulnerable": 1.5})
    back = EventLog.from_jsonl(log.to_jsonl() + "\n  \n")
    assert back.digest() == log.digest()
    assert [r.to_dict() for r in back] == [r.to_dict() for r in log]
    assert back.first("service") == log[1] and back.first("cost") is None
    assert [r.seq for r in back.of_kind("service", "run_start")] == [0, 1]


def test_times_equal_within_a_nanosecond_are_accepted_as_not_going_backwards() -> None:
    log = EventLog()
    log.append(5.0, "hazard", "f")
    log.append(5.0 - 1e-10, "hazard", "f")  # a float rounding below the last time is not time going back
    with pytest.raises(ValueError, match="backwards"):
        log.append(4.99, "hazard", "f")
    assert [r.seq for r in log] == [0, 1]


class _Colour(enum.StrEnum):
    RED = "red"


class _Level(enum.IntEnum):
    HIGH = 3


def test_canonical_sorts_keys_writes_whole_floats_as_integers_and_rounds_the_rest() -> None:
    assert canonical({"b": [1.0, 2.5, 0.1 + 0.2], "a": {3: True}, "n": None}) == '{"a":{"3":true},"b":[1,2.5,0.3],"n":null}'
    # 2**53 and beyond are no longer exact integers as floats: they keep 12 significant digits
    assert canonical([2.0**53, -(2.0**53), 2.0**53 - 1, 1 / 3, -0.0, 1e-7]) == \
        "[9007199254740000.0,-9007199254740000.0,9007199254740991,0.333333333333,0,1e-07]"


def test_canonical_takes_numpy_scalars_tuples_enums_and_dict_subclasses_as_their_plain_values() -> None:
    value = {"f": np.float64(2.0), "F": np.float64(1000.0), "g": np.float64(1 / 3), "h": np.float64(2.0**53),
             "i": np.int64(7), "t": (1, "x"),
             "e": _Colour.RED, "k": _Level.HIGH, "o": collections.OrderedDict([("z", 1.0), (5, np.float32(0.5))])}
    assert canonical(value) == ('{"F":1000,"e":"red","f":2,"g":0.333333333333,"h":9007199254740000.0,"i":7,"k":3,'
                                '"o":{"5":0.5,"z":1},"t":[1,"x"]}')


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float64("nan"), np.float64("-inf")])
def test_canonical_refuses_non_finite_numbers(bad: float) -> None:
    with pytest.raises(ValueError, match="non-finite number"):
        canonical({"x": [bad]})


@pytest.mark.parametrize("bad", [object(), {1, 2}, b"bytes"])
def test_canonical_refuses_what_json_cannot_hold(bad: object) -> None:
    with pytest.raises(TypeError, match=f"cannot put {type(bad).__name__} in an event log"):
        canonical({"x": bad})


def test_a_log_written_to_a_file_reads_back_with_the_same_digest(tmp_path: Path) -> None:
    log = EventLog()
    log.append(0.0, "run_start", "", {"seed": 1})
    log.append(1.5, "hazard", "f\u00e9", {"stage_m": 1.25})
    path = tmp_path / "run.jsonl"
    log.write_jsonl(str(path))
    assert path.read_bytes() == log.to_jsonl().encode("utf-8")
    back = EventLog.read_jsonl(str(path))
    assert back.digest() == log.digest() and len(back) == 2


def test_the_data_frame_has_one_row_per_record_in_log_order() -> None:
    log = EventLog()
    log.append(0.0, "run_start", "", {"seed": 1})
    log.append(1.5, "hazard", "f", {"stage_m": 1.25})
    df = log.to_dataframe()
    assert list(df.columns) == ["time", "seq", "kind", "subject", "data"]
    assert df.to_dict("records") == [r.to_dict() for r in log]
    assert EventLog().to_dataframe().empty


@pytest.mark.parametrize("cache_max", [0, 4096])
def test_the_fast_path_builds_new_record_shapes_right_with_empty_caches(monkeypatch: pytest.MonkeyPatch,
                                                                        cache_max: int) -> None:
    """Line templates are cached per (kind, keys); start from empty caches so the templates are built here."""
    import scro_sim.log as logmod

    monkeypatch.setattr(logmod, "_TEMPLATES", {})
    monkeypatch.setattr(logmod, "_DICT_FORMATS", {})
    monkeypatch.setattr(logmod, "_CACHE_MAX", cache_max)
    recs = [EventRecord(1.0, 0, "k%", "s", {"b": 1.5, "a%": {"y": [1, 2.5], "x": "t"}, "c": None}),
            EventRecord(2.0, 1, "k%", "s", {"b": 2.0, "a%": {"y": [], "x": "u"}, "c": True}),
            EventRecord(3.0, 2, "other", "", {}),
            EventRecord(4.0, 3, "nested", "", {"m": {7: "int key inside"}}),
            EventRecord(5.0, 4, "top", "", {8: "int key at the top"}),
            EventRecord(6.0, 5, 9, "", {"kind": "not a string"})]  # type: ignore[arg-type]
    assert _record_lines(recs) == [canonical(r.to_dict()) + "\n" for r in recs]
    assert _record_lines(recs)[0] == ('{"data":{"a%":{"x":"t","y":[1,2.5]},"b":1.5,"c":null},"kind":"k%","seq":0,'
                                      '"subject":"s","time":1}\n')
    if cache_max == 0:
        assert logmod._TEMPLATES == {} and logmod._DICT_FORMATS == {}
    else:  # one template per shape of string kind and keys, ready to fill in
        assert sorted(logmod._TEMPLATES, key=str) == [("k%", "b", "a%", "c"), ("nested", "m"), ("other",)]
        assert logmod._TEMPLATES[("k%", "b", "a%", "c")][0] == ("a%", "b", "c")
        assert logmod._DICT_FORMATS[("y", "x")] == (("x", "y"), '{"x":%s,"y":%s}')
