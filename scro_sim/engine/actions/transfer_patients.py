"""transfer_patients: move patients from an overloaded hospital to another one by ambulance.

The ambulance fleet is the action's own parameters: ``ambulances`` vehicles carrying
``patients_per_trip`` each.  A transfer of N patients needs ``ceil(N / (ambulances *
patients_per_trip))`` rounds; a round is the drive there and back over the road network as it
is now (closures count), the last one only there.  The patients count at the receiving
hospital, and no longer at the sending one, once the last ambulance arrives (the lead time plus
the rounds).  Under a patient surge this lowers the sending hospital's occupancy, so it can stop
being overloaded (the health service, engine/hazard_processes.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from ._base import N_, ActionKind, Field, Param


class TransferPatients(ActionKind):
    name = N_("transfer_patients")
    verb = "transfer"
    bears_on = "health"
    help = N_("move patients to another hospital by ambulance")
    fields = (Field("target", "asset", types=("hospital",)),
              Field("to", "asset", types=("hospital",), prompt=N_("Receiving hospital"),
                    missing=Msg(N_("transfer_patients needs a receiving hospital (to)"))),
              Field("patients", "count", prompt=N_("Patients"), missing=Msg(N_("transfer_patients needs a number of patients"))))
    # Off unless a scenario enables it.  Four ambulances with two stretcher patients each; a
    # patient transfer's cost is the crew's and the vehicle's hours.
    defaults = {"enabled": False, "cost": 500, "cost_per_person": 200, "lead_time_h": 0.5, "ambulances": 4,
                "patients_per_trip": 2}
    params = {"ambulances": Param("count", 4, "transfer_patients: ambulances available for transfers"),
              "patients_per_trip": Param("count", 2, "transfer_patients: patients one ambulance carries a trip")}

    def _sites(self, sim: Any, a: Any) -> tuple[int, int]:
        return sim.city.asset_index[a.target], sim.city.asset_index[a.to]

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        src, dst = self._sites(sim, a)
        if src == dst:
            return [Msg(N_("a transfer needs two different hospitals"))]
        out = []
        cap = sim.city.asset_capacity
        here = round(sim.occupancy.get(src, 0.0) * (cap[src] + sim.surge_beds[src]))
        if a.patients > here:
            out.append(Msg(N_("{target} has {here} patients to transfer, not {patients}"), target=a.target, here=here,
                           patients=a.patients))
        free = math.floor((cap[dst] + sim.surge_beds[dst]) * (1.0 - sim.occupancy.get(dst, 0.0)))
        if a.patients > free:
            out.append(Msg(N_("{to} has {free} free beds, not {patients}"), to=a.to, free=max(0, free), patients=a.patients))
        spec = sim.scenario.actions.get(self.name)
        if spec.ambulances * spec.patients_per_trip <= 0:
            out.append(Msg(N_("no ambulance to transfer patients")))
        if not math.isfinite(self._one_way(sim, src, dst)):
            out.append(Msg(N_("no open road from {target} to {to}"), target=a.target, to=a.to))
        return out

    def cost(self, sim: Any, a: Any) -> float:
        spec = sim.scenario.actions.get(self.name)
        return spec.cost + spec.cost_per_person * a.patients

    def _one_way(self, sim: Any, src: int, dst: int) -> float:
        road = sim.city.asset_road
        return sim._travel_hours(int(road[src]), int(road[dst]))

    def rounds(self, sim: Any, a: Any) -> int:
        spec = sim.scenario.actions.get(self.name)
        return math.ceil(a.patients / (spec.ambulances * spec.patients_per_trip))

    def lead_time(self, sim: Any, a: Any) -> float:
        src, dst = self._sites(sim, a)
        return super().lead_time(sim, a) + (2 * self.rounds(sim, a) - 1) * self._one_way(sim, src, dst)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        src, dst = self._sites(sim, a)
        sim.patient_shift[src] -= a.patients
        sim.patient_shift[dst] += a.patients
        data.update(target=a.target, to=a.to, patients=a.patients, rounds=self.rounds(sim, a))
