"""The warehouse's own tables defined once (schemas/warehouse_tables.py): inserts by name on a real DuckDB file,
the DuckLake dialect of their DDL, and the IO manager's lookup of a table by asset key."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.definitions import defs
from schemas.indicators import CLAIM_SPECS
from schemas.warehouse_tables import KOSIS_TABLES, WAREHOUSE_TABLES
from tests.conftest import query
from warehouse.ddl import table_ddl, warehouse_ddl
from warehouse.io import WarehouseResource
from warehouse.rows import insert_rows
from warehouse.tables import TABLE_IO_MANAGER, table_layout


def test_rows_are_inserted_by_column_name_whatever_their_order(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    with WarehouseResource(database=str(db)).get_connection() as con:
        # dicts naming the columns in another order than the table's, one leaving out a nullable column
        n = insert_rows(con, "kosis.rollbacks", [
            {"reason": "wrong file", "cells_reopened": 2, "cells_closed": 5, "rolled_back_at": "2025-01-01 00:00:00",
             "snapshot_sha256": "aaa"},
            {"snapshot_sha256": "bbb", "rolled_back_at": "2025-01-02 00:00:00", "cells_closed": 1,
             "cells_reopened": 0}])
        # a frame whose columns are out of order; masked left out takes the table's default
        frame = pd.DataFrame({"origin": ["live"], "snapshot_sha256": ["s1"], "catalog_id": ["grdp"], "org_id": ["101"],
                              "tbl_id": ["DT_X"], "request": ["url"], "fetched_at": [pd.Timestamp("2025-01-01")],
                              "n_records": [3], "path": ["raw/s1.json"]})
        assert insert_rows(con, "kosis.snapshots", frame) == 1
        with pytest.raises(KeyError, match="no column n_rows"):
            insert_rows(con, "kosis.rollbacks", [{"snapshot_sha256": "c", "n_rows": 1}])
        assert insert_rows(con, "kosis.rollbacks", []) == 0
    assert n == 2
    assert query(db, "SELECT snapshot_sha256, cells_closed, cells_reopened, reason FROM kosis.rollbacks "
                     "ORDER BY 1") == [("aaa", 5, 2, "wrong file"), ("bbb", 1, 0, None)]
    assert query(db, "SELECT snapshot_sha256, origin, masked, n_loaded FROM kosis.snapshots") == [
        ("s1", "live", 0, None)]


def test_the_ducklake_ddl_has_no_key_or_check_but_keeps_not_null_and_defaults() -> None:
    file_ddl, lake_ddl = table_ddl(KOSIS_TABLES, lake=False), table_ddl(KOSIS_TABLES, lake=True)
    assert "PRIMARY KEY (id)" in file_ddl and "PRIMARY KEY" not in lake_ddl
    assert '"region_level" VARCHAR DEFAULT \'c1\'' in lake_ddl and '"id" VARCHAR NOT NULL' in lake_ddl
    every_lake = warehouse_ddl(lake=True)
    assert "CHECK" not in every_lake and "PRIMARY KEY" not in every_lake
    assert "CHECK (\"match_by\" IN ('code', 'name'))" in warehouse_ddl(lake=False)
    # the lake's variant is valid DuckDB and creates the same columns
    con = duckdb.connect()
    for schema in {t.schema for t in WAREHOUSE_TABLES}:
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute(every_lake)
    assert con.execute("SELECT count(*) FROM duckdb_columns() WHERE NOT internal").fetchone()[0] == sum(
        len(t.columns) for t in WAREHOUSE_TABLES)
    assert con.execute("SELECT count(*) FROM duckdb_constraints() WHERE constraint_type IN "
                       "('PRIMARY KEY', 'CHECK', 'UNIQUE')").fetchone()[0] == 0


def test_every_table_the_io_manager_writes_is_found_by_its_asset_key_with_the_columns_the_asset_declares() -> None:
    graph = defs.resolve_asset_graph()
    written = [(key, a) for a in graph.assets_defs for key in a.keys
               if a.get_io_manager_key_for_asset_key(key) == TABLE_IO_MANAGER]
    assert {key.path[0] for key, _ in written} == {"paper", "reference", "indicators"}
    undeclared: set[str] = set()
    for key, asset in written:
        layout = table_layout(key.path)
        assert layout.table == ".".join(key.path)
        declared = asset.metadata_by_key[key].get("dagster/column_schema")
        if declared is not None:  # the file tables and the indicators declare theirs
            declared = getattr(declared, "schema", declared)
            assert [c.name for c in declared.columns] == [name for name, _, _ in layout.columns], key
        else:
            undeclared.add(key.path[-1])
    assert undeclared <= {s.name for s in CLAIM_SPECS}  # the claims' tables (assets/claims.py) declare none
    with pytest.raises(KeyError, match="names no table"):
        table_layout(["kosis", "catalog"])
