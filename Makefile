# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
export DAGSTER_HOME := $(CURDIR)/dagster_home

.PHONY: install run test ui daemon refresh bench lint clean dagster-home browser

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Dagster keeps run history, schedules and sensor state here (git-ignored).
dagster-home:
	mkdir -p $(DAGSTER_HOME)
	cp pipelines/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

run: install dagster-home
	$(PY) -m pipelines.run

# One refresh cycle, synchronously: new or revised KOSIS periods only, then indicators and publication.
refresh: install dagster-home
	$(PY) -m pipelines.refresh

# The browser tests need Debian's chromium and chromium-driver (installed here if missing).
browser:
	bash scripts/install-browser.sh

test: install browser
	$(PY) -m pytest

ui: install dagster-home
	$(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The daemon alone: schedules, sensors and declarative automation (make ui starts one too).
daemon: install dagster-home
	$(VENV)/bin/dagster-daemon run -w workspace.yaml

# Benchmarks print `name: value` lines; they are measurements, not tests.
bench: install
	$(PY) -m benchmarks.bench_ingest

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf warehouse/data dagster_home
