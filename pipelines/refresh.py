"""The refresh cycle: find KOSIS periods the warehouse lacks or that KOSIS revised, load only those,
rebuild the indicators, publish. Used by the sensor (asynchronously, under the daemon) and by
`make refresh` (synchronously, printing what changed).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from assets.kosis import KOSIS_YEARS, available_periods
from schemas.kosis import KosisTable
from warehouse.io import WarehouseResource, connect_published

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def inbox_dir(warehouse: WarehouseResource) -> Path:
    return warehouse.path.parent / "inbox"


def loaded_periods(published: Path, table: KosisTable) -> dict[int, str]:
    """Years of a table in the published copy (what analysts see), with their latest LST_CHN_DE.
    Read from the published copy because the working warehouse may be locked by a running refresh."""
    if not published.exists():
        return {}
    con = connect_published(published)  # bounded wait and a clear message if someone holds it read-write
    try:
        rows = con.execute("SELECT year, coalesce(max(lst_chn_de), '') FROM kosis.observations_current "
                           "WHERE org_id = ? AND tbl_id = ? GROUP BY year", [table.org_id, table.tbl_id]).fetchall()
    except duckdb.CatalogException:
        return {}
    finally:
        con.close()
    return dict(rows)


@dataclass
class TablePlan:
    table: KosisTable
    available: dict[int, str]
    new_years: list[int] = field(default_factory=list)
    revised_years: list[int] = field(default_factory=list)

    @property
    def years(self) -> list[int]:
        return sorted({*self.new_years, *self.revised_years})


def plan_refresh(tables: tuple[KosisTable, ...], kosis, source_root: str,
                 warehouse: WarehouseResource) -> list[TablePlan]:
    plans = []
    for table in tables:
        available = available_periods(table, kosis, source_root, inbox_dir(warehouse))
        loaded = loaded_periods(warehouse.published, table)
        first = int(table.first_period[:4])
        plans.append(TablePlan(
            table, available,
            new_years=sorted(y for y in available if y >= first and y not in loaded),
            revised_years=sorted(y for y, lst in available.items()
                                 if y in loaded and lst and loaded[y] and lst > loaded[y]),
        ))
    return plans


def register_years(instance: dg.DagsterInstance, years) -> list[str]:
    """Adds the years the instance does not know yet, oldest first; returns those added."""
    known = set(instance.get_dynamic_partitions(KOSIS_YEARS.name))
    missing = [str(y) for y in sorted({int(y) for y in years}) if str(y) not in known]
    if missing:
        instance.add_dynamic_partitions(KOSIS_YEARS.name, missing)
    return missing


def all_years_tags(instance: dg.DagsterInstance) -> dict[str, str]:
    """Run tags that make one run load every registered year (the KOSIS assets run them in one go)."""
    keys = instance.get_dynamic_partitions(KOSIS_YEARS.name)
    return {RANGE_START: keys[0], RANGE_END: keys[-1]} if keys else {}


def prepare_full_run(instance: dg.DagsterInstance, tables, kosis, source_root: str,
                     warehouse: WarehouseResource) -> dict[str, str]:
    """Registers every year any catalogued table has, and returns the tags of a run over all of them."""
    years = set()
    for table in tables:
        years |= set(available_periods(table, kosis, source_root, inbox_dir(warehouse)))
    register_years(instance, years)
    return all_years_tags(instance)


def run_refresh(instance: dg.DagsterInstance, defs: dg.Definitions) -> tuple[int, list[str]]:
    """One synchronous refresh cycle with the resources of `defs`. Returns the exit code and the report."""
    kosis, warehouse, source_files = (defs.resources[k] for k in ("kosis", "warehouse", "source_files"))
    plans = plan_refresh(kosis.catalog(), kosis, source_files.root, warehouse)
    mode = "offline: bundled snapshots and warehouse/data/inbox/" if kosis.offline else f"live: {kosis.base_url}"
    lines = [f"Refresh ({mode})"]
    todo = [p for p in plans if p.years]
    for plan in plans:
        lines.append(f"  {plan.table.id} ({plan.table.org_id}/{plan.table.tbl_id}): "
                     f"new periods {plan.new_years or 'none'}, revised periods {plan.revised_years or 'none'}")
    if not todo:
        lines.append("Nothing new: every available period is loaded and unrevised; the warehouse was not touched.")
        return 0, lines

    register_years(instance, [y for p in todo for y in p.years])
    job = defs.resolve_implicit_global_asset_job_def()
    revised_cells = new_cells = 0
    for plan in todo:
        key = dg.AssetKey(["kosis", plan.table.id])
        for year in plan.years:
            result = job.execute_in_process(instance=instance, asset_selection=[key], partition_key=str(year),
                                            run_config=quiet_logs(), raise_on_error=False)
            if not result.success:
                lines.append(f"FAILED loading {plan.table.id} {year}: {_failure(result)}")
                lines.append("Stopped: nothing was derived or published; the published copy is unchanged.")
                return 1, lines
            for event in result.get_asset_materialization_events():
                meta = event.materialization.metadata
                revised_cells += int(meta["cells_revised"].value) if "cells_revised" in meta else 0
                new_cells += int(meta["cells_new"].value) if "cells_new" in meta else 0
    lines.append(f"KOSIS cells: {new_cells} new, {revised_cells} revised (old values kept as closed vintages)")

    derive = defs.resolve_job_def("derive_and_publish")
    result = derive.execute_in_process(instance=instance, run_config=quiet_logs(), raise_on_error=False)
    rebuilt = sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events())
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name} ({e.severity.value})"
              for e in result.get_asset_check_evaluations() if not e.passed]
    lines.append(f"Rebuilt: {', '.join(rebuilt) or 'nothing'}")
    lines.append(f"Checks failed: {', '.join(failed) or 'none'}")
    if not result.success:
        lines.append(f"FAILED deriving: {_failure(result)}; the published copy is unchanged.")
        return 1, lines
    lines.append(f"Published: {warehouse.published}")
    return 0, lines


def quiet_logs() -> dict:
    """Console log level of in-process runs (env DAGSTER_LOG_LEVEL; the full log is in the Dagster UI)."""
    level = os.environ.get("DAGSTER_LOG_LEVEL", "WARNING")
    return {"loggers": {"console": {"config": {"log_level": level.upper()}}}}


def _failure(result: dg.ExecuteInProcessResult) -> str:
    """The root cause of each failed step (the KOSIS error names table, periods and code)."""
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.event_specific_data and event.event_specific_data.error:
            error = event.event_specific_data.error
            while error.cause is not None:
                error = error.cause
            messages.append(error.message.strip())
    return "; ".join(messages) or "see the Dagster run log"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    from pipelines.definitions import defs

    code, lines = run_refresh(dg.DagsterInstance.get(), defs)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
