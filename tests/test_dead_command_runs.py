"""A `make refresh` killed mid-run leaves its Dagster run STARTED; the daemon alone fails it (sensor
dead_command_runs) and the queue moves on: the new-period sensor's queued run starts, with no command typed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT, Built
from tests.kosis_server import KosisServer
from tests.live_tables import live_tables
from tests.test_browser import SIGINT_WRAPPER, stop_group
from tests.test_live_cli import KEY

pytestmark = pytest.mark.xdist_group("daemon")

# Another process's view of the instance: every run's status, tags and failure message.
RUNS_SCRIPT = """
import json
import dagster as dg
with dg.DagsterInstance.get() as instance:
    out = []
    for run in instance.get_runs():
        failure = None
        if run.status == dg.DagsterRunStatus.FAILURE:
            records = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
            failure = records[-1].event_log_entry.dagster_event.message if records else ""
        out.append({"id": run.run_id, "status": run.status.value, "tags": dict(run.tags), "failure": failure})
    print(json.dumps(out))
"""


def user_env(tmp: Path, base_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOSIS_", "WAREHOUSE_", "DAGSTER_"))}
    env.update(WAREHOUSE_PATH=str(tmp / "data" / "warehouse.duckdb"), DAGSTER_HOME=str(tmp / "home"),
               WAREHOUSE_LOCK_TIMEOUT_S="10", KOSIS_API_KEY=KEY, KOSIS_BASE_URL=base_url, **extra)
    return env


def runs(env: dict[str, str]) -> list[dict]:
    proc = subprocess.run([sys.executable, "-c", RUNS_SCRIPT], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def wait_until(predicate, env, what: str, timeout_s: float, log: Path | None = None) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = runs(env)
        if predicate(state):
            return state
        time.sleep(1)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"{what} did not happen within {timeout_s:.0f} s: {json.dumps(runs(env))[:3000]}\n{tail}")


def test_the_daemon_fails_a_killed_commands_run_and_the_queue_moves_on(built_copy: Built) -> None:
    tmp = built_copy.root
    with KosisServer(live_tables(), api_key=KEY) as server:
        server.inject("slow", seconds=120)  # the first data call hangs: the refresh's run stays STARTED
        env = user_env(tmp, server.base_url, DEAD_RUN_CHECK_S="2")
        before = {r["id"] for r in runs(env)}
        refresh = subprocess.Popen(["make", "-s", "refresh"], cwd=PROJECT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        state = wait_until(lambda rs: any(r["status"] == "STARTED" and "cli/pid" in r["tags"] for r in rs), env,
                           "a STARTED run of make refresh", 120)
        (dead,) = [r for r in state if r["status"] == "STARTED" and "cli/pid" in r["tags"]]
        os.killpg(refresh.pid, signal.SIGKILL)  # the command dies mid-run, as kill -9 leaves it
        refresh.wait(timeout=30)
        assert [r["status"] for r in runs(env) if r["id"] == dead["id"]] == ["STARTED"]  # left STARTED, wedged
        log = tmp / "daemon.log"
        with open(log, "ab") as out:  # only the daemon from here on: no CLI command in between
            daemon = subprocess.Popen([sys.executable, "-c", SIGINT_WRAPPER, "/usr/bin/make", "-s", "daemon"],
                                      cwd=PROJECT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        try:
            state = wait_until(lambda rs: any(r["id"] == dead["id"] and r["status"] == "FAILURE" for r in rs), env,
                               "the dead run failed by the daemon", 180, log)
            (failed,) = [r for r in state if r["id"] == dead["id"]]
            assert f"PID {dead['tags']['cli/pid']}" in failed["failure"] and "dead_command_runs" in failed["failure"]
            # a run the daemon's new-period sensor queued behind it starts (and is not the dead one)
            state = wait_until(lambda rs: any(r["id"] not in before and r["id"] != dead["id"]
                                              and r["tags"].get("dagster/sensor_name") == "kosis_new_periods"
                                              and r["status"] in ("STARTING", "STARTED", "SUCCESS") for r in rs),
                               env, "a queued run of the new-period sensor started", 240, log)
        finally:
            stop_group(daemon)
