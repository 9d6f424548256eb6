"""Every table, view and column an analyst can query explains itself (DuckDB comments), in the working
warehouse and in the published copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import query
from warehouse.io import published_path

SCHEMAS = ("reference", "paper", "kosis", "indicators", "quality")
IN_SCHEMAS = f"schema_name IN ({', '.join(repr(s) for s in SCHEMAS)})"


def uncommented(db: Path) -> tuple[list[str], list[str]]:
    relations = query(db, f"SELECT schema_name || '.' || table_name, comment FROM duckdb_tables() WHERE {IN_SCHEMAS} "
                          f"UNION ALL SELECT schema_name || '.' || view_name, comment FROM duckdb_views() "
                          f"WHERE {IN_SCHEMAS}")
    assert len(relations) >= 30  # the warehouse was built
    columns = query(db, f"SELECT schema_name || '.' || table_name || '.' || column_name, comment FROM duckdb_columns() "
                        f"WHERE {IN_SCHEMAS}")
    return ([n for n, c in relations if not (c or "").strip()], [n for n, c in columns if not (c or "").strip()])


@pytest.mark.parametrize("which", ["working", "published"])
def test_every_table_view_and_column_has_a_comment(baseline: Path, which: str) -> None:
    db = baseline if which == "working" else published_path(baseline)
    relations, columns = uncommented(db)
    assert not relations, f"tables/views without COMMENT ON: {relations}"
    assert not columns, f"{len(columns)} columns without COMMENT ON COLUMN: {columns}"


def test_view_columns_carry_their_own_comments(baseline: Path) -> None:
    # DuckDB 1.5 supports COMMENT ON COLUMN for views; CREATE OR REPLACE VIEW drops them, so warehouse.sql
    # sets them again after every (re)creation.
    rows = query(published_path(baseline), "SELECT comment FROM duckdb_columns() WHERE schema_name = 'kosis' "
                                           "AND table_name = 'observations_current' AND column_name = 'valid_to'")
    assert rows == [("Always NULL here (current vintage)",)]
