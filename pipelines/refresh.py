"""`make refresh`: one refresh cycle, synchronously. Finds KOSIS periods the working warehouse lacks or
that KOSIS revised (pipelines/planner.py, the same planner the sensor uses), loads only those, rebuilds
the indicators, publishes, and prints what changed per table and year.

Resources are built the way Dagster builds them (`dg.build_resources`), so `KOSIS_API_KEY`,
`KOSIS_BASE_URL` and `WAREHOUSE_PATH` from the environment apply exactly as under the daemon.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb

from assets.kosis_client import KosisError
from pipelines.command_runs import cli_tags, fail_orphaned_runs  # noqa: F401  (re-exported for the commands)
from pipelines.inbox import REJECTED_DIR, ensure_inbox, screen_inbox
from pipelines.planner import (  # noqa: F401  (re-exported: the CLI's helpers live with the planner)
    RANGE_END,
    RANGE_START,
    RunSequence,
    TablePlan,
    execute_whole_build,
    full_read_plans,
    gather,
    inbox_dir,
    partition_ranges,
    plan,
    plan_refresh,
    register_years,
    run_requests,
)
from warehouse.clock import utc_now
from warehouse.io import (
    WarehouseLockedError,
    WarehouseResource,
    command_lock,
    default_warehouse,
    remove_orphaned_spill_dirs,
    wait_for_writer_lock,
    warehouse_path,
)

# Exit codes: 0 success or nothing to do; 1 a step failed; 2 the run could not start (bad key,
# unreachable service, locked warehouse); 3 everything ran and was published, but a catalogued table whose records
# were received contributed nothing to any indicator (quality.kosis_cell_accounting says why): the last line says so.
EXIT_FAILED, EXIT_CANNOT_START, EXIT_CONTRIBUTED_NOTHING = 1, 2, 3


@contextmanager
def resolved_resources(defs: dg.Definitions, instance: dg.DagsterInstance | None = None
                       ) -> Iterator[SimpleNamespace]:
    """The code location's resources with every `dg.EnvVar` resolved, as Dagster resolves them for a run. Given
    the instance (else the one in $DAGSTER_HOME, if set): without one Dagster builds an ephemeral instance, 0.5 s."""
    home = os.environ.get("DAGSTER_HOME", "")
    if instance is None and home and Path(home).is_dir():
        instance = dg.DagsterInstance.get()
    with dg.build_resources(defs.resources, instance=instance) as built:
        yield SimpleNamespace(**{k: getattr(built, k) for k in defs.resources})


def prepare_full_run(instance: dg.DagsterInstance, tables, kosis, source_root: str,
                     warehouse: WarehouseResource) -> list[dg.RunRequest]:
    """The planner's run requests for every year each catalogued table has (its years registered, in order)."""
    states = gather(tables, kosis, source_root, warehouse, inbox_dir(warehouse))
    return run_requests(instance, full_read_plans(tables, states))


def whole_build(instance: dg.DagsterInstance, defs: dg.Definitions, requests: list[dg.RunRequest]) -> RunSequence:
    """Every asset, as `make run` builds it: the sources, one run per KOSIS table and range of years (the
    planner's requests), then everything they feed; in-process, each run tagged as this command's."""
    job = defs.resolve_implicit_global_asset_job_def()

    def execute(keys, tags, partition_key):
        return job.execute_in_process(instance=instance, asset_selection=keys, tags=tags, partition_key=partition_key,
                                      run_config=quiet_logs(), raise_on_error=False)

    return execute_whole_build(execute, defs.resolve_asset_graph(), requests, dg.AssetSelection.all(),
                               tags=cli_tags())


def changed_cells(warehouse: WarehouseResource, since: datetime) -> list[tuple[str, int, int, int]]:
    """(table, year, new cells, revised cells) written since `since`, read back from the warehouse: a row
    whose cell had an older vintage closed at that moment is a revision, any other a new cell."""
    with warehouse.read_connection(warehouse.lock_timeout_s) as con:
        return con.execute("""
            SELECT t.id, o.year,
                   count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM kosis.observations p
                                                      WHERE p.cell_key = o.cell_key AND p.valid_to = o.valid_from)),
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM kosis.observations p
                                                  WHERE p.cell_key = o.cell_key AND p.valid_to = o.valid_from))
            FROM kosis.observations o JOIN kosis.tables t ON t.org_id = o.org_id AND t.tbl_id = o.tbl_id
            WHERE o.valid_from >= ? GROUP BY ALL ORDER BY 1, 2""", [since]).fetchall()


def run_refresh(instance: dg.DagsterInstance, defs: dg.Definitions, *, reread_all: bool = False
                ) -> tuple[int, list[str]]:
    """One synchronous refresh cycle. Returns the exit code and the report lines."""
    with resolved_resources(defs, instance) as res:
        kosis, warehouse, source_files = res.kosis, res.warehouse, res.source_files
        tables = kosis.catalog()
        mode = "offline: bundled files and warehouse/data/inbox/" if kosis.offline else f"live: {kosis.base_url}"
        lines = [f"Refresh ({mode})"]
        rejected = screen_inbox(inbox_dir(warehouse), tables) if kosis.offline else []
        lines += [f"  REJECTED inbox file {name}: {reason} (moved to {inbox_dir(warehouse) / REJECTED_DIR})"
                  for name, reason in rejected]
        try:
            plans = plan_refresh(tables, kosis, source_files.root, warehouse, reread_all=reread_all)
        except (KosisError, WarehouseLockedError) as exc:
            where = f" (KOSIS at {kosis.base_url})" if isinstance(exc, KosisError) else ""
            lines.append(f"FAILED before loading anything{where}: {exc}")
            return EXIT_CANNOT_START, lines
        for p in plans:
            kind = "the paper's figures in KOSIS form, bundled" if not p.table.is_kosis else "KOSIS"
            if p.problem:
                lines.append(f"  SKIPPED {p.table.id} ({kind} {p.table.org_id}/{p.table.tbl_id}): the service rejected "
                             f"this catalog entry; check it with make kosis-check: {p.problem}")
                continue
            lines.append(f"  {p.table.id} ({kind} {p.table.org_id}/{p.table.tbl_id}): new periods "
                         f"{p.new_years or 'none'}, revised periods {p.revised_years or 'none'}"
                         + (f" ({p.reason})" if p.revised_years and p.reason else ""))
            lines += [f"    {notice}" for notice in p.not_loaded]
        todo = [p for p in plans if p.years]
        behind = published_is_behind(warehouse)
        if not todo and not behind:
            lines.append("Nothing new: every available period is loaded and unrevised; the warehouse was not touched.")
            return 0, lines
        if not todo:  # an earlier refresh loaded KOSIS cells but failed before publishing: go forward
            lines.append("Nothing new to load, but the published copy is older than the last KOSIS load (an earlier "
                         "derive or publish failed): deriving and publishing again.")
            return derive_and_publish(instance, defs, warehouse, lines)

        if not reference_tables_loaded(warehouse):
            # A new warehouse: KOSIS rows are validated against reference.region_code_map and read through the
            # catalog, so the first refresh builds everything, as make run does.
            lines.append("The working warehouse has no reference tables yet: building everything once (as make run).")
            started = utc_now()
            requests = prepare_full_run(instance, tables, kosis, source_files.root, warehouse)
            result = whole_build(instance, defs, requests)
            failed = [f"{e.asset_key.to_user_string()}:{e.check_name} ({e.severity.value})"
                      for e in result.get_asset_check_evaluations() if not e.passed]
            lines.append(f"Checks failed: {', '.join(failed) or 'none'}")
            if not result.success:
                lines.append(f"FAILED: {failure_cause(result)}; nothing was published.")
                return EXIT_FAILED, lines
            lines += snapshots_since(warehouse, started)
            lines += quarantined_since(warehouse, started)
            lines.append(f"Published: {warehouse.published_location}")
            return accounted(warehouse, lines)

        job = defs.resolve_implicit_global_asset_job_def()
        started = utc_now()
        for request in run_requests(instance, todo):  # the sensor's run requests, executed here in-process
            result = job.execute_in_process(
                instance=instance, asset_selection=list(request.asset_selection), run_config=quiet_logs(),
                raise_on_error=False, tags={**request.tags, **cli_tags()}, partition_key=request.partition_key)
            if not result.success:
                lines.append(f"FAILED loading {request.tags['refresh/table']} {request.tags['refresh/years']}: "
                             f"{failure_cause(result)}")
                lines.append("Stopped: nothing was derived or published; the published copy is unchanged.")
                return EXIT_FAILED, lines
        changes = changed_cells(warehouse, started)
        lines.append("KOSIS cells changed (old values kept as closed vintages):")
        lines += [f"  {table_id} {year}: {new} new, {revised} revised" for table_id, year, new, revised in changes]
        if not changes:
            lines.append("  none: every cell re-read has the value already held")
        lines += snapshots_since(warehouse, started)
        lines += quarantined_since(warehouse, started)
        lines += years_without_rows(warehouse, todo)

        return derive_and_publish(instance, defs, warehouse, lines)


def reference_tables_loaded(warehouse: WarehouseResource) -> bool:
    if not warehouse.exists():
        return False
    try:
        with warehouse.read_connection() as con:
            return con.execute("SELECT (SELECT count(*) FROM reference.region_code_map) > 0 "
                               "AND (SELECT count(*) FROM kosis.tables) > 0").fetchone()[0]
    except duckdb.Error:
        return False


def snapshots_since(warehouse: WarehouseResource, since: datetime) -> list[str]:
    """Each snapshot this refresh recorded, by the short id `make rollback SNAPSHOT=` takes, with its origin (live,
    inbox, inbox-portal, bundled) and what it was: the handle to undo exactly that load."""
    with warehouse.read_connection() as con:
        rows = con.execute("SELECT snapshot_sha256, origin, catalog_id, request, n_loaded, n_quarantined "
                           "FROM kosis.snapshots WHERE fetched_at >= ? ORDER BY catalog_id, request",
                           [since]).fetchall()
    if not rows:
        return []
    return ["Snapshots loaded (undo one with make rollback SNAPSHOT=<id>):"] + [
        f"  {sha[:12]} {origin} {catalog_id} {request}: {loaded or 0} records loaded, {quarantined or 0} quarantined"
        for sha, origin, catalog_id, request, loaded, quarantined in rows]


def quarantined_since(warehouse: WarehouseResource, since: datetime) -> list[str]:
    """Rows this refresh kept out of the warehouse, per source, with one reason: a load with quarantined rows
    is not a clean load, and an indicator that lacks those cells says less than it seems."""
    with warehouse.read_connection() as con:
        rows = con.execute("""
            SELECT q.source, count(*), any_value(q.reason), any_value(t.used_by)
            FROM quality.quarantine q
            LEFT JOIN kosis.tables t ON q.source = 'kosis:' || t.org_id || '/' || t.tbl_id
            WHERE q.quarantined_at >= ? GROUP BY q.source ORDER BY q.source""", [since]).fetchall()
    return [f"QUARANTINED {n} rows of {source} (kept out; see quality.quarantine), e.g. {reason}"
            + (f"; indicators {used_by} lack those cells" if used_by else "")
            for source, n, reason, used_by in rows]


def years_without_rows(warehouse: WarehouseResource, plans: list[TablePlan]) -> list[str]:
    """Years this refresh read of which the table holds no row at all (e.g. every record quarantined): said
    once here; the year is recorded as read (kosis.period_updates), so the next refresh does not reload it
    until the service dates it later."""
    lines = []
    with warehouse.read_connection() as con:
        for p in plans:
            held = {r[0] for r in con.execute("SELECT DISTINCT year FROM kosis.observations_current WHERE org_id = ? "
                                              "AND tbl_id = ?", [p.table.org_id, p.table.tbl_id]).fetchall()}
            empty = [y for y in p.years if y not in held]
            if empty:
                lines.append(f"NO ROWS LOADED for {p.table.id} {', '.join(map(str, empty))}: every record was "
                             f"quarantined or none was received; recorded as read, not re-read until the source "
                             f"dates it later")
    return lines


def published_is_behind(warehouse: WarehouseResource) -> bool:
    """Whether the working warehouse holds KOSIS vintages loaded (or rolled back) after the published copy was
    written (on DuckLake: after the last publication was recorded)."""
    if not warehouse.exists():
        return False
    _, published_at = warehouse.last_publication()
    if published_at is None:
        return True
    try:
        with warehouse.read_connection() as con:
            last_load = con.execute("SELECT max(valid_from) FROM kosis.observations").fetchone()[0]
            try:  # a rollback (make rollback) whose rebuild failed is carried forward the same way
                last_rollback = con.execute("SELECT max(rolled_back_at) FROM kosis.rollbacks").fetchone()[0]
            except duckdb.Error:  # a warehouse of an earlier release, not yet migrated
                last_rollback = None
    except duckdb.Error:
        return False
    last_load = max((t for t in (last_load, last_rollback) if t is not None), default=None)
    return last_load is not None and last_load > published_at


def derive_and_publish(instance: dg.DagsterInstance, defs: dg.Definitions, warehouse, lines: list[str]
                       ) -> tuple[int, list[str]]:
    derive = defs.resolve_job_def("derive_and_publish")
    result = derive.execute_in_process(instance=instance, run_config=quiet_logs(), raise_on_error=False,
                                       tags=cli_tags())
    rebuilt = sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events())
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name} ({e.severity.value})"
              for e in result.get_asset_check_evaluations() if not e.passed]
    lines.append(f"Rebuilt: {', '.join(rebuilt) or 'nothing'}")
    lines.append(f"Checks failed: {', '.join(failed) or 'none'}")
    if not result.success:
        lines.append(f"FAILED deriving: {failure_cause(result)}; the published copy is unchanged.")
        return EXIT_FAILED, lines
    lines.append(f"Published: {warehouse.published_location}")
    return accounted(warehouse, lines)


def accounted(warehouse: WarehouseResource, lines: list[str]) -> tuple[int, list[str]]:
    """The cells' account up to the indicators (quality.kosis_cell_accounting), in the summary: per outcome, and
    every catalogued table that received records and contributed nothing, which makes the exit code 3."""
    from assets.accounting import tables_contributing_nothing

    with warehouse.read_connection(warehouse.lock_timeout_s) as con:
        outcomes = con.execute("SELECT outcome, sum(n_cells), count(DISTINCT catalog_id) FROM "
                               "quality.kosis_cell_accounting GROUP BY 1 ORDER BY 1").fetchall()
        nothing = tables_contributing_nothing(con)
    lines.append("KOSIS cells accounted (quality.kosis_cell_accounting): " + (
        ", ".join(f"{outcome} {int(n):,} ({tables} tables)" for outcome, n, tables in outcomes) or "no cells held"))
    for table_id, reasons in nothing:
        lines.append(f"CONTRIBUTED NOTHING: {table_id}: no cell of it reaches an indicator: {reasons}")
    if nothing:
        lines.append(f"FAILED: {len(nothing)} catalogued table(s) received data and contributed nothing to any "
                     f"indicator ({', '.join(t for t, _ in nothing)}): see quality.kosis_cell_accounting and run "
                     f"make kosis-check")
        return EXIT_CONTRIBUTED_NOTHING, lines
    return 0, lines




def quiet_logs() -> dict:
    """Console log level of in-process runs (env DAGSTER_LOG_LEVEL; the full log is in the Dagster UI)."""
    level = os.environ.get("DAGSTER_LOG_LEVEL", "WARNING")
    return {"loggers": {"console": {"config": {"log_level": level.upper()}}}}


def failure_cause(result: dg.ExecuteInProcessResult) -> str:
    """The root cause of each failed step (the KOSIS error names table, periods and code)."""
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.event_specific_data and event.event_specific_data.error:
            error = event.event_specific_data.error
            while error.cause is not None:
                error = error.cause
            messages.append(error.message.strip().splitlines()[-1] if error.message.strip() else "")
    return "; ".join(dict.fromkeys(m for m in messages if m)) or "see the Dagster run log"


def run_command(work) -> int:
    """The frame of a command that writes the working warehouse (`make refresh`, `make rollback`): one lock
    wait before anything runs, orphaned spill folders and runs cleared, `work(instance)` run, and the report
    printed with FAILED and the cause as its last line when it failed."""
    try:
        with command_lock(warehouse_path()):  # one writing command at a time: a second one waits, then plans
            if not os.environ.get("WAREHOUSE_URL", "").strip():  # DuckLake has no writer lock to wait for
                wait_for_writer_lock(warehouse_path(), default_warehouse().lock_timeout_s)
            remove_orphaned_spill_dirs(warehouse_path())
            instance = dg.DagsterInstance.get()
            orphans = fail_orphaned_runs(instance)
            code, lines = work(instance)
        if orphans:
            lines.insert(1, f"  marked {len(orphans)} run(s) left STARTED by a killed command as failed")
    except WarehouseLockedError as exc:
        code, lines = EXIT_CANNOT_START, [f"FAILED before anything was written: {exc}"]
    except duckdb.Error as exc:  # the warehouse itself could not be read
        code, lines = EXIT_CANNOT_START, [f"FAILED: {exc}"]
    if code != 0 and lines and not lines[-1].startswith("FAILED"):
        lines.append(next((line for line in reversed(lines) if line.startswith("FAILED")), "FAILED"))
    print("\n".join(lines))
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--all", action="store_true", help="re-read every loaded period (revisions anywhere)")
    args = parser.parse_args(argv)
    from pipelines.definitions import defs

    ensure_inbox()  # the inbox this refresh reads, with its README.txt (make run creates it the same way)
    return run_command(lambda instance: run_refresh(instance, defs, reread_all=args.all))


if __name__ == "__main__":
    sys.exit(main())
