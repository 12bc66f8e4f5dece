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

.PHONY: help env lock data reproduce notebooks verify test test-cluster expected benchmark site clean $(addprefix notebook-,$(STEMS))

help:
	@echo "make reproduce [PROFILE=smoke|default|paper] [WORKERS=local:N|slurm:N] [STEMS='NAME ...']  environment, data, every notebook (or those named) on one cluster, the front page"
	@echo "make notebook-NAME [PROFILE=..] [PARAMS='-p name value']  one notebook (NAME: $(STEMS))"
	@echo "make verify [VERIFY_UNITS=N|all] [VERIFY_NOTEBOOKS=01_...,02_...]  retrain N committed units per notebook (default 3), compare bit for bit"
	@echo "make test        pytest over avalib + nbval over the smoke notebooks (~3-8 min on 2 cores)"
	@echo "make test-cluster  a smoke notebook on a real single-node SLURM (started here; apt-installed as root) = local, bit for bit"
	@echo "make expected    after editing a notebook: refresh the smoke outputs make test compares"
	@echo "make data        verified copies of every dataset into data/raw/ (exit 1 if one is missing)"
	@echo "make env | lock  the virtual environment from requirements.lock (+ torch from TORCH_INDEX) | rewrite the lock"
	@echo "make site        the study as a static HTML book in build/site/ (the committed results, offline)"
	@echo "make benchmark   speed ratios (benchmarks/*.py); make clean removes build/ (caches too)"

env: $(STAMP)

# requirements.lock: every package but torch, pinned with the sha256 of each of its files on PyPI,
# resolved by uv (a pinned release, installed into build/lock-venv) from requirements.txt with the CPU
# build of torch, so torch's CUDA packages never enter it; the versions of an existing lock are kept
# (delete it for a fresh resolution). torch itself comes from TORCH_INDEX.
UV_VERSION := 0.13.9
PYTHON_VERSION = $(shell $(PYTHON) -c 'import platform; print(platform.python_version())')
# Where the resolver reads the CPU torch's metadata: a local folder of wheels where the machine has one.
TORCH_WHEELS ?= $(or $(wildcard /opt/wheels),$(TORCH_INDEX)/torch/)
lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet uv==$(UV_VERSION)
	sed 's/^torch==\(.*\)$$/torch==\1+cpu/' requirements.txt > build/lock-input.txt
	{ grep -v '^torch' requirements.lock 2>/dev/null | grep '==' | sed 's/ .*//' || true; } > build/lock-kept.txt
	{ echo "# Every package of the environment but torch, pinned with hashes: \`make lock\` (uv $(UV_VERSION),"; \
	  echo "# uv pip compile of requirements.txt with the CPU build of torch, Python $(PYTHON_VERSION), Linux)."; \
	  echo "# \`make env\` installs it (pip checks every hash), then torch from TORCH_INDEX."; \
	  build/lock-venv/bin/uv pip compile build/lock-input.txt --quiet --no-header --generate-hashes \
	    --python-version $(PYTHON_VERSION) \
	    --index-url https://pypi.org/simple --find-links $(TORCH_WHEELS) \
	    --no-emit-package torch -c build/lock-kept.txt; \
	} > build/requirements.lock
	mv build/requirements.lock requirements.lock
	rm -rf build/lock-venv build/lock-input.txt build/lock-kept.txt

# torch, pinned in requirements.txt, from PyTorch's CPU index by default; a CUDA build instead with
# e.g. make env TORCH_INDEX=https://download.pytorch.org/whl/cu128 (README, "A GPU").
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_PIN := $(shell grep '^torch==' requirements.txt)

# The virtual environment, built once (the stamp), inside the repository only.
$(STAMP): requirements.lock requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --index-url $(TORCH_INDEX) "$(TORCH_PIN)"
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Verified copies of every dataset file into data/raw/ (CIFAR-10 is reported, not fatal, offline).
data: $(STAMP)
	$(PY) -m avalib.download

# Every notebook through papermill at the profile's parameters, all on one Dask cluster
# (avalib/workers.py: WORKERS single-threaded workers, or $AVALIB_SCHEDULER where it is set), each
# notebook started as soon as those whose units it reuses are done, so the workers stay busy
# across notebooks; the front page last.
WORKERS ?= local:2
reproduce: data
	$(PY) -m avalib.workers $(or $(AVALIB_SCHEDULER),$(WORKERS)) -- \
	  $(MAKE) --no-print-directory --output-sync=line -j$(words $(STEMS)) notebooks PROFILE=$(PROFILE)
	$(if $(filter default,$(PROFILE)),$(PY) -m avalib.front_page)

notebooks: $(addprefix notebook-,$(STEMS))

# Under make reproduce a notebook waits for the one whose units it reuses, so no unit is computed
# twice by two notebooks at once: 03 trains on 02's step-1 models, 04 judges with 03's judges, 07
# retrains none of 03's MNIST settings, and 05 builds on 03's published run, 08 on 04's (alone,
# 05 or 08 stops, naming the command, when there is none).
# (a prerequisite only where it is among STEMS: make reproduce STEMS='03_... 05_...' runs a subset)
AFTER = $(if $(filter notebooks,$(MAKECMDGOALS)),$(if $(filter $(1),$(STEMS)),notebook-$(1)))
notebook-03_beta_gamma_ablation: | $(call AFTER,02_latent_space)
notebook-04_vae_vs_gan: | $(call AFTER,03_beta_gamma_ablation)
notebook-05_zemouri_more_seeds: | $(call AFTER,03_beta_gamma_ablation)
notebook-07_beta_thresholds: | $(call AFTER,03_beta_gamma_ablation)
notebook-08_ava_more_seeds: | $(call AFTER,04_vae_vs_gan)

# One notebook, safely (avalib/runs.py): parameters checked before a kernel starts, then run in
# build/staging/ and published whole only on success (the front page follows, except under make
# reproduce, which writes it once at the end). PARAMS='-p seeds "[0, 1]"' sets parameters.
PARAMS ?=
$(addprefix notebook-,$(STEMS)): notebook-%: data
	$(PY) -m avalib.runs $* --profile $(PROFILE) $(PARAMS)
	$(if $(filter default,$(PROFILE)),$(if $(filter notebooks,$(MAKECMDGOALS)),,$(PY) -m avalib.front_page))

# A stratified random sample of the committed units retrained with the cache off and compared bit
# for bit with results/*/fingerprints.csv (avalib/verify.py); the table goes to results/verification.*.
VERIFY_UNITS ?= 3
VERIFY_NOTEBOOKS ?=
verify: data
	$(PY) -m avalib.verify --units $(VERIFY_UNITS) $(if $(VERIFY_NOTEBOOKS),--notebooks $(VERIFY_NOTEBOOKS)) --scheduler $(or $(AVALIB_SCHEDULER),local:2)

# pytest over avalib, then every notebook at its smoke parameters under nbval (results go to
# build/): tests/expected/<stem>.ipynb is the notebook with the smoke parameters injected and the
# expected outputs of its cells tagged nbval-check-output, which nbval compares (to 2 decimals).
SMOKE_ENV = AVALIB_RESULTS_DIR=$(CURDIR)/$(SMOKE)/results AVALIB_CACHE_DIR=$(CURDIR)/$(SMOKE)/cache
# Tools some tests need, apt-installed when absent where this is root (else those tests are
# skipped, said once): qemu-user for the emulated-CPU tests, Chromium for the site's browser tests.
APT_TOOL = command -v $(1) >/dev/null || { [[ $$(id -u) -eq 0 ]] && command -v apt-get >/dev/null && \
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(2) \
    >"$${TMPDIR:-/tmp}/avalib-$(2)-apt.log" 2>&1 && echo "make test: installed $(2) with apt"; } || \
  echo "make test: $(2) is not installed and apt cannot install it here: $(3) skipped"
test: data
	@$(call APT_TOOL,qemu-x86_64,qemu-user,the emulated-CPU tests are)
	@$(call APT_TOOL,chromium,chromium,the site's browser tests are)
	rm -rf $(SMOKE) && mkdir -p $(SMOKE)
	$(SMOKE_ENV) $(PY) -m pytest tests --nbval-lax --nbval-sanitize-with tests/expected/sanitize.cfg

# The cluster path on a real SLURM: cluster/test-cluster.sh starts a single-node cluster (slurmctld,
# slurmd, munge; Debian's packages, apt-installed when absent and root), runs notebook 02 at smoke
# with scheduler=slurm:2 and local:2, checks SLURM's job log and that both are the same bit for bit.
test-cluster: data
	PY=$(PY) cluster/test-cluster.sh

# Regenerate tests/expected/ after changing a notebook (tests/test_notebooks.py says when).
expected: data
	rm -rf $(SMOKE) && mkdir -p $(SMOKE)
	for stem in $(STEMS); do $(SMOKE_ENV) $(PY) -m avalib.runs $$stem --profile smoke; done
	$(PY) tests/expected/refresh.py $(SMOKE)/results/*/*.ipynb

# The front page and the executed notebooks as they are committed, rendered by Sphinx + MyST-NB in
# the book theme without running a cell (avalib/site.py, site/conf.py); open build/site/index.html.
site: env
	$(PY) -m avalib.site

# Every benchmark, each run even when one before it fails (the target fails after them);
# BENCHMARK_FLAGS=--smoke runs them at a tiny size (tests/test_benchmarks.py does so in make test).
BENCHMARK_FLAGS ?=
benchmark: data
	failed=0; for script in benchmarks/*.py; do echo "== $$script"; \
	  $(PY) $$script $(BENCHMARK_FLAGS) || { echo "$$script failed"; failed=1; }; done; exit $$failed

clean:
	rm -rf build
