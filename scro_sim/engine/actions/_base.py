"""What every learner action declares: its fields, its ActionSpec defaults, its checks, its cost and its effect.

An action is one subclass of :class:`ActionKind` in its own module, registered by name in
:mod:`scro_sim.engine.actions`.  Its declarative half (name, fields, defaults, parameters,
static checks, words) is read by the scenario schema, the plan language, the CLI's ``play``
and the app's form; its behavioural half (``check``, ``cost``, ``commit``, ``lead_time``,
``effect``) runs on the :class:`~scro_sim.engine.Simulation` handed to it, whose changing
numbers are its :class:`~scro_sim.engine.state.RunState` ``sim.rs`` (``sim.<field>`` reads and
writes the same field).

This module imports only the city layer: the scenario package builds its models from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ...errors import Msg


def N_(s: str) -> str:
    """Mark a word for the catalogs (extracted by babel); the reader's language picks it at display time."""
    return s


#: the Action attributes every scenario knows (in the order the event log records them); an
#: action module may declare further ones, appended to the Action model after these.
BASE_ATTRIBUTES: tuple[str, ...] = ("target", "crew", "shelter", "order", "message")


@dataclass(frozen=True)
class Field:
    """One attribute of an action and what it must name.

    ``kind``: ``asset`` (of ``types`` if given), ``district``, ``district_or_all``, ``road``
    (FROM~TO), ``crew`` (a crew team id), ``assets`` (a list of asset ids), ``text``, ``count``
    (a positive whole number) or ``choice`` (one of ``choices``; when not required, leaving it
    out means the first choice).
    """

    name: str
    kind: str
    required: bool = True
    types: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    #: the message when a required field is missing (default: "<action> needs a <name>")
    missing: str = ""
    #: the prompt shown in the app's form and the terminal's help (a catalog msgid)
    prompt: str = ""


@dataclass(frozen=True)
class Param:
    """An ActionSpec parameter an action reads (``fuel_hours``, ``surge_share``...), with its bounds."""

    kind: str  # "hours", "share", "money", "metres", "count" or "factor" (1 or more)
    default: float
    doc: str = ""


def edge_index(name: str, city: Any) -> int | None:
    """Index of road ``FROM~TO`` in the city's edge arrays, or None."""
    a, sep, b = name.partition("~")
    if not sep or a not in city.road_index or b not in city.road_index:
        return None
    ends = city.memo.get("edge_by_ends")
    if ends is None:  # the first road between each pair of nodes, either way round: made once per city
        ends = {}
        for e, (u, v) in enumerate(zip(city.edge_u.tolist(), city.edge_v.tolist(), strict=True)):
            ends.setdefault((min(u, v), max(u, v)), e)
        city.memo["edge_by_ends"] = ends
    ia, ib = city.road_index[a], city.road_index[b]
    return ends.get((min(ia, ib), max(ia, ib)))


def _asset_of(v: str, f: Field, city: Any, *, target: bool) -> str | None:
    i = city.asset_index.get(v)
    if f.types and (i is None or str(city.asset_type[i]) not in f.types):
        if i is None and target:
            return Msg(N_("unknown asset {id!r}"), id=v)
        kinds: str = f.types[0] if len(f.types) == 1 else Msg(N_("{choices} or {last}"),
                                                              choices=" or ".join(f.types[:-1]), last=f.types[-1])
        return Msg(N_("{id!r} is not a {types}"), id=v, types=kinds)
    if i is None:
        return Msg(N_("unknown asset {id!r}"), id=v)
    return None


class ActionKind:
    """One learner action.  Subclasses set the class attributes and override what differs."""

    #: the action's name in scenarios, plans, decisions and the event log
    name: ClassVar[str]
    #: the Action attributes it reads, in the order a form or the terminal asks for them
    fields: ClassVar[tuple[Field, ...]] = ()
    #: ActionSpec defaults: enabled, cost, cost_per_person, lead_time_h and its parameters
    defaults: ClassVar[dict[str, Any]] = {}
    #: ActionSpec parameters this action introduces (shared ones are declared once, by the first)
    params: ClassVar[dict[str, Param]] = {}
    #: the terminal's verb for it (``scro-sim play``)
    verb: ClassVar[str]
    #: what it does, one line (a catalog msgid)
    help: ClassVar[str] = ""
    #: what the debrief holds it against: ``people`` (people at risk in its district), ``health``
    #: (hospital care), ``asset`` (its target's downtime), ``order`` (the downtime of the assets
    #: it orders), ``recovery`` (restoration as a whole) or ``none``
    bears_on: ClassVar[str] = "none"
    #: an order with no lead time takes effect at once (it reaches the crews with the decision)
    immediate: ClassVar[bool] = False
    #: it can bring a hidden cause to light (a scenario's ``reveal: {by_action: <name>}``)
    reveals: ClassVar[bool] = False
    #: it sends a repair crew to its target, so the order waits in the crews' queue once taken
    sends_crew: ClassVar[bool] = False

    # ---- the declarative half -------------------------------------------------------------

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def target(self) -> Field | None:
        """The ``target`` field, if the action has one."""
        return self.field("target")

    def describe(self, lang: str | None = "en") -> str:
        """What the action does, in the reader's language."""
        from ...i18n import translator

        return translator(lang)(self.help) if self.help else ""

    def usage(self) -> str:
        """The terminal's syntax: ``verb FIELD [FIELD]``."""
        parts = [self.verb]
        for f in self.fields:
            w = {"asset": "/".join(t.upper() for t in f.types) or "ASSET", "district": "DISTRICT",
                 "district_or_all": "all|DISTRICT", "road": "FROM~TO", "crew": "TEAM", "assets": "ASSET ASSET ...",
                 "text": f"{f.name.upper()}...", "count": "N", "choice": "|".join(f.choices)}[f.kind]
            parts.append(w if f.required else f"[{w}]")
        return " ".join(parts)

    def parse(self, words: Sequence[str]) -> dict[str, Any]:
        """The Action's fields from the terminal's words after the verb (the last text/list field takes the rest)."""
        out: dict[str, Any] = {"action": self.name}
        rest = list(words)
        for f in self.fields:
            if f.kind == "assets":
                out[f.name] = tuple(rest)
                rest = []
            elif f.kind == "text":
                if rest:
                    out[f.name] = " ".join(rest)
                rest = []
            elif f.kind == "choice" and not f.required:  # taken only when the word is one of its choices
                if rest and rest[0] in f.choices:
                    out[f.name] = rest.pop(0)
            elif rest:
                v: Any = rest.pop(0)
                if f.kind == "count":
                    try:
                        v = int(v)
                    except ValueError:
                        raise ValueError(Msg(N_("{verb}: {field} must be a whole number, got {value!r}"),
                                             verb=self.verb, field=f.name, value=v)) from None
                out[f.name] = v
            elif f.kind == "district_or_all":
                out[f.name] = "all"
            elif f.required:
                raise ValueError(Msg(N_("{verb} needs {field}; usage: {usage}"), verb=self.verb, field=f.name.upper(),
                                     usage=self.usage()))
        if rest:
            raise ValueError(Msg(N_("too many words for {verb}; usage: {usage}"), verb=self.verb, usage=self.usage()))
        return out

    def choices_for(self, f: Field, city: Any, scenario: Any) -> list[str] | None:
        """What a form may offer for field ``f`` (None: free input)."""
        if f.kind == "asset":
            return [a for a, t in zip(city.asset_ids, city.asset_type, strict=True) if not f.types or str(t) in f.types]
        if f.kind == "district":
            return list(city.district_ids)
        if f.kind == "district_or_all":
            return ["all", *city.district_ids]
        if f.kind == "road":
            return sorted({f"{city.road_ids[int(a)]}~{city.road_ids[int(b)]}"
                           for a, b in zip(city.edge_u, city.edge_v, strict=True)})
        if f.kind == "crew":
            return [t.id for t in scenario.resources.crews]
        if f.kind == "choice":
            return list(f.choices)
        return None

    def problems(self, a: Any, sc: Any, city: Any, *, in_rule: bool = False) -> list[tuple[tuple[Any, ...], str]]:
        """Static problems with one action of this kind (the fields name the right kind of thing)."""
        out: list[tuple[tuple[Any, ...], str]] = []
        for f in self.fields:
            v = getattr(a, f.name, None)
            if v is None or (f.kind == "assets" and not v):
                if f.required and f.kind != "district_or_all":
                    out.append(((f.name,), f.missing or Msg(N_("{action} needs a {field}"), action=self.name,
                                                            field=f.name)))
                continue
            if f.kind == "crew":
                continue  # checked for every action below
            if city is None or (in_rule and f.name == "target" and v in ("$asset", "$district")):
                continue
            msg: str | None = None
            if f.kind == "asset":
                msg = _asset_of(v, f, city, target=f.name == "target")
            elif f.kind == "district" and v not in city.district_index:
                msg = Msg(N_("unknown district {id!r}"), id=v)
            elif f.kind == "district_or_all" and v != "all" and v not in city.district_index:
                msg = Msg(N_("unknown district {id!r} (or 'all')"), id=v)
            elif f.kind == "road" and edge_index(v, city) is None:
                msg = Msg(N_("unknown road {id!r}; name a road as FROM~TO (e.g. N1~N2)"), id=v)
            elif f.kind == "assets":
                for k, x in enumerate(v):
                    if x not in city.asset_index:
                        out.append(((f.name, k), Msg(N_("unknown asset {id!r}"), id=x)))
            if msg:
                out.append(((f.name,), msg))
        return out

    # ---- the behavioural half, on a running Simulation -------------------------------------

    def state(self, sim: Any) -> dict[Any, Any]:
        """This action's own bookkeeping in a run (what is under way where), made on first use."""
        return sim.action_state.setdefault(self.name, {})

    def meets(self, a: Any, targets: Sequence[str]) -> bool:
        """Whether ``a`` meets an expected action of this kind naming ``targets`` (empty: any target)."""
        return not targets or a.target in targets

    def met_by_crew_sent(self, asset_id: str, targets: Sequence[str]) -> bool:
        """Whether a crew setting off for ``asset_id`` because of the learner's priority list meets an
        expected action of this kind naming ``targets`` (only a crew dispatch is met that way)."""
        return False

    def available(self, sim: Any) -> bool:
        """Whether the player may choose it now at all (the observation's ``allowed`` list)."""
        return True

    def logged_at_start(self, scenario: Any, city: Any) -> dict[str, Any]:
        """What the run_start record must carry for scoring to read this action's effects from the log
        alone (a fund's terms, the sites a plan covers); empty by default, and for a disabled action."""
        return {}

    def never_possible(self, scenario: Any) -> str | None:
        """Why no run of ``scenario`` can ever take this action (None: it can), read by ``scro-sim lint``:
        the scenario gives it nothing to use.  Disabled actions and costs are checked by the caller."""
        return None

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        """Problems that stop this action now, given the actions decided before it in the same decision."""
        return []

    def cost(self, sim: Any, a: Any) -> float:
        """What the action costs now (checked against the budget)."""
        return float(sim.scenario.actions.get(self.name).cost)

    def commit(self, sim: Any, a: Any) -> float:
        """Take what the action uses up when decided; return the money it spends (default: its cost)."""
        return self.cost(sim, a)

    def lead_time(self, sim: Any, a: Any) -> float:
        """Hours from the decision to the effect."""
        return float(sim.scenario.actions.get(self.name).lead_time_h)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        """Change the state once the lead time is over; add what the ``action`` record tells to ``data``."""


class OneAtATime(ActionKind):
    """An action of which one at a time may be under way, from its decision until its effect (a damage
    survey, an observer on the way to the gauge): a second is refused with :attr:`busy`, and the
    effect ends the first by calling :meth:`finished`."""

    busy: ClassVar[str] = ""  # the refusal while one is under way (an N_ message)

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        if self.state(sim).get("under_way") or any(b.action == self.name for b in earlier):
            return [Msg(self.busy)]
        return []

    def commit(self, sim: Any, a: Any) -> float:
        self.state(sim)["under_way"] = True
        return self.cost(sim, a)

    def finished(self, sim: Any) -> dict[Any, Any]:
        """End the one under way; returns this action's bookkeeping in the run."""
        st = self.state(sim)
        st["under_way"] = False
        return st
