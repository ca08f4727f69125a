# Two commands for a fresh Debian 12 / Python 3.11 machine:
#   make demo   install into .venv, then run `firstline demo`
#   make test   install, then lint, type-check, check layering and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LLM_STAMP := $(VENV)/.llm-server-installed

# The published HTTP API description; a test fails when it is stale.
openapi: install
	$(BIN)/firstline openapi > docs/openapi.json

.PHONY: openapi install demo test lint typecheck layers unit lock clean test-services apt-services lab
QRYN_VERSION := 3.2.39
QRYN_DIR := .test-services/qryn

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Only the tests need the local model server; it compiles llama.cpp (~4 min, then cached by pip).
$(LLM_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev,llm-server]'
	touch $(LLM_STAMP)

demo: install
	$(BIN)/firstline demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

layers: install
	$(BIN)/lint-imports

# LOAD=1 runs the suite beside a bounded CPU burner (one spinning process per core, stopped
# when pytest ends, at most an hour), as a busy CI machine would be: `make test LOAD=1`.
BURNER := $(if $(LOAD),$(BIN)/python -m tests.services.cpu_burner --,)

# The suite runs on TEST_WORKERS pytest-xdist workers, a test file (or a group of files)
# per unit of work (tests/parallel.py). Most slow tests wait on real servers rather than
# compute, so three workers keep two cores busy; TEST_WORKERS=0 runs in this one process.
TEST_WORKERS ?= 3
# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE=1,
# as in the image): otherwise each worker and each of the hundreds of `firstline` processes
# the tests start compiles the sources again, and pytest rewrites every test module's
# asserts again (collection: 26 s of CPU without the cache, 15 s with it, per worker).
TEST_ENV := PYTHONDONTWRITEBYTECODE= FIRSTLINE_QRYN_DIR=$(CURDIR)/$(QRYN_DIR)

test: install $(LLM_STAMP) test-services lint typecheck layers
	$(TEST_ENV) $(BURNER) $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# Real services the integration tests start themselves: Prometheus, Alertmanager, Redis and
# PostgreSQL from Debian, the four Debian exporters the lab's monitoring scrapes (node,
# postgres, redis, blackbox), qryn (a Loki-API server) from npm; Debian's Chromium, the
# browser the console's tests drive; and jq, which the docs' runnable examples pipe
# through (tests/docs). Installed once; nothing is started here.
test-services: apt-services $(QRYN_DIR)/.installed

APT_SERVICES := prometheus prometheus-alertmanager redis-server postgresql-15 chromium jq \
  prometheus-node-exporter prometheus-postgres-exporter prometheus-redis-exporter \
  prometheus-blackbox-exporter
# The packages' postinst scripts start their daemons on default ports (9090, 9100, 6379, ...)
# through invoke-rc.d; a policy-rc.d that answers 101 ("action forbidden") keeps them stopped,
# as every part is started by the suite or the lab on its own loopback port. One the machine
# already has (Debian's Docker images ship one) is left alone.
apt-services:
	@if ! command -v prometheus >/dev/null || ! command -v prometheus-alertmanager >/dev/null \
	    || ! command -v redis-server >/dev/null || ! test -x /usr/lib/postgresql/15/bin/initdb \
	    || ! test -x /usr/bin/chromium || ! command -v jq >/dev/null \
	    || ! command -v prometheus-node-exporter >/dev/null \
	    || ! command -v prometheus-postgres-exporter >/dev/null \
	    || ! command -v prometheus-redis-exporter >/dev/null \
	    || ! command -v prometheus-blackbox-exporter >/dev/null; then \
	  policy=/usr/sbin/policy-rc.d; own_policy=; \
	  if ! test -e $$policy; then \
	    printf '#!/bin/sh\nexit 101\n' > $$policy && chmod 755 $$policy && own_policy=1; \
	  fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $(APT_SERVICES); status=$$?; \
	  if test -n "$$own_policy"; then rm -f $$policy; fi; \
	  exit $$status; \
	fi

# The live lab (docs/lab.md): a small real production on this machine, run by firstline.
lab: install test-services
	$(BIN)/firstline lab run all

# qryn's own postinstall runs patch-package from the wrong folder (or is skipped by npm 11),
# so scripts are off and its patches are applied from the install root.
$(QRYN_DIR)/.installed:
	mkdir -p $(QRYN_DIR)
	cd $(QRYN_DIR) && echo '{"name":"firstline-test-qryn","private":true}' > package.json \
	  && npm install --ignore-scripts --no-audit --no-fund --loglevel=error qryn@$(QRYN_VERSION) \
	  && cp -r node_modules/qryn/patches . && npx --no-install patch-package
	touch $@

# Regenerate requirements.lock from a clean resolution of pyproject.toml, and from it the
# image's requirements-runtime.lock (the runtime closure only).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet '.[dev,llm-server]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^firstline' > requirements.lock
	.lock-venv/bin/python deploy/docker/runtime_lock.py   # requirements-runtime.lock, for the image
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
