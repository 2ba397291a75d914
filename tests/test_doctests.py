"""The examples in docstrings run (networkx's habit: functions over graphs with doctest examples)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["scro_sim.city.network", "scro_sim.city.synthetic", "scro_sim.hazards", "scro_sim.scoring.metrics",
           "scro_sim.lms", "scro_sim.batch.replication", "scro_sim.batch.summary"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
