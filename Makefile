# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# Dagster's home: the git-ignored dagster_home/ unless the environment names another.
DAGSTER_HOME ?= $(CURDIR)/dagster_home
export DAGSTER_HOME

.PHONY: install lock run test test-quick ui daemon refresh bench lint clean clean-all dagster-home browser postgres inbox kosis-check kosis-add kosis-search kosis-meta export rollback inbox-import

# Installs exactly the lock (every package of the tree, dev tools included), then the project itself without
# dependencies; again whenever pyproject.toml or the lock changes.
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

install: $(VENV)/.installed

# Regenerates requirements.lock from pyproject.toml (its dependencies and the dev extra) after a change there,
# keeping the versions already locked where they still fit (UPGRADE=1: the newest that fit). uv's universal
# resolution: one lock for Linux x86_64 and aarch64 (and any other platform), each platform-specific package
# kept with its environment marker. uv is installed into .venv for this only.
UV_VERSION := 0.13.8
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q uv==$(UV_VERSION)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 $(if $(UPGRADE),--upgrade) \
	  -o requirements.lock

# Dagster keeps run history, schedules and sensor state here (git-ignored), or in PostgreSQL when
# DAGSTER_PG_URL is set (pipelines/dagster_postgres.yaml; see docs/deploy.md).
dagster-home:
	mkdir -p $(DAGSTER_HOME)
	cp pipelines/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	if [ -n "$$DAGSTER_PG_URL" ]; then cat pipelines/dagster_postgres.yaml >> $(DAGSTER_HOME)/dagster.yaml; fi

# The KOSIS inbox (warehouse/data/inbox/, beside WAREHOUSE_PATH) with a README.txt on what to drop there.
# `make run` and `make refresh` create it themselves.
inbox: install
	$(PY) -m pipelines.inbox

# A KOSIS portal download (CSV or XLSX) checked label by label and placed in the inbox (make refresh loads it).
inbox-import: install
	@test -n "$(FILE)" -a -n "$(TBL)" || (echo "usage: make inbox-import FILE=<download.csv|.xlsx> TBL=DT_1B040A3 [ORG=101]" && exit 2)
	$(PY) -m pipelines.inbox_import --file '$(FILE)' --tbl '$(TBL)' --org '$(or $(ORG),101)'

run: install dagster-home
	$(PY) -m pipelines.run

# One refresh cycle, synchronously: new or revised KOSIS periods only, then indicators and publication.
refresh: install dagster-home
	$(PY) -m pipelines.refresh $(if $(ALL),--all)

# Undo a bad KOSIS load: close the snapshot's current vintages, make the ones it closed current again, rebuild
# and publish. The snapshot and the raw archive are kept (see kosis.rollbacks).
rollback: install dagster-home
	@test -n "$(SNAPSHOT)" || (echo "usage: make rollback SNAPSHOT=<sha256 or unique prefix> [REASON='...']" && exit 2)
	$(PY) -m pipelines.rollback --snapshot '$(SNAPSHOT)' $(if $(REASON),--reason '$(REASON)')

# Every table of the published copy as CSV (UTF-8 with a BOM) and Parquet, one XLSX per schema, datapackage.json
# and MANIFEST.txt, under warehouse/data/exports/ (README: Exports for spreadsheets and for code).
export: install
	$(PY) -m pipelines.export

# For a user with a key: check every catalog entry against getMeta; start an entry for a new table.
kosis-check: install
	$(PY) -m pipelines.kosis_tools check

kosis-add: install
	@test -n "$(TBL)" || (echo "usage: make kosis-add TBL=DT_1C91 [ORG=101]" && exit 2)
	$(PY) -m pipelines.kosis_tools add --tbl $(TBL) --org $(or $(ORG),101)

# Find tables by name (statisticsSearch) and see one table's levels, codes, items, periods and footnotes (getMeta).
kosis-search: install
	@test -n "$(Q)" || (echo "usage: make kosis-search Q='사업체 종사자' [N=50]" && exit 2)
	$(PY) -m pipelines.kosis_tools search --query '$(Q)' --limit $(or $(N),50)

kosis-meta: install
	@test -n "$(TBL)" || (echo "usage: make kosis-meta TBL=DT_1B040A3 [ORG=101]" && exit 2)
	$(PY) -m pipelines.kosis_tools meta --tbl $(TBL) --org $(or $(ORG),101)

# The DuckLake and Dagster-on-PostgreSQL tests start a throwaway PostgreSQL cluster: Debian's postgresql
# package (initdb, pg_ctl), installed here if missing.
postgres:
	bash scripts/install-postgres.sh

# The browser tests need Debian's chromium and chromium-driver (installed here if missing).
browser:
	bash scripts/install-browser.sh

# Two pytest-xdist workers (TEST_WORKERS=0: one process); tests sharing a module fixture keep to one worker
# (pytest.mark.xdist_group). The session's offline build (tests/conftest.py: built_template) is made once and
# shared by both workers.
TEST_WORKERS ?= 2
test: install browser postgres
	$(PY) -m pytest $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadgroup)

# The edit-test loop: every test not marked `slow` (tests/conftest.py marks those needing PostgreSQL, a browser,
# `dagster dev`, a `make` target, the session's offline build or a whole pipeline build), about 40 s on 2 cores.
# Needs neither the browser nor the postgres target. `make test` stays the whole suite (CI runs it).
test-quick: install
	$(PY) -m pytest -m "not slow" $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist loadgroup)

ui: install dagster-home
	$(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The daemon alone: schedules, sensors and declarative automation (make ui starts one too).
daemon: install dagster-home
	$(VENV)/bin/dagster-daemon run -w workspace.yaml

# Benchmarks print `name: value` lines; they are measurements, not tests.
bench: install
	$(PY) -m benchmarks.bench_ingest
	$(PY) -m benchmarks.bench_publish
	$(PY) -m benchmarks.bench_export

lint: install
	$(VENV)/bin/ruff check .

# Removes what the pipeline builds, but keeps what a user put in or cannot rebuild offline: the KOSIS inbox
# (warehouse/data/inbox/) and the raw archive of every KOSIS response (warehouse/data/raw/).
clean:
	rm -rf dagster_home
	if [ -d warehouse/data ]; then \
	  find warehouse/data -mindepth 1 -maxdepth 1 ! -name inbox ! -name raw -exec rm -rf {} +; fi

# Everything `make clean` removes, plus the inbox, the raw archive and test artifacts (not .venv).
clean-all:
	rm -rf warehouse/data dagster_home test-artifacts
