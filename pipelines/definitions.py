"""The Dagster code location: every asset, check, job, schedule and sensor of the project."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assets.file_tables import FILE_TABLE_ASSETS
from assets.indicators import INDICATOR_ASSETS
from assets.kosis import build_kosis_assets
from assets.publish import published_warehouse
from pipelines.jobs import ALL_JOBS
from pipelines.resources import resources_from_env
from schemas.kosis import CATALOG_PATH


def build_assets(kosis_catalog: Path | str = CATALOG_PATH) -> list[dg.AssetsDefinition]:
    """Every asset; the KOSIS ones come from a catalog file (tests pass their own)."""
    return [*FILE_TABLE_ASSETS, *build_kosis_assets(kosis_catalog), *INDICATOR_ASSETS, published_warehouse]


ALL_ASSETS = build_assets()


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=ALL_JOBS,
        resources=resources_from_env(),
        # Measured on these 2-core machines: the multiprocess executor costs ~2.5 s per step.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
