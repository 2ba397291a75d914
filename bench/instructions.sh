#!/usr/bin/env bash
# Instructions per engine run, counted by valgrind (repeatable on a shared, noisy machine where
# time is not): N do-nothing runs of the bench's 72 h flood on synthetic(SIZE), minus zero runs,
# so imports and building the city cancel out.
#   bash bench/instructions.sh [N=10] [SIZE=5000]      (about 2 minutes; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10}
SIZE=${2:-5000}
PY=${PYTHON:-.venv/bin/python}
count() {
  PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$PY" - "$1" "$SIZE" <<'PYEOF' 2>&1 \
    | grep -o "Collected : [0-9]*" | grep -o "[0-9]*"
import sys
sys.path.insert(0, "bench")
import bench
bench.say = lambda *a: None
from scro_sim.engine import Simulation
from scro_sim.policy import DoNothing
n, size = int(sys.argv[1]), int(sys.argv[2])
city = bench.city_of(size)
sc = bench.flood_scenario(city, expert=False)
Simulation(sc, city, 99, DoNothing()).run()  # warm: caches made once per city
for seed in range(n):
    Simulation(sc, city, seed, DoNothing()).run()
PYEOF
}
base=$(count 0)
runs=$(count "$N")
echo "synthetic($SIZE), 72 h flood, do nothing: $(( (runs - base) / N )) instructions per run ($N runs)"
