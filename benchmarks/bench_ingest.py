"""Benchmark: ingest a generated KOSIS table of ~1,000,000 cells from the loopback KOSIS server.

Prints `name: value` lines. The baseline is DuckDB's own read_json over the same snapshot files,
measured in the same run, so the ratio does not depend on the machine:

- end-to-end: the real Dagster asset (fetch in split calls, archive, parse, validate, merge);
- load only: parse + validate + merge of the archived snapshots into a fresh warehouse;
- baseline: `CREATE TABLE ... AS SELECT * FROM read_json([...snapshots...])`.

The server runs in its own process so that its JSON encoding does not share this interpreter.
Usage: .venv/bin/python -m benchmarks.bench_ingest [--classes 556]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.definitions import build_assets
from pipelines.refresh import prepare_full_run
from pipelines.resources import KosisResource
from schemas.kosis import load_catalog
from schemas.registry import SOURCES_DIR
from warehouse.io import SourceFiles, WarehouseResource, transaction
from warehouse.kosis_load import Snapshot, _read_json_sql, merge, region_codes, stage_snapshots, validate_staged

KEY = "bench-key"
FIRST, LAST, REGIONS, ITEMS = 2000, 2024, 18, 4


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def start_server(classes: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.kosis_server", "--tbl-id", "DT_BENCH", "--regions", str(REGIONS),
         "--classes", str(classes), "--items", str(ITEMS), "--first", str(FIRST), "--last", str(LAST),
         "--api-key", KEY],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=Path(__file__).resolve().parent.parent)
    line = proc.stdout.readline().strip()
    if not line.startswith("base_url="):
        proc.kill()
        raise RuntimeError(f"the KOSIS test server did not start: {line!r}")
    return proc, line.split("=", 1)[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--classes", type=int, default=556, help="556 classes -> 1,000,800 cells")
    args = parser.parse_args(argv)
    cells = REGIONS * args.classes * ITEMS * (LAST - FIRST + 1)
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    catalog = work / "catalog.yaml"
    catalog.write_text(textwrap.dedent(f"""
        tables:
          - {{id: bench, org_id: "101", tbl_id: DT_BENCH, tbl_nm: bench, prd_se: Y, first_period: "{FIRST}",
             obj_levels: ["ALL", "ALL"], itm_id: ALL, unit: test, verified: false}}
    """), encoding="utf-8")
    server, base_url = start_server(args.classes)
    try:
        db = work / "warehouse.duckdb"
        selection = dg.AssetSelection.assets(["sources", "region_code_map"], ["reference", "region_code_map"],
                                             ["kosis", "catalog"])
        resources = {"warehouse": WarehouseResource(database=str(db)), "source_files": SourceFiles(),
                     "kosis": KosisResource(api_key=KEY, base_url=base_url, timeout_s=120)}
        assets = build_assets(catalog)
        instance = dg.DagsterInstance.ephemeral()
        assert dg.materialize(assets, selection=selection, resources=resources, instance=instance).success
        started = time.perf_counter()
        # Like `make run`: every year KOSIS has (getMeta PRD) registered, then one run over all of them.
        tags = prepare_full_run(instance, load_catalog(catalog), resources["kosis"], resources["source_files"].root,
                                resources["warehouse"])
        result = dg.materialize(assets, selection=dg.AssetSelection.assets(["kosis", "bench"]), resources=resources,
                                instance=instance, tags=tags)
        end_to_end = time.perf_counter() - started
        rss_after_end_to_end = peak_rss_mib()
        assert result.success
    finally:
        server.kill()
        server.wait()

    con = duckdb.connect(str(db), read_only=True)
    loaded = con.execute("SELECT count(*) FROM kosis.observations_current").fetchone()[0]
    files = [(Path(p), sha, n) for p, sha, n in con.execute(
        "SELECT path, snapshot_sha256, n_records FROM kosis.snapshots ORDER BY path").fetchall()]
    con.close()

    # Load only: the same archived snapshots into a fresh warehouse (parse, validate, merge).
    table = load_catalog(catalog)[0]
    fresh = WarehouseResource(database=str(work / "fresh.duckdb"))
    snapshots = [Snapshot(sha, path, "bench", "live", n) for path, sha, n in files]
    with fresh.get_connection() as con:
        con.execute("CREATE OR REPLACE TABLE reference.region_code_map AS SELECT * FROM read_csv(?, all_varchar=true)",
                    [str(SOURCES_DIR / "reference" / "region_code_map.csv")])
        t0 = time.perf_counter()
        stage_snapshots(con, snapshots)
        t1 = time.perf_counter()
        outcome = validate_staged(con, table, region_codes(con, table.region_code_system))
        t2 = time.perf_counter()
        with transaction(con):
            merge(con, table, snapshots, outcome, run_id="bench", asset="kosis/bench",
                  now=datetime.now(UTC).replace(tzinfo=None))
        t3 = time.perf_counter()
    load_only = t3 - t0

    # Baseline: DuckDB's own read_json over the same files, materialized into a table.
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM {_read_json_sql([p for p, _, n in files if n > 0])}")
    baseline = time.perf_counter() - started
    baseline_rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    con.close()

    print(f"cells_generated: {cells}")
    print(f"cells_loaded: {loaded}")
    print(f"snapshot_files: {len(files)}")
    print(f"snapshot_bytes: {sum(p.stat().st_size for p, _, _ in files)}")
    print(f"end_to_end_seconds: {end_to_end:.2f}")
    print(f"end_to_end_cells_per_s: {loaded / end_to_end:.0f}")
    print(f"load_only_seconds: {load_only:.2f}")
    print(f"load_parse_seconds: {t1 - t0:.2f}")
    print(f"load_validate_seconds: {t2 - t1:.2f}")
    print(f"load_merge_seconds: {t3 - t2:.2f}")
    print(f"load_only_cells_per_s: {loaded / load_only:.0f}")
    print(f"read_json_seconds: {baseline:.2f}")
    print(f"read_json_cells_per_s: {baseline_rows / baseline:.0f}")
    print(f"ratio_end_to_end_vs_read_json: {(loaded / end_to_end) / (baseline_rows / baseline):.3f}")
    print(f"ratio_load_only_vs_read_json: {(loaded / load_only) / (baseline_rows / baseline):.3f}")
    print(f"peak_rss_mib_end_to_end: {rss_after_end_to_end:.0f}")
    print(f"peak_rss_mib_whole_benchmark: {peak_rss_mib():.0f}")


if __name__ == "__main__":
    main()
