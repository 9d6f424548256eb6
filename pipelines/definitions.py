"""The Dagster code location: every asset, check, job, schedule and sensor of the project.

Everything is built by `build_definitions()`, once per call: no module builds assets at import, and the catalog is
read once per build. `defs` (what workspace.yaml and `dagster dev` load) is one such build.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assets.accounting import kosis_cell_accounting
from assets.claims import build_claim_assets
from assets.file_tables import build_file_table_assets
from assets.indicators import build_indicator_assets
from assets.kosis import build_kosis_assets
from assets.publish import build_published_warehouse
from assets.report import indicators_report
from assets.source_files import CATALOG_PATH, load_catalog
from pipelines.jobs import ALL_JOBS
from pipelines.resources import KosisResource, resources_from_env
from pipelines.schedules import build_monthly_refresh
from pipelines.sensors import automation_sensor, build_kosis_sensor, dead_command_runs
from schemas.kosis import KosisTable
from warehouse.tables import TABLE_IO_MANAGER, with_table_io_manager


def build_assets(kosis_catalog: Path | str = CATALOG_PATH, tables: tuple[KosisTable, ...] | None = None
                 ) -> list[dg.AssetsDefinition]:
    """Every asset; the KOSIS ones come from a catalog file (tests pass their own), read here unless given."""
    tables = load_catalog(kosis_catalog) if tables is None else tables
    file_tables, indicators, claims = build_file_table_assets(), build_indicator_assets(tables), build_claim_assets()
    return [*file_tables, *build_kosis_assets(kosis_catalog, tables), *indicators, *claims, kosis_cell_accounting,
            build_published_warehouse([*file_tables, *indicators, *claims]), indicators_report]


def build_definitions(kosis_catalog: Path | str = CATALOG_PATH, resources: dict | None = None) -> dg.Definitions:
    tables = load_catalog(kosis_catalog)
    assets = build_assets(kosis_catalog, tables)
    resources = dict(resources or resources_from_env())
    if TABLE_IO_MANAGER not in resources:  # the tables' writer, through the given warehouse
        resources = with_table_io_manager(resources)
    kosis = resources["kosis"]
    if Path(kosis.catalog_path) != Path(kosis_catalog):  # the sensor and refresh read the same catalog
        resources["kosis"] = KosisResource(**{**kosis.model_dump(), "catalog_path": str(kosis_catalog)})
    kosis_keys = [k for a in assets for k in a.keys if k.path[0] == "kosis" and k.path[1] != "catalog"]
    return dg.Definitions(
        assets=assets,
        jobs=ALL_JOBS,
        sensors=[build_kosis_sensor(kosis_keys), build_monthly_refresh(tables), dead_command_runs, automation_sensor],
        resources=resources,
        # Measured on these 2-core machines: the multiprocess executor costs ~2.5 s per step.
        executor=dg.in_process_executor,
    )


defs = build_definitions()
