"""The safe YAML loader: YAML 1.2 values, line numbers, and hostile input refused early and clearly."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError

from scro_sim.errors import Problem, ScroSimError, YamlError
from scro_sim.yamlio import Limits, Loaded, field_path, load_yaml, problems_from_pydantic, read_text


def load(text: str, **kw: object) -> Loaded:
    return load_yaml(None, text=text, path="t.yaml", **kw)  # type: ignore[arg-type]


def refused(text: str, **kw: object) -> YamlError:
    with pytest.raises(YamlError) as info:
        load(text, **kw)
    err = info.value
    assert err.problems, "a YamlError must carry at least one Problem"
    assert all(p.path == "t.yaml" for p in err.problems)
    return err


# --------------------------------------------------------------------------------------------
# Problems and errors print as path:line: field: message


def test_problem_str_is_path_line_field_message() -> None:
    p = Problem("a.yaml", 7, "assets[2].colour", "unknown field")
    assert str(p) == "a.yaml:7: assets[2].colour: unknown field"


def test_problem_str_without_line_or_field_drops_them() -> None:
    assert str(Problem("a.yaml", None, "", "file is empty")) == "a.yaml: file is empty"
    assert str(Problem("a.yaml", 3, "", "bad")) == "a.yaml:3: bad"


def test_error_message_lists_every_problem_and_exposes_the_first_location() -> None:
    err = YamlError(problems=[Problem("a.yaml", 2, "x", "one"), Problem("a.yaml", 5, "y", "two")])
    assert str(err) == "a.yaml:2: x: one\na.yaml:5: y: two"
    assert (err.path, err.line, err.field) == ("a.yaml", 2, "x")
    assert isinstance(err, ScroSimError)


def test_error_from_message_builds_one_problem() -> None:
    err = YamlError("bad tab", path="a.yaml", line=4, field="roads")
    assert err.problems == [Problem("a.yaml", 4, "roads", "bad tab")]


def test_field_path_formats_keys_and_indices() -> None:
    assert field_path(("assets", 3, "backup", "hours")) == "assets[3].backup.hours"
    assert field_path(()) == ""
    assert field_path((0, "a")) == "[0].a"


# --------------------------------------------------------------------------------------------
# Values: YAML 1.2, so no YAML 1.1 surprises


def test_yaml11_booleans_stay_strings() -> None:
    data = load("a: NO\nb: yes\nc: On\nd: n\ne: true\nf: False\n").data
    assert data == {"a": "NO", "b": "yes", "c": "On", "d": "n", "e": True, "f": False}


@pytest.mark.parametrize("word", ["NO", "yes", "on", "Off", "y"])
def test_a_yaml11_directive_does_not_turn_words_into_booleans(word: str) -> None:
    # `%YAML 1.1` makes ruamel tag these as booleans; they must stay text or be refused,
    # never become False (today `yes` and `on` come out False).
    try:
        data = load(f"%YAML 1.1\n---\na: {word}\n").data
    except YamlError:
        return
    assert data == {"a": word}


@pytest.mark.parametrize("version", ["1.3", "1.9", "2.0"])
def test_an_unknown_yaml_version_directive_is_a_yaml_error(version: str) -> None:
    err = refused(f"%YAML {version}\n---\na: 1\n")
    assert err.problems[0].line == 1


def test_leading_zero_integer_is_decimal_not_octal() -> None:
    assert load("a: 010\n").data["a"] == 10


def test_sexagesimal_is_not_a_number() -> None:
    assert load("a: 1:30\n").data["a"] == "1:30"


def test_dates_stay_strings() -> None:
    assert load("a: 2024-03-01\n").data["a"] == "2024-03-01"


def test_numbers_in_yaml12_notations() -> None:
    data = load("a: 0x1F\nb: 0o17\nc: 1_000\nd: 1e3\ne: .5\nf: -0x10\ng: ~\nh: null\n").data
    assert data == {"a": 31, "b": 15, "c": 1000, "d": 1000.0, "e": 0.5, "f": -16, "g": None, "h": None}


def test_nan_and_inf_become_floats_for_the_schema_to_judge() -> None:
    data = load("a: .nan\nb: .inf\nc: -.inf\nd: .NaN\n").data
    assert math.isnan(data["a"]) and math.isnan(data["d"])
    assert data["b"] == math.inf and data["c"] == -math.inf


def test_keys_that_look_like_null_or_bool_stay_text() -> None:
    assert load("~: 1\ntrue: 2\n").data == {"~": 1, "true": 2}


def test_core_tags_are_allowed() -> None:
    assert load("a: !!str 1\nb: !!int '2'\nc: !!map {d: 1}\n").data == {"a": "1", "b": 2, "c": {"d": 1}}


def test_explicit_bool_tag_on_a_yaml11_word_is_refused_not_false() -> None:
    # YAML 1.2 has no boolean "yes"; `!!bool yes` silently becoming False would flip a setting.
    err = refused("pause: !!bool yes\n")
    assert err.problems[0].line == 1


def test_explicit_float_tag_on_text_is_refused_with_field() -> None:
    err = refused("a:\n  b: !!float abc\n")
    assert (err.problems[0].line, err.problems[0].field) == (2, "a.b")


def test_utf8_bom_is_accepted() -> None:
    assert load_yaml(b"\xef\xbb\xbfa: 1\n").data == {"a": 1}


def test_crlf_line_endings_are_accepted() -> None:
    loaded = load("a: 1\r\nb: 2\r\n")
    assert loaded.data == {"a": 1, "b": 2}
    assert loaded.lines[("b",)] == 2


# --------------------------------------------------------------------------------------------
# Line numbers


def test_every_key_and_item_has_its_line() -> None:
    text = "# comment\nname: x\nassets:\n  - id: A\n    needs:\n      power: [B, C]\n  - id: B\n"
    loaded = load(text)
    assert loaded.lines[("name",)] == 2
    assert loaded.lines[("assets",)] == 3
    assert loaded.lines[("assets", 0)] == 4
    assert loaded.lines[("assets", 0, "needs", "power")] == 6
    assert loaded.lines[("assets", 1, "id")] == 7


def test_line_of_falls_back_to_the_deepest_existing_part() -> None:
    loaded = load("a:\n  b:\n    c: 1\n")
    assert loaded.line_of(("a", "b", "missing", 4)) == 2
    assert loaded.line_of(("zzz",)) == 1


def test_pydantic_errors_become_one_problem_each_with_lines() -> None:
    class M(BaseModel):
        model_config = ConfigDict(extra="forbid")
        a: int
        b: float

    loaded = load("a: x\n\nb: 1\ncolour: red\n")
    with pytest.raises(ValidationError) as info:
        M.model_validate(loaded.data)
    problems = problems_from_pydantic(info.value, loaded)
    assert [(p.line, p.field) for p in problems] == [(1, "a"), (4, "colour")]
    assert "unknown field" in problems[1].message


# --------------------------------------------------------------------------------------------
# Malformed, ambiguous or hostile text


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: [1, 2\nb: 3\n", 2),
        ("a: 1\n b: 2\n", 2),
        ("a: {b: 1\n", 2),
        ("a: 'unterminated\n", 2),
        ("- a\nb: 1\n", 2),
    ],
)
def test_malformed_yaml_is_a_yaml_error_with_its_line(text: str, line: int) -> None:
    err = refused(text)
    assert err.problems[0].line == line


def test_tab_indentation_is_refused_and_the_message_says_use_spaces() -> None:
    err = refused("a:\n\tb: 1\n")
    assert err.problems[0].line == 2
    assert "tab" in err.problems[0].message.lower() and "spaces" in err.problems[0].message


def test_two_documents_are_refused_at_the_second() -> None:
    err = refused("a: 1\n---\nb: 2\n")
    assert err.problems[0].line == 2
    assert "more than one YAML document" in err.problems[0].message


def test_one_document_with_explicit_start_marker_is_fine() -> None:
    assert load("---\na: 1\n").data == {"a": 1}


def test_duplicate_key_is_refused_with_its_line_and_path() -> None:
    err = refused("a:\n  b: 1\n  c: 2\n  b: 3\n")
    assert (err.problems[0].line, err.problems[0].field) == (4, "a.b")
    assert "duplicate key 'b'" in err.problems[0].message


def test_duplicate_numeric_key_is_refused() -> None:
    err = refused("1: a\n1: b\n")
    assert err.problems[0].line == 2


def test_a_list_as_key_is_refused() -> None:
    assert refused("{[1]: 2}\n").problems[0].line == 1


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['echo pwned']\n",
        "a: !!python/name:os.system\n",
        "a: !custom 1\n",
        "a: !!set {b}\n",
        "a: !!binary aGk=\n",
        "a: !!timestamp 2020-01-01\n",
    ],
)
def test_explicit_tags_are_refused(text: str) -> None:
    err = refused(text)
    assert "tag" in err.problems[0].message and err.problems[0].line == 1


def test_python_tag_is_refused_before_anything_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"a: !!python/object/apply:os.system ['touch {marker}']\n"
    refused(text)
    assert not marker.exists()


def test_alias_bomb_is_refused_at_the_first_anchor_quickly(guard, billion_laughs: str) -> None:
    text = "# billion laughs\n" + billion_laughs
    with pytest.raises(YamlError) as info:
        guard(load, text)
    p = info.value.problems[0]
    assert p.line == 2 and "anchor" in p.message


def test_a_lone_alias_is_refused() -> None:
    assert "alias" in refused("a: 1\nb: *x\n").problems[0].message


def test_merge_key_without_alias_is_plain_data() -> None:
    assert load("a:\n  <<: {b: 1}\n").data == {"a": {"<<": {"b": 1}}}


def test_5000_digit_integer_is_a_clear_error_not_a_valueerror() -> None:
    err = refused("x:\n  count: " + "9" * 5000 + "\n")
    p = err.problems[0]
    assert (p.line, p.field) == (2, "x.count")
    assert "5,000 characters" in p.message


def test_5000_digit_float_is_a_clear_error() -> None:
    assert refused("count: 1." + "0" * 5000 + "\n").problems[0].field == "count"


def test_huge_single_string_is_refused() -> None:
    err = refused("a: 1\nb: " + "x" * 30_000 + "\n")
    assert err.problems[0].line == 2 and "30,000 characters" in err.problems[0].message


def test_huge_block_string_is_refused() -> None:
    text = "a: |\n" + "".join("  " + "x" * 100 + "\n" for _ in range(300))
    assert "characters" in refused(text).problems[0].message


def test_too_many_values_is_refused_at_the_cap() -> None:
    text = "a:\n" + "".join("- 1\n" for _ in range(200))
    err = refused(text, limits=Limits(max_nodes=100))
    assert "more than 100 values" in err.problems[0].message
    assert err.problems[0].line is not None and 90 <= err.problems[0].line <= 110


def test_too_many_values_under_default_limits_is_answered_without_a_hang(tmp_path: Path,
                                                                         guard_process) -> None:
    # 5 MB is the size cap; a 3 MB file can hold 1.5 million tiny values.  The module promises
    # an answer "in about a second"; the 10 s guard (a subprocess, killed on overrun) proves no hang.
    text = "a: [" + ",".join(["1"] * 1_500_000) + "]\n"
    assert len(text.encode()) < Limits().max_bytes
    p = tmp_path / "many.yaml"
    p.write_text(text)
    code = (
        "import sys\n"
        "from scro_sim.errors import YamlError\n"
        "from scro_sim.yamlio import load_yaml\n"
        "try:\n"
        "    load_yaml(sys.argv[1])\n"
        "except YamlError as e:\n"
        "    print(e.problems[0].message)\n"
        "    sys.exit(3)\n"
    )
    proc = guard_process(code, str(p), timeout=10)
    assert proc.returncode == 3, proc.stderr
    assert "values" in proc.stdout


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 5000 + "]" * 5000 + "\n",
        "a: " + "{b: " * 5000 + "1" + "}" * 5000 + "\n",
        "".join("  " * i + f"k{i}:\n" for i in range(1000)) + "  " * 1000 + "v\n",
        "".join("  " * i + "-\n" for i in range(1000)) + "  " * 1000 + "v\n",
    ],
    ids=["flow-seq", "flow-map", "block-map", "block-seq"],
)
def test_deep_nesting_is_refused_quickly(text: str, guard) -> None:
    with pytest.raises(YamlError) as info:
        guard(load, text)
    assert "nesting is deeper than 40" in info.value.problems[0].message


def test_nesting_at_the_limit_is_fine() -> None:
    assert load("a: " + "[" * 39 + "]" * 39 + "\n").data is not None


def test_control_character_is_a_yaml_error() -> None:
    refused("a: \x07\n")


# --------------------------------------------------------------------------------------------
# Files: empty, binary, not UTF-8, too big, missing


@pytest.mark.parametrize("content", [b"", b"   \n\n\t\n"], ids=["empty", "blank"])
def test_empty_file_is_refused(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "empty.yaml"
    p.write_bytes(content)
    with pytest.raises(YamlError) as info:
        load_yaml(p)
    assert info.value.problems[0].path == str(p)
    assert "empty" in info.value.problems[0].message


def test_comment_only_file_holds_no_data(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("# nothing here\n")
    with pytest.raises(YamlError, match="no data"):
        load_yaml(p)


def test_empty_text_is_refused() -> None:
    with pytest.raises(YamlError, match="empty"):
        load("")


def test_binary_file_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "picture.yaml"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(YamlError) as info:
        load_yaml(p)
    assert "binary" in info.value.problems[0].message


def test_invalid_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    p = tmp_path / "latin1.yaml"
    p.write_bytes("a: 1\nb: 2\nname: café\n".encode("latin-1"))
    with pytest.raises(YamlError) as info:
        load_yaml(p)
    assert info.value.problems[0].line == 3
    assert "UTF-8" in info.value.problems[0].message


def test_50_mb_file_is_refused_by_size_quickly(tmp_path: Path, guard) -> None:
    p = tmp_path / "huge.yaml"
    with p.open("wb") as f:
        chunk = b"key: value\n" * 100_000
        while f.tell() < 50 * 1024 * 1024:
            f.write(chunk)
    with pytest.raises(YamlError) as info:
        guard(load_yaml, p)
    assert "bytes; the limit is" in info.value.problems[0].message
    assert info.value.problems[0].path == str(p)


def test_oversized_text_and_bytes_are_refused() -> None:
    limits = Limits(max_bytes=1000)
    with pytest.raises(YamlError, match="larger than"):
        load("a: " + "x" * 2000 + "\n", limits=limits)
    with pytest.raises(YamlError, match="limit"):
        load_yaml(b"a: " + b"x" * 2000, limits=limits)


def test_missing_file_is_a_yaml_error(tmp_path: Path) -> None:
    with pytest.raises(YamlError, match="cannot read"):
        load_yaml(tmp_path / "nope.yaml")


def test_a_directory_is_a_yaml_error(tmp_path: Path) -> None:
    with pytest.raises(YamlError) as info:
        load_yaml(tmp_path)
    assert info.value.problems[0].path == str(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_not_waited_on(tmp_path: Path, guard_process) -> None:
    # stat() says 0 bytes for pipes and devices (/dev/zero, /dev/stdin), so the size cap does not
    # stop the read; an uploaded scenario can name such a path as its city.
    fifo = tmp_path / "city.yaml"
    os.mkfifo(fifo)
    code = (
        "import sys\n"
        "from scro_sim.errors import YamlError\n"
        "from scro_sim.yamlio import load_yaml\n"
        "try:\n"
        "    load_yaml(sys.argv[1])\n"
        "except YamlError as e:\n"
        "    print(e.problems[0])\n"
    )
    proc = guard_process(code, str(fifo), timeout=5)
    assert proc.returncode == 0 and str(fifo) in proc.stdout, proc.stderr


def test_read_text_labels_uploads() -> None:
    assert read_text(b"a: 1\n") == ("a: 1\n", "<upload>")
    assert read_text(b"a: 1\n", path="up.yaml")[1] == "up.yaml"


# --------------------------------------------------------------------------------------------
# Fuzz: any text or bytes either loads or is a YamlError; never another exception


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_any_text_loads_or_is_a_yaml_error(text: str) -> None:
    try:
        load(text)
    except YamlError as err:
        assert err.problems


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_load_or_are_a_yaml_error(raw: bytes) -> None:
    try:
        load_yaml(raw)
    except YamlError as err:
        assert err.problems


_yamlish = st.lists(
    st.sampled_from(["a", ":", " ", "\n", "-", "[", "]", "{", "}", ",", "&x", "*x", "!!", "'", '"', "#",
                     "|", ">", "?", "\t", "1", ".nan", "NO", "---", "...", "%YAML 1.1", "%YAML 1.3", "<<"]),
    max_size=60,
).map("".join)


@settings(max_examples=250, deadline=None)
@given(_yamlish)
def test_yaml_like_noise_loads_or_is_a_yaml_error(text: str) -> None:
    try:
        load(text)
    except YamlError as err:
        assert err.problems


# --------------------------------------------------------------------------------------------
# Caps per kind of file


def test_each_kind_of_file_has_its_own_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scro_sim.yamlio import PLAN_LIMITS, SCENARIO_LIMITS, city_limits

    monkeypatch.delenv("SCRO_SIM_MAX_CITY_MB", raising=False)
    assert SCENARIO_LIMITS.max_bytes == PLAN_LIMITS.max_bytes == 1024 * 1024
    assert SCENARIO_LIMITS.max_nodes == PLAN_LIMITS.max_nodes == 50_000
    assert city_limits().max_bytes == 256 * 1024 * 1024
    assert city_limits().max_nodes > Limits().max_nodes  # a big city has millions of values
    monkeypatch.setenv("SCRO_SIM_MAX_CITY_MB", "512")
    assert city_limits().max_bytes == 512 * 1024 * 1024
    p = tmp_path / "s.yaml"
    p.write_text("a: " + "x" * 100 + "\n" + ("# " + "y" * 1000 + "\n") * 1100)
    with pytest.raises(YamlError) as info:
        load_yaml(p, limits=SCENARIO_LIMITS)
    assert str(info.value) == f"{p}: file is {p.stat().st_size:,} bytes; the limit is 1 MiB for a scenario file"
    assert load_yaml(p, limits=city_limits()).data == {"a": "x" * 100}


def test_an_over_long_value_names_its_field() -> None:
    err = refused("a:\n  b: " + "x" * 25_000 + "\n")
    assert err.problems[0].field == "a.b" and err.problems[0].line == 2


def test_thousands_of_union_errors_are_each_reported_once() -> None:
    # pydantic's union noise is filtered with one lookup per error, not a scan of all errors
    class Item(BaseModel):
        model_config = ConfigDict(extra="forbid")
        n: int | list[int]

    class Doc(BaseModel):
        items: list[Item]

    text = "items:\n" + "".join(f"  - {{n: x{k}}}\n" for k in range(3000))
    loaded = load(text)
    with pytest.raises(ValidationError) as info:
        Doc.model_validate(loaded.data)
    probs = problems_from_pydantic(info.value, loaded)
    assert len(probs) == 3000 and probs[0].field == "items[0].n" and probs[-1].line == 3001


def test_readable_field_names_list_items_by_id_else_position_from_one() -> None:
    from scro_sim.yamlio import readable_field

    data = {"msel": [{"id": "I01"}, {"id": "I02", "text": {}}], "hazards": [{"kind": "flood"}]}
    assert readable_field("msel[1].text.en", data) == "msel[I02].text.en"
    assert readable_field("hazards[0].peak", data) == "hazards[#1].peak"
    assert readable_field("msel[9].at_h", data) == "msel[#10].at_h"
    assert readable_field("title", None) == "title"


def test_an_id_given_twice_names_its_items_by_position() -> None:
    from scro_sim.yamlio import readable_field

    data = {"msel": [{"id": "I1"}, {"id": "I2"}, {"id": "I2"}]}
    assert readable_field("msel[2].id", data) == "msel[#3].id"
    assert readable_field("msel[0].id", data) == "msel[I1].id"
