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
import pandas as pd

from schemas.kosis import CELL_KEY, KosisTable, observation_schema
from schemas.validation import Validation, run_schema
from warehouse.io import SQL_DIR, quarantine_rows

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


def archive(body: bytes, raw_dir: Path) -> tuple[str, Path]:
    """Content-addressed, written once, atomically (a crash never leaves half a file under its name)."""
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


def parse_snapshots(con: duckdb.DuckDBPyConnection, snapshots: list[Snapshot]) -> pd.DataFrame:
    """Parses the archived files with DuckDB. A body DuckDB cannot read (KOSIS's unquoted keys) is
    parsed by the client's repairing parser instead, from the same archived bytes."""
    files = [s.path for s in snapshots if s.n_records > 0]
    if not files:
        return pd.DataFrame(columns=[c for c in CELL_KEY])
    try:
        return con.execute(PARSE_SELECT.format(source=_read_json_sql(files))).df()
    except duckdb.Error:
        frames = []
        for path in files:
            try:
                frames.append(con.execute(PARSE_SELECT.format(source=_read_json_sql([path]))).df())
            except duckdb.Error:
                frames.append(_parse_repaired(con, path))
        return pd.concat(frames, ignore_index=True)


def _parse_repaired(con: duckdb.DuckDBPyConnection, path: Path) -> pd.DataFrame:
    from pipelines.kosis_client import parse_body  # the one repairing parser, shared with the client

    data, _ = parse_body(path.read_bytes())
    records = pd.DataFrame.from_records(data).reindex(columns=list(RECORD_FIELDS)).astype("object")
    records = records.where(records.notna(), None)
    con.register("_repaired", records.assign(filename=str(path)))
    try:
        return con.execute(PARSE_SELECT.format(source="_repaired")).df()
    finally:
        con.unregister("_repaired")


def validate_observations(table: KosisTable, frame: pd.DataFrame, region_codes: tuple[str, ...]) -> Validation:
    frame = frame.astype({"year": "Int64"})
    return run_schema(observation_schema(table.prd_se_label, region_codes), frame)


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


def merge(con: duckdb.DuckDBPyConnection, table: KosisTable, snapshots: list[Snapshot], valid: pd.DataFrame,
          rejected: pd.DataFrame, *, run_id: str, asset: str, now: datetime) -> MergeResult:
    """Records the snapshots, quarantines rejected rows and merges the valid ones: the caller wraps
    this in one transaction so a table's load is all or nothing."""
    for s in snapshots:
        con.execute("INSERT OR IGNORE INTO kosis.snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [s.sha256, table.id, table.org_id, table.tbl_id, s.request, now, s.n_records, str(s.path),
                     s.origin, s.kosis_code])
    n_quarantined = quarantine_rows(con, source=f"kosis:{table.org_id}/{table.tbl_id}", rows=rejected,
                                    run_id=run_id, asset=asset)
    con.register("incoming_frame", valid)
    try:
        counts = con.execute(MERGE_SQL.replace("$now", f"TIMESTAMP '{now.isoformat(sep=' ')}'")).fetchall()
    finally:
        con.unregister("incoming_frame")
    stats = dict(counts)
    return MergeResult(stats.get("new", 0), stats.get("revised", 0), stats.get("unchanged", 0), n_quarantined)
