"""Why an asset is down, as a chain of causes the player can follow, and what it feeds.

A pumping station is down because it has no power; its substation is down because the
flood reached it.  The play page's map asks for this chain when a learner picks an asset
(issue: "for a selected asset what it needs and why it is down").  The chain is built from
what the player may see, never from the engine's hidden state: the asset states and the
causes of the :class:`~scro_sim.policy.Observation` (a cyber attack not yet known reads
``unknown``) and the dependencies the city model publishes (``needs``).  Suppliers that still
deliver (up, or running on their own backup) break the chain: only the ones that failed are
followed, to the first cause that is not a missing service (damage, water, an attack, an
outage) or to an asset already shown (supply loops).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .vocabulary import N_, cause, reader, service

if TYPE_CHECKING:  # pragma: no cover
    from .city import City
    from .names import Names

__all__ = ["Link", "cause_chain", "chain_edges", "chain_lines", "dependents", "feeds_line"]

Gettext = Callable[[str], str]

#: a state that delivers no service to the assets and districts an asset feeds
_FAILED = frozenset({"down", "damaged"})
_MAX_DEPTH = 12  # a city's longest plausible supply chain is far shorter; loops stop earlier

#: the words of a chain, for the catalogs
N_CHAIN = (N_("working"), N_("on backup"), N_("down"), N_("overloaded"),
           N_("{asset}: {state}, {cause}"), N_("{asset}: {state}"), N_("{asset}: on backup, without {services}"),
           N_("needs {service} from {suppliers}"), N_("all of them are down"),
           N_("(shown above)"), N_("{asset} feeds {assets} and {districts}"), N_("the {service} of {districts}"),
           N_("{asset} feeds {assets}"), N_("{asset} feeds {districts}"),
           N_("{asset} feeds nothing another asset or a district needs"))


@dataclass(frozen=True)
class Link:
    """One asset in a chain: its state and cause as the player sees them, and the failed suppliers behind it.

    ``missing`` names the services it lacks (a cascade); ``suppliers`` maps each missing service
    to the failed suppliers that explain it (each a :class:`Link`); ``repeat`` marks an asset
    already shown higher in the chain (a supply loop), whose causes are not repeated.
    """

    asset: str
    state: str
    cause: str = ""
    missing: tuple[str, ...] = ()
    suppliers: tuple[tuple[str, tuple[Link, ...]], ...] = field(default=())
    repeat: bool = False


def cause_chain(city: City, asset: str, asset_state: Mapping[str, str], causes: Mapping[str, str],
                missing: Mapping[str, Sequence[str]] | None = None) -> Link:
    """The chain of causes behind ``asset``.

    ``asset_state`` maps the assets that are not plainly up to their state (``down``, ``backup``,
    ``overloaded``...; the observation's ``asset_state``); ``causes`` maps down assets to the cause
    the player is shown (``damage``, ``flooded``, ``no power``, ``unknown``...); ``missing`` maps
    assets on backup to the services they run without.  Raises ``KeyError`` for an unknown asset.
    """
    needs = {a.id: a.needs for a in city.model.assets}
    if asset not in needs:
        raise KeyError(asset)
    lacking = missing or {}

    def link(a: str, seen: tuple[str, ...]) -> Link:
        st = asset_state.get(a, "up")
        why = causes.get(a, "") if st in _FAILED else ""
        if a in seen:
            return Link(a, st, why, repeat=True)
        if st in _FAILED:
            gone = (why[3:],) if why.startswith("no ") else ()
        elif st == "backup":
            gone = tuple(lacking.get(a, ()))
        else:
            gone = ()
        if not gone or len(seen) >= _MAX_DEPTH:
            return Link(a, st, why, gone)
        # every missing service is explained by the suppliers that failed (a cascade of one lists them all)
        if st in _FAILED:
            gone = tuple(s for s in needs[a] if _all_failed(needs[a][s], asset_state)) or gone
        behind = tuple((s, tuple(link(x, (*seen, a)) for x in needs[a].get(s, ()) if asset_state.get(x) in _FAILED))
                       for s in gone)
        return Link(a, st, why, gone, behind)

    return link(asset, ())


def _all_failed(suppliers: Sequence[str], asset_state: Mapping[str, str]) -> bool:
    return bool(suppliers) and all(asset_state.get(x) in _FAILED for x in suppliers)


def dependents(city: City, asset: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """What ``asset`` feeds: the assets that need it, and per service the districts that need it (model order)."""
    model = city.model
    assets = tuple(a.id for a in model.assets if any(asset in sup for sup in a.needs.values()))
    districts: dict[str, tuple[str, ...]] = {}
    for d in model.districts:
        for s, sup in d.needs.items():
            if asset in sup:
                districts[s] = (*districts.get(s, ()), d.id)
    return assets, districts


def chain_edges(root: Link) -> list[tuple[str, str]]:
    """(consumer, failed supplier) pairs of a chain, each once, in the order the chain shows them: the map draws them."""
    out: list[tuple[str, str]] = []

    def walk(k: Link) -> None:
        for _s, links in k.suppliers:
            for x in links:
                if (k.asset, x.asset) not in out:
                    out.append((k.asset, x.asset))
                walk(x)

    walk(root)
    return out


def chain_lines(root: Link, names: Names, words: Gettext | None = None) -> list[tuple[int, str]]:
    """The chain in the reader's words, as (depth, line) for an indented list, from the asset to its root causes."""
    _ = reader(words)
    state_word = {"up": _("working"), "backup": _("on backup"), "down": _("down"), "damaged": _("down"),
                  "overloaded": _("overloaded")}
    out: list[tuple[int, str]] = []

    def walk(k: Link, depth: int) -> None:
        who = names.asset(k.asset)
        st = state_word.get(k.state, k.state)
        if k.repeat:
            out.append((depth, _("{asset}: {state}").format(asset=who, state=st) + " " + _("(shown above)")))
            return
        if k.state == "backup" and k.missing:
            out.append((depth, _("{asset}: on backup, without {services}").format(
                asset=who, services=", ".join(service(s, _) for s in k.missing))))
        elif k.cause:
            out.append((depth, _("{asset}: {state}, {cause}").format(asset=who, state=st, cause=cause(k.cause, _))))
        else:
            out.append((depth, _("{asset}: {state}").format(asset=who, state=st)))
        for s, links in k.suppliers:
            if not links:
                continue
            head = _("needs {service} from {suppliers}").format(
                service=service(s, _), suppliers=", ".join(names.asset(x.asset) for x in links))
            if len(links) > 1:
                head += ": " + _("all of them are down")
            out.append((depth + 1, head))
            for x in links:
                walk(x, depth + 2)

    walk(root, 0)
    return out



def feeds_line(city: City, asset: str, names: Names, words: Gettext | None = None) -> str:
    """What ``asset`` feeds, in one sentence: what would go down with it (the cascade seen from its source)."""
    _ = reader(words)
    assets, districts = dependents(city, asset)
    who = names.asset(asset)
    listed = ", ".join(names.asset(a) for a in assets)
    parts = [_("the {service} of {districts}").format(service=service(s, _), districts=", ".join(names.asset(d) for d in ds))
             for s, ds in districts.items()]
    if assets and parts:
        return _("{asset} feeds {assets} and {districts}").format(asset=who, assets=listed, districts="; ".join(parts))
    if assets:
        return _("{asset} feeds {assets}").format(asset=who, assets=listed)
    if parts:
        return _("{asset} feeds {districts}").format(asset=who, districts="; ".join(parts))
    return _("{asset} feeds nothing another asset or a district needs").format(asset=who)
