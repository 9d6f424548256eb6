"""`make export`: every table and view of the published copy as CSV and Parquet, for spreadsheets and other
tools, under warehouse/data/exports/<schema>.<table>.{csv,parquet} (beside WAREHOUSE_PATH), with a
MANIFEST.txt of row counts. Reads the published copy read-only, so it never blocks the pipeline."""

from __future__ import annotations

import sys
from pathlib import Path

from warehouse.io import connect_published, published_path, warehouse_path

SCHEMAS = ("reference", "paper", "kosis", "indicators", "quality")


def export(published: Path, out: Path) -> list[tuple[str, int]]:
    out.mkdir(parents=True, exist_ok=True)
    con = connect_published(published)
    try:
        names = con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE schema_name IN ? "
            "UNION ALL SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE schema_name IN ? "
            "AND NOT internal ORDER BY 1", [list(SCHEMAS), list(SCHEMAS)]).fetchall()
        written = []
        for (name,) in names:
            for fmt, options in (("csv", "FORMAT csv, HEADER true"), ("parquet", "FORMAT parquet")):
                target = out / f"{name}.{fmt}"
                tmp = target.with_name(target.name + ".tmp")
                con.execute(f"COPY (SELECT * FROM {name}) TO '{tmp}' ({options})")
                tmp.replace(target)  # a reader never sees half a file
            written.append((name, con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]))
    finally:
        con.close()
    (out / "MANIFEST.txt").write_text("".join(f"{name}\t{n} rows\n" for name, n in written), encoding="utf-8")
    return written


def main() -> int:
    published = published_path(warehouse_path())
    if not published.exists():
        print(f"FAILED: no published copy at {published}: run `make run` first")
        return 2
    out = published.parent / "exports"
    written = export(published, out)
    print(f"Exported {len(written)} tables and views as CSV and Parquet to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
