"""The commands that run the pipeline from a terminal, in one place: `make run`, `make refresh` and `make rollback`
(pipelines/run.py, refresh.py and rollback.py are their `python -m` entry points and call `main` here).

Each command plans with the planner (pipelines/planner.py: the run requests the sensor kosis_new_periods returns
too), executes those run requests in-process against the Dagster instance (`execute`, the one place a run is
executed), then derives and publishes, and prints what it did. Resources are built the way Dagster builds them
(`dg.build_resources`), so `KOSIS_API_KEY`, `KOSIS_BASE_URL` and `WAREHOUSE_PATH` from the environment apply exactly
as under the daemon.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb

from assets.kosis_client import KosisError
from assets.kosis_resource import DEFAULT_KOSIS_BASE_URL
from pipelines.command_runs import EXIT_CANNOT_START, cli_tags, fail_orphaned_runs, run_command
from pipelines.inbox import REJECTED_DIR, ensure_inbox, screen_inbox
from pipelines.planner import (
    RunSequence,
    TablePlan,
    derive_request,
    execute_whole_build,
    inbox_dir,
    plan_refresh,
    prepare_full_run,
    run_requests,
)
from pipelines.resources import resolved_resources
from pipelines.version import version_line
from warehouse.clock import utc_now
from warehouse.io import (
    WarehouseLockedError,
    WarehouseResource,
    command_lock,
    remove_orphaned_spill_dirs,
    wait_for_writer_lock,
)
from warehouse.rollback import SnapshotNotFoundError, resolve_snapshot, rollback_snapshot

# Exit codes: 0 success or nothing to do; 1 a step failed; 2 the run could not start (bad key,
# unreachable service, locked warehouse; pipelines/command_runs.py); 3 everything ran and was published, but a
# catalogued table whose records were received contributed nothing to any indicator (quality.kosis_cell_accounting
# says why): the last line says so.
EXIT_FAILED, EXIT_CONTRIBUTED_NOTHING = 1, 3

EXAMPLE_QUERY = (
    "SELECT region_code, worker_rank, sme_worker_pct FROM indicators.sme_concentration "
    "ORDER BY worker_rank NULLS FIRST LIMIT 5"
)


# --- executing runs ---------------------------------------------------------------------------------------------

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


def execute(instance: dg.DagsterInstance, defs: dg.Definitions, request: dg.RunRequest
            ) -> dg.ExecuteInProcessResult:
    """Every run a command makes, in-process against the instance: a planner's run request (a job by name, else the
    assets it selects, on its partition or range of partitions), tagged as this command's run."""
    job = defs.resolve_job_def(request.job_name) if request.job_name else defs.resolve_implicit_global_asset_job_def()
    selection = list(request.asset_selection) if request.asset_selection is not None else None
    return job.execute_in_process(instance=instance, asset_selection=selection, run_config=quiet_logs(),
                                  raise_on_error=False, tags={**request.tags, **cli_tags()},
                                  partition_key=request.partition_key)


def whole_build(instance: dg.DagsterInstance, defs: dg.Definitions, requests: list[dg.RunRequest]) -> RunSequence:
    """Every asset, as `make run` builds it: the sources, one run per KOSIS table and range of years (the
    planner's requests), then everything they feed."""
    return execute_whole_build(lambda request: execute(instance, defs, request), defs.resolve_asset_graph(),
                               requests, dg.AssetSelection.all())


# --- make run -------------------------------------------------------------------------------------------------


def run_pipeline(instance: dg.DagsterInstance | None = None, definitions: dg.Definitions | None = None):
    """Every asset: the sources, every year each KOSIS table has (the planner's run requests, each table's years
    registered in order), then the indicators and the published copy; a sequence of in-process runs."""
    instance = instance or dg.DagsterInstance.get()
    if definitions is None:
        from pipelines.definitions import defs as definitions
    with resolved_resources(definitions, instance) as res:  # EnvVars resolved as Dagster resolves them for the run
        requests = prepare_full_run(instance, res.kosis.catalog(), res.kosis, res.source_files.root, res.warehouse)
    fail_orphaned_runs(instance)
    return whole_build(instance, definitions, requests)


def _has_table(con, schema: str, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                            [schema, name]).fetchone()[0])


def summary(warehouse: WarehouseResource, run_ids: list[str] | None = None) -> str:
    """What `make run` prints: the published tables, this run's checks, the claims, and how to query them."""
    lines: list[str] = [version_line()]
    with warehouse.published_connection() as con:
        lines.append("Tables (schema.table: rows)")
        for schema, table in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name IN ('reference', 'paper', 'kosis', 'indicators', 'quality') ORDER BY 1, 2"
        ).fetchall():
            exact = con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
            lines.append(f"  {schema}.{table}: {exact}")
        where = f"WHERE run_id IN ({', '.join('?' for _ in run_ids)})" if run_ids else ""
        params = list(run_ids or [])
        checks = con.execute(
            f"SELECT severity, count(*) FILTER (WHERE passed), count(*) FILTER (WHERE NOT passed), "
            f"count(*) FILTER (WHERE passed IS NULL) "
            f"FROM quality.check_results {where} GROUP BY severity ORDER BY severity", params
        ).fetchall()
        lines.append("Checks (this run): " + (", ".join(
            f"{sev} {ok} passed / {bad} failed" + (f" / {not_run} not run" if not_run else "")
            for sev, ok, bad, not_run in checks) or "none recorded"))
        failed = con.execute(
            f"SELECT asset, check_name, severity, n_failures FROM quality.check_results {where} "
            f"{'AND' if run_ids else 'WHERE'} NOT passed ORDER BY asset", params
        ).fetchall()
        for asset, check, sev, n in failed:
            lines.append(f"  {sev} {asset}:{check} ({n} failures)")
        found, recorded = con.execute("SELECT count(*) FILTER (WHERE check_name IS DISTINCT FROM 'recorded'), "
                                      "count(*) FILTER (WHERE check_name = 'recorded') "
                                      "FROM quality.source_issues").fetchone()
        lines.append(f"Source inconsistencies in quality.source_issues: {found} found by checks, {recorded} recorded "
                     f"from assets/sources/paper/recorded_issues.yaml (data kept as published)")
        lines.append("Paper claims (indicators.paper_claims; then and now: indicators.claim_verdicts)")
        now = {claim_id: (year, verdict, change) for claim_id, year, verdict, change in con.execute(
            "SELECT claim_id, year, verdict, change FROM indicators.claim_verdicts WHERE period = 'latest'"
        ).fetchall()} if _has_table(con, "indicators", "claim_verdicts") else {}
        for claim_id, verdict, text, against in con.execute(
            "SELECT claim_id, verdict, claim_text, checked_against FROM indicators.paper_claims ORDER BY claim_id"
        ).fetchall():
            lines.append(f"  {claim_id} [{verdict}] {text[:90]}{'...' if len(text) > 90 else ''}")
            lines.append(f"      checked against {against}")
            if claim_id in now and now[claim_id][1] != "no later data":
                year, latest, change = now[claim_id]
                lines.append(f"      now, on {year}: {latest} ({change})")
        verdicts = con.execute(
            "SELECT verdict, count(*) FROM indicators.paper_claims GROUP BY 1 ORDER BY 1").fetchall()
        lines.append("  verdicts: " + ", ".join(f"{v} {n}" for v, n in verdicts))
        changes: dict[str, int] = {}
        for _, _, change in now.values():
            changes[change] = changes.get(change, 0) + 1
        lines.append("  then and now: " + (", ".join(f"{c} {n}" for c, n in sorted(changes.items())) or "none"))
    lines.append(f"Working warehouse: {warehouse.location}")
    lines.append(f"Published (query this one): {warehouse.published_location}")
    local = warehouse.path.parent
    lines.append(f"KOSIS inbox (drop getList-format JSON here, see its README.txt): {local / 'inbox'}")
    report = local / "reports" / "index.html"
    if report.exists():
        lines.append(f"Report (opens offline in a browser): {report}")
    lake = warehouse.lake
    if lake:
        snapshot, _ = warehouse.last_publication()
        lines.append(f"Example (DuckDB CLI or Python, after LOAD ducklake; see README 'Running on more than one "
                     f"machine'): ATTACH '{lake.redacted_url()}' AS lake (READ_ONLY, SNAPSHOT_VERSION {snapshot}); "
                     f"USE lake; {EXAMPLE_QUERY}")
    else:
        db_path = warehouse.published
        lines.append(f'Example: {shlex.quote(venv_command("duckdb"))} -readonly {shlex.quote(str(db_path))} '
                     f'"{EXAMPLE_QUERY}"')
        lines.append(f"   or: {shlex.quote(venv_command('python'))} -c \"import duckdb; print(duckdb.connect("
                     f"{str(db_path)!r}, read_only=True).sql('{EXAMPLE_QUERY}'))\"")
    return "\n".join(lines)


def venv_command(name: str) -> str:
    """A command installed beside this Python (.venv/bin/duckdb comes with duckdb-cli), as the user can type it
    where they ran `make run`: relative to the working directory when inside it, else absolute."""
    command = Path(sys.executable).parent / name
    try:
        return str(command.relative_to(Path.cwd()))
    except ValueError:
        return str(command)


def this_run_findings(warehouse: WarehouseResource, run_ids: list[str]) -> list[str]:
    """Failed checks and quarantined rows of this run, from the working warehouse (the published copy was not
    rewritten by a failed run)."""
    if not warehouse.exists():
        return []
    try:
        with warehouse.read_connection() as con:
            runs = ", ".join("?" for _ in run_ids) or "NULL"
            failed = con.execute("SELECT asset, check_name, severity, n_failures FROM quality.check_results "
                                 f"WHERE run_id IN ({runs}) AND NOT passed ORDER BY asset", run_ids).fetchall()
            quarantined = con.execute("SELECT source, count(*), any_value(reason) FROM quality.quarantine "
                                      f"WHERE run_id IN ({runs}) GROUP BY source ORDER BY source", run_ids).fetchall()
    except duckdb.Error:
        return []
    return ([f"  check failed: {sev} {asset}:{check} ({n} failures)" for asset, check, sev, n in failed]
            + [f"  quarantined: {n} rows of {source}, e.g. {reason}" for source, n, reason in quarantined])


def main_run(argv: list[str] | None = None) -> int:
    """`make run`: materialize every asset in-process, publish, and print a summary. Runs against the persistent
    Dagster instance in $DAGSTER_HOME (set by the Makefile to the git-ignored `dagster_home/`), so the runs show
    in the UI's history afterwards."""
    parser = argparse.ArgumentParser(prog="pipelines.run", description=main_run.__doc__)
    parser.parse_args(argv)
    from pipelines.definitions import defs

    instance = dg.DagsterInstance.get()
    with resolved_resources(defs, instance) as res:  # the warehouse the environment selects, as a run resolves it
        warehouse = res.warehouse
    ensure_inbox(warehouse.path)  # here, not a Python start of its own in the Makefile: that took 1.2 s
    try:
        with command_lock(warehouse.path):  # one writing command at a time: a second one waits for this one
            if not warehouse.lake:  # the DuckDB file takes one writer process: say at once who holds it
                wait_for_writer_lock(warehouse.path, warehouse.lock_timeout_s)
            remove_orphaned_spill_dirs(warehouse.path)  # DuckDB spill directories of processes that died
            result = run_pipeline(instance, defs)
    except (KosisError, WarehouseLockedError) as exc:
        where = (f" (KOSIS at {os.environ.get('KOSIS_BASE_URL') or DEFAULT_KOSIS_BASE_URL})"
                 if isinstance(exc, KosisError) else "")
        print(f"FAILED before anything was written{where}: {exc}")
        return EXIT_CANNOT_START
    if not result.success:
        cause = failure_cause(result)
        print(f"FAILED: {cause}")
        print(f"Dagster run {result.run_id}: FAILURE (full log: make ui, run {result.run_id[:8]})")
        print("\n".join(this_run_findings(warehouse, result.run_ids)))
        _, published_at = warehouse.last_publication()
        when = f", last published at {published_at:%Y-%m-%d %H:%M:%S} UTC" if published_at else ""
        print(f"Nothing was published: the published copy is unchanged{when}.")
        print(f"FAILED: {cause}")
        return EXIT_FAILED
    print(f"Dagster run {result.run_id}: SUCCESS (the last of {len(result.run_ids)} runs: sources, one per KOSIS "
          f"table and range of years, derived tables)")
    if warehouse.last_publication()[1] is not None:
        print(summary(warehouse, result.run_ids))
    code, lines = accounted(warehouse, [])
    print("\n".join(lines))
    return code


# --- make refresh ---------------------------------------------------------------------------------------------


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

        started = utc_now()
        # The sensor's run requests (the same planner call on the same plans), executed here in-process.
        for request in run_requests(instance, plans):
            result = execute(instance, defs, request)
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
    """The derive_and_publish job after a refresh's loads or a rollback, with what it rebuilt and found."""
    result = execute(instance, defs, derive_request())
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


def main_refresh(argv: list[str] | None = None) -> int:
    """`make refresh`: one refresh cycle, synchronously. Finds KOSIS periods the working warehouse lacks or that
    KOSIS revised (the planner the sensor uses), loads only those, rebuilds the indicators, publishes, and prints
    what changed per table and year."""
    parser = argparse.ArgumentParser(prog="pipelines.refresh", description=main_refresh.__doc__)
    parser.add_argument("--all", action="store_true", help="re-read every loaded period (revisions anywhere)")
    args = parser.parse_args(argv)
    from pipelines.definitions import defs

    ensure_inbox()  # the inbox this refresh reads, with its README.txt (make run creates it the same way)
    return run_command(lambda instance: run_refresh(instance, defs, reread_all=args.all))


# --- make rollback --------------------------------------------------------------------------------------------


ROLLBACK_HELP = """`make rollback SNAPSHOT=<sha256 or unique prefix>`: undo a bad KOSIS load without `make clean`.

The current vintages the snapshot created are closed and, cell by cell, the vintage that load had closed is
current again (one transaction, recorded in kosis.rollbacks; kosis.snapshots and the raw archive are kept),
then the indicators are rebuilt and the copy published as `make refresh` does (the derive_and_publish job).

Exit codes: 0 done; 1 the rebuild failed (the rollback itself is committed; `make refresh` carries the
publication forward); 2 nothing was done (unknown or ambiguous snapshot, no warehouse, locked warehouse).
"""


def run_rollback(instance: dg.DagsterInstance, defs: dg.Definitions, given: str, reason: str) -> tuple[int, list[str]]:
    with resolved_resources(defs) as res:
        warehouse = res.warehouse
        if not warehouse.exists():
            return EXIT_CANNOT_START, [f"FAILED: no warehouse at {warehouse.location}: nothing to roll back"]
        with warehouse.get_connection() as con:
            try:
                sha, _ = resolve_snapshot(con, given)
            except SnapshotNotFoundError as exc:
                return EXIT_CANNOT_START, [f"FAILED: {exc}; nothing was changed"]
            done = rollback_snapshot(con, sha, reason)
        lines = [f"Rolled back KOSIS snapshot {sha} ({done.catalog_id}, years "
                 f"{', '.join(map(str, done.years)) or 'none current'}): {done.cells_closed} cells closed, "
                 f"{done.cells_reopened} earlier vintages current again (recorded in kosis.rollbacks; the snapshot "
                 f"and its archived body are kept)"]
        if not done.cells_closed:
            lines.append("  nothing of this snapshot was current (already rolled back, or superseded by a later "
                         "load)")
        return derive_and_publish(instance, defs, warehouse, lines)


def main_rollback(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipelines.rollback", description=ROLLBACK_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", required=True,
                        help="sha256 of the snapshot (kosis.snapshots), or a unique prefix")
    parser.add_argument("--reason", default="make rollback", help="why (recorded in kosis.rollbacks)")
    args = parser.parse_args(argv)
    from pipelines.definitions import defs

    return run_command(lambda instance: run_rollback(instance, defs, args.snapshot, args.reason))


COMMANDS = {"run": main_run, "refresh": main_refresh, "rollback": main_rollback}


def main(argv: list[str] | None = None) -> int:
    """`python -m pipelines.cli run|refresh|rollback [options]`: the same commands as their own modules."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m pipelines.cli {{{','.join(COMMANDS)}}} [options]")
        return EXIT_CANNOT_START
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
