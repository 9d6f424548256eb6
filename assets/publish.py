"""The published copy: what analysts query while the pipeline keeps writing the working warehouse."""


import dagster as dg
import duckdb

from assets.common import OWNERS, markdown_table
from assets.file_tables import FILE_TABLE_ASSETS
from assets.indicators import AUTOMATION, INDICATOR_ASSETS
from warehouse.io import WAREHOUSE_POOL, WarehouseResource


def _warehouse_tables() -> list[dg.AssetKey]:
    keys = []
    for asset in FILE_TABLE_ASSETS + INDICATOR_ASSETS:
        keys += [k for k in asset.keys if k.path[0] != "sources"]
    return keys


@dg.asset(
    key=dg.AssetKey(["published_warehouse"]),
    deps=_warehouse_tables(),
    group_name="publish",
    kinds={"duckdb"},
    owners=OWNERS,
    pool=WAREHOUSE_POOL,
    automation_condition=AUTOMATION,
    description="A complete copy of the working warehouse at `warehouse/data/published.duckdb`, written to a "
    "temporary file and renamed over the old copy only after every upstream table was built: a reader "
    "never sees a half-updated warehouse and never blocks the pipeline.",
)
def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    path = warehouse.publish()
    context.log.info(f"published {path}")
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("SELECT schema_name || '.' || table_name AS table_name, estimated_size AS approx_rows, "
                             "column_count FROM duckdb_tables() ORDER BY 1").df()
    finally:
        con.close()
    return dg.MaterializeResult(metadata={"path": str(path), "size_bytes": path.stat().st_size,
                                          "dagster/row_count": int(tables["approx_rows"].sum()),
                                          "tables": dg.MetadataValue.md(markdown_table(tables, limit=100))})
