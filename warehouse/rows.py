"""Inserts into the warehouse's tables by column name, never by position: a row names its columns, so a column a
migration adds (or a reordering) cannot shift values into the wrong column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import count

import duckdb
import pandas as pd

from schemas.warehouse_tables import WAREHOUSE_TABLE_BY_NAME, WarehouseTable

_frames = count()  # a fresh name per registered frame: nested or concurrent inserts on one connection never collide


def warehouse_table(table: WarehouseTable | str) -> WarehouseTable:
    if isinstance(table, WarehouseTable):
        return table
    try:
        return WAREHOUSE_TABLE_BY_NAME[table]
    except KeyError:
        raise KeyError(f"{table} is not a warehouse table of schemas/warehouse_tables.py") from None


def insert_rows(con: duckdb.DuckDBPyConnection, table: WarehouseTable | str,
                rows: Sequence[Mapping[str, object]] | pd.DataFrame) -> int:
    """Appends `rows` (dicts, or a frame's columns) to `table`, matched by column name; a column the table does not
    have is an error; a column no row names gets its default (NULL unless the table says otherwise), a column some
    rows name and others leave out is NULL in those. Returns the number of rows inserted."""
    model = warehouse_table(table)
    known = {c.name for c in model.columns}
    names = list(rows.columns) if isinstance(rows, pd.DataFrame) else list(dict.fromkeys(k for r in rows for k in r))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"{model.qualified_name} has no column {', '.join(unknown)}")
    if len(rows) == 0:
        return 0
    columns = ", ".join(f'"{n}"' for n in names)
    if isinstance(rows, pd.DataFrame):
        view = f"_rows_{next(_frames)}"
        con.register(view, rows)
        try:
            con.execute(f"INSERT INTO {model.qualified_name} BY NAME SELECT {columns} FROM {view}")
        finally:
            con.unregister(view)
    else:
        con.executemany(f"INSERT INTO {model.qualified_name} ({columns}) VALUES ({', '.join('?' for _ in names)})",
                        [[r.get(n) for n in names] for r in rows])
    return len(rows)
