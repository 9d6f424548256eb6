"""Derived indicator tables: one SQL file each, validated before they are written.

Each indicator runs its SELECT (warehouse/sql/indicators/<name>.sql) against the warehouse, validates
the result with the pandera schema generated from its spec (schemas/indicators/<name>.py; ERROR: a failure writes
nothing and fails the step; so does an empty result where the previous build had rows), then hands the table, its
row of indicators.catalog, its source disagreements and its check's row to the warehouse's IO manager
(warehouse/tables.py), which commits them in one transaction. The paper's claims are evaluated the same way, one
query per claim (each spec's `claims`).
"""


import json

import dagster as dg
import pandas as pd

from assets.common import OWNERS, Findings, ddl_columns, evaluate_check, table_metadata
from assets.kosis import CATALOG_KEY
from schemas.indicators import INDICATORS, IndicatorSpec
from schemas.kosis import KosisTable
from schemas.validation import validate_structure
from warehouse.io import SQL_DIR, WarehouseResource, warehouse_pool
from warehouse.tables import TABLE_IO_MANAGER, CatalogRow, Rejection, SourceIssues, TableWrite

INDICATOR_SQL_DIR = SQL_DIR / "indicators"
# Rebuild when anything upstream updated and its blocking checks passed. Missing upstream partitions
# are allowed: KOSIS years are shared by all tables, and not every table has every year.
AUTOMATION = (
    dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
    & dg.AutomationCondition.all_deps_blocking_checks_passed()
).with_label("eager, upstream checks passed")


def upstream_keys(tables: tuple[str, ...]) -> list[dg.AssetKey]:
    """Assets of the tables an indicator reads. KOSIS tables come from the catalog instead (`used_by`), so
    a catalog with other entries (a new base year, a test's) wires itself."""
    keys = []
    for table in tables:
        schema, name = table.split(".")
        if name != "*" and schema != "kosis":
            keys.append(dg.AssetKey([schema, name]))
    return keys


def kosis_keys_for(indicator: str, tables: tuple[KosisTable, ...]) -> list[dg.AssetKey]:
    used = [dg.AssetKey(["kosis", t.id]) for t in tables if indicator in t.used_by]
    return [CATALOG_KEY, *used] if used else []


def _disagreements(spec: IndicatorSpec) -> SourceIssues | None:
    """Where two sources of the indicator cover the same cell and differ: recorded (not 'fixed') with the table,
    by the comparison query over the table just written."""
    if spec.comparison is None:
        return None
    return SourceIssues(spec.comparison_label, query=(INDICATOR_SQL_DIR / spec.comparison).read_text(encoding="utf-8"))


def _previous_rows(con, spec: IndicatorSpec) -> int:
    """Rows of the indicator's current table (0 if it has never been written or was empty)."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'indicators' "
                         "AND table_name = ?", [spec.name]).fetchone()[0]
    return con.execute(f"SELECT count(*) FROM indicators.{spec.name}").fetchone()[0] if exists else 0


def _validated_output(spec: IndicatorSpec, frame: pd.DataFrame, source_used: str, *, previous_rows: int,
                      disagreements: SourceIssues | None):
    """The indicator's table for the warehouse's IO manager (warehouse/tables.py), validated first: a table that
    fails its schema, or comes out empty where its previous build had rows, is a Rejection (nothing written)."""
    key = dg.AssetKey(["indicators", spec.name])
    columns = ddl_columns(spec.columns)
    if frame.empty and previous_rows:  # an indicator that had rows and comes out empty lost its inputs
        message = (f"indicators.{spec.name} came out with 0 rows where its previous build had {previous_rows}: its "
                   f"inputs are missing (a KOSIS load rolled back or lost, a catalog or SQL change?); the table is "
                   f"left as it was")
        row, result = evaluate_check(asset_key=key, check_name="schema", severity=dg.AssetCheckSeverity.ERROR,
                                     description=message, findings=Findings.listed(
                                         [{"column": "(table)", "check": "not empty when the previous build had rows",
                                           "failure_case": f"0 rows (previously {previous_rows})"}]))
        yield result
        yield dg.Output(Rejection(message, (row,)))
        return
    outcome = validate_structure(spec.table, frame)
    row, result = evaluate_check(asset_key=key, check_name="schema", severity=dg.AssetCheckSeverity.ERROR,
                                 findings=Findings.of(outcome))
    if not outcome.passed:
        yield result
        yield dg.Output(Rejection(f"indicators.{spec.name} failed validation ({outcome.n_failures} failures); the "
                                  f"table is left as it was", (row,),
                                  metadata={"failure_cases": json.dumps(outcome.summary())}))
        return
    yield dg.Output(TableWrite(  # the IO manager finds the table's columns and key by the asset's key
        frame=outcome.frame, checks=(row,),
        catalog=CatalogRow("indicators.catalog", "indicator", {
            "indicator": spec.name, "table_name": f"indicators.{spec.name}", "unit": spec.unit,
            "formula": spec.formula, "sources": ", ".join(spec.sources), "description": spec.description,
            "source_used": source_used}),
        source_issues=disagreements,
        metadata=table_metadata(outcome.frame, columns, f"indicators.{spec.name}", unit=spec.unit,
                                formula=spec.formula, sources=", ".join(spec.sources), source_used=source_used)))
    yield result


def build_indicator_asset(spec: IndicatorSpec, tables: tuple[KosisTable, ...] = ()) -> dg.AssetsDefinition:
    key = dg.AssetKey(["indicators", spec.name])
    sql_path = INDICATOR_SQL_DIR / f"{spec.name}.sql"

    @dg.asset(
        key=key,
        deps=[*upstream_keys(spec.sources), *kosis_keys_for(spec.name, tables)],
        group_name="indicators",
        kinds={"duckdb", "sql"},
        owners=OWNERS,
        pool=warehouse_pool(),
        io_manager_key=TABLE_IO_MANAGER,
        description=f"`indicators.{spec.name}`: {spec.description}\n\n**Unit:** {spec.unit}\n\n"
        f"**Formula:** {spec.formula}\n\n**Sources:** {', '.join(spec.sources)}\n\n"
        f"SQL: `warehouse/sql/indicators/{spec.name}.sql`",
        metadata={"unit": spec.unit, "formula": spec.formula, "sources": ", ".join(spec.sources),
                  "sql_file": f"warehouse/sql/indicators/{spec.name}.sql",
                  "dagster/column_schema": dg.TableSchema(
                      columns=[dg.TableColumn(n, t, description=d) for n, t, d in ddl_columns(spec.columns)])},
        check_specs=[dg.AssetCheckSpec("schema", asset=key, blocking=True,
                                       description="ERROR: types, ranges and unique key of the derived table.")],
        automation_condition=AUTOMATION,
    )
    def _indicator(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        sql = sql_path.read_text(encoding="utf-8")
        with warehouse.read_connection() as con:
            frame = con.execute(sql).df()
            previous = _previous_rows(con, spec) if frame.empty else 0
        sources = ", ".join(sorted(set(frame["source"]))) if "source" in frame and len(frame) else "none"
        yield from _validated_output(spec, frame, sources, previous_rows=previous, disagreements=_disagreements(spec))

    return _indicator


def build_indicator_assets(tables: tuple[KosisTable, ...]) -> list[dg.AssetsDefinition]:
    """Every indicator, wired to the KOSIS tables of a catalog that feed it (the claims: assets/claims.py)."""
    return [build_indicator_asset(s, tables) for s in INDICATORS]

