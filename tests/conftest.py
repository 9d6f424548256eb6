"""Shared fixtures: real DuckDB files in tmp dirs, real Dagster materializations on ephemeral instances.

The whole offline pipeline is built ONCE per test session, by `make run` as a user runs it (a subprocess with
the user's environment minus KOSIS_*, WAREHOUSE_PATH and DAGSTER_HOME of its own): the fixture `built_template`.
Reuse it instead of building again:

- `built_template` (session, read only): a `Built` with `.data` (WAREHOUSE_PATH's folder: `warehouse.duckdb`,
  `published.duckdb`, `raw/`, `inbox/`, `reports/index.html`), `.home` (DAGSTER_HOME: the run of `make run`,
  the registered KOSIS years) and `.stdout` (what `make run` printed). Never write to it: a test that does
  fails the session at teardown (the template's files are compared before and after).
- `built_copy` (function): the same, copied into the test's tmp_path (`tmp_path / "data"`, `tmp_path / "home"`):
  write to it freely, run `make refresh`/`make export`/the sensor/Dagster on it.
- `baseline` (session, read only): the template's working warehouse file; `baseline_copy`: that file alone,
  copied to `tmp_path / "warehouse.duckdb"` (no published copy, inbox or raw archive beside it).

Build from scratch only where the build itself is what a test checks (a fault in a source file, two runs giving
the same tables, a first live run, ...).

Tiers: `make test` runs everything; `make test-quick` (`-m "not slow"`) leaves out the tests marked `slow` here
(`pytest_collection_modifyitems`): those using a fixture of SLOW_FIXTURES and every test of SLOW_MODULES.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from assets.source_files import CATALOG_PATH, SOURCES_DIR, load_catalog
from pipelines.definitions import defs
from pipelines.planner import execute_whole_build, prepare_full_run
from pipelines.resources import KosisResource
from tests.postgres import PostgresCluster
from warehouse.io import SourceFiles, WarehouseResource
from warehouse.tables import with_table_io_manager

PROJECT = Path(__file__).resolve().parent.parent

# Tables compared to decide "the warehouse is unchanged": everything an analyst reads except the
# logs that record each run (quality.check_results, quality.quarantine).
COMPARED_SCHEMAS = ("reference", "paper", "kosis", "indicators")
COMPARED_EXTRA = ("quality.source_issues",)
# Columns that record when something was looked at, and so change with every run by design.
VOLATILE = {"kosis.tables": "EXCLUDE (last_checked_at)"}
BUILD_SPECIFIC = {"kosis.snapshots": "EXCLUDE (fetched_at, path)", "kosis.observations": "EXCLUDE (valid_from)"}


def materialize(db_path: Path, sources_root: Path, selection=None, assets=None, kosis: KosisResource | None = None,
                instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    """Like `make run`: registers every KOSIS table's years, then the same sequence of runs (a RunSequence)."""
    instance = instance or dg.DagsterInstance.ephemeral()
    kosis = kosis or KosisResource()
    warehouse = WarehouseResource(database=str(db_path), lock_timeout_s=5)
    source_files = SourceFiles(root=str(sources_root))
    tables = load_catalog(kosis_catalog_of(assets)) if assets else kosis.catalog()
    requests = prepare_full_run(instance, tables, kosis, source_files.root, warehouse)
    assets = assets or list(defs.assets)
    resources = with_table_io_manager({"warehouse": warehouse, "source_files": source_files, "kosis": kosis})

    def execute(request: dg.RunRequest):
        return dg.materialize(assets, selection=list(request.asset_selection), instance=instance, resources=resources,
                              tags=request.tags, partition_key=request.partition_key, raise_on_error=False)

    if selection is None:
        selection = dg.AssetSelection.all()
    elif not isinstance(selection, dg.AssetSelection):
        selection = dg.AssetSelection.assets(*selection)
    # the runs make run makes: sources, one per KOSIS table and range of years, then what they feed
    graph = dg.Definitions(assets=assets, resources=resources).resolve_asset_graph()
    return execute_whole_build(execute, graph, requests, selection)


def kosis_catalog_of(assets) -> Path:
    """The catalog a list of assets was built from (its kosis/catalog asset records the path)."""
    for asset in assets:
        for key in asset.keys:
            if key == dg.AssetKey(["kosis", "catalog"]):
                return Path(asset.specs_by_key[key].metadata["catalog_path"])
    return CATALOG_PATH


def snapshot(db_path: Path, across_builds: bool = False) -> dict[str, list[tuple]]:
    """Every row of every compared table, sorted, so two warehouses can be compared with ==.
    across_builds: also leave out when and where a build ran (to compare two separate warehouses)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return snapshot_of(con, across_builds)
    finally:
        con.close()


def snapshot_of(con: duckdb.DuckDBPyConnection, across_builds: bool = False) -> dict[str, list[tuple]]:
    """`snapshot` of an open connection's default database (a DuckDB file or an attached DuckLake)."""
    volatile = {**VOLATILE, **(BUILD_SPECIFIC if across_builds else {})}
    tables = [f"{s}.{t}" for s, t in con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() AND "
        f"schema_name IN ({', '.join(repr(s) for s in COMPARED_SCHEMAS)}) ORDER BY 1, 2").fetchall()]
    return {t: sorted(con.execute(f"SELECT * {volatile.get(t, '')} FROM {t}").fetchall(), key=repr)
            for t in tables + list(COMPARED_EXTRA)}


def query(db_path: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def grdp_catalog(roles: dict[str, str], first_period: str = "2010") -> str:
    """A catalog with one live GRDP table whose C2 codes map to sectors as `roles` says."""
    table = {"id": "grdp_by_activity", "org_id": "101", "tbl_id": "DT_1C81", "tbl_nm": "GRDP", "prd_se": "Y",
             "first_period": first_period, "obj_levels": ["ALL", "ALL"], "itm_id": "ALL", "unit": "million won",
             "used_by": ["industrial_structure"],
             "verified": False,
             "code_roles": [{"itm_id": "T1", "level": "c2", "code": c, "role": r} for c, r in roles.items()]}
    return yaml.safe_dump({"tables": [table]}, allow_unicode=True)


@pytest.fixture
def sources_copy(tmp_path: Path) -> Path:
    root = tmp_path / "sources"
    shutil.copytree(SOURCES_DIR, root)
    return root


def make(target: str, tmp: Path, *, key: str | None = None, base_url: str | None = None, extra: tuple = (),
         timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`make -s <target>` in the project as a user runs it: the user's environment without KOSIS_*,
    WAREHOUSE_* and DAGSTER_* variables, then WAREHOUSE_PATH=tmp/data/warehouse.duckdb, DAGSTER_HOME=tmp/home,
    WAREHOUSE_LOCK_TIMEOUT_S=10, KOSIS_API_KEY=key and KOSIS_BASE_URL=base_url when given, and `env`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("KOSIS_", "WAREHOUSE_", "DAGSTER_"))}
    environment.update(WAREHOUSE_PATH=str(tmp / "data" / "warehouse.duckdb"), DAGSTER_HOME=str(tmp / "home"),
                       WAREHOUSE_LOCK_TIMEOUT_S="10")
    if key is not None:
        environment["KOSIS_API_KEY"] = key
    if base_url is not None:
        environment["KOSIS_BASE_URL"] = base_url
    environment.update(env or {})
    return subprocess.run(["make", "-s", target, *extra], cwd=PROJECT, env=environment, capture_output=True,
                          text=True, timeout=timeout)


# The quick tier (`make test-quick`: under a minute on 2 cores, no PostgreSQL, browser, `dagster dev` or `make`
# target run as a user runs it) is what is left. Chosen by measured cost (pytest --durations, one file at a time).
# A test using one of these fixtures is slow wherever it is: built_template is an offline `make run` (about 9 s
# a session, and baseline, built_copy and baseline_copy are made from it); postgres starts a cluster.
SLOW_FIXTURES = frozenset({"built_template", "postgres"})
# Modules whose every test is slow: a browser and `dagster dev` (test_browser), PostgreSQL (test_ducklake,
# test_dagster_postgres), `make` targets in a subprocess (test_kosis_accounting, test_kosis_tools, test_live_cli,
# test_refresh, test_user_failures, test_rollback), the daemon or concurrent CLI processes (test_dead_command_runs,
# test_concurrent_refresh), or whole pipeline builds of 15 s or more a module (test_kosis_pipeline, test_pipeline,
# test_report, test_run_connection).
SLOW_MODULES = frozenset({
    "test_browser", "test_ducklake", "test_dagster_postgres", "test_kosis_accounting", "test_kosis_tools",
    "test_live_cli", "test_refresh", "test_user_failures", "test_rollback", "test_dead_command_runs",
    "test_concurrent_refresh", "test_inbox_portal", "test_kosis_pipeline", "test_pipeline", "test_report",
    "test_run_connection",
})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks `slow` every test of SLOW_MODULES and every test using a fixture of SLOW_FIXTURES (fixturenames holds
    the fixtures a test uses through other fixtures too)."""
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        if module in SLOW_MODULES or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@dataclass(frozen=True)
class Built:
    """An offline `make run` finished in `root`: root/data is WAREHOUSE_PATH's folder, root/home DAGSTER_HOME."""

    root: Path
    stdout: str  # what `make run` printed

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def db(self) -> Path:
        return self.data / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.data / "published.duckdb"

    @property
    def report(self) -> Path:
        return self.data / "reports" / "index.html"

    def copy_to(self, root: Path) -> Built:
        """data/ and home/ copied under `root` (DuckDB and SQLite files copy fine: nothing holds them open)."""
        root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.data, root / "data")
        shutil.copytree(self.home, root / "home")
        return Built(root, self.stdout)


def _fingerprint(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="session")
def built_template(tmp_path_factory) -> Iterator[Built]:
    """The whole offline pipeline, built once per session by `make run` (see the module docstring). Read only.
    Under pytest-xdist the workers share one build: the first builds it under a file lock, the others wait."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    shared = tmp_path_factory.getbasetemp().parent if worker else tmp_path_factory.getbasetemp()
    root = shared / "built_template"
    with open(shared / "built_template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (root / "make-run.stdout").is_file():
            shutil.rmtree(root, ignore_errors=True)  # a build that failed in another worker: try again
            root.mkdir()
            proc = make("run", root)
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
            (root / "make-run.stdout").write_text(proc.stdout, encoding="utf-8")
    built = Built(root, (root / "make-run.stdout").read_text(encoding="utf-8"))
    before = _fingerprint(built.data)
    yield built
    assert _fingerprint(built.data) == before, "a test wrote into the session's built_template: use built_copy"


@pytest.fixture
def built_copy(built_template: Built, tmp_path: Path) -> Built:
    """The session's offline build, copied into this test's tmp_path: tmp_path/data and tmp_path/home."""
    return built_template.copy_to(tmp_path)


@pytest.fixture(scope="session")
def baseline(built_template: Built) -> Path:
    """The working warehouse of the session's offline build (read only); tests copy it instead of rebuilding it."""
    return built_template.db


@pytest.fixture
def baseline_copy(baseline: Path, tmp_path: Path) -> Path:
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(baseline, db)
    return db


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 for this session (per xdist worker; tests/postgres.py)."""
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()
