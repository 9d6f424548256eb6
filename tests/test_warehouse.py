"""Warehouse I/O on real DuckDB files: atomic writes, the single-writer lock, the published copy."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from warehouse.io import WarehouseLockedError, WarehouseResource, connect_with_retry, replace_table, transaction

COLUMNS = [("k", "VARCHAR", "key"), ("v", "DOUBLE", "value")]


def test_a_failed_write_leaves_the_previous_table_whole(tmp_path: Path) -> None:
    wh = WarehouseResource(database=str(tmp_path / "w.duckdb"))
    with wh.get_connection() as con, transaction(con):
        replace_table(con, "paper.t", pd.DataFrame({"k": ["a", "b"], "v": [1.0, 2.0]}), COLUMNS, key=("k",))
    with pytest.raises(duckdb.ConstraintException):
        with wh.get_connection() as con, transaction(con):
            con.execute("INSERT INTO quality.source_issues VALUES ('T', 'k', 'c', 1, 2, 1, 'x', 'c', 0)")
            # a duplicate key fails half way through the rebuild
            replace_table(con, "paper.t", pd.DataFrame({"k": ["c", "c"], "v": [3.0, 4.0]}), COLUMNS, key=("k",))
    with wh.get_connection() as con:
        assert con.execute("SELECT * FROM paper.t ORDER BY k").fetchall() == [("a", 1.0), ("b", 2.0)]
        assert con.execute("SELECT count(*) FROM quality.source_issues").fetchone() == (0,)


HOLD_LOCK = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
""")


def _hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path), str(seconds)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_lock_held_elsewhere_fails_clearly_after_a_bounded_wait(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    holder = _hold_lock(db, 30)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseLockedError) as err:
            connect_with_retry(db, timeout_s=1.5, poll_s=0.2)
        assert 1.4 <= time.monotonic() - started < 10
        assert str(db) in str(err.value) and "locked" in str(err.value)
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_released_in_time_is_waited_for(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    holder = _hold_lock(db, 1.0)
    try:
        con = connect_with_retry(db, timeout_s=20, poll_s=0.2)
        con.close()
    finally:
        holder.wait()


def test_a_reader_of_the_published_copy_never_sees_a_half_update(tmp_path: Path) -> None:
    wh = WarehouseResource(database=str(tmp_path / "w.duckdb"))
    with wh.get_connection() as con, transaction(con):
        replace_table(con, "paper.t", pd.DataFrame({"k": ["a"], "v": [1.0]}), COLUMNS)
    published = wh.publish()
    reader = duckdb.connect(str(published), read_only=True)
    try:
        with wh.get_connection() as con, transaction(con):
            replace_table(con, "paper.t", pd.DataFrame({"k": ["a", "b"], "v": [1.0, 2.0]}), COLUMNS)
        wh.publish()  # does not block on the open reader
        assert reader.execute("SELECT count(*) FROM paper.t").fetchone() == (1,)  # the old copy
    finally:
        reader.close()
    reopened = duckdb.connect(str(published), read_only=True)
    try:
        assert reopened.execute("SELECT count(*) FROM paper.t").fetchone() == (2,)
        assert reopened.execute("SELECT count(*) FROM kosis.observations_current").fetchone() == (0,)  # views too
    finally:
        reopened.close()
    assert not published.with_suffix(".duckdb.tmp").exists()


def test_duckdb_spills_inside_the_warehouse_folder_and_dead_processes_spill_dirs_are_removed(tmp_path: Path) -> None:
    from warehouse.io import remove_orphaned_spill_dirs, spill_root

    db = tmp_path / "w.duckdb"
    wh = WarehouseResource(database=str(db), memory_limit="100MB")
    own = tmp_path / ".duckdb_tmp" / str(os.getpid())
    with wh.get_connection() as con:
        assert Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0]) == own
        # beyond memory_limit, DuckDB spills there
        con.execute("CREATE TEMP TABLE big AS SELECT range AS i, md5(range::VARCHAR) AS h FROM range(3000000)")
        assert con.execute("SELECT count(*) FROM (SELECT * FROM big ORDER BY h)").fetchone() == (3000000,)
        assert any(own.glob("duckdb_temp_storage*"))
        with wh.get_connection() as nested:  # a second connection of the process, after the spill: still fine
            assert nested.execute("SELECT count(*) FROM kosis.observations").fetchone() == (0,)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for pid in (dead.pid, os.getpid()):
        (spill_root(db) / str(pid)).mkdir(parents=True, exist_ok=True)
        (spill_root(db) / str(pid) / "duckdb_temp_storage-0.tmp").write_bytes(b"x" * 1024)
    assert remove_orphaned_spill_dirs(db) == [spill_root(db) / str(dead.pid)]
    assert sorted(p.name for p in spill_root(db).iterdir()) == [str(os.getpid())]
