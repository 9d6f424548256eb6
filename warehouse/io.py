"""DuckDB I/O: the working warehouse (one writer at a time) and its published read-only copy."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource
from pydantic import Field

from warehouse.migrations import ensure_schema

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_DIR / "warehouse" / "data"
SQL_DIR = Path(__file__).resolve().parent / "sql"
DEFAULT_WAREHOUSE = DATA_DIR / "warehouse.duckdb"
# Dagster concurrency pool of every step that writes the working warehouse: DuckDB takes one writer
# process at a time, so the instance allows one step of this pool at a time (pipelines/dagster.yaml).
WAREHOUSE_POOL = "duckdb_warehouse"


def warehouse_path() -> Path:
    return Path(os.environ.get("WAREHOUSE_PATH", str(DEFAULT_WAREHOUSE)))


def published_path(working: Path | str) -> Path:
    """The published copy sits beside the working warehouse (warehouse/data/published.duckdb)."""
    return Path(working).with_name("published.duckdb")


class WarehouseLockedError(RuntimeError):
    pass


def connect_with_retry(path: str | Path, *, read_only: bool = False, timeout_s: float = 30.0,
                       poll_s: float = 0.5) -> duckdb.DuckDBPyConnection:
    """Opens DuckDB, waiting a bounded time for another process's lock; never hangs."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"DuckDB file {path} is locked by another process and stayed locked for "
                    f"{timeout_s:.0f} s; close that session (analysts: query published.duckdb instead). "
                    f"DuckDB said: {exc}"
                ) from exc
            time.sleep(poll_s)


def lock_holder(message: str) -> str:
    """'PID n (its command line)' from DuckDB's lock error, where the OS tells; '' if it does not say."""
    match = re.search(r"PID (\d+)", message)
    if not match:
        return ""
    pid = match.group(1)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        cmdline = ""
    return f"PID {pid}" + (f" ({cmdline[:200]})" if cmdline else "")


def wait_for_writer_lock(path: str | Path, timeout_s: float, say=print, poll_s: float = 0.5) -> None:
    """Finds out once, before a command runs anything, whether a writer can open the working warehouse.
    If another process holds it: says so at once (who, and what to do), waits up to `timeout_s` with a
    visible line, then raises WarehouseLockedError naming the holder. One wait per command, not per step."""
    path = Path(path)
    if not path.exists():
        return
    deadline = time.monotonic() + timeout_s
    announced = False
    while True:
        try:
            duckdb.connect(str(path)).close()
            if announced:
                say("the lock was released; going on")
            return
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            holder = lock_holder(str(exc)) or "another process"
            if not announced:
                say(f"The working warehouse {path} is locked by {holder}. Close that session (analysts query "
                    f"{published_path(path).name}, never the working file).")
                say(f"waiting for the lock held by {holder} (up to {timeout_s:.0f} s; WAREHOUSE_LOCK_TIMEOUT_S)...")
                announced = True
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"the working warehouse {path} is locked by {holder} and stayed locked for {timeout_s:.0f} s: "
                    f"close that session (analysts query {published_path(path).name}) and run the command again"
                ) from None
            time.sleep(poll_s)


def spill_root(database: str | Path) -> Path:
    """Where DuckDB spills beyond memory_limit: inside the warehouse folder, one directory per process."""
    return Path(database).parent / ".duckdb_tmp"


def remove_orphaned_spill_dirs(database: str | Path) -> list[Path]:
    """Removes the spill directories of processes that no longer run (a killed run leaves its own behind)."""
    removed = []
    root = spill_root(database)
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        if path.is_dir() and path.name.isdigit() and not Path(f"/proc/{path.name}").exists():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


# Working warehouses this process already waited for in vain (see WarehouseResource.get_connection).
_GAVE_UP: set[str] = set()


class WarehouseResource(DuckDBResource):
    """The working warehouse. Writers are serialized by DuckDB's file lock (and by the run queue);
    a lock held elsewhere is waited for `lock_timeout_s`, then the step fails naming the file."""

    lock_timeout_s: float = Field(default=60.0, description="How long to wait for another writer's lock.")
    memory_limit: str = Field(default="256MB", description="DuckDB memory_limit: beyond it, DuckDB spills to disk.")

    @property
    def path(self) -> Path:
        return Path(self.database)

    @property
    def published(self) -> Path:
        return published_path(self.database)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Once per run, before any step: whether the working warehouse is locked, said at once with the holder
        and waited for a bounded time (one wait per run, not one per step). Sensors and planning, which only
        read, skip it."""
        if context.dagster_run is None:
            return
        say = context.log.warning if context.log else print
        try:
            wait_for_writer_lock(self.path, self.lock_timeout_s, say=say)
        except WarehouseLockedError:
            _GAVE_UP.add(str(self.path))  # the steps of this run then fail at once instead of waiting again
            raise

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        timeout = 0.0 if str(self.path) in _GAVE_UP else self.lock_timeout_s
        try:
            con = connect_with_retry(self.path, timeout_s=timeout)
        except WarehouseLockedError:
            _GAVE_UP.add(str(self.path))  # one wait per process: later steps do not wait the same lock again
            raise
        try:
            con.execute(f"SET memory_limit = '{self.memory_limit}'")
            spill = spill_root(self.path) / str(os.getpid())  # DuckDB creates this one, not its parent
            # Connections of one process to one file share a DuckDB instance: set once (a set directory that
            # has been spilled to cannot be set again, even to the same value).
            if con.execute("SELECT current_setting('temp_directory')").fetchone()[0] != str(spill):
                spill.parent.mkdir(exist_ok=True)
                con.execute("SET temp_directory = '" + str(spill).replace("'", "''") + "'")
            ensure_schema(con)
            yield con
        finally:
            con.close()

    def publish(self) -> Path:
        """Writes a complete copy to a temporary file of this process, then renames it over the published copy.

        The temporary file (`published.duckdb.<pid>.<random>.tmp`, same directory) is created, written and
        renamed while this process holds the working warehouse's writer lock, so two publishers (two
        processes) never share or remove each other's file, and the later one's rename is the later state.
        rename() is atomic: a reader that opened the old copy keeps reading the old file; one that opens
        after the swap sees the new one; nobody sees a half-written file.
        """
        target = self.published
        tmp = target.with_name(f"{target.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        with self.get_connection() as con:
            try:
                con.execute("CHECKPOINT")
                con.execute("ATTACH '" + str(tmp).replace("'", "''") + "' AS publish_tmp")
                try:
                    db = con.execute("SELECT current_database()").fetchone()[0]
                    con.execute(f'COPY FROM DATABASE "{db}" TO publish_tmp')
                finally:
                    con.execute("DETACH publish_tmp")
                os.replace(tmp, target)  # still under the writer lock
            finally:
                for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                    leftover.unlink(missing_ok=True)
        return target


def connect_published(path: str | Path, *, timeout_s: float = 30.0, poll_s: float = 0.5) -> duckdb.DuckDBPyConnection:
    """Opens the published copy read-only. If another process holds a read-write session on it (someone
    opened it without read_only), waits a bounded time, then fails with a message naming the file."""
    try:
        return connect_with_retry(path, read_only=True, timeout_s=timeout_s, poll_s=poll_s)
    except WarehouseLockedError as exc:
        raise WarehouseLockedError(
            f"The published copy {path} is held open read-write by another process (stayed so for "
            f"{timeout_s:.0f} s); open it with read_only=True (duckdb -readonly) so readers and the pipeline can "
            f"share it. {exc}"
        ) from None


class SourceFiles(dg.ConfigurableResource):
    """Where the files shipped with the repository are read from (tests point it at a copy)."""

    root: str = Field(default=str(PROJECT_DIR / "assets" / "sources"))


def default_warehouse() -> WarehouseResource:
    timeout = os.environ.get("WAREHOUSE_LOCK_TIMEOUT_S")
    return WarehouseResource(database=str(warehouse_path()), **({"lock_timeout_s": float(timeout)} if timeout else {}))


# --- writing ------------------------------------------------------------------------------------------

def create_table_sql(qualified_name: str, columns: list[tuple[str, str, str]], key: tuple[str, ...]) -> str:
    cols = ",\n    ".join(f'"{name}" {dtype}' for name, dtype, _ in columns)
    pk = f",\n    PRIMARY KEY ({', '.join(key)})" if key else ""
    return f"CREATE OR REPLACE TABLE {qualified_name} (\n    {cols}{pk}\n)"


def comment_sql(qualified_name: str, description: str, columns: list[tuple[str, str, str]]) -> list[str]:
    def q(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    stmts = [f"COMMENT ON TABLE {qualified_name} IS {q(description)}"]
    stmts += [f'COMMENT ON COLUMN {qualified_name}."{n}" IS {q(d)}' for n, _, d in columns if d]
    return stmts


def replace_table(con: duckdb.DuckDBPyConnection, qualified_name: str, df: pd.DataFrame,
                  columns: list[tuple[str, str, str]], key: tuple[str, ...] = (), description: str = "") -> int:
    """Rebuilds a table from a validated frame with explicit types and comments. The caller owns the
    transaction, so the table and anything written beside it change together or not at all."""
    con.execute(create_table_sql(qualified_name, columns, key))
    for stmt in comment_sql(qualified_name, description, columns):
        con.execute(stmt)
    names = [name for name, _, _ in columns]
    con.register("_frame_to_write", df[names])
    try:
        col_list = ", ".join(f'"{n}"' for n in names)
        con.execute(f"INSERT INTO {qualified_name} ({col_list}) SELECT {col_list} FROM _frame_to_write")
    finally:
        con.unregister("_frame_to_write")
    return con.execute(f"SELECT count(*) FROM {qualified_name}").fetchone()[0]


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def record_check(con: duckdb.DuckDBPyConnection, *, run_id: str, asset: str, check_name: str, severity: str,
                 passed: bool, n_failures: int, details: str) -> None:
    con.execute(
        "INSERT INTO quality.check_results VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
        [run_id, asset, check_name, severity, passed, n_failures, details],
    )


def quarantine_rows(con: duckdb.DuckDBPyConnection, *, source: str, rows: pd.DataFrame, run_id: str,
                    asset: str) -> int:
    if rows.empty:
        return 0
    payloads = rows.drop(columns=["reason"]).to_json(orient="records", lines=True, default_handler=str)
    records = [(source, p, r, run_id, asset) for p, r in zip(payloads.splitlines(), rows["reason"], strict=True)]
    con.executemany("INSERT INTO quality.quarantine VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP)", records)
    return len(records)


def table_schema_metadata(columns: list[tuple[str, str, str]]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(n, t, description=d) for n, t, d in columns])
