"""Publication without races: two processes publishing at once both succeed, every time, and the published
copy is always a whole DuckDB file; a published copy held read-write elsewhere is waited for, then named."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from warehouse.io import WarehouseLockedError, WarehouseResource, connect_published, replace_table, transaction

COLUMNS = [("k", "VARCHAR", "key"), ("v", "DOUBLE", "value")]
ROUNDS = 10
N_ROWS = 300_000  # a copy that takes a while, so the publishers overlap

PUBLISHER = textwrap.dedent("""
    import sys
    from warehouse.io import WarehouseResource
    wh = WarehouseResource(database=sys.argv[1], lock_timeout_s=60)
    for i in range(int(sys.argv[2])):
        wh.publish()
        print("published", i, flush=True)
""")


def _warehouse(tmp_path: Path) -> WarehouseResource:
    wh = WarehouseResource(database=str(tmp_path / "w.duckdb"))
    with wh.get_connection() as con, transaction(con):
        replace_table(con, "paper.t", pd.DataFrame({"k": [str(i) for i in range(N_ROWS)], "v": range(N_ROWS)}), COLUMNS)
    return wh


def test_two_processes_publishing_concurrently_both_succeed_every_time(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path)
    wh.publish()
    root = Path(__file__).resolve().parent.parent
    procs = [subprocess.Popen([sys.executable, "-c", PUBLISHER, wh.database, str(ROUNDS)], cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    reads = 0
    while any(p.poll() is None for p in procs):  # meanwhile, the published copy must always open and read
        con = connect_published(wh.published, timeout_s=10)
        try:
            assert con.execute("SELECT count(*) FROM paper.t").fetchone() == (N_ROWS,)
        finally:
            con.close()
        reads += 1
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.count("published") == ROUNDS, (out, err)
    assert reads > 0
    con = duckdb.connect(str(wh.published), read_only=True)
    assert con.execute("SELECT count(*) FROM paper.t").fetchone() == (N_ROWS,)
    con.close()
    assert not list(tmp_path.glob("*.tmp*")), list(tmp_path.iterdir())


HOLD_RW = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
""")


def _hold(path: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_RW, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_published_copy_held_read_write_elsewhere_fails_clearly_after_a_bounded_wait(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path)
    published = wh.publish()
    holder = _hold(published, 30)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseLockedError) as err:
            connect_published(published, timeout_s=1.5, poll_s=0.2)
        assert 1.4 <= time.monotonic() - started < 10
        message = str(err.value)
        assert str(published) in message and "read-write" in message and "read_only=True" in message
        assert err.value.__cause__ is None and err.value.__suppress_context__
    finally:
        holder.kill()
        holder.wait()


def test_a_published_copy_released_in_time_is_waited_for(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path)
    published = wh.publish()
    holder = _hold(published, 1.0)
    try:
        con = connect_published(published, timeout_s=20, poll_s=0.2)
        assert con.execute("SELECT count(*) FROM paper.t").fetchone() == (N_ROWS,)
        con.close()
    finally:
        holder.wait()
