"""The one writer of the tables built from files and the derived indicators: a Dagster IO manager.

An asset validates what it built (pandera, from the registry) and returns the result: a `TableWrite` (the rows,
its catalog row, the source issues it found and the rows of its checks) or, when a blocking check failed, a
`Rejection` (the failing rows and the checks' rows). The IO manager finds the table by the asset's key
(`table_layout`: indicators/<name> is the indicator spec's table, paper/<name> and reference/<name> the registry's)
with its columns, key and comments, and commits either in one transaction:

- a table is never written without the check rows that describe it, and a check row never describes a table
  that failed to commit;
- a rejection records the quarantined rows and the failed checks, leaves the table as it was and fails the step
  with the asset's message, so nothing downstream runs.

The KOSIS tables do not come through here: their rows are staged and merged in DuckDB (`warehouse/kosis_load.py`),
never held as a frame, and that merge commits with its snapshots, quarantine and check rows in the same way.
"""


import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import dagster as dg
import duckdb
import pandas as pd

from schemas.indicators import spec_named
from schemas.registry import FILE_TABLES, written_columns, written_key
from warehouse.clock import utc_now
from warehouse.io import WarehouseResource, quarantine_rows, replace_table, table_schema_metadata
from warehouse.rows import insert_rows

TABLE_IO_MANAGER = "warehouse_io"  # the resource key of TableIOManager


@dataclass(frozen=True)
class CheckRow:
    """One evaluation of a check: a row of quality.check_results."""

    check_name: str
    severity: str  # ERROR | WARN
    passed: bool | None  # None: the check did not run (details["not_run"] says why)
    n_failures: int
    details: dict = field(default_factory=dict)  # the failure cases and notes, stored as JSON


@dataclass(frozen=True)
class CatalogRow:
    """A table's row of its catalog (paper.catalog, indicators.catalog), replaced by key."""

    table: str
    key_column: str
    values: dict


@dataclass(frozen=True)
class SourceIssues:
    """Where the printed sources disagree with themselves or each other: the rows of quality.source_issues
    labelled `label` are replaced by `rows`, or by what `query` (parameter `$label`) finds once the table is
    written (a comparison of the new table with another source)."""

    label: str
    rows: pd.DataFrame | None = None
    query: str | None = None


@dataclass(frozen=True)
class TableLayout:
    """What the IO manager writes a frame as: the table, its comment, its columns (name, DuckDB type, comment) in
    order, its primary key."""

    table: str  # schema.name
    description: str
    columns: list[tuple[str, str, str]]
    key: tuple[str, ...]


def table_layout(asset_path: Sequence[str]) -> TableLayout:
    """The table an asset's key names: ["indicators", name] the indicator spec's, ["paper" | "reference", name] the
    registry's file table."""
    qualified = ".".join(asset_path)
    if len(asset_path) == 2 and asset_path[0] == "indicators" and (spec := spec_named(asset_path[1])) is not None:
        return TableLayout(qualified, spec.description, [(c.name, c.dtype, c.description) for c in spec.columns],
                           spec.key)
    file_table = next((s for s in FILE_TABLES if s.qualified_name == qualified), None)
    if len(asset_path) == 2 and file_table is not None:
        return TableLayout(qualified, file_table.description,
                           [(c.name, c.dtype, c.description) for c in written_columns(file_table)],
                           written_key(file_table))
    raise KeyError(f"asset {'/'.join(asset_path)} names no table of the registry (schemas/registry.py) or of the "
                   f"indicator specs (schemas/indicators/): the warehouse IO manager writes only those")


@dataclass
class TableWrite:
    frame: pd.DataFrame  # the validated rows: the table's columns (others are left out)
    checks: tuple[CheckRow, ...] = ()
    catalog: CatalogRow | None = None
    source_issues: SourceIssues | None = None
    metadata: dict = field(default_factory=dict)  # the materialization's, beside row count and column schema


@dataclass
class Rejection:
    message: str  # why nothing was written: the step fails with it
    checks: tuple[CheckRow, ...]
    quarantine: pd.DataFrame | None = None  # the failing rows, with a `reason` column
    source: str = ""  # where those rows came from (quality.quarantine.source)
    metadata: dict = field(default_factory=dict)  # the failure's


def record_checks(con: duckdb.DuckDBPyConnection, checks: tuple[CheckRow, ...], *, run_id: str, asset: str) -> None:
    """The one writer of quality.check_results, in the caller's transaction: the IO manager's for the tables it
    writes, the KOSIS merge's for the KOSIS tables."""
    if not checks:
        return
    now = utc_now()
    insert_rows(con, "quality.check_results", [
        {"run_id": run_id, "asset": asset, "check_name": c.check_name, "severity": c.severity, "passed": c.passed,
         "n_failures": c.n_failures, "details": json.dumps(c.details, default=str, ensure_ascii=False),
         "evaluated_at": now} for c in checks])


def commit_table(con: duckdb.DuckDBPyConnection, layout: TableLayout, write: TableWrite, *, run_id: str,
                 asset: str) -> tuple[int, int]:
    """Everything a validated table brings, in the caller's transaction; returns the rows written and the source
    issues recorded."""
    n = replace_table(con, layout.table, write.frame, layout.columns, key=layout.key, description=layout.description)
    if write.catalog is not None:
        row = write.catalog
        con.execute(f"DELETE FROM {row.table} WHERE {row.key_column} = ?", [row.values[row.key_column]])
        insert_rows(con, row.table, [row.values])
    issues = 0
    if write.source_issues is not None:
        found = write.source_issues
        con.execute("DELETE FROM quality.source_issues WHERE source_table = ?", [found.label])
        rows = found.rows if found.query is None else con.execute(found.query, {"label": found.label}).df()
        if rows is not None and len(rows):
            issues = insert_rows(con, "quality.source_issues", rows)
    record_checks(con, write.checks, run_id=run_id, asset=asset)
    return n, issues


def commit_rejection(con: duckdb.DuckDBPyConnection, rejection: Rejection, *, run_id: str, asset: str) -> None:
    if rejection.quarantine is not None:
        quarantine_rows(con, source=rejection.source, rows=rejection.quarantine, run_id=run_id, asset=asset)
    record_checks(con, rejection.checks, run_id=run_id, asset=asset)


class TableIOManager(dg.IOManager):
    """Writes each `TableWrite` or `Rejection` an asset returns into the warehouse, in one transaction; reads a
    table back as a frame for an asset (or a notebook) that takes it as an input."""

    def __init__(self, warehouse: WarehouseResource) -> None:
        self.warehouse = warehouse

    def handle_output(self, context: dg.OutputContext, obj: TableWrite | Rejection) -> None:
        asset = context.asset_key.to_user_string()
        if isinstance(obj, Rejection):
            self.warehouse.write(lambda con: commit_rejection(con, obj, run_id=context.run_id, asset=asset),
                                 what=f"recording the rejection of {asset}", log=context.log.warning)
            raise dg.Failure(description=obj.message, metadata=obj.metadata)
        if not isinstance(obj, TableWrite):
            raise TypeError(f"{asset} returned {type(obj).__name__}; the warehouse takes a TableWrite or a Rejection")
        layout = table_layout(context.asset_key.path)
        n, issues = self.warehouse.write(
            lambda con: commit_table(con, layout, obj, run_id=context.run_id, asset=asset),
            what=f"writing {layout.table}", log=context.log.warning)
        context.add_output_metadata({**obj.metadata, "dagster/row_count": n, "dagster/table_name": layout.table,
                                     "dagster/column_schema": table_schema_metadata(layout.columns),
                                     **({"source_issues": issues} if obj.source_issues is not None else {})})

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = ".".join(context.upstream_output.asset_key.path)
        with self.warehouse.read_connection() as con:
            return con.execute(f"SELECT * FROM {table}").df()


@dg.io_manager(required_resource_keys={"warehouse"},
               description="Writes the tables built from files and the indicators, with their catalog rows, source "
               "issues, quarantined rows and check rows, in one transaction (warehouse/tables.py).")
def table_io_manager(init_context: dg.InitResourceContext) -> TableIOManager:
    # The run's warehouse resource itself, not a copy: its one connection serves the steps and this writer alike.
    return TableIOManager(init_context.resources.warehouse)


def with_table_io_manager(resources: dict) -> dict:
    """The resources given, with the IO manager writing through their `warehouse`: every place that builds
    resources (the environment's, the tests') goes through here."""
    return {**resources, TABLE_IO_MANAGER: table_io_manager}
