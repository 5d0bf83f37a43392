# Two commands do everything on a fresh machine:
#   make demo   zero to a verified TLS InfluxDB with Telegraf writing over HTTPS
#   make test   every test: unit, real-server integration, docs pages, site
# Each installs what it needs (Debian packages, Docker engine, Python venv, images).

SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLEET := $(VENV)/.installed-fleet
# Test workers. The suite waits on containers (systemd boots, certbot's
# fixed sleeps, Telegraf's intervals) as much as it computes: on 2 cores,
# pytest of the whole suite took 7 min 25 s to 8 min 9 s with 2 workers,
# 7 min 4 s with 3 and 6 min 32 s to 7 min 53 s with 4 (docs/benchmarks.md).
PYTEST_N ?= 4
export PATH := $(CURDIR)/$(BIN):$(PATH)
# This machine's bytecode is cached under build/, also where the
# caller's environment says not to write it (PYTHONDONTWRITEBYTECODE): the
# suite starts about 500 Python processes, and without the cache each one
# compiles again what it imports (runbook and the harness: 0.58 CPU-s to
# import instead of 0.22).
export PYTHONPYCACHEPREFIX := $(CURDIR)/build/pycache
unexport PYTHONDONTWRITEBYTECODE

.PHONY: sslyze-venv client-kit host-pyc demo down test test-unit test-server test-docs test-site test-fleet site serve images engine deps lint bench clean

deps:
	@scripts/install-deps.sh

# uv (scripts/uv.sh, cached) installs the pinned set in about 3 s where pip
# took 27 s. It does not compile bytecode up front: Python compiles what it
# imports when it first imports it. constraints.txt pins every package, dev
# tools and pip included. Only the system's Python: uv downloads none.
# uv reads no pip.conf: an index set for pip in the environment is passed on.
ifdef PIP_INDEX_URL
export UV_INDEX_URL ?= $(PIP_INDEX_URL)
endif
UV_INSTALL := uv="$$(scripts/uv.sh)" && "$$uv" pip install --quiet --python $(BIN)/python -c constraints.txt
$(STAMP): pyproject.toml constraints.txt | deps
	@test -x $(BIN)/python || { uv="$$(scripts/uv.sh)" && "$$uv" venv --quiet --python-preference only-system --python $(PY) $(VENV); }
	@$(UV_INSTALL) pip -e '.[test]'
	@touch $@

# Ansible (the fleet extra) for the tests only: make demo does not pay for it.
$(FLEET): $(STAMP)
	@$(UV_INSTALL) -e '.[fleet]'
	@touch $@

venv: $(STAMP)

engine: deps
	@scripts/docker-engine.sh

images: engine
	@scripts/build-images.sh

# The client libraries clients.md installs in its hosts (they have no internet).
client-kit: $(STAMP)
	@scripts/build-client-kit.sh >/dev/null

# sslyze, the oracle for `runbook grade` (AGPL: a venv of its own, never a
# dependency). Built before pytest so xdist workers only reuse it.
sslyze-venv: | deps
	@scripts/sslyze-venv.sh >/dev/null

lint: $(STAMP)
	$(BIN)/ruff check runbook lab tests scripts harness site_hooks
	$(BIN)/mypy
	@scripts/actionlint.sh

test-unit: $(STAMP) $(FLEET)
	$(BIN)/pytest tests harness -m "not server and not browser" -q

test-server: $(STAMP) $(FLEET) images sslyze-venv
	$(BIN)/pytest tests harness -m server -q

# The Ansible rollout (ansible/, docs/fleet.md) against three package hosts.
test-fleet: $(STAMP) $(FLEET) images
	$(BIN)/pytest tests/integration/test_fleet.py -q

# The pages, and the Guide in order (the journeys): a Guide page runs alone
# on fewer hosts than it declares, and the journeys verify the rest.
test-docs: $(STAMP) images client-kit host-pyc
	$(BIN)/pytest docs harness/journey.yml -n $(PYTEST_N) --dist loadfile -q

site: $(STAMP)
	@# python -m: the repo root on sys.path, so the hooks (site_hooks/) import
	@# harness, scripts and lab as packages (not installed, only in the checkout)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --site-dir site

test-site: $(STAMP) site
	@scripts/install-deps.sh browser
	$(BIN)/pytest tests harness -m browser -q

# The whole suite in one pytest run, so the last line is one summary.
# SHARD=K/N runs only shard K of N (harness/shard.py; CI runs N at once).
SHARD ?=
# The venv, the client kit and sslyze's venv are made while the images build (make -j):
# they mostly wait on the network. The lint (mypy, actionlint's Go build)
# would take CPU from the compiles, so it runs after them.
test:
	@$(MAKE) --no-print-directory -j3 $(FLEET) images client-kit sslyze-venv
	@$(MAKE) --no-print-directory lint
	@scripts/host-pyc.sh  # the images are built above
	@scripts/install-deps.sh browser
	paths="$(if $(SHARD),$$(harness/shard.py $(subst /, ,$(SHARD))),tests docs harness)" && \
	  $(BIN)/pytest $$paths -n $(PYTEST_N) --dist loadfile

# The page hosts' bytecode of runbook/ (their Pythons, 3.11 and 3.13), beside
# the sources: the hosts mount the checkout read-only (scripts/host-pyc.sh).
host-pyc: images
	@scripts/host-pyc.sh

serve: $(STAMP)
	$(BIN)/python -m mkdocs serve

# The demo's one image, not the test hosts: FROM the official influxdb image
# where a registry answers within 5 s, else the local build (one line says
# which and why; RUNBOOK_REGISTRY=host:port asks another registry).
.PHONY: demo-image
demo-image: $(STAMP) engine
	@PYTHON=$(BIN)/python IMAGE_BASE=auto scripts/build-image.sh >/dev/null

demo: $(STAMP) demo-image
	$(BIN)/python -m lab demo

down: $(STAMP)
	$(BIN)/python -m lab down

bench: $(STAMP) images
	@$(UV_INSTALL) -e '.[bench]'
	$(BIN)/python -m lab bench

clean:
	rm -rf site build .pytest_cache
