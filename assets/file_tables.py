"""One factory for every table that ships as a file (the paper's nine tables, the region reference).

Each spec in the registry becomes one asset, `<schema>/<table>`, that reads its file as text, validates it
(pandera, lazily) and only then writes: the rows, their provenance and the source's inconsistencies
(quality.source_issues), in one transaction. Its two checks: `structure` (ERROR, blocking: nothing is written,
downstream does not run, failing rows go to quality.quarantine) and `source_consistency` (WARN: the printed
source disagrees with itself; the data land as printed). One step, no frame handed between steps.
"""


import csv
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pandas as pd
import yaml

from assets.common import OWNERS, check_result, ddl_columns, sha256_file, table_metadata
from assets.source_files import table_file
from schemas.registry import FILE_TABLES, Column, TableSpec
from schemas.validation import (
    cells_message,
    locate_in_file,
    source_issues,
    validate_consistency,
    validate_structure,
)
from warehouse.backend import execute_ddl
from warehouse.io import (
    SourceFiles,
    WarehouseResource,
    comment_sql,
    quarantine_rows,
    replace_table,
    warehouse_pool,
)

PROVENANCE_COLUMNS = (
    Column("source_table", "VARCHAR", "The printed table this row comes from, e.g. 'Table 6'"),
    Column("source_note", "VARCHAR", "The printed 'Source:' line"),
)

PAPER_CATALOG_DDL = """
CREATE TABLE IF NOT EXISTS paper.catalog (
    source_table VARCHAR PRIMARY KEY, table_name VARCHAR, title VARCHAR, unit VARCHAR, source_note VARCHAR,
    file VARCHAR, file_sha256 VARCHAR, rows_printed INTEGER, rows_stored INTEGER, notes VARCHAR)
"""
PAPER_CATALOG_COMMENTS = comment_sql("paper.catalog", "Each printed table of the paper: title, unit, printed source "
                                     "line, the file it is transcribed in and that file's sha256.", [
    ("source_table", "VARCHAR", "The printed table, e.g. 'Table 6'"),
    ("table_name", "VARCHAR", "The warehouse table that holds it, e.g. paper.st_budget_2011"),
    ("title", "VARCHAR", "The printed title"),
    ("unit", "VARCHAR", "The printed unit (NULL: none printed)"),
    ("source_note", "VARCHAR", "The printed 'Source:' line"),
    ("file", "VARCHAR", "The file the table is transcribed in, e.g. assets/sources/paper/table_6_st_budget_2011.csv"),
    ("file_sha256", "VARCHAR", "sha256 of that file as loaded"),
    ("rows_printed", "INTEGER", "Data rows in the file (printed total rows included)"),
    ("rows_stored", "INTEGER", "Rows stored in table_name (printed total rows are checked, not stored)"),
    ("notes", "VARCHAR", "Notes printed under the table"),
])


@dataclass
class ValidatedFile:
    """A source file that passed its structure check, with what the warehouse keeps of it."""

    spec_name: str
    file: str
    sha256: str
    frame: pd.DataFrame  # coerced by the structural schema
    issues: pd.DataFrame = field(default_factory=pd.DataFrame)  # computed: published vs recomputed
    recorded: list[dict] = field(default_factory=list)  # from recorded_issues.yaml: what no check recomputes


RECORDED_ISSUES_FILE = "paper/recorded_issues.yaml"


def recorded_issues(root: str, source_table: str | None) -> list[dict]:
    path = Path(root) / RECORDED_ISSUES_FILE
    if source_table is None or not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        entries = yaml.safe_load(fh) or []
    return [{"source_table": e["source_table"], "row_key": e["row_key"], "column_name": e["column_name"],
             "description": " ".join(str(e["description"]).split()), "check_name": "recorded"}
            for e in entries if e["source_table"] == source_table]


def source_lines(path: Path | str) -> list[int]:
    """The editor line on which each data record of a CSV starts (header = line 1; blank lines skipped as
    pandas skips them; a quoted field spanning lines counts from its first line)."""
    starts: list[int] = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        previous = 0
        for row in reader:
            if row and any(cell.strip() for cell in row):
                starts.append(previous + 1)
            previous = reader.line_num
    return starts[1:]  # without the header


def read_source_file(path: Path) -> pd.DataFrame:
    # Everything as text: pandera does the typing, so a bad value is reported, not silently parsed.
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")


def table_key(spec: TableSpec) -> dg.AssetKey:
    return dg.AssetKey([spec.schema, spec.name])


def stored_columns(spec: TableSpec) -> list[Column]:
    year = (
        [Column("year", "INTEGER", f"Reference year, from {spec.reference_year_from} (not a printed column)")]
        if spec.reference_year is not None else []
    )
    return list(spec.stored_columns) + year + (list(PROVENANCE_COLUMNS) if spec.schema == "paper" else [])


def build_file_table_asset(spec: TableSpec) -> dg.AssetsDefinition:
    key = table_key(spec)
    columns = ddl_columns(stored_columns(spec))
    nullable_key = any(spec.column(k).nullable for k in spec.key)
    printed = f" Printed as {spec.source_table}: {spec.title}. {spec.source_note}" if spec.source_table else ""

    @dg.asset(
        key=key,
        group_name=spec.schema,
        kinds={"csv", "pandera", "duckdb"},
        owners=OWNERS,
        pool=warehouse_pool(),
        description=f"`{spec.qualified_name}`: {spec.description}{printed} Transcribed in "
        f"`assets/sources/{spec.file}`, read as text and validated against the pandera schema generated from "
        f"`schemas/registry.py` before anything is written.",
        metadata={"file": spec.file, "source_note": spec.source_note or "", "unit": spec.unit or "",
                  "dagster/column_schema": dg.TableSchema(
                      columns=[dg.TableColumn(n, t, description=d) for n, t, d in columns]),
                  "dagster/table_name": spec.qualified_name},
        check_specs=[
            dg.AssetCheckSpec("structure", asset=key, blocking=True,
                              description="ERROR: types, non-null, ranges, allowed codes, unique key, row checks."),
            dg.AssetCheckSpec("source_consistency", asset=key,
                              description="WARN: printed shares, totals and ratios against values recomputed "
                              "from the printed amounts; each mismatch is kept in quality.source_issues."),
        ],
    )
    def _file_table(context: dg.AssetExecutionContext, warehouse: WarehouseResource, source_files: SourceFiles):
        path = table_file(spec, source_files.root)
        raw = read_source_file(path)
        digest = sha256_file(path)
        structure = validate_structure(spec, raw)
        if not structure.passed:
            locate_in_file(spec, structure, raw, path.name, source_lines(path))
            with warehouse.get_connection() as con:
                quarantine_rows(con, source=f"assets/sources/{spec.file}", rows=structure.failed_rows,
                                run_id=context.run_id, asset=key.to_user_string())
            failure_message = (
                f"assets/sources/{spec.file} failed its structure check ({len(structure.cells)} "
                f"{'cell' if len(structure.cells) == 1 else 'cells'}); nothing is written: "
                f"{spec.qualified_name} and everything downstream keep their previous state. Fix the file "
                f"and run again:\n{cells_message(structure.cells)}")
            context.log.error(failure_message)
            yield check_result(context, warehouse, asset_key=key, check_name="structure",
                               severity=dg.AssetCheckSeverity.ERROR, outcome=structure,
                               failures=[c.record() for c in structure.cells],
                               extra_metadata={"rows_quarantined": len(structure.failed_rows)},
                               description=cells_message(structure.cells, limit=5).strip())
            yield check_result(context, warehouse, asset_key=key, check_name="source_consistency",
                               severity=dg.AssetCheckSeverity.WARN, outcome=None,
                               failures=[{"note": "not evaluated: the structure check failed"}])
            # The step fails with the cells in its message (what `make run` prints), not only "check failed".
            raise dg.Failure(description=failure_message,
                             metadata={"cells": dg.MetadataValue.json([c.record() for c in structure.cells])})

        consistency = validate_consistency(spec, structure.frame)
        validated = ValidatedFile(spec.qualified_name, spec.file, digest, structure.frame,
                                  source_issues(spec, structure.frame),
                                  recorded_issues(source_files.root, spec.source_table))
        frame = validated.frame
        stored = frame[~spec.drop_rows(frame)] if spec.drop_rows is not None else frame
        if spec.reference_year is not None:
            stored = stored.assign(year=spec.reference_year)
        if spec.schema == "paper":
            stored = stored.assign(source_table=spec.source_table, source_note=spec.source_note)

        def write(con) -> list[dg.AssetCheckResult]:
            n = replace_table(con, spec.qualified_name, stored, columns,
                              key=() if nullable_key else spec.key, description=spec.description)
            if spec.schema == "paper":
                _record_paper_provenance(con, spec, validated, n)
            # the checks' rows commit with the table they describe, or not at all
            return [check_result(context, warehouse, asset_key=key, check_name="structure",
                                 severity=dg.AssetCheckSeverity.ERROR, outcome=structure, con=con),
                    check_result(context, warehouse, asset_key=key, check_name="source_consistency",
                                 severity=dg.AssetCheckSeverity.WARN, outcome=consistency,
                                 failures=validated.issues.to_dict(orient="records"), con=con)]

        checks = warehouse.write(write, what=f"writing {spec.qualified_name}", log=context.log.warning)
        yield dg.MaterializeResult(metadata=table_metadata(
            stored[[c for c, _, _ in columns]], columns, spec.qualified_name,
            source_file_sha256=digest, source_file=spec.file, source_rows=len(raw),
            source_issues=len(validated.issues)))
        yield from checks

    return _file_table


def _record_paper_provenance(con, spec: TableSpec, validated: ValidatedFile, n_rows: int) -> None:
    execute_ddl(con, PAPER_CATALOG_DDL)
    for stmt in PAPER_CATALOG_COMMENTS:
        con.execute(stmt)
    con.execute("DELETE FROM paper.catalog WHERE source_table = ?", [spec.source_table])
    con.execute(
        "INSERT INTO paper.catalog VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [spec.source_table, spec.qualified_name, spec.title, spec.unit, spec.source_note,
         f"assets/sources/{spec.file}", validated.sha256, len(validated.frame), n_rows, " ".join(spec.notes)],
    )
    con.execute("DELETE FROM quality.source_issues WHERE source_table = ?", [spec.source_table])
    issues = pd.concat([validated.issues, pd.DataFrame(validated.recorded)], ignore_index=True)
    if len(issues):
        con.register("_issues", issues)
        con.execute("INSERT INTO quality.source_issues BY NAME SELECT * FROM _issues")
        con.unregister("_issues")


FILE_TABLE_ASSETS: list[dg.AssetsDefinition] = [build_file_table_asset(spec) for spec in FILE_TABLES]
