"""Versioned schema migrations, recorded in the warehouse (meta.schema_migrations).

Setting up a connection's schema, once per process and database file (`ensure_schema`):

1. `sql/warehouse.sql` (the schemas), then the tables generated from their definitions in their latest layout
   (schemas/warehouse_tables.py and OBSERVATION_ROW, by warehouse/ddl.py), CREATE ... IF NOT EXISTS: a new file
   gets every table as the migrations leave an old one, an old file keeps its tables and gains the missing ones;
2. the migrations below, in order, each applied at most once per file in its own transaction and recorded
   with version, applied_at and description. Each release's change to an existing table is one step; a
   step is written so that it is also harmless on a file created by step 1 (ADD COLUMN IF NOT EXISTS), so a
   new warehouse records every version too;
3. `sql/views.sql`: views and their comments (they name columns the migrations add), then the tables' comments,
   generated from the same definitions.

A warehouse built by an earlier release (e.g. e12b694, whose layout tests/fixtures/warehouse_e12b694.sql
keeps) is upgraded in place: every KOSIS vintage is kept; nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from schemas.kosis import OBSERVATION_ROW, OBSERVATIONS_DESCRIPTION
from schemas.registry import FILE_TABLES
from warehouse.backend import execute_ddl, is_lake
from warehouse.clock import utc_now
from warehouse.ddl import meta_ddl, warehouse_comments, warehouse_ddl
from warehouse.rows import insert_rows

SQL_DIR = Path(__file__).resolve().parent / "sql"
# Rebuilt by its asset, created empty before: the view kosis.table_region_codes reads it.
PLACEHOLDER_TABLES = tuple(s for s in FILE_TABLES if s.qualified_name == "reference.region_code_map")


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


def _sql(text: str) -> Callable[[duckdb.DuckDBPyConnection], None]:
    return lambda con: execute_ddl(con, text)


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = ? "
                                      "AND table_name = ?", [schema, table]).fetchall()}


CODE_ROLES_DDL = """
CREATE TABLE kosis.code_roles (
    catalog_id  VARCHAR NOT NULL,
    role        VARCHAR NOT NULL,
    itm_id      VARCHAR NOT NULL,
    level       VARCHAR NOT NULL,
    code        VARCHAR NOT NULL,
    match_by    VARCHAR NOT NULL CHECK (match_by IN ('code', 'name'))
)
"""


def _code_roles_by_name(con: duckdb.DuckDBPyConnection) -> None:
    # Up to e12b694: (catalog_id, itm_id, level c1..c8, code, role) with a primary key, codes only. The table
    # is derived whole from the catalog by the kosis/catalog asset, so the old rows are not kept: the next run
    # writes them again in the new layout.
    if "match_by" not in _columns(con, "kosis", "code_roles"):
        con.execute("DROP TABLE IF EXISTS kosis.code_roles")
        execute_ddl(con, CODE_ROLES_DDL)


def _passed_nullable(con: duckdb.DuckDBPyConnection) -> None:
    # Only where the column is NOT NULL (an older file): a new file is created with it nullable, and DuckLake
    # refuses to drop a NOT NULL that is not there.
    rows = con.execute("SELECT is_nullable FROM duckdb_columns() WHERE database_name = current_database() AND "
                       "schema_name = 'quality' AND table_name = 'check_results' AND column_name = 'passed'").fetchall()
    if rows and not rows[0][0]:
        con.execute("ALTER TABLE quality.check_results ALTER COLUMN passed DROP NOT NULL")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "baseline: the layout of release e12b694 (schemas reference, paper, kosis, indicators, quality; "
                 "quality logs, kosis.snapshots, kosis.observations, kosis.tables, kosis.code_roles, "
                 "indicators.catalog)", lambda con: None),
    Migration(2, "kosis.snapshots.masked (occurrences of the API key masked before archiving) and per-snapshot "
                 "conservation n_loaded, n_quarantined, n_skipped (NULL for snapshots recorded before)", _sql("""
        ALTER TABLE kosis.snapshots ADD COLUMN IF NOT EXISTS masked INTEGER DEFAULT 0;
        ALTER TABLE kosis.snapshots ADD COLUMN IF NOT EXISTS n_loaded INTEGER;
        ALTER TABLE kosis.snapshots ADD COLUMN IF NOT EXISTS n_quarantined INTEGER;
        ALTER TABLE kosis.snapshots ADD COLUMN IF NOT EXISTS n_skipped INTEGER;
    """)),
    Migration(3, "kosis.observations.c3_nm (size classes matched by name); kosis.tables source, series, priority, "
                 "base_year, first_period, final_period, verification, evidence, source_label", _sql("""
        ALTER TABLE kosis.observations ADD COLUMN IF NOT EXISTS c3_nm VARCHAR;
        ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS source VARCHAR;
        ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS series VARCHAR;
        ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS priority INTEGER;
        ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS base_year VARCHAR;
        ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS first_period VARCHAR;
        ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS final_period VARCHAR;
        ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS verification VARCHAR;
        ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS evidence VARCHAR;
        ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS source_label VARCHAR;
    """)),
    Migration(4, "kosis.period_updates: the service's date (getMeta NCD SEND_DE) per period when last read", _sql("""
        CREATE TABLE IF NOT EXISTS kosis.period_updates (
            catalog_id VARCHAR NOT NULL, year INTEGER NOT NULL, update_de VARCHAR NOT NULL,
            recorded_at TIMESTAMP NOT NULL, PRIMARY KEY (catalog_id, year));
    """)),
    Migration(5, "kosis.code_roles: levels itm | c1..c8 matched by code or name (match_by); rebuilt from the catalog",
              _code_roles_by_name),
    # Earlier releases replayed the paper's Tables 1 and 2 under KOSIS identities (101/DT_1C81, 101/DT_1K52F03,
    # items PAPER_*). Those rows were never KOSIS data: their vintages are closed so they cannot pose as loaded
    # periods of the real tables (kept, not deleted, so the history stays complete).
    Migration(6, "close the vintages of the paper's figures once replayed under KOSIS identities (org 101, items "
                 "PAPER_*); kept as closed vintages", _sql(r"""
        UPDATE kosis.observations SET valid_to = valid_from
        WHERE valid_to IS NULL AND org_id = '101' AND itm_id LIKE 'PAPER\_%' ESCAPE '\';
    """)),
    Migration(7, "kosis.rollbacks: snapshots rolled back by make rollback", _sql("""
        CREATE TABLE IF NOT EXISTS kosis.rollbacks (
            snapshot_sha256  VARCHAR NOT NULL,
            rolled_back_at   TIMESTAMP NOT NULL,
            cells_closed     INTEGER NOT NULL,
            cells_reopened   INTEGER NOT NULL,
            reason           VARCHAR
        );
    """)),
    Migration(8, "kosis.tables.region_level (the axis that holds the region) and definition; kosis.region_codes "
                 "(a table's own region codes, e.g. the SME ministry's, mapped to the statistical sido); "
                 "quality.kosis_cell_accounting (every current cell of a loaded table and year: read by an "
                 "indicator, or why not)", _sql("""
        ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS region_level VARCHAR DEFAULT 'c1';
        ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS definition VARCHAR;
        CREATE TABLE IF NOT EXISTS kosis.region_codes (
            catalog_id   VARCHAR NOT NULL,
            code         VARCHAR NOT NULL,
            region_code  VARCHAR NOT NULL
        );
        CREATE TABLE IF NOT EXISTS quality.kosis_cell_accounting (
            catalog_id   VARCHAR NOT NULL,
            org_id       VARCHAR NOT NULL,
            tbl_id       VARCHAR NOT NULL,
            year         INTEGER,
            outcome      VARCHAR NOT NULL,
            reason       VARCHAR NOT NULL,
            n_cells      BIGINT NOT NULL,
            indicator    VARCHAR,
            example      VARCHAR,
            built_at     TIMESTAMP NOT NULL
        );
    """)),
    Migration(9, "paper.catalog.refreshes: whether a printed table's later years exist (a KOSIS series, an "
                 "annual successor not yet catalogued) or it is a one-off document", _sql("""
        ALTER TABLE paper.catalog ADD COLUMN IF NOT EXISTS refreshes VARCHAR;
    """)),
    Migration(10, "kosis.observations English labels as sent: itm_nm_eng, c1_nm_eng .. c8_nm_eng, unit_nm_eng "
                  "(NULL for vintages loaded before, and where the service sends none)", _sql("\n".join(
                      f"ALTER TABLE kosis.observations ADD COLUMN IF NOT EXISTS {name} VARCHAR;"
                      for name in ("itm_nm_eng", *(f"c{i}_nm_eng" for i in range(1, 9)), "unit_nm_eng")))),
    Migration(11, "quality.check_results.passed NULL for a check that did not run (why: details.not_run), never "
                  "recorded as failed", _passed_nullable),
)
LATEST = MIGRATIONS[-1].version

_READY: set[str] = set()  # database files whose schema this process has set up


def database_file(con: duckdb.DuckDBPyConnection) -> str:
    """The file (or, for a lake, the catalog's connection string) of the connection's default database."""
    rows = con.execute("SELECT path, type FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    row = rows[0] if rows else None
    if row and row[1] == "ducklake":
        return f"ducklake:{row[0]}"
    return str(Path(row[0]).resolve()) if row and row[0] else ":memory:"


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    try:
        # fetchall, not fetchone: a result left unexhausted keeps its transaction open on this connection (the run's
        # connection lives for the whole run, and an open transaction there blocks the publication's CHECKPOINT).
        return con.execute("SELECT max(version) FROM meta.schema_migrations").fetchall()[0][0]
    except duckdb.CatalogException:
        return None


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Applies the migrations this file has not recorded, in order, each in one transaction with its record."""
    con.execute(meta_ddl(lake=is_lake(con)))
    applied = {r[0] for r in con.execute("SELECT version FROM meta.schema_migrations").fetchall()}
    done = []
    for migration in MIGRATIONS:
        if migration.version in applied:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            migration.apply(con)
            insert_rows(con, "meta.schema_migrations", [{"version": migration.version, "applied_at": utc_now(),
                                                         "description": migration.description}])
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        done.append(migration.version)
    return done


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def observations_ddl() -> str:
    """kosis.observations, from the one definition of the row (schemas/kosis.py: OBSERVATION_ROW)."""
    columns = ",\n    ".join(f"{c.name} {c.dtype}{'' if c.nullable else ' NOT NULL'}" for c in OBSERVATION_ROW)
    return f"CREATE TABLE IF NOT EXISTS kosis.observations (\n    {columns}\n)"


def observations_comments(views: bool) -> list[str]:
    """Comments of kosis.observations and, with ``views`` (DuckLake cannot comment on a view's columns), of the
    columns of its view kosis.observations_current, from OBSERVATION_ROW."""
    statements = [f"COMMENT ON TABLE kosis.observations IS {_quote(OBSERVATIONS_DESCRIPTION)}"]
    statements += [f"COMMENT ON COLUMN kosis.observations.{c.name} IS {_quote(c.description)}" for c in OBSERVATION_ROW]
    if views:
        statements += [f"COMMENT ON COLUMN kosis.observations_current.{c.name} IS "
                       f"{_quote('Always NULL here (current vintage)' if c.name == 'valid_to' else c.description)}"
                       for c in OBSERVATION_ROW]
    return statements


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Tables, migrations, views and comments: once per process and database file. A file seen before is
    checked with one query (its recorded version), so a file replaced under the same path is set up again."""
    path = database_file(con)
    lake = is_lake(con)
    # A lake is shared by many processes: one that finds the latest version set up leaves it be (re-creating the
    # views would add a catalog snapshot per process and conflict with other writers doing the same).
    if (path in _READY or lake) and schema_version(con) == LATEST:
        _READY.add(path)
        return
    con.execute((SQL_DIR / "warehouse.sql").read_text(encoding="utf-8"))
    con.execute(warehouse_ddl(lake=lake, placeholders=PLACEHOLDER_TABLES))
    con.execute(observations_ddl())
    apply_migrations(con)
    views = (SQL_DIR / "views.sql").read_text(encoding="utf-8")
    if not lake:
        con.execute(views)
    else:  # DuckLake cannot comment on a view's columns: those comments are the file backend's (and the dictionary's)
        for statement in duckdb.extract_statements(views):  # views.sql brackets its comments in one transaction
            if not _is_view_column(con, statement.query):
                con.execute(statement)
    con.execute("BEGIN TRANSACTION")  # one commit for them all: much faster than one per statement
    for statement in (*warehouse_comments(), *observations_comments(views=not lake)):
        con.execute(statement)
    con.execute("COMMIT")
    _READY.add(path)


def _is_view_column(con: duckdb.DuckDBPyConnection, statement: str) -> bool:
    """Whether a statement is `COMMENT ON COLUMN schema.view.column IS '...'` on a view."""
    words = statement.strip().split(None, 4)
    if [w.upper() for w in words[:3]] != ["COMMENT", "ON", "COLUMN"] or len(words) < 4:
        return False
    schema, name = (words[3].split(".") + ["", ""])[:2]
    return con.execute("SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() "
                       "AND schema_name = ? AND view_name = ?", [schema, name]).fetchone()[0] > 0
