"""The DuckLake backend: a lakehouse whose catalog lives in PostgreSQL and whose data files are Parquet.

Chosen by the environment (part of the contract, see the README):

- ``WAREHOUSE_URL=ducklake:postgres:dbname=… host=… port=… user=…``: the DuckLake catalog;
- ``WAREHOUSE_DATA_PATH=/some/dir/`` (or an object-store URL): where its Parquet files go.

Unset ``WAREHOUSE_URL`` keeps the default, the DuckDB file at ``WAREHOUSE_PATH``. Everything here is DuckDB
only: attaching the lake, loading its extensions from the installed wheels, making the warehouse's DDL fit
DuckLake, and retrying a transaction that lost a write conflict to another writer.
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb

# The alias of the attached lake in every connection (queries then say kosis.observations, as on a file).
LAKE_ALIAS = "lake"
# Wheels on PyPI that carry DuckDB's signed extension files, one DuckDB version each (pyproject.toml pins it).
EXTENSION_WHEELS = {"ducklake": "duckdb_extension_ducklake", "postgres_scanner": "duckdb_extension_postgres_scanner"}


class LakeConfigError(ValueError):
    pass


class WriteConflictError(RuntimeError):
    """A DuckLake transaction kept conflicting with other writers after the bounded number of retries."""


@dataclass(frozen=True)
class LakeConfig:
    url: str  # ducklake:postgres:dbname=… host=… (the whole WAREHOUSE_URL)
    data_path: str

    def redacted_url(self) -> str:
        return redact(self.url)


def redact(text: str) -> str:
    """Any password in a libpq connection string or URL replaced by ***, for messages and logs."""
    text = re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", text, flags=re.IGNORECASE)
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


def lake_config(url: str, data_path: str) -> LakeConfig | None:
    """The DuckLake settings from WAREHOUSE_URL / WAREHOUSE_DATA_PATH; None when WAREHOUSE_URL is empty."""
    url, data_path = (url or "").strip(), (data_path or "").strip()
    if not url:
        return None
    if not url.startswith("ducklake:"):
        raise LakeConfigError(f"WAREHOUSE_URL must start with 'ducklake:' (e.g. ducklake:postgres:dbname=lake "
                              f"host=127.0.0.1 port=5432 user=...), got {redact(url)!r}")
    if not data_path:
        raise LakeConfigError("WAREHOUSE_URL selects DuckLake but WAREHOUSE_DATA_PATH (the directory or object-store "
                              "URL of its data files) is not set")
    return LakeConfig(url=url, data_path=data_path)


def extension_file(name: str) -> Path | None:
    """The signed `<name>.duckdb_extension` of the installed wheel for this DuckDB version, if there is one."""
    spec = importlib.util.find_spec(EXTENSION_WHEELS[name])
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(root.glob(f"extensions/v{duckdb.__version__}/*/{name}.duckdb_extension")
                   ) or sorted(root.rglob(f"{name}.duckdb_extension"))
    return found[0] if found else None


def load_lake_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """Loads ducklake and postgres_scanner from the wheels (no network; DuckDB still checks their signatures).
    Without a wheel, INSTALL from DuckDB's repository is the fallback where it is reachable."""
    for name in EXTENSION_WHEELS:
        path = extension_file(name)
        if path is not None:
            con.execute("LOAD '" + str(path).replace("'", "''") + "'")
        else:
            con.execute(f"INSTALL {name}")
            con.execute(f"LOAD {name}")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def attach_lake(con: duckdb.DuckDBPyConnection, config: LakeConfig, *, alias: str = LAKE_ALIAS,
                read_only: bool = False, snapshot_version: int | None = None) -> None:
    """Attaches the lake (creating its catalog tables on first write) and makes it the default database."""
    options = [f"DATA_PATH {_quote(config.data_path)}"]
    if read_only:
        options.append("READ_ONLY")
    if snapshot_version is not None:
        options.append(f"SNAPSHOT_VERSION {int(snapshot_version)}")
    try:
        con.execute(f"ATTACH {_quote(config.url)} AS {alias} ({', '.join(options)})")
    except duckdb.Error as exc:  # the message repeats the connection string: no password in logs
        raise type(exc)(redact(str(exc))) from None
    con.execute(f"USE {alias}")


def current_snapshot(con: duckdb.DuckDBPyConnection, alias: str = LAKE_ALIAS) -> int:
    return int(con.execute(f"SELECT id FROM {alias}.current_snapshot()").fetchall()[0][0])


# --- DDL: one source, fitted to DuckLake -------------------------------------------------------------------
# DuckLake has no PRIMARY KEY, UNIQUE, CHECK constraints or indexes. The keys stay declared in the shared DDL
# (the file backend enforces them) and are enforced on both backends by the validation before every write.

def _drop_parenthesized(sql: str, keyword: str, *, leading_comma: bool) -> str:
    pattern = re.compile((r",\s*" if leading_comma else r"\s+") + keyword + r"\s*\(", re.IGNORECASE)
    while (match := pattern.search(sql)) is not None:
        depth, end = 1, match.end()
        while depth and end < len(sql):
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        sql = sql[:match.start()] + sql[end:]
    return sql


def lake_ddl(sql: str) -> str:
    """The same DDL without what DuckLake does not support: table-level PRIMARY KEY (...)/UNIQUE (...),
    column PRIMARY KEY/UNIQUE, and CHECK (...)."""
    for keyword in ("PRIMARY KEY", "UNIQUE"):
        sql = _drop_parenthesized(sql, keyword, leading_comma=True)
    sql = _drop_parenthesized(sql, "CHECK", leading_comma=False)
    return re.sub(r"\s+(PRIMARY KEY|UNIQUE)\b(?!\s*\()", "", sql, flags=re.IGNORECASE)


# --- write conflicts -----------------------------------------------------------------------------------------
T = TypeVar("T")


def is_write_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, duckdb.Error) and ("conflict" in text or "concurrent" in text)


def retry_on_conflict(work: Callable[[], T], *, what: str, attempts: int = 5, wait_s: float = 0.2,
                      log: Callable[[str], None] | None = None) -> T:
    """Runs `work` (one whole transaction: it must begin, write and commit) again when another writer's commit
    conflicted with it, at most `attempts` times with growing waits; then fails naming what was lost. DuckLake
    itself retries a commit whose changes do not overlap (ducklake_max_retry_count); this covers the rest."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except duckdb.Error as exc:
            if not is_write_conflict(exc):
                raise
            if attempt == attempts:
                raise WriteConflictError(
                    f"{what}: the write conflicted with other writers {attempts} times and was not committed "
                    f"(nothing of it was written); run it again. Last conflict: {redact(str(exc))}") from None
            if log:
                log(f"{what}: write conflict with another writer (attempt {attempt} of {attempts}); retrying")
            time.sleep(wait_s * (2 ** (attempt - 1)))
    raise AssertionError("unreachable")


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's default database is a DuckLake."""
    rows = con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    row = rows[0] if rows else None
    return bool(row) and row[0] == "ducklake"


def execute_ddl(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Runs DDL written once for both backends: as written on a DuckDB file, without constraints on a lake."""
    con.execute(lake_ddl(sql) if is_lake(con) else sql)
