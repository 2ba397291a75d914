# Two commands a newcomer needs: `make run` (the main job) and `make test` (the whole suite).
# Each creates .venv and installs what it needs on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run reference test lint bench schema clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# the app on http://$(ADDRESS):$(PORT) (default 127.0.0.1:8501; `make run PORT=8600 ADDRESS=0.0.0.0`)
# with the embedded SQLite database (var/scro_sim.sqlite), the bundled scenarios and the demo
# accounts named in the README (only in that default demo database, or with SCRO_SIM_DEMO=1:
# never in a database SCRO_SIM_DB names)
PORT ?= 8501
ADDRESS ?= 127.0.0.1
run: $(STAMP)
	$(PY) -m scro_sim.cli validate scenarios/*.yaml city_models/*.yaml
	$(PY) -m scro_sim.cli demo --auto
	$(PY) -m scro_sim.cli app --port $(PORT) --address $(ADDRESS)

# the reference scenario from the command line, no app
reference: $(STAMP)
	$(PY) -m scro_sim.cli run scenarios/riverton_flood.yaml --baseline expert --seed 1 --out var/riverton_expert.jsonl

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	$(PY) bench/bench.py --quick

schema: $(STAMP)
	$(PY) -m scro_sim.cli schema

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
