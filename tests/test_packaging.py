"""The wheel is the whole product: built, installed in a fresh environment outside the checkout, it runs.

The fresh environment borrows the already-installed dependencies through a .pth file (fast and
offline), but scro_sim, the app, the scenarios, the city models and the plans come only from the
wheel, and every command runs from a folder outside the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from serverkit import children_of, free_port, listening, wait_gone, wait_healthy

from scro_sim import resources
from scro_sim.errors import InputError
from scro_sim.scenario import load_scenario
from scro_sim.scenario.loading import resolve_city_path

REPO = Path(__file__).resolve().parent.parent
BUNDLED = ("app", "scenarios", "city_models", "plans")
GOLDEN = json.loads((REPO / "tests" / "data" / "golden_digests.json").read_text(encoding="utf-8"))


def _configured() -> tuple[list[str], dict[str, str]]:
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return cfg["packages"], cfg["package-dir"]


def test_every_package_of_the_tree_is_configured_for_the_wheel() -> None:
    packages, package_dir = _configured()
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "scro_sim").rglob("__init__.py")}
    for top in BUNDLED:
        name = f"scro_sim.bundled.{top}"
        assert package_dir[name] == top  # carried from where it is in the repository
        for d in [REPO / top, *(p for p in (REPO / top).rglob("*") if p.is_dir() and p.name != "__pycache__")]:
            if d == REPO / top or any(d.glob("*.py")):
                found.add(".".join((name, *d.relative_to(REPO / top).parts)))
    assert found == set(packages), f"missing {sorted(found - set(packages))}, stale {sorted(set(packages) - found)}"


#: the resolver tests below compare with this checkout's files: they need scro_sim imported from it
from_checkout = pytest.mark.skipif(Path(resources.__file__).resolve().parent != REPO / "scro_sim",
                                   reason="scro_sim is not imported from this checkout")


@from_checkout
def test_in_a_checkout_the_bundled_files_are_the_repository_folders() -> None:
    assert resources.bundle_root() == REPO
    assert resources.app_script() == REPO / "app" / "streamlit_app.py"
    assert resources.bundled_scenarios() == sorted((REPO / "scenarios").glob("*.yaml"))
    assert resources.city_dirs()[-1] == REPO / "city_models" and resources.plans_dir() == REPO / "plans"


@from_checkout
@pytest.mark.parametrize("ref", ["riverton_flood", "riverton_flood.yaml"])
def test_a_bundled_scenario_is_found_by_its_name(ref: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resources.find_scenario(ref) == REPO / "scenarios" / "riverton_flood.yaml"
    assert resources.find_plan("riverton_cautious") == REPO / "plans" / "riverton_cautious.yaml"


def test_a_file_of_that_name_in_the_current_folder_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "riverton_flood.yaml").write_text("id: mine\n", encoding="utf-8")
    assert resources.find_scenario("riverton_flood.yaml") == Path("riverton_flood.yaml")
    assert resources.find_scenario("sub/riverton_flood.yaml") == Path("sub/riverton_flood.yaml")  # a path stays a path


def test_an_unknown_name_says_which_scenarios_are_bundled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"no scenario file 'riverton_flod' .*\(bundled: .*\briverton_flood\b"):
        resources.find_scenario("riverton_flod")


@from_checkout
def test_a_scenario_elsewhere_finds_a_bundled_city_by_name(tmp_path: Path) -> None:
    text = (REPO / "scenarios" / "riverton_flood.yaml").read_text(encoding="utf-8")
    mine = tmp_path / "mine.yaml"
    mine.write_text(text.replace("city: ../city_models/riverton.yaml", "city: riverton"), encoding="utf-8")
    sc, city = load_scenario(mine)
    assert city.id == "riverton"
    assert resolve_city_path(sc, tmp_path) == REPO / "city_models" / "riverton.yaml"


# -- the wheel in a fresh environment ----------------------------------------------------------------


def _copy_source(dest: Path) -> Path:
    """The checkout without environments, caches or build output (so nothing stale reaches the wheel)."""
    skip = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                  ".ruff_cache", ".hypothesis", "var", "schema", "*.sqlite*")
    shutil.copytree(REPO, dest, ignore=skip)
    return dest


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the wheel from a copy of the checkout and install it alone into a fresh venv."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = _copy_source(tmp / "src")
    dist = tmp / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(src)], capture_output=True, text=True, cwd=tmp)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = dist.glob("scro_sim-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    # the dependencies from this environment, after the venv's own site-packages (so the wheel wins)
    (purelib / "_deps_from_test_env.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                           "-q", str(wheel)], capture_output=True, text=True, cwd=tmp)
    assert inst.returncode == 0, inst.stdout + inst.stderr
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return {"python": python, "scro_sim": bindir / "scro-sim", "cwd": elsewhere, "purelib": purelib, "tmp": tmp}


def _env(w: dict[str, Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SCRO_SIM_SCENARIOS_DIR",
                                                           "SCRO_SIM_CITY_PATH", "SCRO_SIM_DB")}
    return {**env, "SCRO_SIM_CACHE": str(w["tmp"] / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}


def _run(w: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(w["scro_sim"]), *args], capture_output=True, text=True, cwd=w["cwd"], env=_env(w),
                          timeout=300)



@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_wheel_install_holds_the_library_app_and_bundled_files(wheel_env: dict[str, Path]) -> None:
    code = ("import json, scro_sim, scro_sim.resources as r; "
            "print(json.dumps([scro_sim.__file__, str(r.bundle_root()), str(r.app_script()), "
            "sorted(p.name for p in r.bundled_scenarios()), sorted(p.name for p in r.plans_dir().glob('*.yaml')), "
            "sorted(p.name for p in r.city_models_dir().glob('*.yaml'))]))")
    out = subprocess.run([str(wheel_env["python"]), "-c", code], capture_output=True, text=True,
                         cwd=wheel_env["cwd"], env=_env(wheel_env), check=True).stdout
    module, root, app, scenarios, plans, cities = json.loads(out)
    purelib = wheel_env["purelib"].resolve()
    assert Path(module).resolve().is_relative_to(purelib), module
    assert Path(root).resolve() == purelib / "scro_sim" / "bundled"
    assert Path(app).is_file()
    assert scenarios == sorted(p.name for p in (REPO / "scenarios").glob("*.yaml"))
    assert plans == sorted(p.name for p in (REPO / "plans").glob("*.yaml"))
    assert cities == sorted(p.name for p in (REPO / "city_models").glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_wheel_runs_a_bundled_scenario_by_name_from_another_folder(wheel_env: dict[str, Path]) -> None:
    r = _run(wheel_env, "run", "riverton_flood", "--seed", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert GOLDEN["riverton_flood"]["do_nothing/1"] in r.stdout  # the same log as in the checkout
    r = _run(wheel_env, "run", "riverton_flood.yaml", "--seed", "1", "--plan", "riverton_cautious")
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run(wheel_env, "run", "no_such_exercise")
    assert r.returncode == 1 and "riverton_flood" in r.stderr + r.stdout and "Traceback" not in r.stderr


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_wheel_resolves_a_bundled_city_by_name_for_a_scenario_outside(wheel_env: dict[str, Path]) -> None:
    text = (REPO / "scenarios" / "riverton_flood.yaml").read_text(encoding="utf-8")
    mine = wheel_env["cwd"] / "my_flood.yaml"
    mine.write_text(text.replace("city: ../city_models/riverton.yaml", "city: riverton"), encoding="utf-8")
    r = _run(wheel_env, "validate", "my_flood.yaml")
    assert r.returncode == 0 and "on riverton" in r.stdout, r.stdout + r.stderr


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_wheel_writes_schemas_and_demo_accounts_into_the_current_folder(wheel_env: dict[str, Path]) -> None:
    r = _run(wheel_env, "schema")
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(p.name for p in (wheel_env["cwd"] / "schema").iterdir()) == [
        "city.schema.json", "plan.schema.json", "scenario.schema.json"]
    assert not (wheel_env["purelib"] / "schema").exists()
    r = _run(wheel_env, "demo")
    assert r.returncode == 0 and "learner" in r.stdout, r.stdout + r.stderr
    assert (wheel_env["cwd"] / "var" / "scro_sim.sqlite").is_file()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_wheel_app_shows_the_bundled_scenarios_to_a_learner(wheel_env: dict[str, Path]) -> None:
    # the app from the wheel, its pages run headless: sign in and find the bundled exercises offered
    code = """
import sys
from scro_sim.demo import seed_demo
from scro_sim.resources import app_script
from scro_sim.store import Store
from streamlit.testing.v1 import AppTest
with Store(sys.argv[1]) as s:
    seed_demo(s)
    s.set_language("learner", "en")
at = AppTest.from_file(str(app_script()), default_timeout=120).run()
at.text_input(key="w.sign_in.username").input("learner")
at.text_input(key="w.sign_in.password").input("learner-demo")
at.button[0].click().run()
assert not at.exception, at.exception
print("\\n".join(at.selectbox(key="w.play.scenario@en").options))
"""
    db = f"sqlite:///{wheel_env['tmp'] / 'apptest.sqlite'}"
    r = subprocess.run([str(wheel_env["python"]), "-c", code, db], capture_output=True, text=True,
                       cwd=wheel_env["cwd"], env=_env(wheel_env), timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(r.stdout.strip().splitlines()) == len(list((REPO / "scenarios").glob("*.yaml"))), r.stdout


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_wheel_app_answers_its_health_check_and_stops_on_sigterm(wheel_env: dict[str, Path]) -> None:
    port = free_port()
    env = {**_env(wheel_env), "SCRO_SIM_DB": f"sqlite:///{wheel_env['tmp'] / 'app.sqlite'}"}
    proc = subprocess.Popen([str(wheel_env["scro_sim"]), "app", "--port", str(port), "--address", "127.0.0.1"],
                            cwd=wheel_env["cwd"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(port, proc)
        kids = children_of(proc.pid)
        assert kids or not Path("/proc").is_dir(), "scro-sim app should run Streamlit as its child"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not listening(port)
    assert all(wait_gone(k) for k in kids)
