"""Names, not ids, for everything a person reads: assets, districts, roads, crews, actions, injects, criteria.

The engine and the log speak in ids (``N01~N21``, ``power_crews#2``, ``warn_public``,
``I02``, ``CR_life``); pages, the debrief and reports show what the city model and the
scenario call them, in the reader's language.  An id the city or scenario does not name
falls back to a readable form of itself, never to an error.

Assets and districts read "Name (id)", as the map labels them (two water towers may share
a name).  A road has no name in a city file: a road over a bridge takes the bridge's name,
any other the names of the districts at its two ends ("road Old Town – Northgate"), with its
id after it so it can be found on the map.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .vocabulary import N_, reader

if TYPE_CHECKING:  # pragma: no cover
    from .city import City
    from .scenario import Scenario

__all__ = ["N_ROAD", "Names", "plain"]

Gettext = Callable[[str], str]

#: the words the catalogs translate for roads, crews and the whole city
N_ROAD = (N_("road in {district}"), N_("road {a} – {b}"), N_("{team} {n}"), N_("mutual-aid crew {n}"),
          N_("whole city"), N_("every district"), N_("when this message arrives: {inject}"), N_("from {when}"),
          N_("when the river gauge passes {metres} m"), N_("when {asset} is down"),
          N_("when {asset} runs on its backup"), N_("when any {type} is down"), N_("when any {type} runs on its backup"),
          N_("when {district} loses {service}"), N_("when more than {share} of people lose {service}"))


def plain(ident: str) -> str:
    """An id nobody named, as readable as it gets: ``field_crews`` -> "Field crews"."""
    text = str(ident).replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else str(ident)


class Names:
    """Every id of one game (its city and scenario) as the reader's words; ``names(x)`` tries them all."""

    def __init__(self, city: City | None = None, scenario: Scenario | None = None, lang: str = "en",
                 words: Gettext | None = None) -> None:
        self.city, self.scenario, self.lang = city, scenario, lang
        self._ = reader(words)
        self._table: dict[str, str] = {}
        self._nodes: dict[str, str] = {}  # road node -> district name
        if city is not None:
            model = city.model
            self._table.update({a.id: f"{a.name} ({a.id})" for a in model.assets})
            self._table.update({d.id: f"{d.name} ({d.id})" for d in model.districts})
            self._assets = {a.id: a for a in model.assets}
            self._nodes = self._node_districts(city)
            self._bridges = {f"{e.source}~{e.target}": e.bridge for e in model.roads.edges if e.bridge}
        else:
            self._assets, self._bridges = {}, {}

    @staticmethod
    def _node_districts(city: City) -> dict[str, str]:
        """Each road node's district: the one that names it as its road node, else the nearest."""
        model = city.model
        own = {d.road_node: d.name for d in model.districts if d.road_node}
        out: dict[str, str] = {}
        for n in model.roads.nodes:
            if n.id in own:
                out[n.id] = own[n.id]
                continue
            best = min(model.districts, default=None,
                       key=lambda d: (d.location.x - n.location.x) ** 2 + (d.location.y - n.location.y) ** 2)
            if best is not None:
                out[n.id] = best.name
        return out

    # -- one kind of id each

    def asset(self, ident: str) -> str:
        """An asset or district: "Northgate booster pumping station (PS1)"."""
        return self._table.get(ident, ident)

    def road(self, ident: str) -> str:
        """A road ``FROM~TO``: the bridge it crosses, else the districts at its ends, then its id."""
        a, sep, b = str(ident).partition("~")
        if not sep:
            return ident
        bridge = self._bridges.get(ident) or self._bridges.get(f"{b}~{a}")
        if bridge and bridge in self._assets:
            return f"{self._assets[bridge].name} ({ident})"
        da, db = self._nodes.get(a), self._nodes.get(b)
        if da is None or db is None:
            return ident
        if da == db:
            return f"{self._('road in {district}').format(district=da)} ({ident})"
        return f"{self._('road {a} – {b}').format(a=da, b=db)} ({ident})"

    def team(self, ident: str) -> str:
        """A crew team: the scenario's name for it, else the catalogs' word for its id, else the id made readable."""
        if self.scenario is not None:
            from .scenario import text_in

            t = next((t for t in self.scenario.resources.crews if t.id == ident), None)
            if t is not None and getattr(t, "name", None):
                return text_in(t.name, self.lang)
        out = self._(ident)
        return out if out != ident else plain(ident)

    def crew(self, ident: str) -> str:
        """One crew: ``power_crews#2`` -> "Power crews 2"; ``mutual_aid1#3`` -> "mutual-aid crew 3"."""
        team, sep, n = str(ident).partition("#")
        if not sep:
            return self.team(ident)
        if team.startswith("mutual_aid"):
            return self._("mutual-aid crew {n}").format(n=n)
        return self._("{team} {n}").format(team=self.team(team), n=n)

    def action(self, kind: str) -> str:
        """An action: the scenario's label for it, else the catalogs' ("Warn the public")."""
        if self.scenario is not None:
            from .scenario import text_in

            spec = getattr(self.scenario.actions, kind, None)
            label = getattr(spec, "label", None)
            if label:
                return text_in(label, self.lang)
        out = self._(kind)
        return out if out != kind else plain(kind)

    def inject(self, ident: str) -> str:
        """An inject by its sender and the first words of its text ("Public health office: Flu cases...")."""
        if self.scenario is None:
            return ident
        words = self.scenario.inject_words(self.lang)(ident)
        if not words:
            return ident
        text = words.get("text", "").strip().split("\n")[0]
        if len(text) > 60:
            text = text[:57].rsplit(" ", 1)[0] + "…"
        return f"{words.get('sender', ident)}: {text}" if text else words.get("sender", ident)

    def criterion(self, ident: str) -> str:
        """A rubric criterion by its title in the reader's language."""
        if self.scenario is None:
            return ident
        from .scenario import text_in

        c = next((c for c in self.scenario.rubric.criteria if c.id == ident), None)
        return text_in(c.title, self.lang) if c is not None else ident

    def metric(self, ident: str | None) -> str:
        """A metric by the catalogue's one-line meaning ("people-hours without health care, ...")."""
        if not ident:
            return ""
        from .scoring import describe

        m = describe(ident)
        return self._(m.text) if m is not None else ident

    def module(self, ident: str) -> str:
        """A course module by the texts of its learning outcomes in this scenario (else its code)."""
        if self.scenario is None:
            return ident
        from .scenario import text_in

        outs = [text_in(lo.text, self.lang) for lo in self.scenario.learning_outcomes if lo.module == ident]
        return f"{ident}: " + " ".join(o if o.rstrip().endswith((".", "!", "?")) else o + "." for o in outs) if outs else ident

    def target(self, ident: Any) -> str:
        """Whatever an action names: "all" (every district), a road, a crew, an asset or a district."""
        x = str(ident)
        if x == "all":
            return self._("every district")
        if "~" in x:
            return self.road(x)
        if "#" in x:
            return self.crew(x)
        if x in self._table:
            return self._table[x]
        if self.scenario is not None and any(t.id == x for t in self.scenario.resources.crews):
            return self.team(x)
        return x

    __call__ = target

    def condition(self, key: str, value: Any, start: Any = None) -> str:
        """A plan rule's trigger as a sentence: "when this message arrives: Regional health authority: ..."."""
        from . import formatting as fmt

        _ = self._
        if key == "inject":
            return _("when this message arrives: {inject}").format(inject=self.inject(str(value)))
        if key == "after_h":
            return _("from {when}").format(when=fmt.clock(start, float(value), self.lang))
        if key == "gauge_above":
            return _("when the river gauge passes {metres} m").format(metres=fmt.number(float(value), self.lang))
        if key in ("asset_down", "asset_on_backup"):
            return (_("when {asset} is down") if key == "asset_down" else
                    _("when {asset} runs on its backup")).format(asset=self.target(value))
        if key in ("any_down", "any_on_backup"):
            return (_("when any {type} is down") if key == "any_down" else
                    _("when any {type} runs on its backup")).format(type=_(str(value)).replace("_", " "))
        if key == "district_unserved":
            district, service = value
            return _("when {district} loses {service}").format(district=self.target(district), service=_(service))
        if key == "unserved_share_above":
            service, share = value
            return _("when more than {share} of people lose {service}").format(
                share=fmt.percent(float(share), self.lang), service=_(service))
        return f"{key} {value}"

    def action_text(self, a: Mapping[str, Any]) -> str:
        """One action as a sentence: "Warn the public: every district", "Send a repair crew: Substation
        (SS1), Power crews"."""
        parts = []
        for k in ("target", "shelter", "crew"):
            if a.get(k):
                parts.append(self.target(a[k]))
        if a.get("order"):
            parts.append(" > ".join(self.target(x) for x in a["order"]))
        head = self.action(str(a.get("action", "")))
        return f"{head}: {', '.join(parts)}" if parts else head
