"""Dagster's instance on PostgreSQL (DAGSTER_PG_URL, pipelines/dagster_postgres.yaml), against a throwaway cluster
(tests/postgres.py): what one process records, another process (another machine's Dagster home) sees, and the
daemon's sensor cursors survive its restart. Every command is the one a user runs: `make run`, `make daemon`,
`dagster run list`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT, make
from tests.postgres import PostgresCluster
from tests.test_browser import SIGINT_WRAPPER, stop_group

pytestmark = pytest.mark.xdist_group("dagster_postgres")

# What another process reads of the automation sensor's state: its cursor (the daemon's evaluation counter,
# decoded by Dagster's own function) and how many ticks it made.
CURSOR_SCRIPT = """
import json, sys
import dagster as dg
from dagster._daemon.asset_daemon import asset_daemon_cursor_from_instigator_serialized_cursor
with dg.DagsterInstance.get() as instance:
    states = [s for s in instance.all_instigator_state() if s.name == sys.argv[1]]
    cursor = states[0].instigator_data.cursor if states and states[0].instigator_data else None
    ticks = instance.get_ticks(states[0].instigator_origin_id, states[0].selector_id) if states else []
    evaluation = asset_daemon_cursor_from_instigator_serialized_cursor(cursor, None).evaluation_id if cursor else None
    print(json.dumps({"cursor": cursor, "evaluation_id": evaluation, "ticks": len(ticks),
                      "storage": type(instance.run_storage).__name__}))
"""


def user_env(root: Path, pg_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOSIS_", "WAREHOUSE_", "DAGSTER_"))}
    env.update(WAREHOUSE_PATH=str(root / "data" / "warehouse.duckdb"), DAGSTER_HOME=str(root / "home"),
               DAGSTER_PG_URL=pg_url, **extra)
    return env


def automation_state(root: Path, pg_url: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CURSOR_SCRIPT, "derived_tables_automation"], cwd=PROJECT,
                          env=user_env(root, pg_url), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_run_made_by_one_process_is_seen_by_another_machine(postgres: PostgresCluster, tmp_path: Path) -> None:
    pg_url = postgres.url(postgres.create_database("dagster_runs"))
    proc = make("run", tmp_path / "a", env={"DAGSTER_PG_URL": pg_url})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_id = re.search(r"Dagster run (\S+): SUCCESS", proc.stdout).group(1)
    # nothing of the history went to SQLite under DAGSTER_HOME
    assert not list((tmp_path / "a" / "home").rglob("*.db")), list((tmp_path / "a" / "home").rglob("*.db"))

    # another machine: its own Dagster home, made by the Makefile from the same URL
    other = tmp_path / "b"
    made = subprocess.run(["make", "-s", "dagster-home"], cwd=PROJECT, env=user_env(other, pg_url),
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    assert "DAGSTER_PG_URL" in (other / "home" / "dagster.yaml").read_text()
    listed = subprocess.run([str(Path(sys.executable).with_name("dagster")), "run", "list"], cwd=PROJECT,
                            env=user_env(other, pg_url), capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert run_id in listed.stdout
    assert "__ASSET_JOB" in listed.stdout or "derive_and_publish" in listed.stdout
    assert automation_state(other, pg_url)["storage"] == "PostgresRunStorage"
    # the URL (which may hold a password) is read from the environment, never written to the Dagster home
    assert pg_url not in (other / "home" / "dagster.yaml").read_text()


def start_daemon(root: Path, pg_url: str, log: Path) -> subprocess.Popen:
    """`make daemon` in its own process group (stopped with SIGINT, then SIGKILL, as a user stops it)."""
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-c", SIGINT_WRAPPER, "/usr/bin/make", "-s", "daemon"], cwd=PROJECT,
                                env=user_env(root, pg_url, AUTOMATION_SENSOR_INTERVAL_S="2"),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(predicate, root: Path, pg_url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 180) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = automation_state(root, pg_url)
        if predicate(state):
            return state
        if proc.poll() is not None:
            pytest.fail(f"the daemon exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(2)
    pytest.fail(f"the daemon did not get there within {timeout_s:.0f} s:\n{log.read_text(errors='replace')[-4000:]}")


def test_sensor_cursors_survive_a_daemon_restart(postgres: PostgresCluster, tmp_path: Path) -> None:
    pg_url = postgres.url(postgres.create_database("dagster_daemon"))
    proc = make("run", tmp_path, env={"DAGSTER_PG_URL": pg_url})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    log = tmp_path / "daemon.log"

    daemon = start_daemon(tmp_path, pg_url, log)
    try:
        first = wait_for(lambda s: s["cursor"] and s["ticks"] >= 2, tmp_path, pg_url, daemon, log)
    finally:
        stop_group(daemon)
    stopped = automation_state(tmp_path, pg_url)  # read by another process while no daemon runs
    assert stopped["cursor"] and stopped["evaluation_id"] >= first["evaluation_id"] >= 1

    daemon = start_daemon(tmp_path, pg_url, log)
    try:
        later = wait_for(lambda s: s["ticks"] > stopped["ticks"] + 1, tmp_path, pg_url, daemon, log)
    finally:
        stop_group(daemon)
    # the restarted daemon went on from the stored cursor: its evaluations continue the count, not restart it
    assert later["evaluation_id"] > stopped["evaluation_id"]
    # and it was kept in PostgreSQL, not in a SQLite file under DAGSTER_HOME
    assert later["storage"] == "PostgresRunStorage" and not list((tmp_path / "home").rglob("*.db"))
