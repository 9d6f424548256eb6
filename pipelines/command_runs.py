"""The Dagster runs of the commands (make run, make refresh): tagged with their process, and failed when it died."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg


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
