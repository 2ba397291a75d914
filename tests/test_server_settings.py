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


def test_app_text_colour_gives_captions_aa_contrast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Captions are drawn at 60 % of the text colour; over white they must reach WCAG AA's 4.5:1."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(cli, "_run_until_stopped", lambda cmd, env, grace_s=10.0: seen.setdefault("cmd", cmd) and 0)
    cli.main(["app"])
    colour = _flags(seen["cmd"])["--theme.textColor"]
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["theme"]["textColor"] == colour

    def luminance(rgb: tuple[float, ...]) -> float:
        lin = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    text = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    caption = tuple(0.6 * c + 0.4 * 255 for c in text)
    for background in ((255, 255, 255), tuple(int(cfg["theme"]["secondaryBackgroundColor"][i:i + 2], 16) for i in (1, 3, 5))):
        ratio = (luminance(background) + 0.05) / (luminance(caption) + 0.05)
        assert ratio >= 4.5, (background, ratio)
