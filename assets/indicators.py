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

from assets.common import OWNERS, ddl_columns, evaluate_check, table_metadata
from assets.kosis import CATALOG_KEY
from assets.source_files import load_catalog
from schemas.indicators import INDICATORS, PAPER_CLAIMS, Claim, IndicatorSpec, all_claims
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
                                     outcome=None, description=message,
                                     failures=[{"column": "(table)", "check": "not empty when the previous build had "
                                                "rows", "failure_case": f"0 rows (previously {previous_rows})"}])
        yield result
        yield dg.Output(Rejection(message, (row,)))
        return
    outcome = validate_structure(spec.table, frame)
    row, result = evaluate_check(asset_key=key, check_name="schema", severity=dg.AssetCheckSeverity.ERROR,
                                 outcome=outcome)
    if not outcome.passed:
        yield result
        yield dg.Output(Rejection(f"indicators.{spec.name} failed validation ({outcome.n_failures} failures); the "
                                  f"table is left as it was", (row,),
                                  metadata={"failure_cases": json.dumps(outcome.summary())}))
        return
    yield dg.Output(TableWrite(
        table=f"indicators.{spec.name}", description=spec.description, columns=columns, key=spec.key,
        frame=outcome.frame[[c for c, _, _ in columns]], checks=(row,),
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


PAPER_FIGURES = "the paper's own figures"


def _year_spans(years: list[int]) -> str:
    spans, start = [], None
    for i, year in enumerate(years):
        start = year if start is None else start
        if i + 1 == len(years) or years[i + 1] != year + 1:
            spans.append(str(start) if start == year else f"{start}-{year}")
            start = None
    return ", ".join(spans)


def checked_against(con, rows_read: str) -> str:
    """What a claim was checked against, from the rows its query read (`source_table:year`, comma-separated): each
    KOSIS table with its years, or the paper's own figures (its printed tables, or them in KOSIS form)."""
    labels = dict(con.execute("SELECT id, CASE WHEN coalesce(source, 'kosis') = 'kosis' THEN coalesce(source_label, "
                              "'KOSIS table ' || org_id || '/' || tbl_id) ELSE '" + PAPER_FIGURES.replace("'", "''")
                              + " (' || org_id || '/' || tbl_id || ')' END FROM kosis.tables").fetchall())
    years: dict[str, set[int]] = {}
    for item in rows_read.split(","):
        tables, _, year = item.rpartition(":")
        for table in tables.split("+"):
            label = labels.get(table) or (f"{PAPER_FIGURES} ({table})" if table.startswith("paper.") else table)
            years.setdefault(label, set()).add(int(year))
    # KOSIS first: a claim checked against KOSIS and the paper says KOSIS before the paper
    ordered = sorted(years, key=lambda label: (label.startswith(PAPER_FIGURES), label))
    return "; ".join(f"{label}, {_year_spans(sorted(years[label]))}" for label in ordered)


# Indicators whose rows may come from KOSIS (their claims must say which rows they read).
KOSIS_FED = {f"indicators.{s.name}" for s in INDICATORS if any(src.startswith("kosis.") for src in s.sources)}


def evaluate_claims(con, claims: tuple[Claim, ...]) -> pd.DataFrame:
    rows = []
    for claim in claims:
        cursor = con.execute(claim.query)
        columns = [d[0] for d in cursor.description]
        result = cursor.fetchall()
        if len(result) != 1:
            raise ValueError(f"claim {claim.id}: its query returned {len(result)} rows, expected 1")
        reads_kosis_fed = any(t.strip() in KOSIS_FED for t in claim.tables.split(","))
        if reads_kosis_fed and "rows_read" not in columns:
            raise ValueError(f"claim {claim.id} reads an indicator fed by KOSIS: its query must return rows_read")
        values = dict(zip(columns, result[0], strict=True))
        observed, verdict = values["observed"], values["verdict"]
        # a claim that reads no indicator fed by KOSIS reads the paper's tables only
        against = f"{PAPER_FIGURES} ({claim.tables})" if not reads_kosis_fed else (
            checked_against(con, values["rows_read"]) if values["rows_read"] else "nothing: the query read no row")
        rows.append({"claim_id": claim.id, "section": claim.section, "claim_text": claim.text,
                     "observed": observed if observed is not None else "no data", "verdict": verdict,
                     "checked_against": against, "evidence_tables": claim.tables, "query": claim.query})
    return pd.DataFrame(rows)


@dg.asset(
    key=dg.AssetKey(["indicators", "paper_claims"]),
    deps=[dg.AssetKey(["indicators", s.name]) for s in INDICATORS]
    + upstream_keys(("paper.daegu_plans", "paper.rd_programs_by_manager", "reference.regions")),
    group_name="indicators",
    kinds={"duckdb", "sql"},
    owners=OWNERS,
    pool=warehouse_pool(),
    io_manager_key=TABLE_IO_MANAGER,
    description="`indicators.paper_claims`: the paper's quantitative claims, each evaluated by a query (the "
    "`claims` of the indicator specs, schemas/indicators/) with the observed numbers and a verdict: supported, "
    "partly supported, "
    "contradicted or not evaluable.",
    check_specs=[dg.AssetCheckSpec("schema", asset=dg.AssetKey(["indicators", "paper_claims"]), blocking=True,
                                   description="ERROR: one row per claim, verdicts from the allowed list.")],
    automation_condition=AUTOMATION,
)
def paper_claims(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.read_connection() as con:
        frame = evaluate_claims(con, all_claims())
        previous = _previous_rows(con, PAPER_CLAIMS) if frame.empty else 0
    counts = frame["verdict"].value_counts().to_dict()
    context.log.info(f"claims: {counts}")
    yield from _validated_output(PAPER_CLAIMS, frame, "schemas/indicators/*.py claims", previous_rows=previous,
                                 disagreements=None)


def build_indicator_assets(tables: tuple[KosisTable, ...]) -> list[dg.AssetsDefinition]:
    """Every indicator, wired to the KOSIS tables of a catalog that feed it, and the claims."""
    return [build_indicator_asset(s, tables) for s in INDICATORS] + [paper_claims]


INDICATOR_ASSETS: list[dg.AssetsDefinition] = build_indicator_assets(load_catalog())
