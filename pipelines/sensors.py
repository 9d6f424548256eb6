"""Sensors: new or revised KOSIS periods, and declarative automation of everything downstream."""

from __future__ import annotations

import os

import dagster as dg

from pipelines.command_runs import fail_orphaned_runs
from pipelines.inbox import KOSIS_SENSOR_INTERVAL_S, screen_inbox
from pipelines.planner import inbox_dir, plan_refresh, run_requests
from pipelines.resources import KosisResource
from warehouse.io import SourceFiles, WarehouseLockedError, WarehouseResource


class RejectedInboxFiles(Exception):
    """Files of the inbox that could not be loaded: the sensor tick fails so the UI shows them by name."""


def build_kosis_sensor(kosis_keys: list[dg.AssetKey]) -> dg.SensorDefinition:
    @dg.sensor(
        name="kosis_new_periods",
        asset_selection=dg.AssetSelection.assets(*kosis_keys),
        minimum_interval_seconds=KOSIS_SENSOR_INTERVAL_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Asks KOSIS (getMeta PRD, and NCD for the table's update date) whether a catalogued table has a "
        "year the working warehouse lacks, or was updated since every loaded year was last re-read; offline, reads "
        "the bundled files and warehouse/data/inbox/. Adds the missing year partitions and requests a run for "
        "exactly those (table, year) pairs.",
    )
    def kosis_new_periods(context: dg.SensorEvaluationContext, kosis: KosisResource, warehouse: WarehouseResource,
                          source_files: SourceFiles):
        tables = kosis.catalog()
        rejected = screen_inbox(inbox_dir(warehouse), tables) if kosis.offline else []
        for name, reason in rejected:
            context.log.warning(f"inbox file {name} moved to inbox/rejected/: {reason}")
        try:  # a run holding the working warehouse: look again at the next tick rather than wait
            plans = plan_refresh(tables, kosis, source_files.root, warehouse, lock_timeout_s=5)
        except WarehouseLockedError as exc:
            return dg.SkipReason(f"the working warehouse is busy; will look again: {exc}")
        if rejected and not any(p.years for p in plans):  # nothing else to do: a failed tick names the files
            raise RejectedInboxFiles("; ".join(f"{name}: {reason}" for name, reason in rejected)
                                     + " (moved to warehouse/data/inbox/rejected/)")
        # The years are registered here, in year order, by the planner that make refresh uses too.
        requests = run_requests(context.instance, plans)
        if not requests:
            return dg.SkipReason("no new or revised KOSIS periods")
        return dg.SensorResult(run_requests=requests)

    return kosis_new_periods


# How often the daemon looks for runs of killed commands (DEAD_RUN_CHECK_S, default 30 s).
DEAD_RUN_CHECK_S = int(os.environ.get("DEAD_RUN_CHECK_S", "30"))


@dg.sensor(
    name="dead_command_runs",
    minimum_interval_seconds=DEAD_RUN_CHECK_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Fails the runs of a make run / make refresh whose process died (same host, its PID gone), with the "
    "reason in the run's failure, so the one-run queue moves on: those runs execute in-process, outside the run "
    "launcher, where Dagster's run monitoring cannot see them.",
)
def dead_command_runs(context: dg.SensorEvaluationContext):
    failed = fail_orphaned_runs(context.instance, found_by="the daemon's sensor dead_command_runs")
    for run_id in failed:
        context.log.warning(f"run {run_id}: its command's process died; marked failed")
    return dg.SkipReason(f"marked {len(failed)} run(s) of dead commands as failed: {', '.join(failed)}" if failed
                         else "no run of a dead command")


# Indicators, claims, the report and the published copy follow their upstream by themselves.
automation_sensor = dg.AutomationConditionSensorDefinition(
    "derived_tables_automation",
    target=dg.AssetSelection.groups("indicators", "publish"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    # How often the daemon evaluates the automation conditions (AUTOMATION_SENSOR_INTERVAL_S, default 60 s).
    minimum_interval_seconds=int(os.environ.get("AUTOMATION_SENSOR_INTERVAL_S", "60")),
    description="Re-materializes indicators, claims and the published copy when their upstream updates and its "
    "blocking checks passed.",
)
