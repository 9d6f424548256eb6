"""Benchmark: what each output of `make export` costs, against DuckDB's plain CSV in the same run (so the ratios do
not depend on the machine).

- offline: every table of a published copy (`--published`, e.g. warehouse/data/published.duckdb after `make run`;
  skipped when absent);
- synthetic: a warehouse whose kosis.observations holds N synthetic cells (the layout of bench_publish), published,
  then kosis.observations alone.

Per case: csv_plain (DuckDB's COPY, no mark: the export before the BOM), csv (the export's: COPY, then the mark and
the bytes), parquet, xlsx (the schema's workbook: every cell through XlsxWriter in constant memory). CSV and Parquet
are the median of 3; the workbook is written once (it dominates). Prints `name: value` lines only.
Usage: .venv/bin/python -m benchmarks.bench_export [--sizes 100000,1000000] [--published PATH]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from benchmarks.bench_publish import fill
from pipelines.export import ExportedTable, exported_tables, write_csv, write_parquet, write_workbook
from warehouse.io import WarehouseResource, connect_published

REPEAT = 3


def seconds(work: Callable[[], object], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(name: str, con: duckdb.DuckDBPyConnection, tables: list[ExportedTable], out: Path) -> None:
    def plain_csv() -> None:
        for t in tables:
            con.execute(f"COPY (SELECT * FROM {t.name}) TO '{out / (t.name + '.plain.csv')}' (FORMAT csv, HEADER true)")

    def workbooks() -> None:
        for schema in sorted({t.schema for t in tables}):
            write_workbook(con, schema, [t for t in tables if t.schema == schema], out)

    plain = seconds(plain_csv)
    csv = seconds(lambda: [write_csv(con, t, out) for t in tables])
    parquet = seconds(lambda: [write_parquet(con, t, out) for t in tables])
    xlsx = seconds(workbooks, repeat=1)
    rows = sum(t.rows for t in tables)
    cells = sum(t.rows * len(t.columns) for t in tables)
    print(f"{name}_rows: {rows}")
    print(f"{name}_cells: {cells}")
    for kind, value in (("csv_plain", plain), ("csv", csv), ("parquet", parquet), ("xlsx", xlsx)):
        print(f"{name}_{kind}_seconds: {value:.3f}")
    print(f"{name}_csv_bom_over_plain_ratio: {csv / plain:.2f}")
    print(f"{name}_parquet_over_csv_ratio: {parquet / csv:.2f}")
    print(f"{name}_xlsx_over_csv_ratio: {xlsx / csv:.1f}")
    print(f"{name}_xlsx_cells_per_second: {cells / xlsx:.0f}")
    xlsx_bytes = sum((out / f"{s}.xlsx").stat().st_size for s in {t.schema for t in tables})
    csv_bytes = sum((out / f"{t.name}.csv").stat().st_size for t in tables)
    print(f"{name}_xlsx_over_csv_bytes_ratio: {xlsx_bytes / csv_bytes:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--published", default="warehouse/data/published.duckdb")
    args = parser.parse_args()
    logging.getLogger("dagster").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        published = Path(args.published)
        if published.exists():
            out = root / "offline"
            out.mkdir()
            con = connect_published(published)
            try:
                measure("offline", con, exported_tables(con), out)
            finally:
                con.close()
        for cells in (int(s) for s in args.sizes.split(",")):
            warehouse = WarehouseResource(database=str(root / f"w{cells}" / "warehouse.duckdb"), memory_limit="1GB")
            fill(warehouse, cells)
            warehouse.publish()
            out = root / f"out{cells}"
            out.mkdir()
            con = connect_published(warehouse.published)
            try:
                tables = [t for t in exported_tables(con) if t.name == "kosis.observations"]
                measure(f"synthetic_{cells}", con, tables, out)
            finally:
                con.close()


if __name__ == "__main__":
    main()
