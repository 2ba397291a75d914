# Two commands a newcomer needs: `make run` (the main job) and `make test` (the whole suite).
# Each creates .venv and installs what it needs on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run reference test lint e2e-full mutation bench schema clean

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

# the suite on one pytest-xdist worker per CPU (TEST_JOBS=0: in one process; tests/parallelkit.py says
# which tests one worker runs in turn)
TEST_JOBS ?= auto
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q -n $(TEST_JOBS) --dist loadgroup

# mutation testing (config in pyproject.toml [tool.mutmut]); target: >= 90 % of mutants killed.
# MODULE=scro_sim/log.py (or a folder, scro_sim/engine) limits the run to one module.
# SAMPLE=300 (SEED=1 by default) checks only a seeded uniform sample of the mutants and prints
# the share killed with its 95 % interval (bench/mutation_sample.py); survivors in code run at
# import, which mutmut's forked runner never executes mutated, are checked again in a fresh process.
MUTATION_JOBS ?= 2
SEED ?= 1
mutation: $(STAMP)
ifdef SAMPLE
	$(PY) bench/mutation_sample.py --sample $(SAMPLE) --seed $(SEED) --jobs $(MUTATION_JOBS) $(if $(MODULE),--module $(MODULE))
else
	HYPOTHESIS_PROFILE=mutation nice $(VENV)/bin/mutmut run --max-children $(MUTATION_JOBS) $(if $(MODULE),'$(subst /,.,$(patsubst %/,%,$(MODULE:.py=))).*')
	$(VENV)/bin/mutmut export-cicd-stats && cat mutants/mutmut-cicd-stats.json
endif

lint: $(STAMP)
	$(PY) -m ruff check .

# every bundled exercise played to its score in a real browser in all four languages (the
# suite plays each one once, the languages taking turns); about a quarter of an hour
e2e-full: $(STAMP)
	SCRO_SIM_E2E_FULL=1 $(PY) -m pytest -q tests/e2e/test_every_exercise.py

bench: $(STAMP)
	$(PY) bench/bench.py --quick

schema: $(STAMP)
	$(PY) -m scro_sim.cli schema

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache mutants .mutmut-cache
