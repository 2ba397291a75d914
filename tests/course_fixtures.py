"""The mini scenario made to cite the example course map's outcomes, shared by the course-map and lint tests."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
MINI = (DATA / "mini_scenario.yaml").read_text(encoding="utf-8")


def course_citing(text: str = MINI) -> str:
    """The mini scenario with its criteria citing course outcomes (C4.1, A1.1) instead of its own LO1/LO2."""
    return (text.replace("modules: [M1]", "modules: [A1, C4]")
            .replace("module: M1, text: Keep", "module: C4, text: Keep")
            .replace("module: M1, text: Warn", "module: A1, text: Warn")
            .replace("outcome: LO1", "outcome: C4.1").replace("outcome: LO2", "outcome: A1.1"))
