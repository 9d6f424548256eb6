"""The published copy: what analysts query while the pipeline keeps writing the working warehouse."""


import dagster as dg

from assets.common import OWNERS
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
    return dg.MaterializeResult(metadata={"path": str(path), "size_bytes": path.stat().st_size})
