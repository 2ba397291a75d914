"""The app server's Streamlit settings that keep a click cheap when a class plays at once."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from scro_sim import cli

ROOT = Path(__file__).resolve().parent.parent


def _flags(cmd: list[str]) -> dict[str, str]:
    return {cmd[i]: cmd[i + 1] for i in range(len(cmd) - 1) if cmd[i].startswith("--")}


def test_scro_sim_app_neither_watches_sources_nor_collects_the_heap_after_every_rerun(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(cmd: list[str], env: dict[str, str], grace_s: float = 10.0) -> int:
        seen["cmd"] = cmd
        return 0

    monkeypatch.setattr(cli, "_run_until_stopped", fake_run)
    assert cli.main(["app", "--port", "8599"]) == 0
    flags = _flags(seen["cmd"])
    assert flags["--server.fileWatcherType"] == "none"
    assert flags["--runner.postScriptGC"] == "false"
    assert flags["--server.port"] == "8599"


def test_the_checkouts_streamlit_config_says_the_same() -> None:
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["server"]["fileWatcherType"] == "none"
    assert cfg["runner"]["postScriptGC"] is False
