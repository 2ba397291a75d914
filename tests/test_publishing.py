"""Publishing under the scenario's own version (scro_sim/publishing.py): one number for lecturer and learner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scro_sim.demo import seed_demo
from scro_sim.errors import ScenarioError
from scro_sim.i18n import translator
from scro_sim.publishing import Publication, next_version, publish, text_version
from scro_sim.scenario import load_scenario
from scro_sim.store import Store

DATA = Path(__file__).parent / "data"
MINI = (DATA / "mini_scenario.yaml").read_text(encoding="utf-8")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("SCRO_SIM_CITY_PATH", str(DATA))
    with Store(f"sqlite:///{tmp_path / 'pub.sqlite'}") as s:
        seed_demo(s)
        s.add_cohort("other-cohort")
        yield s


def edition(version: str, title: str = "Mini flood") -> str:
    return MINI.replace('version: "1.0"', f'version: "{version}"').replace("en: Mini flood", f"en: {title}")


def send(store: Store, text: str, cohort: str = "demo-cohort") -> Publication:
    sc, _city = load_scenario("mine.yaml", text=text, base_dir=DATA)
    return publish(store, cohort, sc, text, "lecturer")


def test_a_changed_text_needs_a_new_version_and_the_same_text_is_a_no_op(store: Store) -> None:
    first = send(store, edition("1.0"))
    assert (first.scenario_id, first.version, first.changed) == ("mini-flood", "1.0", True)
    assert send(store, edition("1.0")).changed is False  # the same text again changes nothing
    with pytest.raises(ScenarioError) as info:
        send(store, edition("1.0", "Mini flood, revised"))
    line = MINI.splitlines().index('version: "1.0"') + 1
    assert str(info.value) == (f"mine.yaml:{line}: version: version '1.0' of this scenario is already published to "
                               "demo-cohort with another text: raise the version (e.g. '1.1') to publish the change")
    (p,) = info.value.problems
    assert p.say(translator("de")).startswith(f"mine.yaml:{line}: version: Version '1.0' dieses Szenarios ist für "
                                              "demo-cohort schon mit einem anderen Text veröffentlicht")
    (stored,) = store.published_scenarios("demo-cohort")
    assert text_version(stored.yaml_text) == "1.0" and "revised" not in stored.yaml_text  # nothing was replaced
    second = send(store, edition("1.1", "Mini flood, revised"))
    assert (second.version, second.changed) == ("1.1", True)
    (stored,) = store.published_scenarios("demo-cohort")
    assert text_version(stored.yaml_text) == "1.1" and "revised" in stored.yaml_text


def test_each_cohort_has_its_own_versions(store: Store) -> None:
    send(store, edition("1.0"))
    assert send(store, edition("1.0", "Another flood"), cohort="other-cohort").changed


def test_the_version_after_raises_the_last_number() -> None:
    assert [next_version(v) for v in ("1.0", "2", "1.9", "2026-spring-3", "v1.0-beta")] == [
        "1.1", "3", "1.10", "2026-spring-4", "v1.1-beta"]
    assert next_version("draft") is None


def test_the_version_of_a_text_is_read_without_validating_it() -> None:
    assert text_version(edition("2.5")) == "2.5"
    assert text_version("version: 3\n") == "3"
    assert text_version("title: [unclosed\n") is None and text_version("- a list\n") is None
