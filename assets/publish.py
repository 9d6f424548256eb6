"""The published copy: what analysts query while the pipeline keeps writing the working warehouse."""


import dagster as dg

from assets.accounting import KEY as ACCOUNTING_KEY
from assets.claims import CLAIM_ASSETS
from assets.common import OWNERS, markdown_table
from assets.file_tables import FILE_TABLE_ASSETS
from assets.indicators import AUTOMATION, INDICATOR_ASSETS
from warehouse.io import WarehouseResource, warehouse_pool

PUBLISHED_KEY = dg.AssetKey(["published_warehouse"])


def _warehouse_tables() -> list[dg.AssetKey]:
    tables = FILE_TABLE_ASSETS + INDICATOR_ASSETS + CLAIM_ASSETS
    return [*(key for asset in tables for key in asset.keys), ACCOUNTING_KEY]


@dg.asset(
    key=PUBLISHED_KEY,
    deps=_warehouse_tables(),
    group_name="publish",
    kinds={"duckdb"},
    owners=OWNERS,
    pool=warehouse_pool(),
    automation_condition=AUTOMATION,
    description="What analysts query, published only after every upstream table was built and checked. On the DuckDB "
    "file backend: a complete copy at `warehouse/data/published.duckdb`, written to a temporary file and renamed "
    "over the old copy. On DuckLake: the lake's current snapshot id, recorded in `meta.publications`; analysts "
    "attach the lake at that snapshot. Either way a reader never sees a half-updated warehouse and never blocks "
    "the pipeline.",
)
def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    published = warehouse.publish(run_id=context.run_id)
    context.log.info(f"published {warehouse.published_location}" + (f" (snapshot {published})" if warehouse.lake
                                                                      else ""))
    with warehouse.published_connection() as con:
        tables = con.execute("SELECT schema_name || '.' || table_name AS table_name, estimated_size AS approx_rows, "
                             "column_count FROM duckdb_tables() WHERE database_name = current_database() "
                             "AND schema_name IN ('reference', 'paper', 'kosis', 'indicators', 'quality') "
                             "ORDER BY 1").df()
    where = ({"snapshot_id": published, "catalog": warehouse.lake.redacted_url()} if warehouse.lake
             else {"path": str(published), "size_bytes": published.stat().st_size})
    return dg.MaterializeResult(metadata={**where, "dagster/row_count": int(tables["approx_rows"].sum()),
                                          "tables": dg.MetadataValue.md(markdown_table(tables, limit=100))})
