"""Safe YAML reading for files people write: line numbers kept, hostile input refused early.

Lecturers write scenarios and cities by hand, and the app accepts uploads, so the loader
must answer every input in about a second with a ``path:line: field: message`` problem:
size, nesting, node-count and scalar-length caps are checked on the event stream before
anything is built; anchors/aliases (alias bombs), explicit tags (``!!python/...``), several
documents and duplicate keys are refused.  Values are built straight from the parser's
events (libyaml's, when PyYAML has it: about fifty times faster than a pure-Python parser)
and plain scalars are resolved by the YAML 1.2 core schema, never PyYAML's 1.1 resolver, so
``NO`` stays a string and ``1:30`` is not silently 90.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import os
import re
import stat
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import N_, Msg, Problem, Words, YamlError

__all__ = [
    "PLAN_LIMITS",
    "SCENARIO_LIMITS",
    "Limits",
    "Loaded",
    "city_limits",
    "dump_yaml",
    "field_path",
    "load_yaml",
    "problems_from_pydantic",
    "pydantic_message",
    "read_text",
    "readable",
    "readable_field",
    "readable_problems",
    "validate_model",
]

_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Caps applied before validation; generous for real files, tight for attacks.

    ``kind`` names the file in the size message ("scenario", "city") and ``hint`` says how to
    raise the cap, where it can be raised.
    """

    max_bytes: int = 5 * MiB
    max_depth: int = 40
    max_nodes: int = 300_000
    max_scalar_chars: int = 20_000
    max_number_chars: int = 64
    kind: str = ""
    hint: str = ""

    def too_big(self, size: int) -> str:
        """The message for a file of ``size`` bytes over the cap."""
        cap = f"{self.max_bytes / MiB:g} MiB" if self.max_bytes % (MiB // 4) == 0 else f"{self.max_bytes:,} bytes"
        kind = f" for a {self.kind} file" if self.kind else ""
        return f"file is {size:,} bytes; the limit is {cap}{kind}" + (f" ({self.hint})" if self.hint else "")


#: scenarios and plans are written by hand and uploaded: small, and read in about a second (the
#: bundled scenarios hold under 2,000 values).
SCENARIO_LIMITS = Limits(max_bytes=1 * MiB, max_nodes=50_000, kind="scenario")
PLAN_LIMITS = Limits(max_bytes=1 * MiB, max_nodes=50_000, kind="plan")
#: default cap on a city file, in MiB; ``$SCRO_SIM_MAX_CITY_MB`` changes it.
CITY_MB = 256


def city_limits() -> Limits:
    """Caps for a city file: ``$SCRO_SIM_MAX_CITY_MB`` MiB (default 256), a value per 10 bytes.

    Generated cities are large (a 50,000-asset city is about 26 MB of YAML); they are published
    by whoever runs the server, not uploaded, so the cap is an operator's setting.
    """
    raw = os.environ.get("SCRO_SIM_MAX_CITY_MB", "").strip()
    try:
        mb = float(raw) if raw else CITY_MB
    except ValueError:
        mb = CITY_MB
    if not math.isfinite(mb) or mb <= 0:
        mb = CITY_MB
    max_bytes = int(mb * MiB)
    return Limits(max_bytes=max_bytes, max_nodes=max(300_000, max_bytes // 10), kind="city",
                  hint="set SCRO_SIM_MAX_CITY_MB to raise it")


@dataclass
class Loaded:
    """Plain data (dict/list/str/int/float/bool/None) plus the line of every key and item."""

    data: Any
    path: str
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def line_of(self, loc: Iterable[Any]) -> int | None:
        """The line of the deepest part of ``loc`` that exists in the file."""
        loc = tuple(loc)
        for n in range(len(loc), -1, -1):
            line = self.lines.get(loc[:n])
            if line is not None:
                return line
        return None


def read_text(source: str | Path | bytes, *, path: str | None = None, limits: Limits = Limits()) -> tuple[str, str]:
    """Read a file (or bytes) as UTF-8 text, refusing empty, binary, huge or non-UTF-8 input.

    Returns ``(text, label)`` where label is the path used in messages.
    """
    if isinstance(source, bytes):
        raw, label = source, path or "<upload>"
    else:
        p = Path(source)
        label = path or str(source)
        try:
            st = p.stat()
        except OSError as exc:
            raise YamlError(f"cannot read file: {exc.strerror or exc}", path=label) from None
        if not stat.S_ISREG(st.st_mode):
            raise YamlError("not a regular file", path=label)
        if st.st_size > limits.max_bytes:
            raise YamlError(limits.too_big(st.st_size), path=label)
        try:
            with p.open("rb") as f:
                raw = f.read(limits.max_bytes + 1)
        except OSError as exc:
            raise YamlError(f"cannot read file: {exc.strerror or exc}", path=label) from None
    if len(raw) > limits.max_bytes:
        raise YamlError(limits.too_big(len(raw)), path=label)
    if not raw.strip():
        raise YamlError(Msg(N_("file is empty")), path=label)
    if b"\x00" in raw:
        raise YamlError(Msg(N_("file is binary (contains NUL bytes), not YAML text")), path=label)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlError(Msg(N_("not valid UTF-8 text (byte {pos}); save the file as UTF-8"), pos=exc.start), path=label,
                        line=line) from None
    return text, label


def _mark_line(exc: Any) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


# YAML 1.2 core schema for plain (unquoted, untagged) scalars: "NO" and "1:30" stay text.
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
# (digit separators "1_000" and signed hex are accepted, as ruamel.yaml's 1.2 reader does)
_INT = re.compile(r"^[-+]?(?:[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


def _events(text: str) -> Iterator[Any]:
    """PyYAML's event stream, from libyaml when it is there (one fast pass, no resolver)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


class _Builder:
    """Builds plain data straight from parser events, checking every cap on the way."""

    def __init__(self, label: str, limits: Limits) -> None:
        self.label = label
        self.limits = limits
        self.lines: dict[tuple[Any, ...], int] = {}

    def fail(self, msg: str, line: int | None, loc: tuple[Any, ...] = ()) -> YamlError:
        return YamlError(msg, path=self.label, line=line, field=field_path(loc))

    def run(self, events: Iterable[Any]) -> Any:
        import yaml

        # a frame: [container, loc, pending key (maps), key line (maps)]
        stack: list[list[Any]] = []
        root: Any = None
        have_root = False
        nodes = docs = 0
        for ev in events:
            line = ev.start_mark.line + 1 if ev.start_mark is not None else None
            if isinstance(ev, yaml.DocumentStartEvent):
                docs += 1
                if docs > 1:
                    raise self.fail(Msg(N_("file holds more than one YAML document ('---'); keep one per file")), line)
                continue
            if isinstance(ev, yaml.AliasEvent):
                raise self.fail(Msg(N_("aliases (*name) are not allowed; write the value out")), line)
            if isinstance(ev, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                frame = stack.pop()
                if frame[2] is not None:
                    raise self.fail(Msg(N_("a key without a value")), frame[3], frame[1])
                continue
            if not isinstance(ev, yaml.ScalarEvent | yaml.CollectionStartEvent):
                continue
            nodes += 1
            if nodes > self.limits.max_nodes:
                raise self.fail(f"file has more than {self.limits.max_nodes:,} values", line)
            if ev.anchor:
                raise self.fail(Msg(N_("anchors (&{anchor}) are not allowed; write the value out"), anchor=ev.anchor), line)
            tag = ev.tag
            if tag is not None and tag not in ("!", *_CORE_TAGS):
                raise self.fail(Msg(N_("explicit tag {tag!r} is not allowed"), tag=tag), line)
            # where does this node go?
            if stack and isinstance(stack[-1][0], dict) and stack[-1][2] is None:
                frame = stack[-1]
                if not isinstance(ev, yaml.ScalarEvent):
                    raise self.fail(Msg(N_("a key must be a plain value, not a list or mapping")), line, frame[1])
                key = self.scalar(ev, frame[1], line)
                if isinstance(key, float | bool) or key is None:
                    key = ev.value
                if key in frame[0]:
                    raise self.fail(Msg(N_("duplicate key {key!r}"), key=key), line, (*frame[1], key))
                frame[2], frame[3] = key, line
                self.lines[(*frame[1], key)] = line
                continue
            if stack:
                frame = stack[-1]
                if isinstance(frame[0], dict):
                    loc = (*frame[1], frame[2])
                else:
                    loc = (*frame[1], len(frame[0]))
                    self.lines[loc] = line  # type: ignore[assignment]
            else:
                loc = ()
                self.lines[()] = line  # type: ignore[assignment]
            if isinstance(ev, yaml.ScalarEvent):
                value: Any = self.scalar(ev, loc, line)
            else:
                if len(stack) + 1 > self.limits.max_depth:
                    raise self.fail(f"nesting is deeper than {self.limits.max_depth} levels", line)
                value = {} if isinstance(ev, yaml.MappingStartEvent) else []
            if stack:
                frame = stack[-1]
                if isinstance(frame[0], dict):
                    frame[0][frame[2]] = value
                    frame[2] = None
                else:
                    frame[0].append(value)
            else:
                root, have_root = value, True
            if isinstance(ev, yaml.CollectionStartEvent):
                stack.append([value, loc, None, None])
        if not have_root:
            raise YamlError(Msg(N_("file holds no data")), path=self.label)
        return root

    def scalar(self, ev: Any, loc: tuple[Any, ...], line: int | None) -> Any:
        value: str = ev.value
        if len(value) > self.limits.max_scalar_chars:
            raise self.fail(f"value is {len(value):,} characters; the limit is {self.limits.max_scalar_chars:,}",
                            line, loc)
        tag = ev.tag
        if tag == "!" or (tag is None and not ev.implicit[0]):
            return value  # quoted, block or "!"-tagged: text
        if tag is None:  # plain: resolve by the YAML 1.2 core schema
            if _NULL.match(value):
                tag = "tag:yaml.org,2002:null"
            elif _BOOL.match(value):
                tag = "tag:yaml.org,2002:bool"
            elif _INT.match(value):
                tag = "tag:yaml.org,2002:int"
            elif _FLOAT.match(value):
                tag = "tag:yaml.org,2002:float"
            else:
                return value
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            if value.lower() not in ("true", "false"):
                raise self.fail(Msg(N_("{value!r} is not a boolean; write true or false"), value=value), line, loc)
            return value.lower() == "true"
        if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            if len(value) > self.limits.max_number_chars:
                raise self.fail(f"number has {len(value):,} characters; the limit is {self.limits.max_number_chars}",
                                line, loc)
            text = value.replace("_", "")
            try:
                if tag == "tag:yaml.org,2002:int":
                    low = text.lower()
                    if low.lstrip("+-").startswith("0x"):
                        return int(text, 16)
                    if low.lstrip("+-").startswith("0o"):
                        return int(text.replace("0o", "").replace("0O", ""), 8)
                    return int(text)
                low = text.lower()
                if low in (".nan", "+.nan", "-.nan") or low.endswith(".inf"):
                    return math.nan if "nan" in low else (-math.inf if low.startswith("-") else math.inf)
                return float(text)
            except ValueError as exc:
                raise self.fail(f"not a number: {exc}", line, loc) from None
        return value  # tag:yaml.org,2002:str and the collection tags on a scalar


def load_yaml(source: str | Path | bytes, *, path: str | None = None, text: str | None = None,
              limits: Limits = Limits()) -> Loaded:
    """Load one YAML document safely, keeping the line of every key and list item.

    ``source`` is a file path or raw bytes; pass ``text`` to load a string already in memory
    (``path`` then names it in messages).  Raises :class:`YamlError` with the line.
    """
    import yaml

    if text is None:
        text, label = read_text(source, path=path, limits=limits)
    else:
        label = path or (str(source) if source else "<text>")
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > limits.max_bytes:
            raise YamlError("text is larger than the limit: " + limits.too_big(size), path=label)
        if not text.strip():
            raise YamlError(Msg(N_("file is empty")), path=label)
    m = re.search(r"^%YAML[ \t]+(\S+)", text, re.MULTILINE)
    if m and m.group(1) != "1.2":
        raise YamlError(Msg(N_("only YAML 1.2 is read; remove the '%YAML {version}' line"), version=m.group(1)),
                        path=label,
                        line=text.count("\n", 0, m.start()) + 1)
    if m:  # libyaml knows 1.1 only; the directive changes nothing in how we resolve values
        text = text[: m.start()] + "#" + text[m.start() + 1:]
    builder = _Builder(label, limits)
    try:
        data = builder.run(_events(text))
    except yaml.MarkedYAMLError as exc:
        msg = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        line = _mark_line(exc)
        rows = text.split("\n")
        bad = rows[line - 1] if line and line <= len(rows) else ""
        if "nesting depth" in msg:
            msg = f"nesting is deeper than {limits.max_depth} levels"
        elif "\t" in bad or "\t" in msg or "tab" in msg.lower():
            msg = Msg(N_("{yaml}: a tab character on this line (use spaces, not tabs, to indent)"), yaml=msg)
        raise YamlError(msg or "malformed YAML", path=label, line=line) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"malformed YAML: {exc}", path=label) from None
    except RecursionError:
        raise YamlError(f"nesting is deeper than {limits.max_depth} levels", path=label) from None
    return Loaded(data=data, path=label, lines=builder.lines)


def dump_yaml(data: Any) -> str:
    """YAML text that :func:`load_yaml` reads back as the same data.

    PyYAML's dumper quotes by YAML 1.1 rules; a string that the 1.2 reader would take for a
    number or a boolean (``1e3``, ``TRUE``) is quoted here too.
    """
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def text(dumper: Any, value: str) -> Any:
        plain = bool(_NULL.match(value) or _BOOL.match(value) or _INT.match(value) or _FLOAT.match(value))
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'" if plain else None)

    _Dumper.add_representer(str, text)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=None, width=110)


def field_path(loc: Iterable[Any]) -> str:
    """``('assets', 3, 'backup', 'hours')`` -> ``assets[3].backup.hours``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_INDEX = re.compile(r"\[(\d+)\]")


def readable_field(field: str, data: Any) -> str:
    """``msel[3].text`` -> ``msel[I04].text`` for a person: list items by their id, else (no id, or one the list
    gives twice) by position from 1.

    Machine-facing messages keep pydantic's 0-based indices; the author page shows this form.
    """
    out: list[str] = []
    cur: Any = data
    pos = 0
    for m in _INDEX.finditer(field):
        head = field[pos:m.start()]
        out.append(head)
        for name in (n for n in head.split(".") if n):
            cur = cur.get(name) if isinstance(cur, dict) else None
        i = int(m.group(1))
        item = cur[i] if isinstance(cur, list) and i < len(cur) else None
        ident = item.get("id") if isinstance(item, dict) else None
        named = isinstance(ident, str | int) and not isinstance(ident, bool)
        if named and sum(1 for x in cur if isinstance(x, dict) and x.get("id") == ident) > 1:
            named = False  # an id given twice names neither item: say which by position
        out.append(f"[{ident}]" if named else f"[#{i + 1}]")
        cur = item
        pos = m.end()
    out.append(field[pos:])
    return "".join(out)


def readable(problems: Iterable[Problem], text: str, path: str) -> list[Problem]:
    """The problems with their fields named for a person by :func:`readable_field` (list items by id)."""
    try:
        data = load_yaml(path, path=path, text=text).data
    except YamlError:
        data = None
    return [dataclasses.replace(p, field=readable_field(p.field, data)) for p in problems]


def readable_problems(problems: Iterable[Problem], text: str, path: str, words: Words | None = None) -> list[str]:
    """Problems as ``file:line: field: message`` lines for a person, fields named by :func:`readable_field`,
    the messages in the language of ``words`` (English without)."""
    return [p.say(words) for p in readable(problems, text, path)]


def _data_loc(data: Any, loc: tuple[Any, ...], err_type: str = "") -> tuple[Any, ...]:
    """Drop pydantic's union/validator tags from ``loc``, keeping parts that exist in ``data``.

    pydantic only descends into input that exists, so a part missing from ``data`` is a tag,
    except the last part of a missing or unknown field, which names that field.
    """
    kept: list[Any] = []
    cur = data
    for i, part in enumerate(loc):
        if (isinstance(cur, dict) and part in cur) or (
            isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        ):
            kept.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and i == len(loc) - 1 and err_type in ("missing", "extra_forbidden"):
            kept.append(part)
    return tuple(kept)


def _is_noise(err: Any) -> bool:
    t = err["type"]
    return t.endswith("_type") or (t == "too_short" and bool(err.get("input")))


#: our own words for pydantic's least helpful messages
_FRIENDLY = {
    "extra_forbidden": N_("unknown field (check the spelling; see scenarios/README.md for the fields allowed here)"),
    "missing": N_("required field is missing"),
    "finite_number": N_("must be a finite number (not NaN or infinity)"),
}

#: pydantic's messages by error type, as templates over the error's ``ctx`` (pydantic's own
#: English words: a message whose English comes out different is shown as pydantic wrote it)
_PYDANTIC = {
    "string_type": N_("Input should be a valid string"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "dict_type": N_("Input should be a valid dictionary"),
    "list_type": N_("Input should be a valid list"),
    "tuple_type": N_("Input should be a valid tuple"),
    "model_type": N_("Input should be a valid dictionary or instance of {class_name}"),
    "model_attributes_type": N_("Input should be a valid dictionary or object to extract fields from"),
    "datetime_type": N_("Input should be a valid datetime"),
    "datetime_parsing": N_("Input should be a valid datetime, {error}"),
    "datetime_from_date_parsing": N_("Input should be a valid datetime or date, {error}"),
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "literal_error": N_("Input should be {expected}"),
    "enum": N_("Input should be {expected}"),
    "string_pattern_mismatch": N_("String should match pattern '{pattern}'"),
    "union_tag_invalid": N_("Input tag '{tag}' found using {discriminator} does not match any of the expected "
                            "tags: {expected_tags}"),
    "union_tag_not_found": N_("Unable to extract tag using discriminator {discriminator}"),
}
#: the counted ones, singular and plural (pydantic's ``expected_plural``)
_COUNTED = {
    "too_short": (N_("{field_type} should have at least {min_length} item after validation, not {actual_length}"),
                  N_("{field_type} should have at least {min_length} items after validation, not {actual_length}"),
                  "min_length"),
    "too_long": (N_("{field_type} should have at most {max_length} item after validation, not {actual_length}"),
                 N_("{field_type} should have at most {max_length} items after validation, not {actual_length}"),
                 "max_length"),
    "string_too_short": (N_("String should have at least {min_length} character"),
                         N_("String should have at least {min_length} characters"), "min_length"),
    "string_too_long": (N_("String should have at most {max_length} character"),
                        N_("String should have at most {max_length} characters"), "max_length"),
}
#: pydantic's names of collections (``field_type``), in words a lecturer reads
_COLLECTIONS = {"List": N_("List"), "Tuple": N_("Tuple"), "Dictionary": N_("Dictionary"), "Set": N_("Set")}


def _choices(expected: str) -> str:
    """pydantic's ``'a', 'b' or 'c'`` with its "or" said in the reader's language."""
    head, sep, last = expected.rpartition(" or ")
    return Msg(N_("{choices} or {last}"), choices=head, last=last) if sep else expected


def pydantic_message(err: Any) -> str:
    """One pydantic error's message as a :class:`Msg` (said in any language), by its ``type`` and ``ctx``.

    The English is pydantic's (or :data:`_FRIENDLY`'s); a message from one of our validators
    (``value_error``) is the :class:`Msg` it raised.  An error type not known here, or one whose
    words pydantic has changed, keeps pydantic's English.
    """
    kind, ctx, english = err["type"], dict(err.get("ctx") or {}), err["msg"]
    if kind in _FRIENDLY:
        return Msg(_FRIENDLY[kind])
    if kind in ("value_error", "assertion_error"):
        exc = ctx.get("error")
        inner = exc.args[0] if isinstance(exc, Exception) and len(exc.args) == 1 else None
        if english.startswith(("Value error, ", "Assertion failed, ")):
            english = english.split(", ", 1)[1]
        return inner if isinstance(inner, Msg) and str(inner) == english else english
    msg: Msg | None = None
    try:
        if kind in _COUNTED:
            one, many, count = _COUNTED[kind]
            if "field_type" in ctx:
                ctx["field_type"] = Msg(_COLLECTIONS[ctx["field_type"]]) if ctx["field_type"] in _COLLECTIONS \
                    else ctx["field_type"]
            msg = Msg(one if ctx.get(count) == 1 else many, **ctx)
        elif kind in _PYDANTIC:
            if kind in ("literal_error", "enum") and isinstance(ctx.get("expected"), str):
                ctx["expected"] = _choices(ctx["expected"])
            msg = Msg(_PYDANTIC[kind], **ctx)
    except (KeyError, IndexError, ValueError):
        msg = None
    return msg if msg is not None and str(msg) == english else english


@functools.lru_cache(maxsize=8)
def _field_names(model: Any) -> tuple[str, ...]:
    """Every field name and alias of ``model`` and of the models inside it, for spelling hints."""
    from pydantic import BaseModel

    names: set[str] = set()
    todo: list[Any] = [model]
    done: set[Any] = set()
    while todo:
        cur = todo.pop()
        if cur in done:
            continue
        done.add(cur)
        if isinstance(cur, type) and issubclass(cur, BaseModel):
            for name, field in cur.model_fields.items():
                names.add(field.alias or name)
                todo.append(field.annotation)
        else:
            todo.extend(typing.get_args(cur))
    return tuple(sorted(names))


def _spelling_hints(errors: list[Any], locs: list[tuple[Any, ...]], model: Any) -> dict[tuple[Any, ...], str]:
    """For each unknown field, the field it probably meant: a missing one beside it, else any known name.

    An unknown field that matches a missing one beside it is one problem, not two: the missing
    field's location is returned under the key ``("missing",) + loc`` so its error can be dropped.
    """
    missing: dict[tuple[Any, ...], list[str]] = {}
    for err, loc in zip(errors, locs, strict=True):
        if err["type"] == "missing" and loc:
            missing.setdefault(loc[:-1], []).append(str(loc[-1]))
    vocabulary = _field_names(model) if model is not None else ()
    hints: dict[tuple[Any, ...], str] = {}
    for err, loc in zip(errors, locs, strict=True):
        if err["type"] != "extra_forbidden" or not loc:
            continue
        wrong = str(loc[-1])
        close = difflib.get_close_matches(wrong, missing.get(loc[:-1], []), n=1, cutoff=0.6)
        if close:
            hints[loc] = close[0]
            hints[("missing", *loc[:-1], close[0])] = wrong
            continue
        close = difflib.get_close_matches(wrong, vocabulary, n=1, cutoff=0.75)
        if close and close[0] != wrong:
            hints[loc] = close[0]
    return hints


def problems_from_pydantic(
    exc: Any, loaded: Loaded, *, prefix: tuple[Any, ...] = (), model: Any = None
) -> list[Problem]:
    """Turn a pydantic ``ValidationError`` into one :class:`Problem` per error, with lines.

    With ``model``, an unknown field gets a "did you mean" from the model's field names.
    """
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    errors = exc.errors(include_url=False)
    locs = [_data_loc(loaded.data, prefix + tuple(e["loc"]), e["type"]) for e in errors]
    hints = _spelling_hints(errors, locs, model)
    # every prefix of a real error's location, so a noise error is matched in one lookup
    covered = {loc[:n] for loc, e in zip(locs, errors, strict=True) if not _is_noise(e) for n in range(len(loc) + 1)}
    for err, loc in zip(errors, locs, strict=True):
        if _is_noise(err) and loc in covered:
            continue  # a union branch the input does not take, or a list "too short" because an item failed
        if err["type"] == "missing" and ("missing", *loc) in hints:
            continue  # said once, on the misspelt field
        msg = pydantic_message(err)
        if err["type"] == "extra_forbidden" and loc in hints:
            msg = Msg(N_("unknown field; did you mean '{name}'?"), name=hints[loc])
        key = (field_path(loc), msg)
        if key in seen:
            continue
        seen.add(key)
        problems.append(Problem(loaded.path, loaded.line_of(loc), field_path(loc), msg))
    return sorted(problems, key=lambda p: (p.line or 0, p.field, p.message))


def validate_model(model: Any, loaded: Loaded, error: type[Exception], kind: str, fields: str) -> Any:
    """Validate a loaded file's data as pydantic ``model``; problems come back as ``error`` with lines.

    ``kind`` and ``fields`` name the file and its main fields for a file that is not a mapping.
    """
    from pydantic import ValidationError

    if not isinstance(loaded.data, dict):
        raise error(f"a {kind} file must be a mapping of fields ({fields})", path=loaded.path, line=1)
    try:
        return model.model_validate(loaded.data)
    except ValidationError as exc:
        raise error(problems=problems_from_pydantic(exc, loaded, model=model)) from None
