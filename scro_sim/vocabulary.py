"""The engine's words in the learner's language: asset types, services, causes, and one
sentence per event-log record.

The engine writes ids (``pumping_station``, ``no power``, ``asset_down``); a learner reads
"Northgate booster pumping station (PS1) stopped: no power".  Every function takes the
gettext function ``_`` of the reader's language (:func:`scro_sim.i18n.translator`); the
default keeps English.  Names of assets and districts come from ``name_of`` (the city's
names), so a sentence names what a player sees on the map.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["IDS", "N_", "action_name", "asset_type", "cause", "describe", "number", "reader", "service", "word"]

Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Mark ``message`` for the catalogs without translating it here."""
    return message


#: ids the catalogs translate (their English text is in the ``en`` catalog like every language's)
IDS: tuple[str, ...] = (
    # asset types
    N_("power_plant"), N_("substation"), N_("water_treatment"), N_("pumping_station"), N_("water_tank"),
    N_("telecom_tower"), N_("data_centre"), N_("hospital"), N_("shelter"), N_("fire_station"), N_("depot"),
    N_("eoc"), N_("bridge"), N_("traffic_control"),
    # why an asset is down, and damage states
    N_("cause:damage"), N_("cause:flooded"), N_("cause:cyber"), N_("cause:overloaded"), N_("cause:unknown"),
    N_("state:degraded"), N_("state:failed"), N_("state:cyber"),
    # why a road closed
    N_("road:flood"), N_("road:damage"), N_("road:manual"),
    # the city map's legend
    N_("map:up"), N_("map:backup"), N_("map:down"), N_("map:damaged"), N_("map:overloaded"), N_("map:crew"),
    N_("map:flooded"), N_("map:flood_plain"), N_("map:share_served"),
    # mobile generators
    N_("generator:deployed"), N_("generator:running"), N_("generator:exhausted"), N_("generator:refuelled"),
    N_("generator:removed"),
)


def _english() -> Gettext:
    from .i18n import translator

    return translator("en")


def _t(_: Gettext, key: str) -> str:
    """``_(key)``; an id no catalog knows yet reads as itself without its prefix and underscores."""
    out = _(key)
    return key.split(":", 1)[-1].replace("_", " ") if out == key else out


def reader(_: Gettext | None = None) -> Gettext:
    """The gettext function to write with: ``_``, or English when none is given (reports, the CLI)."""
    return _ or _english()


def word(key: str, _: Gettext | None = None) -> str:
    """One of :data:`IDS` (``map:flooded``...) in the reader's language (English by default)."""
    return _t(_ or _english(), key)


def asset_type(kind: str, _: Gettext | None = None) -> str:
    """``pumping_station`` -> "pumping station" in the reader's language (English by default)."""
    return _t(_ or _english(), kind)


def service(name: str, _: Gettext | None = None) -> str:
    """``water`` -> "water" in the reader's language (the catalogs hold the service ids)."""
    return _t(_ or _english(), name)


def cause(text: str, _: Gettext | None = None) -> str:
    """Why an asset is down: ``flooded``, ``no power``... in the reader's language."""
    _ = _ or _english()
    if text.startswith("no "):
        return _("no {service}").format(service=service(text[3:], _))
    return _t(_, f"cause:{text}") if text else ""


def number(v: Any) -> str:
    """A metric's value as a reader takes it in: ``12,400`` people-hours, ``0.25``; "—" when there is none."""
    if v is None:
        return "—"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "—"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.3g}"
    return str(v)


def _hours(x: Any) -> str:
    return f"{float(x):.4g}"


def _metres(x: Any) -> str:
    """A gauge reading in metres, or "-" where the gauge showed none."""
    return "-" if x is None else f"{float(x):.2f}"


def inject_words(inject_id: str, data: Mapping[str, Any],
                 words_of: Callable[[str], Mapping[str, str]] | None) -> Mapping[str, str]:
    """An inject record's ``sender`` and ``text``: from ``words_of`` (the scenario, in the reader's
    language), else from the record itself (logs written before injects were logged by id)."""
    words = words_of(inject_id) if words_of is not None else {}
    if words:
        return words
    return {k: str(data[k]) for k in ("sender", "text") if k in data}


def action_name(kind: str, _: Gettext | None = None, label_of: Callable[[str], str | None] | None = None) -> str:
    """An action's name for the reader: the scenario's own label (``label_of``) if it has one,
    else the catalogue's name in the reader's language."""
    if not kind:  # gettext's "" is the catalogue's header
        return ""
    own = label_of(kind) if label_of is not None else None
    return own or (_ or _english())(kind)


def describe(kind: str, subject: str, data: Mapping[str, Any], _: Gettext | None = None,
             name_of: Callable[[str], str] | None = None,
             words_of: Callable[[str], Mapping[str, str]] | None = None,
             label_of: Callable[[str], str | None] | None = None) -> str:
    """One sentence for an event-log record (``kind``, ``subject``, ``data``) in the reader's language.

    ``name_of(id)`` gives an asset's or district's name ("Northgate booster pumping station
    (PS1)"); without it the id is used.  ``words_of(inject id)`` gives an inject's ``sender``
    and ``text`` in the reader's language (``Scenario.inject_words``): the log holds only the id.
    ``label_of(action id)`` gives the scenario's own name of an action in that language
    (``Scenario.action_label``); without one the catalogue's name is used.
    Kinds without a sentence of their own list their data.
    """
    _ = _ or _english()

    def name(x: Any) -> str:
        return name_of(str(x)) if name_of is not None else str(x)

    d = data
    asset = name(subject)
    if kind == "damage":
        return _("{asset} damaged: {state}").format(asset=asset, state=_t(_, f"state:{d.get('state', 'failed')}"))
    if kind == "asset_down":
        if d.get("overload"):
            return _("{asset} is overloaded").format(asset=asset)
        return _("{asset} stopped: {cause}").format(asset=asset, cause=cause(str(d.get("cause", "")), _))
    if kind == "asset_up":
        if d.get("overload"):
            return _("{asset} is no longer overloaded").format(asset=asset)
        if d.get("on_backup"):
            return _("{asset} working again, on its backup").format(asset=asset)
        return _("{asset} working again").format(asset=asset)
    if kind == "backup_start":
        return _("{asset} switched to its backup: {hours} h left").format(asset=asset, hours=_hours(d.get("hours_left", 0)))
    if kind == "backup_stop":
        return _("{asset} back on its normal supply").format(asset=asset)
    if kind == "backup_exhausted":
        return _("{asset}: the backup ran out").format(asset=asset)
    if kind == "inject":
        sender = inject_words(subject, d, words_of).get("sender") or subject
        return _("Message from {sender}").format(sender=sender)
    if kind == "repair":
        crew = name(d.get("crew", "?"))
        if d.get("state") == "started":
            return _("{crew} started work on {asset}").format(crew=crew, asset=asset)
        return _("{crew} finished work on {asset}").format(crew=crew, asset=asset)
    if kind == "crew":
        st, target, subject = d.get("state"), name(d.get("asset", "")), name(subject)
        if st == "dispatched":
            return _("{crew} on the way to {asset} ({hours} h)").format(crew=subject, asset=target,
                                                                        hours=_hours(d.get("travel_h", 0)))
        if st == "arrived" and "crews" in d:
            return _("{n} mutual-aid crews arrived").format(n=d["crews"])
        if st == "arrived":
            return _("{crew} arrived at {asset}").format(crew=subject, asset=target)
        if st == "blocked":
            return _("{crew} cannot reach {asset}: the roads are closed").format(crew=subject, asset=target)
        if st == "standby":
            return _("{crew} stands by at {asset}: nothing to repair there").format(crew=subject, asset=target)
        if st == "off_duty" and d.get("cause") == "stand_down":
            return _("{crew} stands down: the recalled staff must rest").format(crew=subject)
        if st == "off_duty":
            return _("{crew} off duty: staff off sick").format(crew=subject)
        if st == "on_duty":
            return _("{crew} back on duty").format(crew=subject)
        return f"{subject}: {st}"
    if kind == "road":
        why = _t(_, f"road:{d.get('cause', 'manual')}")
        if d.get("closed"):
            return _("Road {road} closed ({cause})").format(road=name(subject), cause=why)
        return _("Road {road} open again").format(road=name(subject))
    if kind == "exposure":
        return _("The hazard reached {district}: {exposed} people exposed, {at_risk} at risk").format(
            district=asset, exposed=f"{float(d.get('exposed', 0)):,.0f}", at_risk=f"{float(d.get('at_risk', 0)):,.0f}")
    if kind == "population":
        return _("{n} people moved from {district} to {shelter}").format(
            n=f"{int(d.get('moved', 0)):,}", district=asset, shelter=name(d.get("shelter", "")))
    if kind == "cause_revealed":
        return _("Now known: {assets} stopped because of a {cause}").format(
            assets=", ".join(name(a) for a in d.get("targets", ())), cause=cause(str(d.get("cause", "")), _))
    if kind == "hazard" and d.get("type") == "sensor_fault" and "mode" in d:
        return _("The river gauge is faulty ({finding}): it shows {shown} m, the river is at {true} m").format(
            finding=_t(_, f"finding:{d['mode']}"), shown=_metres(d.get("shown_m")), true=_metres(d.get("true_m")))
    if kind == "hazard" and d.get("type") == "data_platform":
        if d.get("up"):
            return _("The data platform is back: the dashboards are live again")
        return _("The data platform is down: the dashboards show the readings of hour {h}").format(
            h=_hours(d.get("as_of_h", 0)))
    if kind == "action":
        target = d.get("target") or (subject if subject != d.get("action") else "")
        if "sensor" in d and "finding" in d:  # the gauge read by eye
            return _("Gauge read by eye: {true} m (the dashboard showed {shown} m): {finding}").format(
                true=_metres(d.get("true_m")), shown=_metres(d.get("shown_m")), finding=_t(_, f"finding:{d['finding']}"))
        if "service" in d:  # a data-sharing agreement: whose data
            target = service(str(d["service"]), _)
        if "finding" in d:  # an investigation's result
            return _("Investigation of {asset}: {finding}").format(asset=name(target),
                                                                   finding=_t(_, f"finding:{d['finding']}"))
        if "incident" in d:  # a declaration
            return _("You declared: {incident}").format(incident=_(str(d["incident"])))
        what = action_name(str(d.get("action", "")), _, label_of)
        if target:
            return _("Took effect: {action} ({target})").format(action=what, target=name(target))
        return _("Took effect: {action}").format(action=what)
    if kind == "generator":
        return _("Generator at {asset}: {state}").format(asset=asset, state=_t(_, f"generator:{d.get('state', '')}"))
    if kind == "water_refill":
        return _("Water is pumped to {district} again; the mains refill and the taps have water at hour {h}").format(
            district=asset, h=_hours(d.get("until_h", 0)))
    if kind == "boil_water":
        if d.get("status") == "issued":
            return _("Boil-water notice for {district} until hour {h}").format(district=asset,
                                                                                 h=_hours(d.get("until_h", 0)))
        return _("Boil-water notice for {district} lifted").format(district=asset)
    return ", ".join(f"{k}={v}" for k, v in d.items() if not isinstance(v, dict | list))
