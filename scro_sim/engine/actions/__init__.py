"""The one registry of learner actions: one module per action, registered here by name.

Everything that lists actions reads :data:`REGISTRY`: the scenario and plan schema
(``scenario.models``), the static checks (``scenario.checks``), the Simulation's
check/apply/effect loop, the observation's allowed list, the policies, ``scro-sim play`` and
the app's decision form.  To add an action, write one module with an :class:`ActionKind`
subclass and add it to ``_KINDS`` below.
"""

from __future__ import annotations

from ...errors import N_, Msg
from ._base import BASE_ATTRIBUTES, ActionKind, Field, Param, edge_index
from .activate_continuity_plan import ActivateContinuityPlan
from .assess_damage import AssessDamage
from .buy_insurance import BuyInsurance
from .close_road import CloseRoad
from .contract_spares import ContractSpares
from .declare_incident import DeclareIncident
from .deploy_generator import DeployGenerator
from .dispatch_crew import DispatchCrew
from .emergency_procurement import EmergencyProcurement
from .evacuate import Evacuate
from .file_claim import FileClaim
from .harden_asset import HardenAsset
from .investigate import Investigate
from .manual_operation import ManualOperation
from .open_surge_beds import OpenSurgeBeds
from .protect_asset import ProtectAsset
from .public_information import PublicInformation
from .recall_staff import RecallStaff
from .refuel import Refuel
from .reopen_road import ReopenRoad
from .request_mutual_aid import RequestMutualAid
from .set_priorities import SetPriorities
from .share_data import ShareData
from .transfer_patients import TransferPatients
from .verify_reading import VerifyReading
from .warn_public import WarnPublic

# the order is the schema's and the menus' order: new actions go at the end
_KINDS: tuple[type[ActionKind], ...] = (
    DispatchCrew, DeployGenerator, Refuel, Evacuate, WarnPublic, ProtectAsset, RequestMutualAid, CloseRoad,
    ReopenRoad, SetPriorities, OpenSurgeBeds, ManualOperation, TransferPatients,
    PublicInformation, Investigate, DeclareIncident, HardenAsset, BuyInsurance, ContractSpares,
    AssessDamage, FileClaim, EmergencyProcurement, ActivateContinuityPlan,
    VerifyReading, ShareData,
    RecallStaff,
)

#: name -> the action
REGISTRY: dict[str, ActionKind] = {k.name: k() for k in _KINDS}
#: the registered names, in order
NAMES: tuple[str, ...] = tuple(REGISTRY)
#: the terminal's verb -> the action
VERBS: dict[str, ActionKind] = {k.verb: k for k in REGISTRY.values()}


def get(name: str) -> ActionKind:
    """The registered action called ``name`` (KeyError names the known ones)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown action {name!r}; known: {', '.join(NAMES)}") from None


def params() -> dict[str, Param]:
    """Every ActionSpec parameter the registered actions read, each declared once."""
    out: dict[str, Param] = {}
    for k in REGISTRY.values():
        for p, spec in k.params.items():
            out.setdefault(p, spec)
    return out


def extra_fields() -> dict[str, Field]:
    """Action attributes the registered actions add to :data:`BASE_ATTRIBUTES`, in order."""
    out: dict[str, Field] = {}
    for k in REGISTRY.values():
        for f in k.fields:
            if f.name not in BASE_ATTRIBUTES:
                out.setdefault(f.name, f)
    return out


def parse_words(words: list[str]) -> dict[str, object]:
    """An Action's fields from a terminal line split into words (``crew PS1 T1``); ValueError if unknown."""
    if not words:
        raise ValueError(Msg(N_("empty command; type 'help'")))
    k = VERBS.get(words[0].lower()) or REGISTRY.get(words[0].lower())
    if k is None:
        raise ValueError(Msg(N_("unknown command {command!r}; type 'help'"), command=words[0].lower()))
    return k.parse(words[1:])


__all__ = [
    "BASE_ATTRIBUTES",
    "NAMES",
    "REGISTRY",
    "VERBS",
    "ActionKind",
    "Field",
    "Param",
    "edge_index",
    "extra_fields",
    "get",
    "params",
    "parse_words",
]
