"""`make run`: materialize every asset in-process, publish, and print a summary.

Runs against the persistent Dagster instance in $DAGSTER_HOME (set by the Makefile to the
git-ignored `dagster_home/`), so the run shows in the UI's history afterwards.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

import dagster as dg
import duckdb

from assets.kosis_client import KosisError
from assets.kosis_resource import DEFAULT_KOSIS_BASE_URL
from pipelines.definitions import defs
from pipelines.inbox import ensure_inbox
from pipelines.refresh import (
    EXIT_CANNOT_START,
    EXIT_FAILED,
    accounted,
    fail_orphaned_runs,
    failure_cause,
    prepare_full_run,
    resolved_resources,
    whole_build,
)
from pipelines.version import version_line
from warehouse.io import (
    WarehouseLockedError,
    WarehouseResource,
    command_lock,
    remove_orphaned_spill_dirs,
    wait_for_writer_lock,
)

EXAMPLE_QUERY = (
    "SELECT region_code, worker_rank, sme_worker_pct FROM indicators.sme_concentration "
    "ORDER BY worker_rank NULLS FIRST LIMIT 5"
)


def run_pipeline(instance: dg.DagsterInstance | None = None, definitions: dg.Definitions | None = None):
    """Every asset: the sources, every year each KOSIS table has (the planner's run requests, each table's years
    registered in order), then the indicators and the published copy; a sequence of in-process runs."""
    instance = instance or dg.DagsterInstance.get()
    definitions = definitions or defs
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args(argv)
    instance = dg.DagsterInstance.get()
    with resolved_resources(defs, instance) as res:  # the warehouse the environment selects, as a run resolves it
        warehouse = res.warehouse
    ensure_inbox(warehouse.path)  # here, not a Python start of its own in the Makefile: that took 1.2 s
    try:
        with command_lock(warehouse.path):  # one writing command at a time: a second one waits for this one
            if not warehouse.lake:  # the DuckDB file takes one writer process: say at once who holds it
                wait_for_writer_lock(warehouse.path, warehouse.lock_timeout_s)
            remove_orphaned_spill_dirs(warehouse.path)  # DuckDB spill directories of processes that died
            result = run_pipeline(instance)
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


if __name__ == "__main__":
    sys.exit(main())
