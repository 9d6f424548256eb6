"""Derived indicator tables: one SQL file each, validated before they are written.

Each indicator runs its SELECT (warehouse/sql/indicators/<name>.sql) against the warehouse, validates
the result with the pandera schema generated from its spec (schemas/indicators/<name>.py; ERROR: a failure writes
nothing and fails the step; so does an empty result where the previous build had rows), then
replaces the table and its row of indicators.catalog in one transaction. The paper's claims are
evaluated the same way, one query per claim (each spec's `claims`).
"""


import json

import dagster as dg
import pandas as pd

from assets.common import OWNERS, check_result, ddl_columns, table_metadata
from assets.kosis import CATALOG_KEY
from assets.source_files import load_catalog
from schemas.indicators import INDICATORS, PAPER_CLAIMS, Claim, IndicatorSpec, all_claims
from schemas.kosis import KosisTable
from schemas.validation import validate_structure
from warehouse.io import SQL_DIR, WarehouseResource, replace_table, warehouse_pool

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


def _write_indicator(con, spec: IndicatorSpec, frame: pd.DataFrame, source_used: str) -> int:
    columns = ddl_columns(spec.columns)
    n = replace_table(con, f"indicators.{spec.name}", frame, columns, key=spec.key, description=spec.description)
    con.execute("DELETE FROM indicators.catalog WHERE indicator = ?", [spec.name])  # the lake has no keys
    con.execute("INSERT INTO indicators.catalog VALUES (?, ?, ?, ?, ?, ?, ?)",
                [spec.name, f"indicators.{spec.name}", spec.unit, spec.formula, ", ".join(spec.sources),
                 spec.description, source_used])
    return n


def _record_disagreements(con, spec: IndicatorSpec) -> int:
    """Where two sources of the indicator cover the same cell and differ, record it (not 'fix' it)."""
    if spec.comparison is None:
        return 0
    label = spec.comparison_label
    rows = con.execute((INDICATOR_SQL_DIR / spec.comparison).read_text(encoding="utf-8"), {"label": label}).df()
    con.execute("DELETE FROM quality.source_issues WHERE source_table = ?", [label])
    if len(rows):
        con.register("_disagreements", rows)
        con.execute("INSERT INTO quality.source_issues BY NAME SELECT * FROM _disagreements")
        con.unregister("_disagreements")
    return len(rows)


def _previous_rows(warehouse: WarehouseResource, spec: IndicatorSpec) -> int:
    """Rows of the indicator's current table (0 if it has never been written or was empty)."""
    with warehouse.get_connection() as con:
        exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'indicators' "
                             "AND table_name = ?", [spec.name]).fetchone()[0]
        return con.execute(f"SELECT count(*) FROM indicators.{spec.name}").fetchone()[0] if exists else 0


def _validate_and_write(context: dg.AssetExecutionContext, warehouse: WarehouseResource, spec: IndicatorSpec,
                        frame: pd.DataFrame, source_used: str):
    key = dg.AssetKey(["indicators", spec.name])
    previous = _previous_rows(warehouse, spec) if frame.empty else 0
    if previous:  # an indicator that had rows and comes out empty lost its inputs: an error, not a new state
        message = (f"indicators.{spec.name} came out with 0 rows where its previous build had {previous}: its "
                   f"inputs are missing (a KOSIS load rolled back or lost, a catalog or SQL change?); the table is "
                   f"left as it was")
        yield check_result(context, warehouse, asset_key=key, check_name="schema",
                           severity=dg.AssetCheckSeverity.ERROR, outcome=None,
                           failures=[{"column": "(table)", "check": "not empty when the previous build had rows",
                                      "failure_case": f"0 rows (previously {previous})"}],
                           description=message)
        raise dg.Failure(message)
    outcome = validate_structure(spec.table, frame)
    if not outcome.passed:
        yield check_result(context, warehouse, asset_key=key, check_name="schema",
                           severity=dg.AssetCheckSeverity.ERROR, outcome=outcome)
        raise dg.Failure(f"indicators.{spec.name} failed validation ({outcome.n_failures} failures); the "
                         f"table is left as it was", metadata={"failure_cases": json.dumps(outcome.summary())})

    def write(con) -> tuple[int, dg.AssetCheckResult]:
        _write_indicator(con, spec, outcome.frame, source_used)
        disagreements = _record_disagreements(con, spec)
        # the check's row commits with the table it describes, or not at all
        return disagreements, check_result(context, warehouse, asset_key=key, check_name="schema",
                                           severity=dg.AssetCheckSeverity.ERROR, outcome=outcome, con=con)

    disagreements, result = warehouse.write(write, what=f"writing indicators.{spec.name}", log=context.log.warning)
    yield dg.MaterializeResult(metadata=table_metadata(
        outcome.frame, ddl_columns(spec.columns), f"indicators.{spec.name}",
        unit=spec.unit, formula=spec.formula, sources=", ".join(spec.sources), source_used=source_used,
        source_disagreements=disagreements))
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
        with warehouse.get_connection() as con:
            frame = con.execute(sql).df()
        sources = ", ".join(sorted(set(frame["source"]))) if "source" in frame and len(frame) else "none"
        yield from _validate_and_write(context, warehouse, spec, frame, sources)

    return _indicator


def evaluate_claims(con, claims: tuple[Claim, ...]) -> pd.DataFrame:
    rows = []
    for claim in claims:
        result = con.execute(claim.query).fetchall()
        if len(result) != 1:
            raise ValueError(f"claim {claim.id}: its query returned {len(result)} rows, expected 1")
        observed, verdict = result[0]
        rows.append({"claim_id": claim.id, "section": claim.section, "claim_text": claim.text,
                     "observed": observed if observed is not None else "no data", "verdict": verdict,
                     "evidence_tables": claim.tables, "query": claim.query})
    return pd.DataFrame(rows)


@dg.asset(
    key=dg.AssetKey(["indicators", "paper_claims"]),
    deps=[dg.AssetKey(["indicators", s.name]) for s in INDICATORS]
    + upstream_keys(("paper.daegu_plans", "paper.rd_programs_by_manager", "reference.regions")),
    group_name="indicators",
    kinds={"duckdb", "sql"},
    owners=OWNERS,
    pool=warehouse_pool(),
    description="`indicators.paper_claims`: the paper's quantitative claims, each evaluated by a query (the "
    "`claims` of the indicator specs, schemas/indicators/) with the observed numbers and a verdict: supported, "
    "partly supported, "
    "contradicted or not evaluable.",
    check_specs=[dg.AssetCheckSpec("schema", asset=dg.AssetKey(["indicators", "paper_claims"]), blocking=True,
                                   description="ERROR: one row per claim, verdicts from the allowed list.")],
    automation_condition=AUTOMATION,
)
def paper_claims(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.get_connection() as con:
        frame = evaluate_claims(con, all_claims())
    counts = frame["verdict"].value_counts().to_dict()
    context.log.info(f"claims: {counts}")
    yield from _validate_and_write(context, warehouse, PAPER_CLAIMS, frame, "schemas/indicators/*.py claims")


def build_indicator_assets(tables: tuple[KosisTable, ...]) -> list[dg.AssetsDefinition]:
    """Every indicator, wired to the KOSIS tables of a catalog that feed it, and the claims."""
    return [build_indicator_asset(s, tables) for s in INDICATORS] + [paper_claims]


INDICATOR_ASSETS: list[dg.AssetsDefinition] = build_indicator_assets(load_catalog())
