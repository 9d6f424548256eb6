"""The published copy: what analysts query while the pipeline keeps writing the working warehouse."""


import dagster as dg

from assets.accounting import KEY as ACCOUNTING_KEY
from assets.common import OWNERS, markdown_table
from assets.indicators import AUTOMATION
from warehouse.io import WarehouseResource, warehouse_pool

PUBLISHED_KEY = dg.AssetKey(["published_warehouse"])


def build_published_warehouse(tables: list[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    """The published copy, after every table of the warehouse (`tables`: the file, indicator and claims assets
    of this definitions build) and the cells' account."""

    @dg.asset(
        key=PUBLISHED_KEY,
        deps=[*(key for asset in tables for key in asset.keys), ACCOUNTING_KEY],
        group_name="publish",
        kinds={"duckdb"},
        owners=OWNERS,
        pool=warehouse_pool(),
        automation_condition=AUTOMATION,
        description="What analysts query, published only after every upstream table was built and checked. On the "
        "DuckDB file backend: a complete copy at `warehouse/data/published.duckdb`, written to a temporary file and "
        "renamed over the old copy. On DuckLake: the lake's current snapshot id, recorded in `meta.publications`; "
        "analysts attach the lake at that snapshot. Either way a reader never sees a half-updated warehouse and never "
        "blocks the pipeline.",
    )
    def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        published = warehouse.publish(run_id=context.run_id)
        context.log.info(f"published {warehouse.published_location}"
                         + (f" (snapshot {published})" if warehouse.lake else ""))
        with warehouse.published_connection() as con:
            listed = con.execute("SELECT schema_name || '.' || table_name AS table_name, "
                                 "estimated_size AS approx_rows, column_count FROM duckdb_tables() "
                                 "WHERE database_name = current_database() "
                                 "AND schema_name IN ('reference', 'paper', 'kosis', 'indicators', 'quality') "
                                 "ORDER BY 1").df()
        where = ({"snapshot_id": published, "catalog": warehouse.lake.redacted_url()} if warehouse.lake
                 else {"path": str(published), "size_bytes": published.stat().st_size})
        return dg.MaterializeResult(metadata={**where, "dagster/row_count": int(listed["approx_rows"].sum()),
                                              "tables": dg.MetadataValue.md(markdown_table(listed, limit=100))})

    return published_warehouse
