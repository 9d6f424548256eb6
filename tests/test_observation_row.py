"""The KOSIS observation row is defined once (schemas/kosis.py: OBSERVATION_ROW): the warehouse table and its
comments, the view's comments, the staging table, the merge and the Dagster column schema all follow it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from assets.kosis import OBSERVATION_COLUMNS
from schemas.kosis import OBSERVATION_ROW
from tests.kosis_loading import load_bodies, open_warehouse, record
from warehouse.kosis_load import STAGED, STAGING_ONLY
from warehouse.migrations import SQL_DIR

ROW = [(c.name, c.dtype) for c in OBSERVATION_ROW]


def test_the_warehouse_table_and_its_comments_are_the_row(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "w.duckdb")
    try:
        columns = con.execute("SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns() "
                              "WHERE schema_name = 'kosis' AND table_name = 'observations' ORDER BY column_index"
                              ).fetchall()
        view = dict(con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE schema_name = 'kosis' "
                                "AND table_name = 'observations_current'").fetchall())
    finally:
        con.close()
    assert [(n, t) for n, t, _, _ in columns] == ROW
    assert [(n, nullable) for n, _, nullable, _ in columns] == [(c.name, c.nullable) for c in OBSERVATION_ROW]
    assert [comment for *_, comment in columns] == [c.description for c in OBSERVATION_ROW]
    assert set(view) == {c.name for c in OBSERVATION_ROW} and all(view.values())


def test_staging_holds_the_row_read_from_the_record_and_the_merge_writes_it(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "w.duckdb")
    try:
        load = load_bodies(con, [json.dumps([record(), record(C1="22")]).encode()], tmp_path / "raw")
        staged = [r[0] for r in con.execute(f"DESCRIBE {STAGED}").fetchall()]
        stored = con.execute("SELECT * FROM kosis.observations ORDER BY c1").df()
    finally:
        con.close()
    assert [a.n_loaded for a in load.accounting.values()] == [2]
    from_record = [c.name for c in OBSERVATION_ROW if c.staged_as is not None]
    assert staged == [*from_record, *STAGING_ONLY, "in_request"]
    assert list(stored.columns) == [name for name, _ in ROW]
    assert stored["valid_to"].isna().all() and stored["valid_from"].notna().all()


def test_no_sql_file_and_no_asset_spells_the_row_out_again() -> None:
    sql = "\n".join(p.read_text(encoding="utf-8") for p in SQL_DIR.rglob("*.sql"))
    assert "CREATE TABLE IF NOT EXISTS kosis.observations" not in sql
    assert not re.search(r"COMMENT ON COLUMN kosis\.observations(_current)?\.", sql)
    assert not re.search(r"s\.c1, s\.c2", sql)  # the merge inserts the staged row BY NAME
    # what every KOSIS asset reports as its column schema in the Dagster UI
    assert [(c.name, c.type) for c in OBSERVATION_COLUMNS.columns] == ROW
