"""Benchmark: the cost of publication on both warehouse backends, at about 1 M and 10 M KOSIS cells held.

- file: `WarehouseResource.publish()` on the DuckDB file (CHECKPOINT, the file copied and renamed over
  published.duckdb);
- lake: the same call on DuckLake (catalog in a throwaway PostgreSQL on 127.0.0.1, Parquet files in a temporary
  directory): the current snapshot's id recorded in meta.publications. Most of it is opening a connection
  (loading the extensions, attaching the catalog), printed on its own as ducklake_connect_seconds.

Both warehouses hold the same synthetic kosis.observations (the schema of the real table). Each publication is
timed 3 times and the median printed; the ratio is measured in the same run, so it does not depend on the machine.
Prints `name: value` lines only. Usage: .venv/bin/python -m benchmarks.bench_publish [--sizes 1000000,10000000]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.postgres import PostgresCluster
from warehouse.io import WarehouseResource

REPEAT = 3
# Synthetic cells in the layout of kosis.observations: 18 regions x 4 items x years x classes.
FILL_SQL = """
INSERT INTO kosis.observations BY NAME
SELECT '101|DT_BENCH|' || (i % 4) || '|' || (i // 4 % 18) || '|' || (i // 72) AS cell_key,
       '101' AS org_id, 'DT_BENCH' AS tbl_id, 'T' || (i % 4) AS itm_id,
       lpad(CAST(i // 4 % 18 AS VARCHAR), 2, '0') AS c1, CAST(i // 72 % 10000 AS VARCHAR) AS c2,
       'region' AS c1_nm, 'class' AS c2_nm, 'item' AS itm_nm, 'Y' AS prd_se,
       CAST(2000 + i // 720000 AS VARCHAR) AS prd_de, 2000 + i // 720000 AS year,
       (i * 7919 % 100000) / 10.0 AS value, CAST((i * 7919 % 100000) / 10.0 AS VARCHAR) AS value_raw,
       'unit' AS unit_nm, '2024-01-01' AS lst_chn_de, 'bench' AS snapshot_sha256,
       TIMESTAMP '2024-01-01' AS valid_from, NULL AS valid_to
FROM range(?) t(i)
"""


def fill(warehouse: WarehouseResource, cells: int) -> None:
    with warehouse.get_connection() as con:
        con.execute(FILL_SQL, [cells])


def lake_connection(warehouse: WarehouseResource) -> Callable[[], None]:
    def connect() -> None:
        with warehouse.get_connection():
            pass

    return connect


def median_seconds(work: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def label(cells: int) -> str:
    return f"{cells // 1_000_000}m" if cells >= 1_000_000 else f"{cells // 1000}k"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000000,10000000", help="cells held, comma-separated")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    cluster = PostgresCluster().start()
    try:
        for cells in (int(s) for s in args.sizes.split(",")):
            name = label(cells)
            on_file = WarehouseResource(database=str(work / name / "warehouse.duckdb"))
            fill(on_file, cells)
            lake = WarehouseResource(database=str(work / name / "lake-local" / "warehouse.duckdb"),
                                     url=cluster.lake_url(cluster.create_database(f"bench_{name}")),
                                     data_path=f"{work / name / 'lake-files'}/")
            fill(lake, cells)
            file_s = median_seconds(on_file.publish)
            lake_s = median_seconds(lake.publish)
            connect_s = median_seconds(lake_connection(lake))
            print(f"cells_{name}: {cells}")
            print(f"file_bytes_{name}: {on_file.path.stat().st_size}")
            print(f"publish_file_seconds_{name}: {file_s:.3f}")
            print(f"publish_ducklake_seconds_{name}: {lake_s:.3f}")
            print(f"ducklake_connect_seconds_{name}: {connect_s:.3f}")
            print(f"ratio_publish_file_vs_ducklake_{name}: {file_s / lake_s:.2f}")
            shutil.rmtree(work / name, ignore_errors=True)
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
