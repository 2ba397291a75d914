"""How long the Play page takes to answer on the reference scenario (Streamlit AppTest, temp SQLite).

    python bench/app_latency.py [--steps 6]

Prints the time of "Start the exercise", of each "Continue without acting" (advance to the
next decision point, store the game, draw the map), and of a rerun without a click.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=6)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    tmp = Path(tempfile.mkdtemp())
    os.environ["SCRO_SIM_DB"] = f"sqlite:///{tmp / 'app.sqlite'}"
    os.environ["SCRO_SIM_CACHE"] = str(tmp / "cache")
    from streamlit.testing.v1 import AppTest

    from scro_sim.demo import seed_demo
    from scro_sim.store import Store

    with Store() as s:
        seed_demo(s)
        s.set_language("learner", "en")
    at = AppTest.from_file(str(ROOT / "app" / "streamlit_app.py"), default_timeout=60).run()
    at.text_input(key="w.sign_in.username").input("learner")
    at.text_input(key="w.sign_in.password").input("learner-demo")
    at.button[0].click().run()

    def click(label: str) -> float:
        t = time.perf_counter()
        next(b for b in at.button if b.label == label).click().run()
        if at.exception:
            raise SystemExit(f"the app failed: {at.exception}")
        return time.perf_counter() - t

    print(f"start the exercise (Riverton flood): {click('Start the exercise'):.2f} s")
    steps = [click("Continue without acting") for _ in range(args.steps)]
    print(f"continue to the next decision point: median {statistics.median(steps):.2f} s, "
          f"max {max(steps):.2f} s over {len(steps)}")
    t = time.perf_counter()
    at.run()
    print(f"a rerun without a click: {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
