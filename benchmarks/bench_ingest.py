"""Benchmark: KOSIS ingestion at 0.25 M, 1 M and 4 M cells, and `make run` against Dagster's own floor.

Prints `name: value` lines only. Every ratio is against a baseline measured in the same run, so it does not
depend on the machine:

- end to end: the real Dagster asset (fetch in split calls from the loopback KOSIS server, archive, stage,
  validate, merge), over every year, as `make run` registers them. The server runs in its own process and serves
  bodies it has rendered once from memory (`--cache-bodies`, warmed by a first run), so its JSON rendering is not
  measured;
- load only: the archived snapshots staged as the asset stages them (the same years, the same parser), validated
  and merged, into a fresh warehouse (first load) and, after the server changed 1 % of the cells, into that
  warehouse again (revision load);
- baseline: DuckDB's own `read_json` over the same files into a table, under the pipeline's DuckDB settings
  (memory_limit, preserve_insertion_order, spill directory);
- peak RSS: of a process doing the end-to-end load of one size (one process per size);
- publish: `WarehouseResource.publish()` of the 1 M warehouse (median of 3);
- make_run_vs_dagster_floor: Dagster's floor (as many trivial assets and checks as `make run` materializes, on a
  SQLite instance, in process) over the time of `python -m pipelines.run`, both as new processes.

Usage: .venv/bin/python -m benchmarks.bench_ingest            (all sizes, ~5 minutes)
       .venv/bin/python -m benchmarks.bench_ingest --size 1m  (one size, in this process)
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
KEY = "NjU4YTk3ZGQ5ZDQ0ZjZmM2E4ZTQ2ZWJkMDhjMzQxOGE="  # the shape of a KOSIS key (base64); not a real one
FIRST, LAST, REGIONS, ITEMS = 2000, 2024, 18, 4
# classes per size: 18 regions x classes x 4 items x 25 years cells
SIZES = {"0_25m": 139, "1m": 556, "4m": 2224}
MEMORY_LIMIT = "256MB"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def start_server(classes: int, *extra: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.kosis_server", "--tbl-id", "DT_BENCH", "--regions", str(REGIONS),
         "--classes", str(classes), "--items", str(ITEMS), "--first", str(FIRST), "--last", str(LAST),
         "--api-key", KEY, "--cache-bodies", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=PROJECT)
    line = proc.stdout.readline().strip()
    if not line.startswith("base_url="):
        proc.kill()
        raise RuntimeError(f"the KOSIS test server did not start: {line!r}")
    return proc, line.split("=", 1)[1]


def stop(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait()


def measure_size(name: str, work: Path) -> dict[str, float]:
    """One size in this process: end to end; for 1 M also load only (first and revision), baselines, publish."""
    import dagster as dg
    import duckdb

    from assets.kosis import body_records
    from assets.source_files import load_catalog
    from pipelines.definitions import build_assets
    from pipelines.planner import prepare_full_run
    from pipelines.resources import KosisResource
    from warehouse.io import SourceFiles, WarehouseResource
    from warehouse.kosis_load import LoadRequest, Snapshot, _read_json_sql, load
    from warehouse.tables import with_table_io_manager

    classes = SIZES[name]
    full = name == "1m"
    catalog = work / "catalog.yaml"
    catalog.write_text(textwrap.dedent(f"""
        tables:
          - {{id: bench, org_id: "101", tbl_id: DT_BENCH, tbl_nm: bench, prd_se: Y, first_period: "{FIRST}",
             obj_levels: ["ALL", "ALL"], itm_id: ALL, unit: test, verified: false}}
    """), encoding="utf-8")
    table = load_catalog(catalog)[0]
    assets = build_assets(catalog)
    years = set(range(FIRST, LAST + 1))

    def end_to_end(db: Path, base_url: str) -> float:
        resources = with_table_io_manager({
            "warehouse": WarehouseResource(database=str(db), memory_limit=MEMORY_LIMIT), "source_files": SourceFiles(),
            "kosis": KosisResource(api_key=KEY, base_url=base_url, timeout_s=300)})
        instance = dg.DagsterInstance.ephemeral()
        selection = dg.AssetSelection.assets(["reference", "region_code_map"],
                                             ["kosis", "catalog"])
        assert dg.materialize(assets, selection=selection, resources=resources, instance=instance).success
        started = time.perf_counter()
        requests = prepare_full_run(instance, load_catalog(catalog), resources["kosis"],
                                    resources["source_files"].root, resources["warehouse"])
        for request in requests:  # the planner's runs, as make run executes them (one here: every year at once)
            result = dg.materialize(assets, selection=request.asset_selection, resources=resources, instance=instance,
                                    tags=request.tags, partition_key=request.partition_key)
            assert result.success
        return time.perf_counter() - started

    def snapshots(db: Path) -> list[Snapshot]:
        """The latest body of every request (the server's port aside: each server process has its own)."""
        con = duckdb.connect(str(db), read_only=True)
        try:
            rows = con.execute("SELECT snapshot_sha256, path, n_records FROM kosis.snapshots "
                               "QUALIFY row_number() OVER (PARTITION BY regexp_replace(request, '^https?://[^/]+', '') "
                               "ORDER BY fetched_at DESC) = 1 "
                               "ORDER BY path").fetchall()
        finally:
            con.close()
        return [Snapshot(sha, Path(path), "bench", "live", n) for sha, path, n in rows]

    def load_only(warehouse: WarehouseResource, files: list[Snapshot]) -> float:
        # As the asset gets them: the client does not count the records of a large body (DuckDB does).
        files = [replace(s, n_records=None) for s in files]
        request = LoadRequest(table, [(s, years) for s in files], sorted(years), offline=False, run_id="bench",
                              asset="kosis/bench", now=datetime.now(UTC).replace(tzinfo=None),
                              parse_records=body_records)
        with warehouse.get_connection() as con:
            started = time.perf_counter()
            result, _ = load(con, request)  # the asset's own load, after its fetch
            out["validation_rules_run"] = result.validation.rules_run
            return time.perf_counter() - started

    def read_json_baseline(files: list[Snapshot]) -> tuple[float, int]:
        spill = work / "baseline-spill"
        con = duckdb.connect(str(work / "baseline.duckdb"))
        try:
            con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            con.execute("SET preserve_insertion_order = false")
            con.execute(f"SET temp_directory = '{spill}'")
            started = time.perf_counter()
            con.execute("CREATE OR REPLACE TABLE t AS SELECT * FROM "
                        + _read_json_sql([s.path for s in files if s.n_records > 0]))
            seconds = time.perf_counter() - started
            return seconds, con.execute("SELECT count(*) FROM t").fetchone()[0]
        finally:
            con.close()

    out: dict[str, float] = {}
    server, base_url = start_server(classes)
    try:
        if full:  # the server renders each body once; the measured run gets them from its memory
            end_to_end(work / "warm" / "warehouse.duckdb", base_url)
        db = work / "e2e" / "warehouse.duckdb"
        out[f"end_to_end_seconds_{name}"] = end_to_end(db, base_url)
        out[f"peak_rss_mib_{name}"] = peak_rss_mib()
    finally:
        stop(server)
    con = duckdb.connect(str(db), read_only=True)
    cells = con.execute("SELECT count(*) FROM kosis.observations_current").fetchone()[0]
    con.close()
    out[f"cells_{name}"] = cells
    first_files = snapshots(db)
    baseline_s, baseline_rows = read_json_baseline(first_files)
    out[f"read_json_seconds_{name}"] = baseline_s
    out[f"ratio_end_to_end_{name}"] = (cells / out[f"end_to_end_seconds_{name}"]) / (baseline_rows / baseline_s)
    if not full:
        return out

    # Load only, first load: the archived snapshots into a fresh warehouse.
    fresh = WarehouseResource(database=str(work / "load" / "warehouse.duckdb"), memory_limit=MEMORY_LIMIT)
    with fresh.get_connection() as con:
        con.execute("CREATE OR REPLACE TABLE reference.region_code_map AS SELECT * FROM read_csv(?, all_varchar=true)",
                    [str(PROJECT / "assets" / "sources" / "reference" / "region_code_map.csv")])
    out["load_only_first_load_seconds"] = load_only(fresh, first_files)
    out["ratio_load_only_first_load"] = ((cells / out["load_only_first_load_seconds"])
                                         / (baseline_rows / baseline_s))

    # The same warehouse published (the file copied under the writer's lock).
    times = []
    for _ in range(3):
        started = time.perf_counter()
        WarehouseResource(database=str(db)).publish()
        times.append(time.perf_counter() - started)
    out["publish_seconds_1m"] = statistics.median(times)

    # Revision load: the service changes 1 % of the cells; the asset fetches every year again (archiving the new
    # bodies), then those bodies are loaded into the warehouse that holds the first load.
    server, base_url = start_server(classes, "--revise-percent", "1")
    try:
        end_to_end(db, base_url)
    finally:
        stop(server)
    # every body of the second fetch: most the same as before, those holding a revised cell new
    revised_files = snapshots(db)
    out["revision_new_bodies"] = len({s.sha256 for s in revised_files} - {s.sha256 for s in first_files})
    out["load_only_revision_load_seconds"] = load_only(fresh, revised_files)
    with fresh.get_connection() as con:
        out["cells_revised"] = con.execute("SELECT count(*) FROM kosis.observations WHERE valid_to IS NOT NULL"
                                           ).fetchone()[0]
    rev_s, rev_rows = read_json_baseline(revised_files)
    out["read_json_revision_seconds"] = rev_s
    out["revision_rows"] = rev_rows
    out["ratio_load_only_revision_load"] = (rev_rows / out["load_only_revision_load_seconds"]) / (rev_rows / rev_s)
    return out


FLOOR_SCRIPT = """
import sys, time
import dagster as dg
n_assets, n_checks = int(sys.argv[1]), int(sys.argv[2])
def make(i):  # asset i carries checks i, i + n_assets, ...: exactly n_checks checks in all
    names = [f"c{j}" for j in range(i, n_checks, n_assets)]
    specs = [dg.AssetCheckSpec(name, asset=f"a{i}") for name in names]
    @dg.asset(name=f"a{i}", check_specs=specs, deps=[f"a{i - 1}"] if i else [])
    def _a(context):
        yield dg.MaterializeResult(metadata={"dagster/row_count": i})
        for name in names:
            yield dg.AssetCheckResult(check_name=name, passed=True)
    return _a
assets = [make(i) for i in range(n_assets)]
defs = dg.Definitions(assets=assets, executor=dg.in_process_executor)
with dg.DagsterInstance.get() as instance:
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(  # make run's console log level
        instance=instance, run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})
    assert result.success
"""


MAKE_RUN_REPEATS = 3


def make_run_vs_floor(work: Path, repeats: int = MAKE_RUN_REPEATS) -> dict[str, float]:
    """`python -m pipelines.run` (the step `make run` times) against the same count of trivial assets and checks,
    each on a fresh warehouse and Dagster home, alternated `repeats` times; the medians are compared (one run of
    each swung the ratio by 0.1 on this machine)."""
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    n_assets = len(graph.get_all_asset_keys())
    n_checks = len(graph.asset_check_keys)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOSIS_", "WAREHOUSE_", "DAGSTER_"))}

    def timed(args: list[str], home: Path, extra: dict[str, str]) -> float:
        home.mkdir(parents=True)
        shutil.copy(PROJECT / "pipelines" / "dagster.yaml", home / "dagster.yaml")
        started = time.perf_counter()
        proc = subprocess.run(args, cwd=PROJECT, env={**env, "DAGSTER_HOME": str(home), **extra},
                              capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(proc.stdout[-2000:] + proc.stderr[-2000:])
        return seconds

    make_runs, floors = [], []
    for i in range(repeats):
        make_runs.append(timed([sys.executable, "-m", "pipelines.run"], work / f"home-run-{i}",
                               {"WAREHOUSE_PATH": str(work / f"make-run-{i}" / "warehouse.duckdb")}))
        floors.append(timed([sys.executable, "-c", FLOOR_SCRIPT, str(n_assets), str(n_checks)],
                            work / f"home-floor-{i}", {}))
    make_run, floor = statistics.median(make_runs), statistics.median(floors)
    return {"make_run_seconds": make_run, "dagster_floor_seconds": floor, "assets_in_make_run": n_assets,
            "checks_in_make_run": n_checks, "make_run_repeats": repeats, "make_run_vs_dagster_floor": floor / make_run}


def child(name: str) -> int:
    logging.disable(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix=f"bench-ingest-{name}-", dir=PROJECT / "warehouse" / "data"))
    try:
        for key, value in measure_size(name, work).items():
            print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), help="one size only, measured in this process")
    args = parser.parse_args(argv)
    (PROJECT / "warehouse" / "data").mkdir(parents=True, exist_ok=True)
    if args.size:
        return child(args.size)
    results: dict[str, str] = {}
    for name in SIZES:  # one process per size: its peak RSS is its own
        proc = subprocess.run([sys.executable, "-m", "benchmarks.bench_ingest", "--size", name], cwd=PROJECT,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"failed_{name}: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
            continue
        for line in proc.stdout.splitlines():
            key, _, value = line.partition(": ")
            results[key] = value
    logging.disable(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="bench-make-run-", dir=PROJECT / "warehouse" / "data"))
    try:
        results.update({k: f"{v:.3f}" if isinstance(v, float) else str(v) for k, v in make_run_vs_floor(work).items()})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["ratio_end_to_end"] = results.get("ratio_end_to_end_1m", "n/a")
    for key, value in results.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
