"""Two `make refresh` started together (issue: nothing wedged): the second waits for the first, saying so once,
then plans again from the new state; both exit 0 and the warehouse holds each cell once."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import PROJECT, Built, query
from tests.kosis_server import KosisServer
from tests.live_tables import live_tables
from tests.test_live_cli import KEY, assert_key_nowhere


def user_env(tmp: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOSIS_", "WAREHOUSE_", "DAGSTER_"))}
    env.update(WAREHOUSE_PATH=str(tmp / "data" / "warehouse.duckdb"), DAGSTER_HOME=str(tmp / "home"),
               WAREHOUSE_LOCK_TIMEOUT_S="10", KOSIS_API_KEY=KEY, KOSIS_BASE_URL=base_url)
    return env


def test_two_refreshes_started_together_both_succeed_one_after_the_other(built_copy: Built) -> None:
    tmp = built_copy.root
    with KosisServer(live_tables(), api_key=KEY) as server:
        env = user_env(tmp, server.base_url)
        procs = [subprocess.Popen(["make", "-s", "refresh"], cwd=PROJECT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=900) for p in procs]
    for proc, (out, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, out[-3000:] + err[-3000:]
    waited = [out for out, _ in outs if "another refresh (PID" in out]
    assert len(waited) == 1, [o[:500] for o, _ in outs]
    assert waited[0].count("another refresh (PID") == 1  # said once
    assert "the other refresh finished; going on" in waited[0]
    assert "Nothing new" in waited[0]  # planned again from the new state: the first loaded everything
    db = tmp / "data" / "warehouse.duckdb"
    assert query(db, "SELECT count(*) = count(DISTINCT cell_key) FROM kosis.observations") == [(True,)]
    assert query(db, "SELECT count(*) FROM kosis.observations WHERE tbl_id = 'DT_1C91'")[0][0] > 0
    assert_key_nowhere(tmp, *(o for o, _ in outs), *(e for _, e in outs))
