"""Safe YAML reading for files people write: line numbers kept, hostile input refused early.

Lecturers write scenarios and cities by hand, and the app accepts uploads, so the loader
must answer every input in about a second with a ``path:line: field: message`` problem:
size, nesting, node-count and scalar-length caps are checked on the event stream before
anything is built; anchors/aliases (alias bombs), explicit tags (``!!python/...``), several
documents and duplicate keys are refused.  ruamel.yaml reads YAML 1.2, so ``NO`` stays a
string and ``1:30`` is not silently 90.
"""

from __future__ import annotations

import math
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    MappingEndEvent,
    ScalarEvent,
    SequenceEndEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Problem, YamlError

__all__ = ["Limits", "Loaded", "field_path", "load_yaml", "problems_from_pydantic", "read_text"]

_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


@dataclass(frozen=True)
class Limits:
    """Caps applied before validation; generous for real files, tight for attacks."""

    max_bytes: int = 5 * 1024 * 1024
    max_depth: int = 40
    max_nodes: int = 40_000
    max_scalar_chars: int = 20_000
    max_number_chars: int = 64


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
            raise YamlError(f"file is {st.st_size:,} bytes; the limit is {limits.max_bytes:,}", path=label)
        try:
            with p.open("rb") as f:
                raw = f.read(limits.max_bytes + 1)
        except OSError as exc:
            raise YamlError(f"cannot read file: {exc.strerror or exc}", path=label) from None
    if len(raw) > limits.max_bytes:
        raise YamlError(f"file is {len(raw):,} bytes; the limit is {limits.max_bytes:,}", path=label)
    if not raw.strip():
        raise YamlError("file is empty", path=label)
    if b"\x00" in raw:
        raise YamlError("file is binary (contains NUL bytes), not YAML text", path=label)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlError(f"not valid UTF-8 text (byte {exc.start}); save the file as UTF-8", path=label, line=line) from None
    return text, label


def _mark_line(exc: MarkedYAMLError) -> int | None:
    mark = exc.problem_mark or exc.context_mark
    return mark.line + 1 if mark is not None else None


def _scan_events(yaml: YAML, text: str, label: str, limits: Limits) -> None:
    depth = nodes = docs = 0
    for ev in yaml.parse(text):
        line = ev.start_mark.line + 1 if ev.start_mark is not None else None
        if isinstance(ev, DocumentStartEvent):
            docs += 1
            if docs > 1:
                raise YamlError("file holds more than one YAML document ('---'); keep one per file", path=label, line=line)
        elif isinstance(ev, AliasEvent):
            raise YamlError("aliases (*name) are not allowed; write the value out", path=label, line=line)
        elif isinstance(ev, ScalarEvent | CollectionStartEvent):
            nodes += 1
            if nodes > limits.max_nodes:
                raise YamlError(f"file has more than {limits.max_nodes:,} values", path=label, line=line)
            if ev.anchor:
                raise YamlError(f"anchors (&{ev.anchor}) are not allowed; write the value out", path=label, line=line)
            tag = ev.tag
            if tag is not None and tag not in ("!", *_CORE_TAGS):
                raise YamlError(f"explicit tag {tag!r} is not allowed", path=label, line=line)
            if isinstance(ev, ScalarEvent):
                if len(ev.value) > limits.max_scalar_chars:
                    raise YamlError(f"value is {len(ev.value):,} characters; the limit is {limits.max_scalar_chars:,}",
                                    path=label, line=line)
            else:
                depth += 1
                if depth > limits.max_depth:
                    raise YamlError(f"nesting is deeper than {limits.max_depth} levels", path=label, line=line)
        elif isinstance(ev, MappingEndEvent | SequenceEndEvent):
            depth -= 1


class _Builder:
    def __init__(self, label: str, limits: Limits) -> None:
        self.label = label
        self.limits = limits
        self.lines: dict[tuple[Any, ...], int] = {}

    def build(self, node: Node, loc: tuple[Any, ...]) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            out: dict[Any, Any] = {}
            for knode, vnode in node.value:
                if not isinstance(knode, ScalarNode):
                    raise YamlError("a key must be a plain value, not a list or mapping",
                                    path=self.label, line=knode.start_mark.line + 1)
                key = self.scalar(knode, loc)
                if isinstance(key, float | bool) or key is None:
                    key = knode.value
                if key in out:
                    raise YamlError(f"duplicate key {key!r}", path=self.label, line=knode.start_mark.line + 1,
                                    field=field_path((*loc, key)))
                self.lines[(*loc, key)] = knode.start_mark.line + 1
                out[key] = self.build(vnode, (*loc, key))
            return out
        if isinstance(node, SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self.scalar(node, loc)

    def scalar(self, node: ScalarNode, loc: tuple[Any, ...]) -> Any:
        tag, value = node.tag, node.value
        line = node.start_mark.line + 1
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            if value.lower() not in ("true", "false"):
                raise YamlError(f"{value!r} is not a boolean; write true or false", path=self.label, line=line,
                                field=field_path(loc))
            return value.lower() == "true"
        if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            if len(value) > self.limits.max_number_chars:
                raise YamlError(f"number has {len(value):,} characters; the limit is {self.limits.max_number_chars}",
                                path=self.label, line=line, field=field_path(loc))
            text = value.replace("_", "")
            try:
                if tag == "tag:yaml.org,2002:int":
                    if text.lower().startswith(("0x", "-0x", "+0x")):
                        return int(text, 16)
                    if text.lower().startswith(("0o", "-0o", "+0o")):
                        return int(text, 8)
                    return int(text)
                low = text.lower()
                if low in (".nan", "+.nan", "-.nan") or low.endswith(".inf"):
                    return math.nan if "nan" in low else (-math.inf if low.startswith("-") else math.inf)
                return float(text)
            except ValueError as exc:
                raise YamlError(f"not a number: {exc}", path=self.label, line=line, field=field_path(loc)) from None
        return value


def load_yaml(source: str | Path | bytes, *, path: str | None = None, text: str | None = None,
              limits: Limits = Limits()) -> Loaded:
    """Load one YAML document safely, keeping the line of every key and list item.

    ``source`` is a file path or raw bytes; pass ``text`` to load a string already in memory
    (``path`` then names it in messages).  Raises :class:`YamlError` with the line.
    """
    if text is None:
        text, label = read_text(source, path=path, limits=limits)
    else:
        label = path or (str(source) if source else "<text>")
        if len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
            raise YamlError(f"text is larger than {limits.max_bytes:,} bytes", path=label)
        if not text.strip():
            raise YamlError("file is empty", path=label)
    m = re.search(r"^%YAML[ \t]+(\S+)", text, re.MULTILINE)
    if m and m.group(1) != "1.2":
        raise YamlError(f"only YAML 1.2 is read; remove the '%YAML {m.group(1)}' line", path=label,
                        line=text.count("\n", 0, m.start()) + 1)
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = True  # we report duplicates ourselves, with the field path
    try:
        _scan_events(yaml, text, label, limits)
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        msg = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        if "\t" in msg or "\\t" in msg or ("\t" in text and "tab" in msg.lower()):
            msg += " (use spaces, not tabs, to indent)"
        raise YamlError(msg or "malformed YAML", path=label, line=_mark_line(exc)) from None
    except YAMLError as exc:
        raise YamlError(f"malformed YAML: {exc}", path=label) from None
    except RecursionError:
        raise YamlError(f"nesting is deeper than {limits.max_depth} levels", path=label) from None
    if node is None:
        raise YamlError("file holds no data", path=label)
    builder = _Builder(label, limits)
    data = builder.build(node, ())
    return Loaded(data=data, path=label, lines=builder.lines)


def field_path(loc: Iterable[Any]) -> str:
    """``('assets', 3, 'backup', 'hours')`` -> ``assets[3].backup.hours``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


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


_FRIENDLY = {
    "extra_forbidden": "unknown field (check the spelling; see scenarios/README.md for the fields allowed here)",
    "missing": "required field is missing",
    "finite_number": "must be a finite number (not NaN or infinity)",
}


def problems_from_pydantic(exc: Any, loaded: Loaded, *, prefix: tuple[Any, ...] = ()) -> list[Problem]:
    """Turn a pydantic ``ValidationError`` into one :class:`Problem` per error, with lines."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    errors = exc.errors(include_url=False)
    locs = [_data_loc(loaded.data, prefix + tuple(e["loc"]), e["type"]) for e in errors]
    real = [loc for loc, e in zip(locs, errors, strict=True) if not _is_noise(e)]
    for err, loc in zip(errors, locs, strict=True):
        if _is_noise(err) and any(r[: len(loc)] == loc for r in real):
            continue  # a union branch the input does not take, or a list "too short" because an item failed
        msg = _FRIENDLY.get(err["type"], err["msg"])
        if err["type"] == "value_error" and msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        key = (field_path(loc), msg)
        if key in seen:
            continue
        seen.add(key)
        problems.append(Problem(loaded.path, loaded.line_of(loc), field_path(loc), msg))
    return sorted(problems, key=lambda p: (p.line or 0, p.field, p.message))
