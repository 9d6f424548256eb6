"""`make export`: every table and view of the published copy, for spreadsheets and for code, under
warehouse/data/exports/ (beside WAREHOUSE_PATH):

- <schema>.<table>.csv: UTF-8 with a byte-order mark (EF BB BF), so Excel on a Korean (or any) Windows reads the
  Korean text as Korean instead of guessing the ANSI code page; every other CSV reader skips the mark
  (encoding utf-8-sig in Python; pandas and DuckDB do so by themselves).
- <schema>.<table>.parquet: unchanged (typed columns for code).
- <schema>.xlsx: one workbook per schema, one sheet per table and a `dictionary` sheet (every column's table,
  type, unit and comment; which table a shortened sheet name stands for).
- datapackage.json: a Frictionless Data Package describing every CSV (fields, types, descriptions, primary keys,
  units), its sources and its terms.
- MANIFEST.txt: the publication exported, when, by which version, and every file with its rows and sha256.

Reads the published copy read-only, so it never blocks the pipeline. Every file is written to a temporary file and
renamed into place: a reader never sees half a file."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import xlsxwriter

from pipelines.terms import DATA_TERMS, terms_text
from schemas.indicators import CLAIM_SPECS, INDICATORS
from schemas.registry import FILE_TABLES
from warehouse.io import WarehouseResource, default_warehouse

SCHEMAS = ("reference", "paper", "kosis", "indicators", "quality")
PACKAGE = "regional-innovation-kr"
CSV_BOM = b"\xef\xbb\xbf"
# Excel's sheet holds 1,048,576 rows; one is the header. A larger table is split over sheets `name`, `name~2`, ...
EXCEL_MAX_ROWS = 1_048_576
EXCEL_SHEET_NAME_MAX = 31
DICTIONARY_SHEET = "dictionary"
FETCH_ROWS = 10_000

# The data's terms, as datapackage.json states them: the words of pipelines/terms.py (also TERMS.txt).
LICENSES: list[dict[str, str]] = [{
    "name": "KOSIS-terms",
    "title": "KOSIS terms of use: reuse with attribution (출처: 통계청 KOSIS)",
    "path": "https://stat.kosis.kr/nsistN/kosisUseGuide.do",
    "description": " ".join(DATA_TERMS.split()),
}]
PAPER_CITATION = ("Kim (2013), A Study on Limits to Promoting SMEs Networking Policies for Urban Economic "
                  "Development in South Korea: Centering on the Case of Daegu City")

# DuckDB types as Frictionless Table Schema field types. Lists print as [a, b] (not JSON) and a JSON column may
# hold any JSON value, so both are strings to a CSV reader.
FIELD_TYPES = {"VARCHAR": "string", "BOOLEAN": "boolean", "TINYINT": "integer", "SMALLINT": "integer",
               "INTEGER": "integer", "BIGINT": "integer", "HUGEINT": "integer", "UTINYINT": "integer",
               "USMALLINT": "integer", "UINTEGER": "integer", "UBIGINT": "integer", "FLOAT": "number",
               "DOUBLE": "number", "DATE": "date", "TIMESTAMP": "datetime", "TIME": "time"}


@dataclass(frozen=True)
class ExportedColumn:
    name: str
    type: str  # the DuckDB type
    comment: str
    unit: str  # "" where no spec says one


@dataclass(frozen=True)
class ExportedTable:
    schema: str
    table: str
    comment: str
    columns: tuple[ExportedColumn, ...]
    primary_key: tuple[str, ...]
    rows: int

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class ExportedFile:
    path: Path
    rows: int | None  # None: a file of metadata, not of rows
    sha256: str


def column_units() -> dict[tuple[str, str], str]:
    """(qualified table, column) -> unit, where a spec says it: an indicator's measures, a percent column of the
    registry, or a shipped table's single unit for its numbers."""
    units: dict[tuple[str, str], str] = {}
    for spec in FILE_TABLES:
        single = spec.unit if spec.unit and "," not in spec.unit else ""
        for column in spec.stored_columns:
            if "(percent, 0-100)" in column.description:
                units[(spec.qualified_name, column.name)] = "%"
            elif single and column.dtype == "DOUBLE":
                units[(spec.qualified_name, column.name)] = single
    for spec in (*INDICATORS, *CLAIM_SPECS):
        for column in spec.columns:
            if "(percent, 0-100)" in column.description:
                units[(f"indicators.{spec.name}", column.name)] = "%"
        for name, measure in spec.measures.items():
            if measure.unit:
                units[(f"indicators.{spec.name}", name)] = measure.unit
    return units


def exported_tables(con: duckdb.DuckDBPyConnection) -> list[ExportedTable]:
    """Every table and view of SCHEMAS with its columns, comments, primary key and row count, by name."""
    objects = con.execute(
        "SELECT schema_name, table_name, coalesce(comment, '') FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name IN ? UNION ALL "
        "SELECT schema_name, view_name, coalesce(comment, '') FROM duckdb_views() "
        "WHERE database_name = current_database() AND schema_name IN ? AND NOT internal ORDER BY 1, 2",
        [list(SCHEMAS), list(SCHEMAS)]).fetchall()
    columns: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for schema, table, column, dtype, comment in con.execute(
            "SELECT schema_name, table_name, column_name, data_type, coalesce(comment, '') FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name IN ? ORDER BY schema_name, table_name, "
            "column_index", [list(SCHEMAS)]).fetchall():
        columns.setdefault((schema, table), []).append((column, dtype, comment))
    keys = {(s, t): tuple(cols) for s, t, cols in con.execute(
        "SELECT schema_name, table_name, constraint_column_names FROM duckdb_constraints() "
        "WHERE database_name = current_database() AND constraint_type = 'PRIMARY KEY'").fetchall()}
    units = column_units()
    return [ExportedTable(schema, table, comment,
                          tuple(ExportedColumn(c, t, note, units.get((f"{schema}.{table}", c), ""))
                                for c, t, note in columns[(schema, table)]),
                          keys.get((schema, table), ()),
                          con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0])
            for schema, table, comment in objects]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def replace_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """write(temporary path) beside target, then a rename over it: a reader never sees half a file."""
    tmp = target.with_name(target.name + ".tmp")
    try:
        write(tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def write_csv(con: duckdb.DuckDBPyConnection, table: ExportedTable, out: Path) -> ExportedFile:
    """DuckDB's COPY (it has no byte-order-mark option) to a scratch file, then the mark and those bytes."""
    target = out / f"{table.name}.csv"
    scratch = target.with_name(target.name + ".body.tmp")

    def write(tmp: Path) -> None:
        try:
            con.execute(f"COPY (SELECT * FROM {table.name}) TO '{scratch}' (FORMAT csv, HEADER true)")
            with tmp.open("wb") as f, scratch.open("rb") as body:
                f.write(CSV_BOM)
                shutil.copyfileobj(body, f, 1 << 20)
        finally:
            scratch.unlink(missing_ok=True)

    replace_atomically(target, write)
    return ExportedFile(target, table.rows, sha256_of(target))


def write_parquet(con: duckdb.DuckDBPyConnection, table: ExportedTable, out: Path) -> ExportedFile:
    target = out / f"{table.name}.parquet"
    replace_atomically(target, lambda tmp: con.execute(
        f"COPY (SELECT * FROM {table.name}) TO '{tmp}' (FORMAT parquet)"))
    return ExportedFile(target, table.rows, sha256_of(target))


def write_tables(con: duckdb.DuckDBPyConnection, tables: Iterable[ExportedTable], out: Path) -> list[ExportedFile]:
    """Every table as CSV (with the mark) and Parquet."""
    return [f for table in tables for f in (write_csv(con, table, out), write_parquet(con, table, out))]


# --- workbooks --------------------------------------------------------------------------------------------------

def sheet_names(tables: Iterable[ExportedTable], max_rows: int | None = None) -> dict[str, list[str]]:
    """Table name -> its sheets: Excel-safe (no []:*?/\\, no leading or trailing apostrophe, at most 31 characters),
    unique without regard to case (as Excel compares them), `dictionary` kept for the dictionary; a table of more
    rows than a sheet holds gets `name~2`, `name~3`, ..."""
    per_sheet = (max_rows or EXCEL_MAX_ROWS) - 1
    taken = {DICTIONARY_SHEET, "history"}  # Excel reserves History
    sheets: dict[str, list[str]] = {}
    for table in tables:
        base = re.sub(r"[\[\]:*?/\\]", "_", table.table).strip("'") or "sheet"
        parts = max(1, -(-table.rows // per_sheet))
        names = []
        for part in range(1, parts + 1):
            suffix, n = ("" if part == 1 else f"~{part}"), 1
            name = base[:EXCEL_SHEET_NAME_MAX - len(suffix)] + suffix
            while name.lower() in taken:  # shortened names may collide: number them
                n += 1
                tag = f"{suffix}#{n}"
                name = base[:EXCEL_SHEET_NAME_MAX - len(tag)] + tag
            taken.add(name.lower())
            names.append(name)
        sheets[table.name] = names
    return sheets


def cell_writer(dtype: str) -> Callable[[Any, int, int, Any], None]:
    """How one column's values go into a sheet: numbers as numbers, text always as text (never a formula or a
    link), timestamps as dates, lists and JSON as their text."""
    if dtype in FIELD_TYPES and FIELD_TYPES[dtype] in ("integer", "number"):
        return lambda ws, r, c, v: ws.write_number(r, c, v)
    if dtype == "BOOLEAN":
        return lambda ws, r, c, v: ws.write_boolean(r, c, v)
    if dtype in ("TIMESTAMP", "DATE"):
        return lambda ws, r, c, v: ws.write_datetime(r, c, v)
    if dtype.endswith("[]"):  # as the CSV prints it: [a, b]
        return lambda ws, r, c, v: ws.write_string(r, c, "[" + ", ".join(map(str, v)) + "]")
    return lambda ws, r, c, v: ws.write_string(r, c, v if isinstance(v, str) else str(v))


def dictionary_rows(tables: Iterable[ExportedTable], sheets: dict[str, list[str]]) -> list[list[str]]:
    rows = []
    for table in tables:
        names = sheets[table.name]
        notes = []
        if names[0] != table.table:
            notes.append(f"sheet {names[0]!r} stands for table {table.name} (Excel allows 31 characters)")
        if len(names) > 1:
            notes.append(f"{table.rows} rows split over sheets {', '.join(names)} (Excel holds "
                         f"{EXCEL_MAX_ROWS - 1:,} data rows a sheet)")
        for column in table.columns:
            rows.append([table.name, ", ".join(names), column.name, column.type, column.unit, column.comment,
                         "; ".join(notes)])
    return rows


def write_workbook(con: duckdb.DuckDBPyConnection, schema: str, tables: list[ExportedTable], out: Path,
                   max_rows: int | None = None) -> ExportedFile:
    """<schema>.xlsx: the dictionary sheet first, then one sheet per table (or per part of a long one), streamed
    row by row in constant memory."""
    target = out / f"{schema}.xlsx"
    sheets = sheet_names(tables, max_rows)
    per_sheet = (max_rows or EXCEL_MAX_ROWS) - 1

    def write(tmp: Path) -> None:
        book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_formulas": False,
                                              "strings_to_urls": False, "strings_to_numbers": False,
                                              "nan_inf_to_errors": True,
                                              "default_date_format": "yyyy-mm-dd hh:mm:ss"})
        try:
            bold = book.add_format({"bold": True})
            ws = book.add_worksheet(DICTIONARY_SHEET)
            ws.write_row(0, 0, ["table", "sheet", "column", "type", "unit", "comment", "note"], bold)
            for r, row in enumerate(dictionary_rows(tables, sheets), start=1):
                ws.write_row(r, 0, row)
            for table in tables:
                writers = [cell_writer(c.type) for c in table.columns]
                header = [c.name for c in table.columns]
                cursor = con.execute(f"SELECT * FROM {table.name}")
                names = iter(sheets[table.name])
                r = per_sheet + 1  # the first row opens the first sheet
                if table.rows == 0:  # an empty table still shows its header
                    book.add_worksheet(next(names)).write_row(0, 0, header, bold)
                while batch := cursor.fetchmany(FETCH_ROWS):
                    for row in batch:
                        if r > per_sheet:
                            ws, r = book.add_worksheet(next(names)), 1
                            ws.write_row(0, 0, header, bold)
                        for c, value in enumerate(row):
                            if value is not None:
                                writers[c](ws, r, c, value)
                        r += 1
        finally:
            book.close()

    replace_atomically(target, write)
    return ExportedFile(target, sum(t.rows for t in tables), sha256_of(target))


def write_workbooks(con: duckdb.DuckDBPyConnection, tables: list[ExportedTable], out: Path) -> list[ExportedFile]:
    """One workbook per schema."""
    return [write_workbook(con, schema, [t for t in tables if t.schema == schema], out)
            for schema in SCHEMAS if any(t.schema == schema for t in tables)]


# --- datapackage.json -------------------------------------------------------------------------------------------

def package_sources(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """KOSIS with the tables whose cells this export holds (and those catalogued), and the paper."""
    with_cells = [r[0] for r in con.execute(
        "SELECT DISTINCT o.org_id || '/' || o.tbl_id FROM kosis.observations o JOIN kosis.tables t "
        "USING (org_id, tbl_id) WHERE t.source = 'kosis' ORDER BY 1").fetchall()]
    catalogued = [r[0] for r in con.execute(
        "SELECT DISTINCT org_id || '/' || tbl_id FROM kosis.tables WHERE source = 'kosis' ORDER BY 1").fetchall()]
    return [
        {"title": "KOSIS (Korean Statistical Information Service, Statistics Korea)", "path": "https://kosis.kr",
         "description": "KOSIS tables (org/table id) with cells in this export: "
                        f"{', '.join(with_cells) or 'none (the offline build holds the paper figures in KOSIS form)'}; "
                        f"catalogued in kosis.tables: {', '.join(catalogued) or 'none'}.",
         "kosisTables": with_cells, "kosisTablesCatalogued": catalogued},
        {"title": PAPER_CITATION, "description": "The paper's nine printed tables (paper.*), transcribed; "
                                                 "paper.catalog gives each table's printed source line."},
    ]


def field_of(column: ExportedColumn) -> dict[str, Any]:
    field: dict[str, Any] = {"name": column.name, "type": FIELD_TYPES.get(column.type, "string"),
                             "description": column.comment + (f" Unit: {column.unit}." if column.unit else "")}
    if column.type not in FIELD_TYPES:
        field["duckdbType"] = column.type
    if column.unit:
        field["unit"] = column.unit
    return field


def datapackage(tables: Iterable[ExportedTable], sources: list[dict[str, Any]], published_at: str) -> dict[str, Any]:
    resources = []
    for table in tables:
        schema: dict[str, Any] = {"fields": [field_of(c) for c in table.columns]}
        if table.primary_key:
            schema["primaryKey"] = list(table.primary_key)
        resources.append({"name": table.name, "path": f"{table.name}.csv", "profile": "tabular-data-resource",
                          "format": "csv", "mediatype": "text/csv", "encoding": "utf-8-sig",
                          "description": table.comment, "schema": schema})
    return {"name": PACKAGE, "title": "Regional innovation statistics for South Korea (published copy)",
            "version": version(PACKAGE), "created": published_at, "profile": "tabular-data-package",
            "licenses": LICENSES, "sources": sources, "resources": resources}


def write_terms(con: duckdb.DuckDBPyConnection, out: Path) -> ExportedFile:
    target = out / "TERMS.txt"
    replace_atomically(target, lambda tmp: tmp.write_text(terms_text(con), encoding="utf-8"))
    return ExportedFile(target, None, sha256_of(target))


def write_datapackage(package: dict[str, Any], out: Path) -> ExportedFile:
    target = out / "datapackage.json"
    replace_atomically(target, lambda tmp: tmp.write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n",
                                                          encoding="utf-8"))
    return ExportedFile(target, None, sha256_of(target))


# --- MANIFEST.txt -----------------------------------------------------------------------------------------------

def write_manifest(out: Path, files: list[ExportedFile], *, published_at: str, publication: str,
                   exported_at: str) -> Path:
    target = out / "MANIFEST.txt"
    lines = [
        f"package: {PACKAGE} {version(PACKAGE)}",
        f"published_at: {published_at}",
        f"publication: {publication}",
        f"exported_at: {exported_at}",
        "csv: UTF-8 with a byte-order mark (EF BB BF) for Excel; Python reads it with encoding='utf-8-sig', "
        "pandas and DuckDB skip it by themselves. Parquet, XLSX and JSON files have no mark.",
        "",
        "file\trows\tsha256",
        *(f"{f.path.name}\t{'-' if f.rows is None else f.rows}\t{f.sha256}" for f in files),
    ]
    replace_atomically(target, lambda tmp: tmp.write_text("\n".join(lines) + "\n", encoding="utf-8"))
    return target


def utc_text(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def publication_of(warehouse: WarehouseResource) -> tuple[str, str]:
    """(when it was published in UTC, which publication): the DuckLake snapshot id, or the published file."""
    snapshot, published = warehouse.last_publication()
    if published is None:
        raise FileNotFoundError(f"nothing published at {warehouse.published_location}: run `make run` first")
    which = (f"DuckLake snapshot {snapshot} (meta.publications)" if snapshot is not None
             else f"file {warehouse.published.name} (the file backend has no snapshot id: its publication time "
                  "identifies it)")
    return utc_text(published), which


def export(warehouse: WarehouseResource, out: Path) -> list[ExportedFile]:
    out.mkdir(parents=True, exist_ok=True)
    published_at, publication = publication_of(warehouse)
    with warehouse.published_connection() as con:
        tables = exported_tables(con)
        files = write_tables(con, tables, out)
        files += write_workbooks(con, tables, out)
        sources = package_sources(con)
        files.append(write_terms(con, out))  # the data's terms travel with them
    files.append(write_datapackage(datapackage(tables, sources, published_at), out))
    write_manifest(out, files, published_at=published_at, publication=publication,
                   exported_at=utc_text(datetime.now(UTC)))
    return files


def main() -> int:
    with dg.build_resources({"warehouse": default_warehouse()}) as built:
        warehouse = built.warehouse
    if warehouse.last_publication()[1] is None:
        print(f"FAILED: nothing published at {warehouse.published_location}: run `make run` first")
        return 2
    out = warehouse.path.parent / "exports"
    files = export(warehouse, out)
    tables = sum(f.path.suffix == ".csv" for f in files)
    print(f"Exported {tables} tables and views as CSV (UTF-8 with BOM) and Parquet, one XLSX per schema and "
          f"datapackage.json to {out}/ (MANIFEST.txt lists every file with its rows and sha256)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
