"""The Dagster runs of the commands (make run, make refresh, make rollback): one writing command at a time, its runs
tagged with its process, and failed when it died."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb

from warehouse.io import (
    WarehouseLockedError,
    command_lock,
    default_warehouse,
    remove_orphaned_spill_dirs,
    wait_for_writer_lock,
    warehouse_path,
)

# Exit code of a command that could not start (bad key, unreachable service, locked warehouse): pipelines/cli.py.
EXIT_CANNOT_START = 2


def cli_tags() -> dict[str, str]:
    """Tags of every run this process starts, so a later command can tell a run whose process died."""
    return {"cli/pid": str(os.getpid()), "cli/host": socket.gethostname()}


def fail_orphaned_runs(instance: dg.DagsterInstance, found_by: str = "the next command") -> list[str]:
    """Marks as failed the runs a `make run`/`make refresh` on this machine started and never finished because
    its process was killed: left STARTED, they would hold the run queue (one run at a time) forever. Called by
    every command before it runs and by the daemon's sensor dead_command_runs (pipelines/sensors.py), so the queue
    moves on with no command typed; runs the daemon launches are watched by Dagster's run monitoring."""
    failed = []
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED,
                                                             dg.DagsterRunStatus.STARTING],
                                                   tags={"cli/host": socket.gethostname()}))
    for run in runs:
        pid = int(run.tags.get("cli/pid", "0") or 0)
        if pid and pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            instance.report_run_failed(run, f"its process (PID {pid} on {run.tags.get('cli/host')}) ended without "
                                            f"finishing the run (found by {found_by})")
            failed.append(run.run_id)
    return failed


def run_command(work: Callable[[dg.DagsterInstance], tuple[int, list[str]]]) -> int:
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
