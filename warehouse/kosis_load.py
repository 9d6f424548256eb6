"""KOSIS snapshots: archive raw bodies, parse them with DuckDB, validate, merge vintages.

The order is the provenance guarantee: a body is written to `raw/<sha[:2]>/<sha>.json` before
anything parses it; parsing reads those files (DuckDB's read_json, far faster than json + pandas);
rows failing the pandera schema go to quality.quarantine with the reason; the rest merge into
kosis.observations in one transaction (new cell: insert; changed value: close the old row and insert
the new one; unchanged: nothing), so loading the same snapshot twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from schemas.kosis import ENGLISH_FIELDS, OBSERVATION_ROW, KosisTable, observation_rules
from warehouse.io import SQL_DIR, write_transaction

RECORD_FIELDS = ("ORG_ID", "TBL_ID", "TBL_NM", "ITM_ID", "ITM_NM", "UNIT_NM", "PRD_SE", "PRD_DE", "DT", "LST_CHN_DE",
                 *(f"C{i}" for i in range(1, 9)), "C1_NM", "C2_NM", "C3_NM", *ENGLISH_FIELDS, "err")
MERGE_SQL = (SQL_DIR / "kosis_merge.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Snapshot:
    sha256: str
    path: Path
    request: str  # URL without the key, or the bundled file it replays
    origin: str  # live | bundled
    n_records: int | None  # as the client counted them; None: a large body it did not parse (DuckDB counts)
    kosis_code: str | None = None
    masked: int = 0  # occurrences of the API key masked in the body before it was archived




class ArchiveWriter:
    """One body streamed into the archive as it arrives: written to a temp file in the archive folder while its
    sha256 is computed, then moved under its name, `raw/<sha[:2]>/<sha>.json`, atomically (a crash never leaves
    half a file under a name; a body archived before is kept as it is)."""

    def __init__(self, raw_dir: Path, on_commit=None, suffix: str = ".json") -> None:
        raw_dir.mkdir(parents=True, exist_ok=True)
        self._raw_dir = raw_dir
        self._suffix = suffix  # a portal download (.csv, .xlsx) is archived as received, under its own kind
        self._on_commit = on_commit
        fd, self._tmp = tempfile.mkstemp(dir=raw_dir, prefix=f"{INCOMING_PREFIX}{os.getpid()}-")
        self._file = os.fdopen(fd, "wb")
        self._sha = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self._sha.update(chunk)
        self._file.write(chunk)

    def commit(self, request: str = "") -> tuple[str, Path]:
        self._file.close()
        sha = self._sha.hexdigest()
        path = self._raw_dir / sha[:2] / f"{sha}{self._suffix}"
        if path.exists():
            os.unlink(self._tmp)
        else:
            path.parent.mkdir(exist_ok=True)
            os.replace(self._tmp, path)
        if self._on_commit is not None:
            self._on_commit(request, sha, path)
        return sha, path

    def discard(self) -> None:
        self._file.close()
        Path(self._tmp).unlink(missing_ok=True)


INCOMING_PREFIX = ".incoming-"  # + the writing process's id: a body still arriving


def remove_orphaned_incoming(raw_dir: Path) -> list[Path]:
    """Removes the partial bodies of processes that died while a body arrived (a killed run leaves one behind)."""
    removed = []
    for path in raw_dir.glob(f"{INCOMING_PREFIX}*") if raw_dir.is_dir() else []:
        pid = path.name.removeprefix(INCOMING_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


class RawArchive:
    """The archive as the KOSIS client streams into it: one ArchiveWriter per body; `committed` maps each request
    (its URL without the key) to its last whole body, the one the client went on with (earlier ones were
    retried)."""

    def __init__(self, raw_dir: Path) -> None:
        self.raw_dir = raw_dir
        self.committed: dict[str, tuple[str, Path]] = {}
        remove_orphaned_incoming(raw_dir)

    def writer(self) -> ArchiveWriter:
        return ArchiveWriter(self.raw_dir, on_commit=self._record)

    def _record(self, request: str, sha: str, path: Path) -> None:
        self.committed[request] = (sha, path)


def archive(body: bytes, raw_dir: Path, suffix: str = ".json") -> tuple[str, Path]:
    """A body already in memory (an offline file), archived as a streamed one is.

    The caller masks the API key first: the sha256 is that of the body as stored."""
    writer = ArchiveWriter(raw_dir, suffix=suffix)
    writer.write(body)
    return writer.commit()


def _read_json_sql(paths: list[Path]) -> str:
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    columns = ", ".join(f"{f}: 'VARCHAR'" for f in RECORD_FIELDS)
    return f"read_json([{files}], format = 'array', columns = {{{columns}}}, filename = true)"


# The staging SELECT: every column of the observation row that comes from the record (schemas/kosis.py:
# OBSERVATION_ROW), plus what only staging needs: the table's name and the record's own err (quarantined if set).
STAGING_ONLY = {"tbl_nm": "TBL_NM", "err": "err"}
PARSE_SELECT = ("SELECT " + ", ".join([*(f"{c.staged_as} AS {c.name}" for c in OBSERVATION_ROW if c.staged_as),
                                       *(f"{expr} AS {name}" for name, expr in STAGING_ONLY.items())])
                + " FROM {source}")
STAGED = "kosis_staged"
COUNTS = "kosis_stage_counts"
NO_RECORDS = "(SELECT " + ", ".join(f"NULL::VARCHAR AS {f}" for f in (*RECORD_FIELDS, "filename")) + ")"


def _parse_select(source: str) -> str:
    return PARSE_SELECT.replace("{source}", source)


class ConservationError(RuntimeError):
    """A snapshot whose records are not all accounted for (received != loaded + quarantined + skipped)."""


def stage_snapshots(con: duckdb.DuckDBPyConnection, snapshots: list[Snapshot], years: set[int] | None = None,
                    append: bool = False, skip_unselected: bool = False,
                    parse_records: Callable[[bytes], list[dict]] | None = None) -> int:
    """Parses the archived files with DuckDB into the temp table `kosis_staged`: one row per record received
    (its rowid numbers the rows for validation and quarantine). Nothing is dropped: a record whose period's
    year is not among ``years`` is staged with in_request = false and quarantined ("period outside the
    request"); a malformed period has in_request NULL and is quarantined as malformed.

    The one exception is ``skip_unselected`` (offline replay of multi-year files, whose other years belong to
    other partitions or other files): records of a well-formed year not in ``years`` are not staged and are
    counted as skipped. Per snapshot, `kosis_stage_counts` holds records parsed and skipped.

    A body DuckDB cannot read (KOSIS's unquoted keys), or reads into another number of rows than the client
    counted, is parsed by ``parse_records`` (the source's own parser) instead, from the same archived bytes."""
    if not append:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED} AS SELECT *, NULL::BOOLEAN AS in_request FROM ("
                    f"{_parse_select(NO_RECORDS)}) WHERE false")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {COUNTS} (snapshot_sha256 VARCHAR, parsed BIGINT, skipped BIGINT)")
    unique = {s.sha256: s for s in snapshots if s.n_records is None or s.n_records > 0}
    if unique:
        in_request = "NULL::BOOLEAN" if years is None else (
            f"CASE WHEN year IS NULL THEN NULL ELSE year IN ({', '.join(str(int(y)) for y in years) or 'NULL'}) END")
        # Parsed straight into the staging table (no intermediate copy); this call's rows are those from `first`.
        first = con.execute(f"SELECT coalesce(max(rowid) + 1, 0) FROM {STAGED}").fetchone()[0]
        batch = _Batch(con, first, in_request, parse_records)
        batch.parse(list(unique.values()))
        skip = f"{bool(skip_unselected and years is not None)} AND coalesce(NOT in_request, false)"
        con.execute(f"INSERT INTO {COUNTS} SELECT snapshot_sha256, count(*), count(*) FILTER ({skip}) FROM {STAGED} "
                    f"WHERE rowid >= {first} GROUP BY snapshot_sha256")
        if skip_unselected and years is not None:
            con.execute(f"DELETE FROM {STAGED} WHERE rowid >= {first} AND {skip}")
    return con.execute(f"SELECT count(*) FROM {STAGED}").fetchone()[0]


@dataclass
class _Batch:
    """The rows one stage_snapshots call adds to the staging table: those with rowid >= first."""

    con: duckdb.DuckDBPyConnection
    first: int
    in_request: str
    parse_records: Callable[[bytes], list[dict]] | None

    def _insert(self, source: str) -> None:
        self.con.execute(f"INSERT INTO {STAGED} SELECT *, {self.in_request} AS in_request "
                         f"FROM ({_parse_select(source)})")

    def parse(self, snapshots: list[Snapshot]) -> None:
        """All files in one DuckDB read; files it cannot read, or reads into another count of rows than the
        client counted (n_records, when it counted them), go through the source's parser one by one."""
        try:
            self._insert(_read_json_sql([s.path for s in snapshots]))
        except duckdb.Error:
            self.con.execute(f"DELETE FROM {STAGED} WHERE rowid >= {self.first}")
            for snapshot in snapshots:
                try:
                    self._insert(_read_json_sql([snapshot.path]))
                except duckdb.Error:
                    self._insert_repaired(snapshot)
        counts = dict(self.con.execute(f"SELECT snapshot_sha256, count(*) FROM {STAGED} WHERE rowid >= {self.first} "
                                       f"GROUP BY 1").fetchall())
        for snapshot in snapshots:
            if snapshot.n_records is not None and counts.get(snapshot.sha256, 0) != snapshot.n_records:
                self.con.execute(f"DELETE FROM {STAGED} WHERE rowid >= {self.first} AND snapshot_sha256 = ?",
                                 [snapshot.sha256])
                self._insert_repaired(snapshot)

    def _insert_repaired(self, snapshot: Snapshot) -> None:
        if self.parse_records is None:
            raise UnreadableSnapshot(f"DuckDB cannot read the archived body {snapshot.path.name} "
                                     f"({snapshot.request}) and no parser of the source was given")
        try:
            records = self.parse_records(snapshot.path.read_bytes())
        except ValueError as exc:
            raise UnreadableSnapshot(f"the archived body {snapshot.path.name} ({snapshot.request}) cannot be read "
                                     f"as KOSIS records: {exc}") from None
        import polars as pl  # only for a body DuckDB cannot read: not worth its import time in every process

        frame = pl.DataFrame([{f: r.get(f) for f in RECORD_FIELDS} for r in records],
                             schema={f: pl.Utf8 for f in RECORD_FIELDS}
                             ).with_columns(filename=pl.lit(str(snapshot.path)))
        self.con.register("_repaired", frame)
        try:
            self._insert("_repaired")
        finally:
            self.con.unregister("_repaired")


class UnreadableSnapshot(RuntimeError):
    """An archived body that neither DuckDB nor the source's own parser reads as records."""


REJECTED = "kosis_rejected"


@dataclass
class StagedValidation:
    """The verdict of the observation rules on the staged rows: `kosis_rejected` (rid, reason) holds every
    row that breaks a rule, with all the rules it breaks; `failures` shows the first of them."""

    rules_run: int
    n_rejected: int
    failures: list[dict]  # up to FAILURES_SHOWN: row, column, check, failure_case (the value as received)
    by_rule: dict[str, int]  # rule name -> rows breaking it (only rules that some row breaks)

    @property
    def passed(self) -> bool:
        return self.n_rejected == 0

    def summary(self, limit: int = 20) -> list[dict]:
        return self.failures[:limit]


FAILURES_SHOWN = 50


def validate_staged(con: duckdb.DuckDBPyConnection, table: KosisTable, check_items: bool = True) -> StagedValidation:
    """Runs the registry's observation rules (schemas/kosis.py) as one SQL pass over the whole staging table
    and writes the rows that break any of them, with every reason, to the temp table `kosis_rejected`.

    Rows must belong to the requested table (ORG_ID, TBL_ID) and, when the catalog names items (not ALL) and
    ``check_items`` (live requests; an offline replay requested nothing, and the bundled files use PAPER_*
    items), to one of those items. The region is read on the entry's region_level and must map to a region in the
    row's year (`stage_region_codes`): a code the service uses that maps to no region is quarantined with that
    reason, never dropped later by a join."""
    items = None if not check_items or table.itm_id.strip().upper() == "ALL" else tuple(
        c for c in re.split(r"[+\s]", table.itm_id) if c)
    stage_region_codes(con, table)
    rules = observation_rules(table.prd_se_label, table.region_level, table.region_code_system, table.org_id,
                              table.tbl_id, items)
    broken = ", ".join(f"CASE WHEN NOT coalesce({r.passes}, false) THEN {i} END" for i, r in enumerate(rules))
    level = table.region_level
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kosis_rule_failures AS
        SELECT rid, unnest(broken) AS rule FROM (
            SELECT rid, list_filter([{broken}], x -> x IS NOT NULL) AS broken
            FROM (SELECT s.rowid AS rid, s.*,
                         EXISTS (SELECT 1 FROM {LOAD_REGIONS} m WHERE m.code = s.{level}
                                 AND s.year BETWEEN m.valid_from_year AND m.valid_to_year) AS region_mapped
                  FROM {STAGED} s))
        WHERE len(broken) > 0""")
    con.execute("CREATE OR REPLACE TEMP TABLE kosis_rules (rule INTEGER, rule_column VARCHAR, name VARCHAR, "
                "reason VARCHAR)")
    con.executemany("INSERT INTO kosis_rules VALUES (?, ?, ?, ?)",
                    [[i, r.column, r.name, r.reason] for i, r in enumerate(rules)])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {REJECTED} AS
        SELECT rid, string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reason
        FROM kosis_rule_failures JOIN kosis_rules USING (rule) GROUP BY rid""")
    n_rejected = con.execute(f"SELECT count(*) FROM {REJECTED}").fetchone()[0]
    by_rule = dict(con.execute("SELECT name, count(*) FROM kosis_rule_failures JOIN kosis_rules USING (rule) "
                               "GROUP BY name ORDER BY name").fetchall())
    failures = []
    if n_rejected:
        shown = con.execute(f"""
            SELECT f.rid, k.rule_column, k.name, to_json(s)::VARCHAR
            FROM (SELECT * FROM kosis_rule_failures ORDER BY rid, rule LIMIT {FAILURES_SHOWN}) f
            JOIN kosis_rules k USING (rule) JOIN (SELECT rowid AS rid, * EXCLUDE (cell_key) FROM {STAGED}) s USING (rid)
            ORDER BY f.rid, f.rule""").fetchall()
        for rid, column, name, row in shown:
            values = json.loads(row)
            failures.append({"column": column, "check": name, "index": rid,
                             "failure_case": str(values.get(column)) if column in values else row})
    return StagedValidation(len(rules), n_rejected, failures, by_rule)




LOAD_REGIONS = "kosis_load_regions"


def stage_region_codes(con: duckdb.DuckDBPyConnection, table: KosisTable) -> int:
    """The region codes a table's rows may carry on its region axis, with the years each maps in, into the temp
    table `kosis_load_regions` (code, region_code, valid_from_year, valid_to_year): the entry's own region_codes
    (region_code_system `table`), else the rows of reference.region_code_map for its code system."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {LOAD_REGIONS} (code VARCHAR, region_code VARCHAR, "
                "valid_from_year INTEGER, valid_to_year INTEGER)")
    if table.region_code_system == "table":
        con.executemany(f"INSERT INTO {LOAD_REGIONS} VALUES (?, ?, 1900, 9999)",
                        sorted(table.region_codes.items()))
    else:
        con.execute(f"INSERT INTO {LOAD_REGIONS} SELECT code, region_code, coalesce(valid_from_year, 1900), "
                    "coalesce(valid_to_year, 9999) FROM reference.region_code_map WHERE code_system = ?",
                    [table.region_code_system])
    return con.execute(f"SELECT count(*) FROM {LOAD_REGIONS}").fetchone()[0]


@dataclass(frozen=True)
class Accounting:
    """What became of one snapshot's records. The invariant, checked before anything is written:

        n_records (received: the records the client or the offline reader counted in the body; for a large body
                   the client did not parse, the records DuckDB read from the archived copy)
          = n_loaded (passed validation and merged: new, revised or unchanged, i.e. already current)
          + n_quarantined (rows sent to quality.quarantine with the reason)
          + n_skipped (offline replay only: records of years another partition or file provides)
    """

    sha256: str
    n_records: int
    n_loaded: int
    n_quarantined: int
    n_skipped: int

    @property
    def balanced(self) -> bool:
        return self.n_records == self.n_loaded + self.n_quarantined + self.n_skipped


def account(con: duckdb.DuckDBPyConnection, snapshots: list[Snapshot],
            validation: StagedValidation) -> dict[str, Accounting]:
    """Per snapshot: received = loaded + quarantined + skipped, or a ConservationError naming the snapshot."""
    rows = con.execute(f"""
        SELECT s.snapshot_sha256, count(*) FILTER (r.rid IS NULL), count(r.rid)
        FROM (SELECT rowid AS rid, snapshot_sha256 FROM {STAGED}) s LEFT JOIN {REJECTED} r USING (rid)
        GROUP BY 1""").fetchall()
    staged = {sha: (loaded, quarantined) for sha, loaded, quarantined in rows}
    counts = con.execute(f"SELECT snapshot_sha256, sum(parsed), sum(skipped) FROM {COUNTS} GROUP BY 1").fetchall()
    parsed = {sha: int(n) for sha, n, _ in counts}
    skipped = {sha: int(n) for sha, _, n in counts}
    out: dict[str, Accounting] = {}
    for s in snapshots:
        if s.sha256 in out:
            continue
        loaded, quarantined = staged.pop(s.sha256, (0, 0))
        received = parsed.get(s.sha256, 0) if s.n_records is None else s.n_records
        out[s.sha256] = Accounting(s.sha256, received, loaded, quarantined, int(skipped.get(s.sha256) or 0))
    broken = [a for a in out.values() if not a.balanced]
    if staged:
        broken += [Accounting(sha, 0, lo, qu, 0) for sha, (lo, qu) in staged.items()]
    if broken:
        raise ConservationError("records not accounted for, nothing was written: " + "; ".join(
            f"snapshot {a.sha256[:16]}: received {a.n_records} != loaded {a.n_loaded} + quarantined "
            f"{a.n_quarantined} + skipped {a.n_skipped}" for a in broken))
    return out


@dataclass
class MergeResult:
    inserted_new: int
    revised: int
    unchanged: int
    quarantined: int
    accounting: dict[str, Accounting] = field(default_factory=dict)  # per snapshot sha256


QUARANTINE_SQL = f"""
INSERT INTO quality.quarantine (source, payload, reason, run_id, asset, quarantined_at)
SELECT ?, to_json(s) :: JSON, r.reason, ?, ?, ?
FROM (SELECT rowid AS rid, * EXCLUDE (cell_key) FROM {STAGED}) s JOIN {REJECTED} r USING (rid)
"""


# A snapshot seen before (same sha256) is recorded once. MERGE rather than a key: the lake has no keys.
RECORD_SNAPSHOT_SQL = """
MERGE INTO kosis.snapshots AS t
USING (SELECT * FROM (VALUES (?, ?, ?, ?, ?, ?::TIMESTAMP, ?::INTEGER, ?, ?, ?, ?::INTEGER, ?::INTEGER, ?::INTEGER,
                              ?::INTEGER))
       AS v(snapshot_sha256, catalog_id, org_id, tbl_id, request, fetched_at, n_records, path, origin, kosis_code,
            masked, n_loaded, n_quarantined, n_skipped)) AS s
ON t.snapshot_sha256 = s.snapshot_sha256
WHEN NOT MATCHED THEN INSERT BY NAME
"""


def merge(con: duckdb.DuckDBPyConnection, table: KosisTable, snapshots: list[Snapshot],
          validation: StagedValidation, *, run_id: str, asset: str, now: datetime) -> MergeResult:
    """Checks that every record is accounted for (`account`), records the snapshots with their counts,
    quarantines rejected rows and merges the valid staged ones: the caller wraps this in one transaction so
    a table's load is all or nothing."""
    accounting = account(con, snapshots, validation)
    for s in snapshots:
        a = accounting[s.sha256]
        con.execute(RECORD_SNAPSHOT_SQL,
                    [s.sha256, table.id, table.org_id, table.tbl_id, s.request, now, a.n_records, str(s.path),
                     s.origin, s.kosis_code, s.masked, a.n_loaded, a.n_quarantined, a.n_skipped])
    con.execute(QUARANTINE_SQL, [f"kosis:{table.org_id}/{table.tbl_id}", run_id, asset, now])
    close, insert = duckdb.extract_statements(MERGE_SQL.replace("$now", f"TIMESTAMP '{now.isoformat(sep=' ')}'"))
    revised = con.execute(close).fetchone()[0]
    inserted = con.execute(insert).fetchone()[0]
    valid = con.execute(f"SELECT count(*) FROM {STAGED}").fetchone()[0] - validation.n_rejected
    return MergeResult(inserted - revised, revised, valid - inserted, validation.n_rejected, accounting)


# --- everything after the fetch, in one write transaction (the asset, the tests' loader and the benchmark call it) --

UPDATE_TABLE_SQL = """
UPDATE kosis.tables SET
    tbl_nm = coalesce(?, tbl_nm),
    last_period = (SELECT max(prd_de) FROM kosis.observations_current o
                   WHERE o.org_id = kosis.tables.org_id AND o.tbl_id = kosis.tables.tbl_id),
    last_lst_chn_de = (SELECT max(lst_chn_de) FROM kosis.observations_current o
                       WHERE o.org_id = kosis.tables.org_id AND o.tbl_id = kosis.tables.tbl_id),
    last_checked_at = ?
WHERE id = ?
"""

# MERGE, not ON CONFLICT: DuckLake tables have no keys; the same statement runs on both backends.
_PERIOD_SOURCE = ("(SELECT ?::VARCHAR AS catalog_id, ?::INTEGER AS year, ?::VARCHAR AS update_de, "
                  "?::TIMESTAMP AS recorded_at)")
RECORD_UPDATE_SQL = f"""
MERGE INTO kosis.period_updates AS t USING {_PERIOD_SOURCE} AS s
ON t.catalog_id = s.catalog_id AND t.year = s.year
WHEN MATCHED AND t.update_de <> s.update_de THEN UPDATE SET update_de = s.update_de, recorded_at = s.recorded_at
WHEN NOT MATCHED THEN INSERT BY NAME
"""
RECORD_READ_SQL = f"""
MERGE INTO kosis.period_updates AS t USING {_PERIOD_SOURCE} AS s
ON t.catalog_id = s.catalog_id AND t.year = s.year
WHEN NOT MATCHED THEN INSERT BY NAME
"""


def request_scope(table: KosisTable) -> str:
    """SQL over kosis.observations (alias o) selecting the cells a full read of the entry asks for: every level
    requested as explicit codes (not ALL) narrows it, and so do explicit items."""
    conditions = [f"o.org_id = '{table.org_id}'", f"o.tbl_id = '{table.tbl_id}'"]
    for level, wanted in enumerate(table.obj_levels, start=1):
        codes = [c for c in re.split(r"[+\s]", str(wanted)) if c]
        if codes and "ALL" not in (c.upper() for c in codes):
            conditions.append(f"o.c{level} IN ({', '.join(repr(c) for c in codes)})")
    if table.itm_id.strip().upper() != "ALL":
        items = [c for c in re.split(r"[+\s]", table.itm_id) if c]
        conditions.append(f"o.itm_id IN ({', '.join(repr(c) for c in items)})")
    return " AND ".join(conditions)


@dataclass
class LoadRequest:
    """What a run fetched for one catalog entry, and what it may change. ``years``: the years the run owns (its
    partitions); ``full_read``: the bodies are a whole live read of those years, so a current cell of one of them
    that no body has any more is closed (the service dropped it); ``service_dates``: for a live read, the
    service's date of each year read (getMeta NCD), recorded in kosis.period_updates (None: offline)."""

    table: KosisTable
    files: list[tuple[Snapshot, set[int]]]
    years: list[int]
    offline: bool
    run_id: str
    asset: str
    now: datetime
    service_dates: dict[int, str] | None = None
    rejected_entry: str = ""
    full_read: bool = False
    parse_records: Callable[[bytes], list[dict]] | None = None


@dataclass
class LoadResult:
    snapshots: list[Snapshot]
    validation: StagedValidation
    merged: MergeResult
    staged: int
    rolled_back_skipped: list[str]
    closed_absent: int  # current cells of the years read that the service no longer serves: closed
    tbl_nm: str | None
    current_cells: int
    last_period: str | None
    cells_by_year: dict[int, int]  # current cells of the table per year after the load
    preview: object  # a pandas frame of the latest rows


def load(con: duckdb.DuckDBPyConnection, request: LoadRequest, *,
         before_commit: Callable[[duckdb.DuckDBPyConnection, LoadResult], object] | None = None,
         attempts: int = 5, log: Callable[[str], None] | None = None) -> tuple[LoadResult, object]:
    """Stage, validate, account, quarantine, merge, close the cells a full re-read no longer has, record the
    table's state and the years read, and ``before_commit`` (the caller's check row), all in one transaction: a
    failure anywhere leaves the warehouse as it was. Returns the result and what ``before_commit`` returned."""
    table = request.table
    # A body rolled back (make rollback) is never merged again: the same bytes would re-apply what was undone.
    rolled_back = {r[0] for r in con.execute("SELECT snapshot_sha256 FROM kosis.rollbacks").fetchall()}
    skipped = sorted({s.sha256 for s, _ in request.files if s.sha256 in rolled_back})
    if skipped and log is not None:
        log(f"KOSIS {table.org_id}/{table.tbl_id}: not loading again the rolled-back snapshot(s) "
            f"{', '.join(sha[:16] for sha in skipped)}")
    files = [(s, y) for s, y in request.files if s.sha256 not in rolled_back]
    snapshots = [s for s, _ in files]
    staged = stage_snapshots(con, [], append=False)
    by_years: dict[frozenset[int], list[Snapshot]] = {}
    for snapshot, snapshot_years in files:  # one DuckDB read per set of years, not per file
        by_years.setdefault(frozenset(snapshot_years), []).append(snapshot)
    for snapshot_years, group in by_years.items():
        staged = stage_snapshots(con, group, years=set(snapshot_years), append=True,
                                 skip_unselected=request.offline, parse_records=request.parse_records)
    validation = validate_staged(con, table, check_items=not request.offline)

    def write() -> tuple[LoadResult, object]:
        now = request.now
        merged = merge(con, table, snapshots, validation, run_id=request.run_id, asset=request.asset, now=now)
        closed = 0
        if request.full_read and not request.rejected_entry:
            read_years = [y for (y,) in con.execute(f"SELECT DISTINCT year FROM {STAGED} WHERE in_request "
                                                    "AND year IS NOT NULL").fetchall()]
            if read_years:
                closed = con.execute(f"""
                    UPDATE kosis.observations AS o SET valid_to = TIMESTAMP '{now.isoformat(sep=' ')}'
                    WHERE o.valid_to IS NULL AND {request_scope(table)}
                      AND o.year IN ({', '.join(str(int(y)) for y in read_years)})
                      AND o.cell_key NOT IN (SELECT cell_key FROM {STAGED} WHERE cell_key IS NOT NULL)
                """).fetchone()[0]
        tbl_nm = con.execute(f"SELECT any_value(tbl_nm) FILTER (org_id = ? AND tbl_id = ?) FROM {STAGED}",
                             [table.org_id, table.tbl_id]).fetchone()[0]
        con.execute(UPDATE_TABLE_SQL, [tbl_nm, now, table.id])
        if request.service_dates is not None and table.is_kosis and not request.rejected_entry:
            # Every year read is recorded, with the service's date or '' where it gives none, even if no row of it
            # loaded (all quarantined): the planner then treats it as read, not as new.
            for year in request.years:
                con.execute(RECORD_UPDATE_SQL if year in request.service_dates else RECORD_READ_SQL,
                            [table.id, year, request.service_dates.get(year, ""), now])
        current, last_period = con.execute("SELECT count(*), max(prd_de) FROM kosis.observations_current "
                                           "WHERE org_id = ? AND tbl_id = ?", [table.org_id, table.tbl_id]).fetchone()
        by_year = dict(con.execute("SELECT year, count(*) FROM kosis.observations_current WHERE org_id = ? AND "
                                   "tbl_id = ? GROUP BY year ORDER BY year", [table.org_id, table.tbl_id]).fetchall())
        preview = con.execute(
            "SELECT itm_id, c1, c1_nm, c2, c2_nm, prd_de, value_raw, value, lst_chn_de, valid_from "
            "FROM kosis.observations_current WHERE org_id = ? AND tbl_id = ? ORDER BY prd_de DESC, c1, c2 "
            "LIMIT 20", [table.org_id, table.tbl_id]).df()
        result = LoadResult(snapshots, validation, merged, staged, skipped, closed, tbl_nm, current, last_period,
                            by_year, preview)
        extra = before_commit(con, result) if before_commit is not None else None
        return result, extra

    return write_transaction(con, write, what=f"merging KOSIS {table.org_id}/{table.tbl_id}", log=log,
                             attempts=attempts)


def load_into(warehouse, request: LoadRequest, *, check=None, log: Callable[[str], None] | None = None):
    """`load` on a new writer connection of the warehouse resource; ``check(con, result)`` returns the (check row,
    check result) recorded in quality.check_results in the same transaction. Returns the LoadResult and what
    ``check`` returned."""
    from warehouse.tables import record_checks

    def before_commit(con: duckdb.DuckDBPyConnection, result: LoadResult):
        if check is None:
            return None
        row, outcome = check(con, result)
        record_checks(con, (row,), run_id=request.run_id, asset=request.asset)
        return row, outcome

    with warehouse.get_connection() as con:
        return load(con, request, before_commit=before_commit, attempts=warehouse.conflict_retries, log=log)
