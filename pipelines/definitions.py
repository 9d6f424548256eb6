"""The Dagster code location: every asset, check, job, schedule and sensor of the project."""

from __future__ import annotations

import dagster as dg

from assets.file_tables import FILE_TABLE_ASSETS
from assets.indicators import INDICATOR_ASSETS
from assets.kosis import build_kosis_assets
from assets.publish import published_warehouse
from pipelines.jobs import ALL_JOBS
from pipelines.resources import resources_from_env

ALL_ASSETS = [*FILE_TABLE_ASSETS, *build_kosis_assets(), *INDICATOR_ASSETS, published_warehouse]


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=ALL_JOBS,
        resources=resources_from_env(),
        # Measured on these 2-core machines: the multiprocess executor costs ~2.5 s per step.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
