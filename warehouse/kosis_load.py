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
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandera.polars as pa
import polars as pl
from pandera import errors as pa_errors

from schemas.kosis import CELL_KEY_SCHEMA, KosisTable, observation_schema
from warehouse.io import SQL_DIR

RECORD_FIELDS = ("ORG_ID", "TBL_ID", "TBL_NM", "ITM_ID", "ITM_NM", "UNIT_NM", "PRD_SE", "PRD_DE", "DT", "LST_CHN_DE",
                 *(f"C{i}" for i in range(1, 9)), "C1_NM", "C2_NM")
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




def archive(body: bytes, raw_dir: Path, secret: str | None = None) -> tuple[str, Path]:
    """Content-addressed, written once, atomically (a crash never leaves half a file under its name).

    With ``secret`` (the API key), every encoding of it is masked first (the client has already masked what
    it hands over; this is the last line of defence). The sha256 is then that of the masked body, which is
    what is stored: kosis.snapshots.masked says how many occurrences the client masked."""
    if secret:
        from pipelines.kosis_client import mask_secret

        body, _ = mask_secret(body, secret)
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
    C1_NM AS c1_nm, C2_NM AS c2_nm, ITM_NM AS itm_nm, TBL_NM AS tbl_nm,
    PRD_SE AS prd_se, PRD_DE AS prd_de,
    TRY_CAST(substr(PRD_DE, 1, 4) AS INTEGER) AS year,
    TRY_CAST(replace(trim(DT), ',', '') AS DOUBLE) AS value,
    DT AS value_raw, UNIT_NM AS unit_nm, LST_CHN_DE AS lst_chn_de,
    parse_filename(filename, true) AS snapshot_sha256
FROM {source}
"""
STAGED = "kosis_staged"
NO_RECORDS = "(SELECT " + ", ".join(f"NULL::VARCHAR AS {f}" for f in (*RECORD_FIELDS, "filename")) + ")"


def stage_snapshots(con: duckdb.DuckDBPyConnection, snapshots: list[Snapshot], years: set[int] | None = None,
                    append: bool = False) -> int:
    """Parses the archived files with DuckDB into the temp table `kosis_staged` (one row per record; its
    rowid numbers the rows for validation and quarantine), keeping only the given years (and rows whose
    year cannot be read, so that they are quarantined, not lost). A body DuckDB cannot read (KOSIS's
    unquoted keys) is parsed by the client's repairing parser instead, from the same archived bytes."""
    files = [s.path for s in snapshots if s.n_records > 0]
    if not append:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED} AS SELECT * FROM ("
                    f"{PARSE_SELECT.format(source=NO_RECORDS)}) WHERE false")
    where = "" if years is None else f" WHERE year IS NULL OR year IN ({', '.join(str(int(y)) for y in years)})"
    if files:
        try:
            con.execute(f"INSERT INTO {STAGED} SELECT * FROM ({PARSE_SELECT.format(source=_read_json_sql(files))})"
                        f"{where}")
        except duckdb.Error:
            for path in files:
                try:
                    source = _read_json_sql([path])
                    con.execute(f"SELECT count(*) FROM {source}")
                except duckdb.Error:
                    source = _register_repaired(con, path)
                con.execute(f"INSERT INTO {STAGED} SELECT * FROM ({PARSE_SELECT.format(source=source)}){where}")
    return con.execute(f"SELECT count(*) FROM {STAGED}").fetchone()[0]


def _register_repaired(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    from pipelines.kosis_client import parse_body  # the one repairing parser, shared with the client

    data, _ = parse_body(path.read_bytes())
    records = pl.DataFrame([{f: r.get(f) for f in RECORD_FIELDS} for r in data],
                           schema={f: pl.Utf8 for f in RECORD_FIELDS}).with_columns(filename=pl.lit(str(path)))
    con.register("_repaired", records)
    return "_repaired"


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


def validate_staged(con: duckdb.DuckDBPyConnection, table: KosisTable, codes: tuple[str, ...]) -> StagedValidation:
    """Validates the staged rows with pandera (polars backend) in chunks, so memory stays flat however
    large the table; one value per cell and period is checked over all rows at once, on the key alone."""
    schema = observation_schema(table.prd_se_label, codes)
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


@dataclass
class MergeResult:
    inserted_new: int
    revised: int
    unchanged: int
    quarantined: int


QUARANTINE_SQL = f"""
INSERT INTO quality.quarantine
SELECT ?, to_json(s) :: JSON, r.reason, ?, ?, ?
FROM (SELECT rowid AS rid, * EXCLUDE (cell_key) FROM {STAGED}) s JOIN rejected_rows r USING (rid)
"""


def merge(con: duckdb.DuckDBPyConnection, table: KosisTable, snapshots: list[Snapshot],
          validation: StagedValidation, *, run_id: str, asset: str, now: datetime) -> MergeResult:
    """Records the snapshots, quarantines rejected rows and merges the valid staged ones: the caller
    wraps this in one transaction so a table's load is all or nothing."""
    for s in snapshots:
        con.execute("INSERT OR IGNORE INTO kosis.snapshots (snapshot_sha256, catalog_id, org_id, tbl_id, request, "
                    "fetched_at, n_records, path, origin, kosis_code, masked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [s.sha256, table.id, table.org_id, table.tbl_id, s.request, now, s.n_records, str(s.path),
                     s.origin, s.kosis_code, s.masked])
    con.register("rejected_rows", validation.rejected)
    try:
        con.execute(QUARANTINE_SQL, [f"kosis:{table.org_id}/{table.tbl_id}", run_id, asset, now])
        counts = con.execute(MERGE_SQL.replace("$now", f"TIMESTAMP '{now.isoformat(sep=' ')}'")).fetchall()
    finally:
        con.unregister("rejected_rows")
    stats = dict(counts)
    return MergeResult(stats.get("new", 0), stats.get("revised", 0), stats.get("unchanged", 0),
                       validation.rejected.height)
