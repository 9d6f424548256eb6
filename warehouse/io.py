"""DuckDB I/O: the working warehouse (one writer at a time) and its published read-only copy."""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from schemas.registry import Column
from schemas.warehouse_tables import PUBLICATIONS
from warehouse.backend import (
    LAKE_ALIAS,
    LakeConfig,
    attach_lake,
    current_snapshot,
    is_lake,
    lake_config,
    load_lake_extensions,
    retry_on_conflict,
)
from warehouse.clock import utc_now
from warehouse.ddl import comment_statements, create_table_sql, table_ddl
from warehouse.migrations import ensure_schema
from warehouse.rows import insert_rows

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_DIR / "warehouse" / "data"
SQL_DIR = Path(__file__).resolve().parent / "sql"
DEFAULT_WAREHOUSE = DATA_DIR / "warehouse.duckdb"
# Dagster concurrency pool of every step that writes the working warehouse: DuckDB takes one writer
# process at a time, so the instance allows one step of this pool at a time (pipelines/dagster.yaml).
WAREHOUSE_POOL = "duckdb_warehouse"


def warehouse_pool() -> str | None:
    """The pool of steps that write the warehouse: the one-writer pool on the DuckDB file; none on DuckLake,
    whose writers commit concurrently (a write conflict is retried, see warehouse/backend.py)."""
    return None if os.environ.get("WAREHOUSE_URL", "").strip() else WAREHOUSE_POOL


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


# One writing command (make run, make refresh, make rollback) at a time: an advisory lock beside the warehouse, held
# for the whole command. A second command waits for it, saying so once, for as long as a refresh takes (bounded by
# REFRESH_WAIT_S, default an hour), then plans again from the new state; it never fails merely because another
# command was running. A daemon run's writer waits for it the same way (its steps hold no command lock).
COMMAND_LOCK = ".command.lock"
_COMMAND_LOCKS_HELD: set[str] = set()  # lock files this process holds (its own runs do not wait for themselves)


def refresh_wait_s() -> float:
    return float(os.environ.get("REFRESH_WAIT_S", "3600"))


def command_lock_path(database: str | Path) -> Path:
    return Path(database).parent / COMMAND_LOCK


def _lock_holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


def _wait_for_lock(handle, path: Path, wait_s: float, say, poll_s: float, keep: bool) -> None:
    deadline = time.monotonic() + wait_s
    announced = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if not keep:
                fcntl.flock(handle, fcntl.LOCK_UN)
            if announced:
                say("the other refresh finished; going on")
            return
        except BlockingIOError:
            if not announced:
                say(f"another refresh (PID {_lock_holder(path)}) is running; waiting for it to finish (up to "
                    f"{wait_s:.0f} s; REFRESH_WAIT_S)")
                announced = True
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"another refresh (PID {_lock_holder(path)}) was still running after {wait_s:.0f} s "
                    f"(REFRESH_WAIT_S): run the command again when it has finished") from None
            time.sleep(poll_s)


@contextmanager
def command_lock(database: str | Path, wait_s: float | None = None, say=print,
                 poll_s: float = 0.5) -> Iterator[None]:
    """Holds the warehouse's command lock for a command's whole run (see COMMAND_LOCK), waiting for another
    command's first; the holder's PID is in the file, so a waiting command can say whose it is."""
    path = command_lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        _wait_for_lock(handle, path, refresh_wait_s() if wait_s is None else wait_s, say, poll_s, keep=True)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        _COMMAND_LOCKS_HELD.add(str(path))
        try:
            yield
        finally:
            _COMMAND_LOCKS_HELD.discard(str(path))
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def wait_for_commands(database: str | Path, say, wait_s: float | None = None) -> None:
    """Before a writer opens the file outside a command (a run the daemon launched): waits while a command of
    another process holds the command lock."""
    path = command_lock_path(database)
    if str(path) in _COMMAND_LOCKS_HELD or not path.exists():
        return
    with open(path, "a+", encoding="utf-8") as handle:
        _wait_for_lock(handle, path, refresh_wait_s() if wait_s is None else wait_s, say, 0.5, keep=False)


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
    url: str = Field(default="", description="WAREHOUSE_URL: `ducklake:postgres:dbname=… host=…` selects the DuckLake "
                     "backend (catalog in PostgreSQL); empty: the DuckDB file at `database` (WAREHOUSE_PATH).")
    data_path: str = Field(default="", description="WAREHOUSE_DATA_PATH: the DuckLake data files' directory or "
                           "object-store URL (DuckLake only).")
    conflict_retries: int = Field(default=5, description="DuckLake: attempts of a transaction that conflicts with "
                                  "another writer's commit before the step fails.")

    @property
    def path(self) -> Path:
        """The DuckDB file; on DuckLake, the local folder's anchor (raw archive, inbox, reports beside it)."""
        return Path(self.database)

    @property
    def published(self) -> Path:
        return published_path(self.database)

    @property
    def lake(self) -> LakeConfig | None:
        return lake_config(self.url, self.data_path)

    @property
    def location(self) -> str:
        """Where the working warehouse is, for messages (no password)."""
        lake = self.lake
        return f"DuckLake {lake.redacted_url()} (data files {lake.data_path})" if lake else str(self.path)

    @property
    def published_location(self) -> str:
        lake = self.lake
        return (f"DuckLake {lake.redacted_url()} at its last published snapshot (meta.publications)" if lake
                else str(self.published))

    # The run's own connection (set up once per run, see setup_for_execution): every step's connection is a
    # cursor of it. Opening DuckDB and setting up the schema cost ~27 ms each; make run opened it 80 times.
    _run_connection: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Once per run, before any step: whether the working warehouse is locked, said at once with the holder
        and waited for a bounded time (one wait per run, not one per step); then the run's connection is opened
        and the schema set up, once. Sensors and planning, which only read, skip it (they hold no connection
        between evaluations)."""
        if context.dagster_run is None:
            return
        lake = self.lake
        if not lake:  # a lake has no writer lock to wait for
            say = context.log.warning if context.log else print
            try:
                wait_for_writer_lock(self.path, self.lock_timeout_s, say=say)
            except WarehouseLockedError:
                _GAVE_UP.add(str(self.path))  # the steps of this run then fail at once instead of waiting again
                raise
        self._run_connection = self._open_writer()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """The run's connection is closed when the run ends (its lock released for the next run or reader)."""
        if self._run_connection is not None:
            self._run_connection.close()
            self._run_connection = None

    def _open_lake(self, lake: LakeConfig, *, read_only: bool = False,
                   snapshot_version: int | None = None) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        try:
            load_lake_extensions(con)
            attach_lake(con, lake, read_only=read_only, snapshot_version=snapshot_version)
        except BaseException:
            con.close()
            raise
        return con

    def _open_writer(self) -> duckdb.DuckDBPyConnection:
        """A new writer connection with the process's settings and the schema set up."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lake = self.lake
        timeout = 0.0 if str(self.path) in _GAVE_UP else self.lock_timeout_s
        if not lake:  # a daemon run waits for a command of another process (make refresh) to finish first
            wait_for_commands(self.path, say=dg.get_dagster_logger().info)
        try:
            con = self._open_lake(lake) if lake else connect_with_retry(self.path, timeout_s=timeout)
        except WarehouseLockedError:
            _GAVE_UP.add(str(self.path))  # one wait per process: later steps do not wait the same lock again
            raise
        try:
            con.execute(f"SET memory_limit = '{self.memory_limit}'")
            # Loads need no row order (every query that does says ORDER BY): measured at 1 M cells and 256 MB,
            # DuckDB's JSON parse drops from 2.24 s to 0.94 s and its memory from 777 to 412 MiB.
            con.execute("SET preserve_insertion_order = false")
            spill = spill_root(self.path) / str(os.getpid())  # DuckDB creates this one, not its parent
            # Connections of one process to one file share a DuckDB instance: set once (a set directory that
            # has been spilled to cannot be set again, even to the same value).
            if con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0] != str(spill):
                spill.parent.mkdir(exist_ok=True)
                con.execute("SET temp_directory = '" + str(spill).replace("'", "''") + "'")
            if lake:
                retry_on_conflict(lambda: ensure_schema(con), what="setting up the lake's schema",
                                  attempts=self.conflict_retries)
            else:
                ensure_schema(con)
        except BaseException:
            con.close()
            raise
        return con

    def _run_cursor(self) -> duckdb.DuckDBPyConnection | None:
        """A connection of its own (own transaction, own temp tables) on the run's database instance, if any."""
        if self._run_connection is None:
            return None
        con = self._run_connection.cursor()
        if self.lake:
            con.execute(f"USE {LAKE_ALIAS}")  # the default database is a setting of each connection
        return con

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writer connection with the schema set up: the DuckDB file (one writer process at a time) or the
        lake attached as the default database (many writers). Within a run, a cursor of the run's connection."""
        con = self._run_cursor() or self._open_writer()
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def read_connection(self, timeout_s: float = 5.0) -> Iterator[duckdb.DuckDBPyConnection]:
        """Read-only, the latest committed state of the working warehouse (waits a bounded time for a file
        writer; a lake never blocks)."""
        lake = self.lake
        # Within a run, the run's own connection sees the latest commit too (and a second, read-only one to the
        # same file could not be opened in this process beside it).
        con = self._run_cursor() or (self._open_lake(lake, read_only=True) if lake
                                     else connect_with_retry(self.path, read_only=True, timeout_s=timeout_s))
        try:
            yield con
        finally:
            con.close()

    def exists(self) -> bool:
        """Whether the working warehouse was created (a file on disk; a lake with our schema in it)."""
        if not self.lake:
            return self.path.exists()
        try:
            with self.read_connection() as con:
                return con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                                   "AND schema_name = 'meta' AND table_name = 'schema_migrations'").fetchone()[0] > 0
        except duckdb.Error:
            return False

    def last_publication(self) -> tuple[int | None, datetime | None]:
        """(DuckLake snapshot id or None for the file, when in UTC) of the last publication; (None, None) if none."""
        lake = self.lake
        if not lake:
            published = self.published
            return None, (datetime.fromtimestamp(published.stat().st_mtime, UTC).replace(tzinfo=None)
                          if published.exists() else None)
        try:
            with self.read_connection() as con:
                row = con.execute("SELECT snapshot_id, published_at FROM meta.publications "
                                  "ORDER BY published_at DESC, snapshot_id DESC LIMIT 1").fetchone()
        except duckdb.CatalogException:
            return None, None
        return (int(row[0]), row[1]) if row else (None, None)

    @contextmanager
    def published_connection(self, timeout_s: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
        """Read-only, what analysts query: the published copy (file), or the lake attached at its last published
        snapshot (`ATTACH ... (READ_ONLY, SNAPSHOT_VERSION n)`), so a refresh in progress is never seen."""
        lake = self.lake
        if not lake:
            con = connect_published(self.published, timeout_s=timeout_s)
        else:
            snapshot, _ = self.last_publication()
            if snapshot is None:
                raise FileNotFoundError(f"nothing was published yet in {self.location}: run `make run` first")
            con = self._open_lake(lake, read_only=True, snapshot_version=snapshot)
        try:
            yield con
        finally:
            con.close()

    def write(self, work: Callable[[duckdb.DuckDBPyConnection], T], *, what: str,
              log: Callable[[str], None] | None = None) -> T:
        """`work(con)` in one transaction on a new writer connection; see `write_transaction`."""
        with self.get_connection() as con:
            return write_transaction(con, lambda: work(con), what=what, log=log, attempts=self.conflict_retries)

    def publish(self, run_id: str = "") -> Path | int:
        """Publishes the working warehouse: on the file backend a complete copy (the path is returned); on DuckLake
        the current snapshot's id recorded in meta.publications (the id is returned)."""
        return self._publish_snapshot(run_id) if self.lake else self._publish_file()

    def _publish_snapshot(self, run_id: str) -> int:
        """Records the lake's current snapshot as published. Nothing is copied: analysts attach the lake at that
        snapshot, so later commits (a refresh in progress, another writer) stay invisible until the next one."""
        def record(con: duckdb.DuckDBPyConnection) -> int:
            exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                                 "AND schema_name = 'meta' AND table_name = 'publications'").fetchall()[0][0]
            if not exists:  # commented once, when created: every later publication only appends
                con.execute(table_ddl(PUBLICATIONS, lake=True))
                for statement in comment_statements(PUBLICATIONS.qualified_name, PUBLICATIONS.description,
                                                    PUBLICATIONS.columns):
                    con.execute(statement)
            snapshot = current_snapshot(con)
            insert_rows(con, PUBLICATIONS, [{"snapshot_id": snapshot, "published_at": utc_now(), "run_id": run_id}])
            return snapshot

        return self.write(record, what="recording the publication")

    def _publish_file(self) -> Path:
        """Copies the checkpointed working file to a temporary file of this process, then renames it over the
        published copy.

        Under the writer connection: CHECKPOINT writes everything into the database file and empties the WAL, so
        the file's bytes alone are the whole database, and no write can start until the copy is done (DuckDB
        takes one writer process; this step holds it). Copying the file costs what the disk does (the old
        `COPY FROM DATABASE` rebuilt every table: 2.6 s at 1 M cells held). Should the WAL not be empty (another
        transaction kept the checkpoint from completing), the database is copied table by table instead.
        The temporary file (`published.duckdb.<pid>.<random>.tmp`, same directory) is renamed while this
        process holds the writer lock, so two publishers never share or remove each other's file, and the later
        rename is the later state. rename() is atomic: a reader that opened the old copy keeps reading the old
        file; one that opens after the swap sees the new one; nobody sees a half-written file.
        """
        target = self.published
        tmp = target.with_name(f"{target.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        wal = self.path.with_name(self.path.name + ".wal")
        with self.get_connection() as con:
            try:
                checkpointed = _checkpoint(con)
                if checkpointed and (not wal.exists() or wal.stat().st_size == 0):
                    shutil.copyfile(self.path, tmp)
                else:
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


def _checkpoint(con: duckdb.DuckDBPyConnection) -> bool:
    """CHECKPOINT; False when another transaction of this process is open (then the caller copies table by table)."""
    try:
        con.execute("CHECKPOINT")
        return True
    except duckdb.TransactionException:
        return False


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
    """The warehouse the environment selects: WAREHOUSE_PATH (the file, and the local folder of raw archive,
    inbox and reports), WAREHOUSE_URL + WAREHOUSE_DATA_PATH (DuckLake), WAREHOUSE_LOCK_TIMEOUT_S and
    WAREHOUSE_MEMORY_LIMIT (DuckDB's memory_limit, e.g. 1GB; default 256MB, beyond it DuckDB spills to disk)."""
    env = os.environ
    kwargs: dict = {}
    if env.get("WAREHOUSE_LOCK_TIMEOUT_S"):
        kwargs["lock_timeout_s"] = float(env["WAREHOUSE_LOCK_TIMEOUT_S"])
    if env.get("WAREHOUSE_MEMORY_LIMIT"):
        kwargs["memory_limit"] = env["WAREHOUSE_MEMORY_LIMIT"]
    if env.get("WAREHOUSE_URL", "").strip():
        lake_config(env["WAREHOUSE_URL"], env.get("WAREHOUSE_DATA_PATH", ""))  # a clear error at once if incomplete
        kwargs["url"] = dg.EnvVar("WAREHOUSE_URL")
        kwargs["data_path"] = dg.EnvVar("WAREHOUSE_DATA_PATH")
    return WarehouseResource(database=str(warehouse_path()), **kwargs)


# --- writing ------------------------------------------------------------------------------------------

def _as_columns(columns: list[tuple[str, str, str]]) -> list[Column]:
    # A table rebuilt from a validated frame declares no NOT NULL: the validation before the write enforces it.
    return [Column(name, dtype, comment, nullable=True) for name, dtype, comment in columns]


def replace_table(con: duckdb.DuckDBPyConnection, qualified_name: str, df: pd.DataFrame,
                  columns: list[tuple[str, str, str]], key: tuple[str, ...] = (), description: str = "") -> int:
    """Rebuilds a table from a validated frame with explicit types and comments. The caller owns the
    transaction, so the table and anything written beside it change together or not at all."""
    con.execute(create_table_sql(qualified_name, _as_columns(columns), key, lake=is_lake(con), replace=True))
    for stmt in comment_statements(qualified_name, description, _as_columns(columns)):
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


T = TypeVar("T")


def write_transaction(con: duckdb.DuckDBPyConnection, work: Callable[[], T], *, what: str,
                      log: Callable[[str], None] | None = None, attempts: int = 5) -> T:
    """`work()` in one transaction. On a lake, a commit that conflicts with another writer's (both rebuilt the
    same table, both closed vintages of one table) is rolled back whole and `work` runs again on the newer state,
    at most `attempts` times; then the step fails with WriteConflictError. Nothing is ever half written."""
    def attempt() -> T:
        with transaction(con):
            return work()

    return retry_on_conflict(attempt, what=what, attempts=attempts, log=log) if is_lake(con) else attempt()


def quarantine_rows(con: duckdb.DuckDBPyConnection, *, source: str, rows: pd.DataFrame, run_id: str,
                    asset: str) -> int:
    if rows.empty:
        return 0
    payloads = rows.drop(columns=["reason"]).to_json(orient="records", lines=True, default_handler=str)
    now = utc_now()
    return insert_rows(con, "quality.quarantine", [
        {"source": source, "payload": payload, "reason": reason, "run_id": run_id, "asset": asset,
         "quarantined_at": now} for payload, reason in zip(payloads.splitlines(), rows["reason"], strict=True)])


def table_schema_metadata(columns: list[tuple[str, str, str]]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(n, t, description=d) for n, t, d in columns])
