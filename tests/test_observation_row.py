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


def test_english_labels_are_stored_where_the_service_sends_them_and_null_where_not(tmp_path: Path) -> None:
    # Seoul's row as DT_1YL20921's real rows are (C1_NM_ENG and UNIT_NM_ENG, no ITM_NM_ENG; kimkij/contest
    # data/kosis_fiscal_sigungu_2023.csv), Daegu's with ITM_NM_ENG and C2_NM_ENG too, Busan's with none.
    bodies = [json.dumps([record(C1_NM_ENG="Seoul", UNIT_NM_ENG="%"),
                          record(C1="22", C1_NM="대구", C1_NM_ENG="Daegu", C2_NM_ENG="Agriculture",
                                 ITM_NM_ENG="Nominal", UNIT_NM_ENG="%"),
                          record(C1="00", C1_NM="전국")], ensure_ascii=False).encode()]
    con = open_warehouse(tmp_path / "w.duckdb")
    try:
        load_bodies(con, bodies, tmp_path / "raw")
        rows = con.execute("SELECT c1, itm_nm_eng, c1_nm_eng, c2_nm_eng, c3_nm_eng, c8_nm_eng, unit_nm_eng "
                           "FROM kosis.observations_current ORDER BY c1").fetchall()
    finally:
        con.close()
    assert rows == [("00", None, None, None, None, None, None),
                    ("11", None, "Seoul", None, None, None, "%"),
                    ("22", "Nominal", "Daegu", "Agriculture", None, None, "%")]
