"""Publishing a scenario to a cohort under the scenario's own ``version``: one number for lecturer and learner.

The store keeps the text a cohort plays and counts its revisions, but it does not read scenarios
(it sits below the scenario package).  The rule that the scenario's ``version`` names one text
lives here: the same text again changes nothing, a changed text needs a version the cohort has
not been given yet, and a refusal says so as ``file:line: version: message``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import N_, Msg, Problem, ScenarioError, YamlError
from .yamlio import SCENARIO_LIMITS, load_yaml

if TYPE_CHECKING:
    from .scenario import Scenario
    from .store import Store

__all__ = ["Publication", "next_version", "publish", "text_version"]


@dataclass(frozen=True)
class Publication:
    """A scenario published to a cohort: its id and ``version`` (the scenario's own), and whether this
    publication changed what the cohort plays (``False``: the same text was there already)."""

    cohort: str
    scenario_id: str
    version: str
    changed: bool


def text_version(text: str) -> str | None:
    """The ``version`` a scenario text gives (read from its YAML, not validated), or None."""
    try:
        data = load_yaml(None, path="<published>", text=text, limits=SCENARIO_LIMITS).data
    except YamlError:
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return str(version) if isinstance(version, str | int | float) and not isinstance(version, bool) else None


def next_version(version: str) -> str | None:
    """The version after ``version``, its last number raised (``1.0`` -> ``1.1``, ``2`` -> ``3``), or None."""
    found = list(re.finditer(r"\d+", version))
    if not found:
        return None
    last = found[-1]
    return version[:last.start()] + str(int(last.group()) + 1) + version[last.end():]


def publish(store: Store, cohort: str, scenario: Scenario, text: str, who: str) -> Publication:
    """Publish ``text`` (which parses as ``scenario``) to ``cohort`` as ``who``, under the scenario's version.

    Publishing the text the cohort already has changes nothing.  A changed text under the version
    the cohort already has is refused with a :class:`ScenarioError` on the ``version`` field (at
    its line in the text): the lecturer raises the version, so a learner's "v1.1" names one text.
    The store's own checks (who may publish, the cohort exists) raise a ``StoreError``.
    """
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    current = next((p for p in store.published_scenarios(cohort) if p.scenario_id == scenario.id), None)
    if current is not None and current.sha256 != sha and text_version(current.yaml_text) == scenario.version:
        after = next_version(scenario.version)
        message = (Msg(N_("version {version!r} of this scenario is already published to {cohort} with another "
                          "text: raise the version (e.g. {next!r}) to publish the change"),
                       version=scenario.version, cohort=cohort, next=after) if after else
                   Msg(N_("version {version!r} of this scenario is already published to {cohort} with another "
                          "text: raise the version to publish the change"), version=scenario.version, cohort=cohort))
        line = (getattr(scenario, "_lines", None) or {}).get(("version",))
        raise ScenarioError(problems=[Problem(scenario.source_path, line, "version", message)])
    store.publish_scenario(cohort, scenario.id, text, who)
    return Publication(cohort, scenario.id, scenario.version, current is None or current.sha256 != sha)
