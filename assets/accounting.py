"""Every loaded KOSIS cell accounted for up to the indicators (quality.kosis_cell_accounting).

Conservation holds per snapshot at load time (received = loaded + quarantined + skipped). This asset carries it on
past the load: after the indicators are built, each current cell of each catalogued table and year is counted as
feeding an indicator, superseded by a preferred table of its series, or not read, with the reason (item not used,
code in no role, region code unmapped, value not a number, ...). Two WARN checks fail, in the UI and in the CLI's
summary, when a role matches nothing in a year its table holds or a loaded (table, year) reaches no indicator.
"""


import json

import dagster as dg
import pandas as pd

from assets.common import OWNERS, Findings, evaluate_check, markdown_table
from assets.kosis import CATALOG_KEY
from schemas.indicators import INDICATORS
from warehouse.clock import utc_now
from warehouse.io import SQL_DIR, WarehouseResource, warehouse_pool
from warehouse.tables import record_checks

KEY = dg.AssetKey(["quality", "kosis_cell_accounting"])
ACCOUNTING_SQL = (SQL_DIR / "kosis_cell_accounting.sql").read_text(encoding="utf-8")
COLUMNS = ("catalog_id", "org_id", "tbl_id", "year", "outcome", "reason", "n_cells", "indicator", "example",
           "built_at")
# Outcomes that count as the table contributing (a superseded cell was read and lost only to a preferred table).
CONTRIBUTED = ("feeds an indicator", "superseded")

ROLES_MATCHING_NOTHING_SQL = """
SELECT r.catalog_id, y.year, r.role
FROM (SELECT DISTINCT catalog_id, role FROM kosis.code_roles) r
JOIN (SELECT DISTINCT catalog_id, year FROM kosis.cell_roles) y USING (catalog_id)
WHERE NOT EXISTS (SELECT 1 FROM kosis.cell_roles c WHERE c.catalog_id = r.catalog_id AND c.year = y.year
                                                     AND list_contains(c.roles, r.role))
ORDER BY 1, 2, 3
"""

YEARS_FEEDING_NOTHING_SQL = f"""
SELECT catalog_id, year, string_agg(reason || ' (' || n_cells || ')', '; ' ORDER BY n_cells DESC) AS reasons
FROM quality.kosis_cell_accounting
GROUP BY catalog_id, year
HAVING count(*) FILTER (WHERE outcome IN ({", ".join(repr(o) for o in CONTRIBUTED)})) = 0
ORDER BY 1, 2
"""


def kosis_fed_indicators() -> list[str]:
    """Indicators that read KOSIS tables and say which table each row came from."""
    return [s.name for s in INDICATORS if any(src.startswith("kosis.") for src in s.sources)
            and any(c.name == "source_table" for c in s.columns) and "region_code" in s.key]


def accounting_sql() -> str:
    fed = "\n    UNION ALL\n    ".join(
        f"SELECT DISTINCT '{name}' AS indicator, region_code, year, source_table FROM indicators.{name}"
        for name in kosis_fed_indicators())
    return ACCOUNTING_SQL.replace("{fed}", fed)


def tables_contributing_nothing(con) -> list[tuple[str, str]]:
    """Catalogued tables with cells or received records of which nothing reaches an indicator: (id, reasons)."""
    return con.execute(f"""
        SELECT catalog_id, string_agg(DISTINCT reason, '; ') FROM quality.kosis_cell_accounting
        GROUP BY catalog_id
        HAVING count(*) FILTER (WHERE outcome IN ({", ".join(repr(o) for o in CONTRIBUTED)})) = 0
        ORDER BY 1""").fetchall()


@dg.asset(
    key=KEY,
    deps=[CATALOG_KEY, *(dg.AssetKey(["indicators", name]) for name in kosis_fed_indicators())],
    group_name="indicators",
    kinds={"duckdb"},
    owners=OWNERS,
    pool=warehouse_pool(),
    description="Every current KOSIS cell of every catalogued table and year, accounted for up to the indicators: "
    "feeds an indicator, superseded by a preferred table of its series, or not read (item not used, code in no "
    "role, region code unmapped, value not a number), with the number of cells and an example.",
    check_specs=[
        dg.AssetCheckSpec("every_loaded_year_feeds_an_indicator", asset=KEY, blocking=False,
                          description="WARN: a (table, year) the warehouse holds, or a table whose records were all "
                          "quarantined, of which no cell reaches an indicator."),
        dg.AssetCheckSpec("every_role_matches", asset=KEY, blocking=False,
                          description="WARN: a role of the catalog (kosis.code_roles) that matches no cell in a year "
                          "its table holds (the service's labels or codes differ from the catalog's)."),
    ],
)
def kosis_cell_accounting(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    now = utc_now()

    def write(con):
        con.execute("DELETE FROM quality.kosis_cell_accounting")
        con.execute("INSERT INTO quality.kosis_cell_accounting BY NAME "
                    + accounting_sql().replace("$now", f"TIMESTAMP '{now.isoformat(sep=' ')}'"))
        summary = con.execute("SELECT catalog_id, outcome, sum(n_cells) AS cells, count(DISTINCT year) AS years "
                              "FROM quality.kosis_cell_accounting GROUP BY ALL ORDER BY 1, 2").df()
        unfed = con.execute(YEARS_FEEDING_NOTHING_SQL).fetchall()
        unmatched = con.execute(ROLES_MATCHING_NOTHING_SQL).fetchall()
        checks = (
            evaluate_check(asset_key=KEY, check_name="every_loaded_year_feeds_an_indicator",
                           severity=dg.AssetCheckSeverity.WARN,
                           findings=Findings.listed([{"catalog_id": t, "year": "(no cell loaded)" if y is None else y,
                                                      "why": reasons} for t, y, reasons in unfed])),
            evaluate_check(asset_key=KEY, check_name="every_role_matches", severity=dg.AssetCheckSeverity.WARN,
                           findings=Findings.listed([{"catalog_id": t, "year": y, "role": r}
                                                     for t, y, r in unmatched])),
        )
        record_checks(con, tuple(row for row, _ in checks), run_id=context.run_id, asset=KEY.to_user_string())
        rows = con.execute("SELECT count(*) FROM quality.kosis_cell_accounting").fetchone()[0]
        return rows, summary, [result for _, result in checks]

    rows, summary, results = warehouse.write(write, what="accounting KOSIS cells up to the indicators")
    by_outcome = summary.groupby("outcome")["cells"].sum().to_dict() if len(summary) else {}
    yield dg.MaterializeResult(metadata={
        "dagster/row_count": rows,
        "cells_by_outcome": json.dumps({k: int(v) for k, v in by_outcome.items()}, ensure_ascii=False),
        "by_table": dg.MetadataValue.md(markdown_table(summary if len(summary) else pd.DataFrame())),
    })
    yield from results
