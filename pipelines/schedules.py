"""A monthly full reconciliation: every KOSIS year re-read (revisions anywhere), everything rebuilt."""

from __future__ import annotations

import dagster as dg

from pipelines.jobs import refresh_all
from pipelines.planner import all_years_tags


@dg.schedule(
    name="monthly_refresh",
    job=refresh_all,
    cron_schedule="0 6 2 * *",  # 06:00 on the 2nd of every month, Seoul time
    execution_timezone="Asia/Seoul",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Re-reads every registered KOSIS year (revised cells become new vintages; unchanged cells add "
    "nothing), rebuilds every table and publishes. New years are found by the kosis_new_periods sensor.",
)
def monthly_refresh(context: dg.ScheduleEvaluationContext):
    tags = all_years_tags(context.instance)
    if not tags:
        return dg.SkipReason("no KOSIS years registered yet: run `make run` or let kosis_new_periods add them")
    return dg.RunRequest(run_key=context.scheduled_execution_time.strftime("%Y-%m"), tags=tags)
