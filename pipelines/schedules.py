"""A monthly full reconciliation: every registered year of every KOSIS table re-read (revisions anywhere); the
automation sensor then rebuilds what they feed.

A sensor that keeps a calendar, not a ScheduleDefinition: a schedule's target becomes one asset job, and one job cannot
span the KOSIS tables, each partitioned by its own years. The sensor fires once per month, at the first tick from
06:00 on the 2nd (Asia/Seoul) on, and returns the planner's run requests, one per table and range of years.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.planner import held_years_plans, run_requests
from schemas.kosis import KosisTable

SEOUL = ZoneInfo("Asia/Seoul")
DAY, HOUR = 2, 6  # 06:00 on the 2nd of every month, Seoul time
TICK_S = 3600


def due_month(now: datetime) -> str | None:
    """The month whose re-read is due at `now` (from 06:00 on the 2nd, Seoul time), or None before that."""
    local = now.astimezone(SEOUL)
    return local.strftime("%Y-%m") if (local.day, local.hour) >= (DAY, HOUR) else None


def monthly_requests(instance: dg.DagsterInstance, tables: tuple[KosisTable, ...], now: datetime,
                     last_month: str | None) -> tuple[list[dg.RunRequest], str | None]:
    """The run requests of this month's re-read (none if it is not due or was made), and the month done."""
    month = due_month(now)
    if month is None or month == last_month:
        return [], last_month
    requests = [dg.RunRequest(run_key=f"{month}:{r.run_key}", asset_selection=r.asset_selection,
                              partition_key=r.partition_key, tags={**r.tags, "refresh/reason": "monthly re-read"})
                for r in run_requests(instance, held_years_plans(instance, tables))]
    return requests, month


def build_monthly_refresh(tables: tuple[KosisTable, ...]) -> dg.SensorDefinition:
    keys = [dg.AssetKey(["kosis", t.id]) for t in tables]

    @dg.sensor(
        name="monthly_refresh",
        asset_selection=dg.AssetSelection.assets(*keys),
        minimum_interval_seconds=TICK_S,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Once a month, from 06:00 on the 2nd (Asia/Seoul): re-reads every registered year of every "
        "KOSIS table (revised cells become new vintages; unchanged cells add nothing), one run per table and "
        "range of years. The derived tables follow through the automation sensor; new years are found by "
        "kosis_new_periods.",
    )
    def monthly_refresh(context: dg.SensorEvaluationContext):
        requests, month = monthly_requests(context.instance, tables, datetime.now(SEOUL), context.cursor)
        if month != context.cursor and not requests:
            return dg.SensorResult(skip_reason=f"{month}: no KOSIS years registered yet", cursor=month)
        if not requests:
            return dg.SkipReason(f"the re-read of {month or 'this month'} is not due or was made")
        return dg.SensorResult(run_requests=requests, cursor=month)

    return monthly_refresh
