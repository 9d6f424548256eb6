"""DDL and comments generated from the table definitions (schemas/warehouse_tables.py, schemas/registry.py), for a
DuckDB file or a DuckLake: one definition, two dialects, no rewriting of SQL text.

DuckLake has no PRIMARY KEY, UNIQUE or CHECK constraints: on a lake they are left out here (the validation before
every write enforces keys and allowed values on both backends); NOT NULL and DEFAULT are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.registry import Column, TableSpec, written_columns, written_key
from schemas.warehouse_tables import SCHEMA_MIGRATIONS, WAREHOUSE_TABLES, WarehouseTable


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_sql(column: Column, *, lake: bool, check_allowed: bool) -> str:
    sql = f'"{column.name}" {column.dtype}'
    if column.default is not None:
        sql += f" DEFAULT {column.default}"
    if not column.nullable:
        sql += " NOT NULL"
    if check_allowed and column.allowed is not None and not lake:
        sql += f' CHECK ("{column.name}" IN ({", ".join(quote(a) for a in column.allowed)}))'
    return sql


def create_table_sql(qualified_name: str, columns: Sequence[Column], key: tuple[str, ...] = (), *, lake: bool,
                     replace: bool = False, check_allowed: bool = False) -> str:
    """CREATE TABLE IF NOT EXISTS (or, with ``replace``, CREATE OR REPLACE TABLE) with the columns in order."""
    parts = [column_sql(c, lake=lake, check_allowed=check_allowed) for c in columns]
    if key and not lake:
        parts.append(f"PRIMARY KEY ({', '.join(key)})")
    create = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
    return f"{create} {qualified_name} (\n    " + ",\n    ".join(parts) + "\n)"


def comment_statements(qualified_name: str, description: str, columns: Sequence[Column]) -> list[str]:
    statements = [f"COMMENT ON TABLE {qualified_name} IS {quote(description)}"] if description else []
    statements += [f'COMMENT ON COLUMN {qualified_name}."{c.name}" IS {quote(c.description)}'
                   for c in columns if c.description]
    return statements


def table_ddl(table: WarehouseTable, *, lake: bool) -> str:
    # allowed values are a CHECK on the file backend (quality.check_results.severity, kosis.code_roles.match_by)
    return create_table_sql(table.qualified_name, table.columns, table.key, lake=lake, check_allowed=True)


def placeholder_ddl(spec: TableSpec, *, lake: bool) -> str:
    """A table an asset rebuilds from its file, created empty so that the views naming it can be created before
    the first build (reference.region_code_map); the asset replaces it whole."""
    return create_table_sql(spec.qualified_name, written_columns(spec), written_key(spec), lake=lake)


def meta_ddl(*, lake: bool) -> str:
    """meta.schema_migrations, before any migration runs."""
    return f"CREATE SCHEMA IF NOT EXISTS meta;\n{table_ddl(SCHEMA_MIGRATIONS, lake=lake)};"


def warehouse_ddl(*, lake: bool, placeholders: Sequence[TableSpec] = ()) -> str:
    """Every warehouse table, in its latest layout, CREATE ... IF NOT EXISTS (schemas come from warehouse.sql)."""
    statements = [table_ddl(t, lake=lake) for t in WAREHOUSE_TABLES]
    statements += [placeholder_ddl(s, lake=lake) for s in placeholders]
    return ";\n\n".join(statements) + ";\n"


def warehouse_comments() -> list[str]:
    return [s for t in (*WAREHOUSE_TABLES, SCHEMA_MIGRATIONS)
            for s in comment_statements(t.qualified_name, t.description, t.columns)]
