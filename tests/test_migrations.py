"""Schema migrations on real DuckDB files: a warehouse of release e12b694 opened by the current code."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.conftest import query
from warehouse.io import WarehouseResource
from warehouse.migrations import LATEST, MIGRATIONS

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "warehouse_e12b694.sql"
T0, T1 = "2025-01-01 00:00:00", "2025-06-01 00:00:00"


def old_warehouse(path: Path) -> None:
    """The e12b694 layout with KOSIS history: a revised cell (two vintages), a current cell, and the paper's
    figures under the old bundled identity (org 101, item PAPER_SHARE), current."""
    con = duckdb.connect(str(path))
    try:
        con.execute(FIXTURE.read_text(encoding="utf-8"))
        con.execute("INSERT INTO kosis.snapshots VALUES "
                    "('aaa1', 'grdp', '101', 'DT_1C81', 'url-1', ?, 2, 'raw/aa/aaa1.json', 'live', NULL), "
                    "('bbb2', 'grdp', '101', 'DT_1C81', 'url-2', ?, 1, 'raw/bb/bbb2.json', 'live', NULL), "
                    "('ccc3', 'paper', '101', 'DT_1C81', 'bundled:t1', ?, 1, 'raw/cc/ccc3.json', 'bundled', NULL)",
                    [T0, T1, T0])
        rows = [
            ("101|DT_1C81|T1|22|A||||||||A|2010", "T1", "22", "A", "2010", 100.0, "aaa1", T0, T1),
            ("101|DT_1C81|T1|22|A||||||||A|2010", "T1", "22", "A", "2010", 120.0, "bbb2", T1, None),
            ("101|DT_1C81|T1|11|A||||||||A|2010", "T1", "11", "A", "2010", 50.0, "aaa1", T0, None),
            ("101|DT_1C81|PAPER_SHARE|22|A||||||||A|2010", "PAPER_SHARE", "22", "A", "2010", 0.4, "ccc3", T0, None),
        ]
        con.executemany(
            "INSERT INTO kosis.observations (cell_key, org_id, tbl_id, itm_id, c1, c2, c1_nm, c2_nm, itm_nm, prd_se, "
            "prd_de, year, value, value_raw, unit_nm, lst_chn_de, snapshot_sha256, valid_from, valid_to) "
            "VALUES (?, '101', 'DT_1C81', ?, ?, ?, 'r', 'c', 'i', 'A', ?, 2010, ?, CAST(? AS VARCHAR), 'u', "
            "'20240101', ?, ?, ?)",
            [(k, itm, c1, c2, prd, v, v, sha, vf, vt) for k, itm, c1, c2, prd, v, sha, vf, vt in rows])
        con.execute("INSERT INTO kosis.code_roles VALUES ('grdp', 'T1', 'c2', 'A', 'primary')")
        assert "match_by" not in {r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'code_roles'").fetchall()}
    finally:
        con.close()


def test_a_warehouse_of_release_e12b694_is_migrated_in_place_keeping_every_vintage(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    old_warehouse(db)
    before = query(db, "SELECT cell_key, value, snapshot_sha256, valid_from, valid_to FROM kosis.observations "
                       "ORDER BY ALL")

    with WarehouseResource(database=str(db)).get_connection() as con:
        con.execute("SELECT 1")

    # every old vintage is kept, values and validity unchanged, except the PAPER_* row, now closed
    after = query(db, "SELECT cell_key, value, snapshot_sha256, valid_from, valid_to FROM kosis.observations "
                      "ORDER BY ALL")
    assert len(after) == len(before) == 4
    assert [r for r in after if "PAPER_" not in r[0]] == [r for r in before if "PAPER_" not in r[0]]
    assert query(db, "SELECT count(*) FROM kosis.observations_current WHERE itm_id LIKE 'PAPER%'") == [(0,)]
    assert query(db, "SELECT valid_to = valid_from FROM kosis.observations WHERE itm_id = 'PAPER_SHARE'") == [(True,)]
    assert query(db, "SELECT cell_key, value FROM kosis.observations_current ORDER BY 1") == [
        ("101|DT_1C81|T1|11|A||||||||A|2010", 50.0), ("101|DT_1C81|T1|22|A||||||||A|2010", 120.0)]
    assert query(db, "SELECT snapshot_sha256, masked, n_loaded FROM kosis.snapshots ORDER BY 1") == [
        ("aaa1", 0, None), ("bbb2", 0, None), ("ccc3", 0, None)]

    # the new columns and tables exist
    columns = {f"{t}.{c}" for t, c in query(db, "SELECT table_name, column_name FROM duckdb_columns() "
                                                "WHERE schema_name = 'kosis'")}
    for column in ("snapshots.masked", "snapshots.n_loaded", "snapshots.n_quarantined", "snapshots.n_skipped",
                   "observations.c3_nm", "tables.series", "tables.priority", "tables.source_label",
                   "code_roles.match_by", "period_updates.update_de", "rollbacks.cells_reopened",
                   "role_values.origin"):
        assert column in columns, column

    # each migration is recorded once, in order
    recorded = query(db, "SELECT version, description, applied_at IS NOT NULL FROM meta.schema_migrations "
                         "ORDER BY version")
    assert recorded == [(m.version, m.description, True) for m in MIGRATIONS]
    assert recorded[-1][0] == LATEST

    # opening it again (another process: the cache is per process) applies nothing twice
    from warehouse import migrations

    migrations._READY.clear()
    with WarehouseResource(database=str(db)).get_connection():
        pass
    assert query(db, "SELECT count(*) FROM meta.schema_migrations") == [(len(MIGRATIONS),)]
    assert query(db, "SELECT count(*) FROM kosis.observations") == [(4,)]


def test_a_new_warehouse_records_every_migration_and_sets_up_once_per_process(tmp_path: Path) -> None:
    from warehouse import migrations

    db = tmp_path / "new.duckdb"
    wh = WarehouseResource(database=str(db))
    with wh.get_connection():
        pass
    assert query(db, "SELECT max(version), count(*) FROM meta.schema_migrations") == [(LATEST, len(MIGRATIONS))]
    assert str(db.resolve()) in migrations._READY
    # a second connection runs no DDL: a view dropped behind the cache's back stays dropped
    con = duckdb.connect(str(db))
    con.execute("DROP VIEW kosis.role_values")
    con.close()
    with wh.get_connection() as con:
        assert not con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'role_values'").fetchone()[0]
    # a file replaced under the same path (no migrations recorded) is set up again
    db.unlink()
    with wh.get_connection() as con:
        assert con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'role_values'").fetchone()[0] == 1


LAYOUT_SQL = """
SELECT schema_name, table_name, column_index, column_name, data_type, is_nullable, column_default
FROM duckdb_columns() WHERE schema_name || '.' || table_name IN ({tables}) ORDER BY ALL
"""
CONSTRAINTS_SQL = """
SELECT schema_name, table_name, constraint_type, constraint_text FROM duckdb_constraints()
WHERE schema_name || '.' || table_name IN ({tables}) ORDER BY ALL
"""


def test_an_upgraded_warehouse_has_the_layout_a_new_one_is_generated_with(tmp_path: Path) -> None:
    """The tables generated from schemas/warehouse_tables.py equal, column by column (order, type, nullability,
    default) and constraint by constraint, what the migrations make of a warehouse of release e12b694."""
    from schemas.warehouse_tables import SCHEMA_MIGRATIONS, WAREHOUSE_TABLES

    old, new = tmp_path / "old.duckdb", tmp_path / "new.duckdb"
    old_warehouse(old)
    for db in (old, new):
        with WarehouseResource(database=str(db)).get_connection():
            pass
    tables = ", ".join(f"'{t.qualified_name}'" for t in (*WAREHOUSE_TABLES, SCHEMA_MIGRATIONS))
    layout = query(new, LAYOUT_SQL.format(tables=tables))
    assert {f"{r[0]}.{r[1]}" for r in layout} == {t.qualified_name for t in (*WAREHOUSE_TABLES, SCHEMA_MIGRATIONS)}
    assert query(old, LAYOUT_SQL.format(tables=tables)) == layout
    assert query(old, CONSTRAINTS_SQL.format(tables=tables)) == query(new, CONSTRAINTS_SQL.format(tables=tables))
