"""cyber: an attack on the control systems of named assets, detected after a delay.

``shutdown`` stops the targets at once; ``tamper`` leaves them running, unsafe, until the attack is
detected and operators shut them down.  They come back after ``recovery_h`` on their own, or
earlier if the scenario gives IT incident response and the player sends an IT crew (crews.py).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from ...errors import N_, Msg
from .._common import _finite_delay
from ._base import Draw, HazardKind, Loc


class Cyber(HazardKind):
    name = "cyber"
    model_name = "CyberHazard"
    times = ("start_h",)
    durations = ("recovery_h", "detection_delay_h", "incident_response_h")

    def fields(self, t: Any) -> dict[str, Any]:
        return {
            "start_h": (t.DistHours, ...),
            "targets": (tuple[t.Id, ...], Field(min_length=1, max_length=t.MAX_IDS)),
            "detection_delay_h": (t.DistHours, 0.5),
            # hours from detection until the targets come back without help from the player (the
            # utility's own or the vendor's recovery)
            "recovery_h": (t.DistHours, ...),
            # the attack's effect: the target stops (shutdown) or keeps running but unsafe (tamper)
            "effect": (Literal["shutdown", "tamper"], "shutdown"),
            # IT incident response (optional): hours a crew with the ``it`` skill needs on site to restore
            # one target once the attack is detected (drawn per job).  Given, the player's IT crews can end
            # the outage before ``recovery_h``; left out, the targets stay down for ``recovery_h`` whatever
            # the player does.
            "incident_response_h": (t.DistHours | None, None),
            # when the player learns that this is an attack: until then its targets are down with cause
            # ``unknown`` (hidden truth).  Default: at detection.
            "reveal": (t.Reveal, t.Reveal(at="detection")),
            # the attack counts as detected as soon as its cause comes to light, if that is before
            # detection_delay_h (an investigation that finds it lets the IT crews start at once)
            "detected_on_reveal": (bool, False),
        }

    def problems(self, loc: Loc, h: Any, sc: Any, city: Any, t: Any) -> list[tuple[Loc, str]]:
        out: list[tuple[Loc, str]] = []
        if h.incident_response_h is not None and not any("it" in k.skills and k.count > 0 for k in sc.resources.crews):
            out.append(((*loc, "incident_response_h"), Msg(N_("IT incident response needs a crew team with the 'it' "
                                                              "skill (resources.crews: skills: [it])"))))
        if city is not None:
            for k, a in enumerate(h.targets):
                if a not in city.asset_index:
                    out.append(((*loc, "targets", k), Msg(N_("unknown asset {id!r}"), id=a)))
        return out

    def draw(self, sim: Any, h: Any, draw: Draw) -> dict[str, float]:
        return {"start_h": draw(h.start_h), "detection_delay_h": draw(h.detection_delay_h),
                "recovery_h": draw(h.recovery_h)}

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        yield from self.start(sim, h)  # its hours count from its start
        c = sim.city
        targets = [c.asset_index[a] for a in h.targets]
        yield sim.env.timeout(_finite_delay(p["start_h"], "cyber start"))
        for i in targets:
            sim.rs.attack_of[i] = h
        if isinstance(h.reveal.at, float):  # at an hour: at once if that hour has passed
            ev = sim.env.timeout(_finite_delay(max(0.0, h.reveal.at - sim.env.now), "reveal"))
            ev.callbacks.append(lambda _e, h=h: sim._reveal(h, "time"))
        if h.reveal.on is not None:
            sim.rs._reveal_waiting.append(h)
            sim._check_reveals()
        if h.effect == "shutdown":
            for i in targets:
                sim.rs.cyber[i] = True
                sim.log.add(sim.env.now, "damage", c.asset_ids[i], {"hazard": h.id, "state": "cyber",
                                                                         "type": str(c.asset_type[i])})
            sim._bridges_changed(np.array(targets))  # a bridge shut by its control system closes its road
            sim._propagate(targets)
        detect = sim.env.timeout(_finite_delay(p["detection_delay_h"], "cyber detection"))
        early = False
        if h.detected_on_reveal and h.id not in sim.rs.revealed:
            found = sim.rs._detect_on_reveal[h.id] = sim.env.event()
            yield detect | found
            sim.rs._detect_on_reveal.pop(h.id, None)
            early = found.triggered and not detect.processed
        elif not h.detected_on_reveal:
            yield detect
        else:  # revealed already: detected at once
            early = p["detection_delay_h"] > 0
        rec: dict[str, Any] = {"type": "cyber", "detected": True, "targets": list(h.targets)}
        if early:
            rec["on_reveal"] = True
            sim.rs.detected_at[h.id] = sim.env.now
        sim.log.add(sim.env.now, "hazard", h.id, rec)
        if h.reveal.at == "detection":
            sim._reveal(h, "detection")
        if h.effect == "tamper":  # operators shut the plant down as a precaution once they see it
            for i in targets:
                sim.rs.cyber[i] = True
            sim._bridges_changed(np.array(targets))
            sim._propagate(targets)
        if h.incident_response_h is not None:  # detected: IT crews may now restore the targets (crews.py)
            for i in targets:
                if sim.rs.cyber[i]:
                    sim.rs.cyber_open[i] = h
            sim._wake_crews()
        yield sim.env.timeout(_finite_delay(p["recovery_h"], "cyber recovery"))
        for i in targets:  # the attack is over (an IT crew may have ended it on a site already)
            if sim.rs.attack_of.get(i) is h:
                del sim.rs.attack_of[i]
        if h.incident_response_h is None:
            for i in targets:
                sim.rs.cyber[i] = False
            sim.log.add(sim.env.now, "hazard", h.id, {"type": "cyber", "recovered": True})
            sim._bridges_changed(np.array(targets))
            sim._propagate(targets)
            return
        # the unassisted recovery brings back what the IT crews have not restored yet
        left = [i for i in targets if sim.rs.cyber_open.get(i) is h]
        for i in left:
            del sim.rs.cyber_open[i]
            sim.rs.cyber[i] = False
        sim.log.add(sim.env.now, "hazard", h.id, {"type": "cyber", "recovered": True,
                                                       "unassisted": [c.asset_ids[i] for i in left]})
        if left:
            sim._bridges_changed(np.array(left))
        sim._propagate(left)
