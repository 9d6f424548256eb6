"""KOSIS snapshots: archive raw bodies, parse them with DuckDB, validate, merge vintages.

The order is the provenance guarantee: a body is written to `raw/<sha[:2]>/<sha>.json` before
anything parses it; parsing reads those files (DuckDB's read_json, far faster than json + pandas);
rows failing the pandera schema go to quality.quarantine with the reason; the rest merge into
kosis.observations in one transaction (new cell: insert; changed value: close the old row and insert
the new one; unchanged: nothing), so loading the same snapshot twice changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl
from pandera import errors as pa_errors

from schemas.kosis import CELL_KEY_SCHEMA, DT_NUMBER_PATTERN, KosisTable, observation_schema
from warehouse.io import SQL_DIR

RECORD_FIELDS = ("ORG_ID", "TBL_ID", "TBL_NM", "ITM_ID", "ITM_NM", "UNIT_NM", "PRD_SE", "PRD_DE", "DT", "LST_CHN_DE",
                 *(f"C{i}" for i in range(1, 9)), "C1_NM", "C2_NM", "C3_NM", "err")
MERGE_SQL = (SQL_DIR / "kosis_merge.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Snapshot:
    sha256: str
    path: Path
    request: str  # URL without the key, or the bundled file it replays
    origin: str  # live | bundled
    n_records: int
    kosis_code: str | None = None
    masked: int = 0  # occurrences of the API key masked in the body before it was archived




def archive(body: bytes, raw_dir: Path) -> tuple[str, Path]:
    """Content-addressed, written once, atomically (a crash never leaves half a file under its name).

    The caller masks the API key first (the KOSIS assets do, as a last line of defence after the client):
    the sha256 is that of the body as stored."""
    sha = hashlib.sha256(body).hexdigest()
    path = raw_dir / sha[:2] / f"{sha}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, path)
    return sha, path


def _read_json_sql(paths: list[Path]) -> str:
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    columns = ", ".join(f"{f}: 'VARCHAR'" for f in RECORD_FIELDS)
    return f"read_json([{files}], format = 'array', columns = {{{columns}}}, filename = true)"


PARSE_SELECT = """
SELECT
    concat_ws('|', ORG_ID, TBL_ID, ITM_ID, coalesce(C1, ''), coalesce(C2, ''), coalesce(C3, ''), coalesce(C4, ''),
              coalesce(C5, ''), coalesce(C6, ''), coalesce(C7, ''), coalesce(C8, ''), PRD_SE, PRD_DE) AS cell_key,
    ORG_ID AS org_id, TBL_ID AS tbl_id, ITM_ID AS itm_id,
    C1 AS c1, C2 AS c2, C3 AS c3, C4 AS c4, C5 AS c5, C6 AS c6, C7 AS c7, C8 AS c8,
    C1_NM AS c1_nm, C2_NM AS c2_nm, C3_NM AS c3_nm, ITM_NM AS itm_nm, TBL_NM AS tbl_nm,
    PRD_SE AS prd_se, PRD_DE AS prd_de,
    TRY_CAST(substr(PRD_DE, 1, 4) AS INTEGER) AS year,
    -- Only a well-formed number is a value (never "1,2,3" -> 123), and only a finite one (NaN, Infinity,
    -- 1e309 and 5,000-digit strings give NULL here and are quarantined by the schema's DT check).
    (SELECT CASE WHEN isfinite(v) THEN v END FROM (SELECT CASE WHEN regexp_full_match(trim(DT), '{number}')
        THEN TRY_CAST(replace(trim(DT), ',', '') AS DOUBLE) END AS v)) AS value,
    DT AS value_raw, UNIT_NM AS unit_nm, LST_CHN_DE AS lst_chn_de,
    parse_filename(filename, true) AS snapshot_sha256,
    err
FROM {source}
"""
STAGED = "kosis_staged"
PARSED = "kosis_parsed"
COUNTS = "kosis_stage_counts"
NO_RECORDS = "(SELECT " + ", ".join(f"NULL::VARCHAR AS {f}" for f in (*RECORD_FIELDS, "filename")) + ")"


def _parse_select(source: str) -> str:
    return PARSE_SELECT.format(source=source, number=DT_NUMBER_PATTERN.replace("'", "''"))


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
    unique = {s.sha256: s for s in snapshots if s.n_records > 0}
    if unique:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {PARSED} AS SELECT * FROM ({_parse_select(NO_RECORDS)}) WHERE false")
        _parse_into(con, list(unique.values()), parse_records)
        in_request = "NULL::BOOLEAN" if years is None else (
            f"CASE WHEN year IS NULL THEN NULL ELSE year IN ({', '.join(str(int(y)) for y in years) or 'NULL'}) END")
        skip = f"{bool(skip_unselected and years is not None)} AND coalesce(NOT ({in_request}), false)"
        con.execute(f"INSERT INTO {STAGED} SELECT * FROM (SELECT *, {in_request} AS in_request FROM {PARSED} "
                    f") WHERE NOT ({skip})")
        con.execute(f"INSERT INTO {COUNTS} SELECT snapshot_sha256, count(*), count(*) FILTER ({skip}) FROM {PARSED} "
                    f"GROUP BY snapshot_sha256")
        con.execute(f"DROP TABLE {PARSED}")
    return con.execute(f"SELECT count(*) FROM {STAGED}").fetchone()[0]


def _parse_into(con: duckdb.DuckDBPyConnection, snapshots: list[Snapshot],
                parse_records: Callable[[bytes], list[dict]] | None) -> None:
    """All files in one DuckDB read; files it cannot read, or reads into another count of rows than the
    client counted (n_records), go through the client's parser one by one."""
    try:
        con.execute(f"INSERT INTO {PARSED} {_parse_select(_read_json_sql([s.path for s in snapshots]))}")
    except duckdb.Error:
        con.execute(f"DELETE FROM {PARSED}")
        for snapshot in snapshots:
            try:
                con.execute(f"INSERT INTO {PARSED} {_parse_select(_read_json_sql([snapshot.path]))}")
            except duckdb.Error:
                _insert_repaired(con, snapshot, parse_records)
    counts = dict(con.execute(f"SELECT snapshot_sha256, count(*) FROM {PARSED} GROUP BY 1").fetchall())
    for snapshot in snapshots:
        if counts.get(snapshot.sha256, 0) != snapshot.n_records:
            con.execute(f"DELETE FROM {PARSED} WHERE snapshot_sha256 = ?", [snapshot.sha256])
            _insert_repaired(con, snapshot, parse_records)


class UnreadableSnapshot(RuntimeError):
    """An archived body that neither DuckDB nor the source's own parser reads as records."""


def _insert_repaired(con: duckdb.DuckDBPyConnection, snapshot: Snapshot,
                     parse_records: Callable[[bytes], list[dict]] | None) -> None:
    if parse_records is None:
        raise UnreadableSnapshot(f"DuckDB cannot read the archived body {snapshot.path.name} ({snapshot.request}) "
                                 "and no parser of the source was given")
    try:
        records = parse_records(snapshot.path.read_bytes())
    except ValueError as exc:
        raise UnreadableSnapshot(f"the archived body {snapshot.path.name} ({snapshot.request}) cannot be read as "
                                 f"KOSIS records: {exc}") from None
    frame = pl.DataFrame([{f: r.get(f) for f in RECORD_FIELDS} for r in records],
                         schema={f: pl.Utf8 for f in RECORD_FIELDS}).with_columns(filename=pl.lit(str(snapshot.path)))
    con.register("_repaired", frame)
    try:
        con.execute(f"INSERT INTO {PARSED} {_parse_select('_repaired')}")
    finally:
        con.unregister("_repaired")


@dataclass
class StagedValidation:
    """pandera's verdict on the staged rows: which rows fail and why, or a failure naming no row."""

    failure_cases: pl.DataFrame
    rejected: pl.DataFrame  # rid, reason
    unattributed: bool  # a failure that names no row (a missing column, a wrong type): nothing may load

    @property
    def passed(self) -> bool:
        return self.failure_cases.is_empty()

    def summary(self, limit: int = 20) -> list[dict]:
        cols = [c for c in ("column", "check", "failure_case", "index") if c in self.failure_cases.columns]
        return self.failure_cases.select(cols).head(limit).cast(pl.Utf8).to_dicts()


VALIDATION_CHUNK_ROWS = 25_000


def validate_staged(con: duckdb.DuckDBPyConnection, table: KosisTable, codes: tuple[str, ...],
                    check_items: bool = True) -> StagedValidation:
    """Validates the staged rows with pandera (polars backend) in chunks, so memory stays flat however
    large the table; one value per cell and period is checked over all rows at once, on the key alone.

    Rows must belong to the requested table (ORG_ID, TBL_ID) and, when the catalog names items (not ALL) and
    ``check_items`` (live requests; an offline replay requested nothing, and the bundled files use PAPER_*
    items), to one of those items."""
    items = None if not check_items or table.itm_id.strip().upper() == "ALL" else tuple(
        c for c in re.split(r"[+\s]", table.itm_id) if c)
    schema = observation_schema(table.prd_se_label, codes, table.org_id, table.tbl_id, items)
    n_rows = con.execute(f"SELECT count(*) FROM {STAGED}").fetchone()[0]
    all_cases = []
    for offset in range(0, max(n_rows, 1), VALIDATION_CHUNK_ROWS):
        chunk = con.execute(f"SELECT * EXCLUDE (cell_key) FROM {STAGED} WHERE rowid >= ? AND rowid < ? ORDER BY rowid",
                            [offset, offset + VALIDATION_CHUNK_ROWS]).pl()
        all_cases.append(_failure_cases(schema, chunk, offset))
    keys = con.execute(f"SELECT cell_key FROM {STAGED} ORDER BY rowid").pl()
    all_cases.append(_failure_cases(CELL_KEY_SCHEMA, keys, 0))
    cases = pl.concat([c for c in all_cases if c.height], how="vertical_relaxed") if any(
        c.height for c in all_cases) else pl.DataFrame()
    empty = pl.DataFrame(schema={"rid": pl.Int64, "reason": pl.Utf8})
    if cases.is_empty():
        return StagedValidation(cases, empty, False)
    attributed = cases.filter(pl.col("index").is_not_null())
    rejected = (
        attributed.with_columns(
            rid=pl.col("index").cast(pl.Int64),
            reason=pl.col("column").fill_null("(row)") + pl.lit(": ") + pl.col("check"),
        )
        .group_by("rid").agg(pl.col("reason").unique().sort().str.join("; "))
        .sort("rid")
    )
    return StagedValidation(cases, rejected, unattributed=attributed.height < cases.height)


def _failure_cases(schema: pa.DataFrameSchema, frame: pl.DataFrame, offset: int) -> pl.DataFrame:
    try:
        schema.validate(frame, lazy=True)
        return pl.DataFrame()
    except pa_errors.SchemaErrors as err:
        cases = err.failure_cases.with_columns(pl.col("failure_case").cast(pl.Utf8))
        return cases.with_columns(pl.col("index").cast(pl.Int64) + offset)


def region_codes(con: duckdb.DuckDBPyConnection, code_system: str) -> tuple[str, ...]:
    rows = con.execute("SELECT DISTINCT code FROM reference.region_code_map WHERE code_system = ? ORDER BY 1",
                       [code_system]).fetchall()
    return tuple(r[0] for r in rows)


@dataclass(frozen=True)
class Accounting:
    """What became of one snapshot's records. The invariant, checked before anything is written:

        n_records (received: the records the client or the offline reader counted in the body)
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
    con.register("rejected_rows", validation.rejected)
    try:
        rows = con.execute(f"""
            SELECT s.snapshot_sha256, count(*) FILTER (r.rid IS NULL), count(r.rid)
            FROM (SELECT rowid AS rid, snapshot_sha256 FROM {STAGED}) s LEFT JOIN rejected_rows r USING (rid)
            GROUP BY 1""").fetchall()
    finally:
        con.unregister("rejected_rows")
    staged = {sha: (loaded, quarantined) for sha, loaded, quarantined in rows}
    skipped = dict(con.execute(f"SELECT snapshot_sha256, sum(skipped) FROM {COUNTS} GROUP BY 1").fetchall())
    out: dict[str, Accounting] = {}
    for s in snapshots:
        if s.sha256 in out:
            continue
        loaded, quarantined = staged.pop(s.sha256, (0, 0))
        out[s.sha256] = Accounting(s.sha256, s.n_records, loaded, quarantined, int(skipped.get(s.sha256) or 0))
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
INSERT INTO quality.quarantine
SELECT ?, to_json(s) :: JSON, r.reason, ?, ?, ?
FROM (SELECT rowid AS rid, * EXCLUDE (cell_key) FROM {STAGED}) s JOIN rejected_rows r USING (rid)
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
                    [s.sha256, table.id, table.org_id, table.tbl_id, s.request, now, s.n_records, str(s.path),
                     s.origin, s.kosis_code, s.masked, a.n_loaded, a.n_quarantined, a.n_skipped])
    con.register("rejected_rows", validation.rejected)
    try:
        con.execute(QUARANTINE_SQL, [f"kosis:{table.org_id}/{table.tbl_id}", run_id, asset, now])
        close, insert = duckdb.extract_statements(MERGE_SQL.replace("$now", f"TIMESTAMP '{now.isoformat(sep=' ')}'"))
        revised = con.execute(close).fetchone()[0]
        inserted = con.execute(insert).fetchone()[0]
        valid = con.execute(f"SELECT count(*) FROM {STAGED}").fetchone()[0] - validation.rejected.height
    finally:
        con.unregister("rejected_rows")
    return MergeResult(inserted - revised, revised, valid - inserted, validation.rejected.height, accounting)
