#!/usr/bin/env bash
# CI: Ralph, an open-source Learning Record Store, in its own virtual environment (its dependencies
# never pin ours), for tests/test_lrs.py, which starts it on loopback.  Idempotent; prints the
# export line the tests read.  Without it those tests skip, saying so.
set -euo pipefail
VENV="${SCRO_SIM_RALPH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/scro_sim/ralph-venv}"
if ! RALPH_RUNSERVER_BACKEND=fs "$VENV/bin/python" -c "import ralph.api, uvicorn, bcrypt" 2>/dev/null; then
  python3 -m venv "$VENV"
  # its API imports requests, which the lrs extra does not list (ralph-malph 5.1)
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check 'ralph-malph[lrs]>=5,<6' requests
fi
echo "export SCRO_SIM_TEST_RALPH=$VENV/bin/python"
