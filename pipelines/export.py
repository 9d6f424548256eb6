"""`make export`: every table and view of the published copy as CSV and Parquet, for spreadsheets and other
tools, under warehouse/data/exports/<schema>.<table>.{csv,parquet} (beside WAREHOUSE_PATH), with a
MANIFEST.txt of row counts. Reads the published copy read-only, so it never blocks the pipeline."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg

from pipelines.terms import terms_text
from warehouse.io import WarehouseResource, default_warehouse

SCHEMAS = ("reference", "paper", "kosis", "indicators", "quality")


def export(warehouse: WarehouseResource, out: Path) -> list[tuple[str, int]]:
    out.mkdir(parents=True, exist_ok=True)
    with warehouse.published_connection() as con:
        names = con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name IN ? UNION ALL SELECT schema_name || '.' || view_name FROM duckdb_views() "
            "WHERE database_name = current_database() AND schema_name IN ? AND NOT internal ORDER BY 1",
            [list(SCHEMAS), list(SCHEMAS)]).fetchall()
        written = []
        for (name,) in names:
            for fmt, options in (("csv", "FORMAT csv, HEADER true"), ("parquet", "FORMAT parquet")):
                target = out / f"{name}.{fmt}"
                tmp = target.with_name(target.name + ".tmp")
                con.execute(f"COPY (SELECT * FROM {name}) TO '{tmp}' ({options})")
                tmp.replace(target)  # a reader never sees half a file
            written.append((name, con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]))
        (out / "TERMS.txt").write_text(terms_text(con), encoding="utf-8")  # the data's terms travel with them
    (out / "MANIFEST.txt").write_text("".join(f"{name}\t{n} rows\n" for name, n in written), encoding="utf-8")
    return written


def main() -> int:
    with dg.build_resources({"warehouse": default_warehouse()}) as built:
        warehouse = built.warehouse
    if warehouse.last_publication()[1] is None:
        print(f"FAILED: nothing published at {warehouse.published_location}: run `make run` first")
        return 2
    out = warehouse.path.parent / "exports"
    written = export(warehouse, out)
    print(f"Exported {len(written)} tables and views as CSV and Parquet to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
