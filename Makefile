# Two commands do everything on a fresh machine (see README.md):
#   make reproduce   environment, data, every notebook at its default parameters -> results/
#   make test        environment, data, pytest over avalib and nbval over smoke-parameter notebooks
# One word selects the scale of a run: make reproduce PROFILE=smoke|default (notebooks/profiles/);
# only the default profile writes into results/, the others into build/results-<profile>/.
# A run that fails leaves the published results as they were (avalib/runs.py).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.avalib-installed
SMOKE := build/smoke

# Use the shared offline mirror when it exists and the caller named none.
SHARED_MIRROR := $(abspath ../shared/datasets)
ifeq ($(origin AVALIB_DATA_MIRROR),undefined)
  ifneq ($(wildcard $(SHARED_MIRROR)/MANIFEST.tsv),)
    export AVALIB_DATA_MIRROR := $(SHARED_MIRROR)
  endif
endif

PROFILE ?= default
ifeq ($(filter $(PROFILE),smoke default paper),)
  $(error PROFILE=$(PROFILE) is unknown; allowed: smoke, default, paper)
endif

NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
STEMS := $(basename $(notdir $(NOTEBOOKS)))

.PHONY: help env lock data reproduce test expected benchmark clean $(addprefix notebook-,$(STEMS))

help:
	@echo "make reproduce [PROFILE=smoke|default|paper]  environment, data, every notebook, the front page"
	@echo "make notebook-NAME [PROFILE=..] [PARAMS='-p name value']  one notebook (NAME: $(STEMS))"
	@echo "make test        pytest over avalib + nbval over the smoke notebooks (~3-8 min on 2 cores)"
	@echo "make expected    after editing a notebook: refresh the smoke outputs make test compares"
	@echo "make data        verified copies of every dataset into data/raw/ (exit 1 if one is missing)"
	@echo "make env | lock  the virtual environment from requirements.lock | rewrite the lock"
	@echo "make benchmark   speed ratios (benchmarks/*.py); make clean removes build/ (caches too)"

env: $(STAMP)

# A fresh venv from the top-level pins of requirements.txt, frozen: every package of the resolved environment.
lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet -r requirements.txt
	{ echo "# Every package of the environment, pinned: the resolution of requirements.txt on this platform"; \
	  echo "# (CPU torch), written by \`make lock\` (pip freeze of a fresh venv built from requirements.txt)."; \
	  echo "# \`make env\` installs from this file."; \
	  build/lock-venv/bin/pip freeze | grep -v "^#"; } > requirements.lock
	rm -rf build/lock-venv

# The virtual environment, built once (the stamp), inside the repository only.
# Installs requirements.lock: every package pinned (make lock rewrites it from requirements.txt).
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Verified copies of every dataset file into data/raw/ (CIFAR-10 is reported, not fatal, offline).
data: $(STAMP)
	$(PY) -m avalib.download

# Every notebook through papermill at the profile's parameters; independent ones run under -j2.
reproduce: $(addprefix notebook-,$(STEMS))
	$(if $(filter default,$(PROFILE)),$(PY) -m avalib.results index)

# One notebook, safely (avalib/runs.py): parameters checked before a kernel starts, then run in
# build/staging/ and published whole only on success. PARAMS='-p seeds "[0, 1]"' sets parameters.
PARAMS ?=
$(addprefix notebook-,$(STEMS)): notebook-%: data
	$(PY) -m avalib.runs $* --profile $(PROFILE) $(PARAMS)

# pytest over avalib, then every notebook at its smoke parameters under nbval (results go to
# build/): tests/expected/<stem>.ipynb is the notebook with the smoke parameters injected and the
# expected outputs of its cells tagged nbval-check-output, which nbval compares (to 2 decimals).
SMOKE_ENV = AVALIB_RESULTS_DIR=$(CURDIR)/$(SMOKE)/results AVALIB_CACHE_DIR=$(CURDIR)/$(SMOKE)/cache
test: data
	rm -rf $(SMOKE) && mkdir -p $(SMOKE)
	$(SMOKE_ENV) $(PY) -m pytest tests --nbval-lax --nbval-sanitize-with tests/expected/sanitize.cfg

# Regenerate tests/expected/ after changing a notebook (tests/test_notebooks.py says when).
expected: data
	rm -rf $(SMOKE) && mkdir -p $(SMOKE)
	for stem in $(STEMS); do $(SMOKE_ENV) $(PY) -m avalib.runs $$stem --profile smoke; done
	$(PY) tests/expected/refresh.py $(SMOKE)/results/*/*.ipynb

benchmark: data
	for script in benchmarks/*.py; do $(PY) $$script; done

clean:
	rm -rf build
