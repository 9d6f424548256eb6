"""Load KOSIS bodies through the asset's own path (archive, the client's body verdict, DuckDB staging, pandera
validation, accounting, merge) into a real DuckDB file, without Dagster: for the conservation and fuzz tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from assets.kosis import body_records
from assets.kosis_body import MalformedBody, classify_body
from schemas.kosis import KosisTable
from warehouse.io import ensure_schema
from warehouse.kosis_load import STAGED, Accounting, LoadRequest, Snapshot, archive, load

TABLE = KosisTable(id="t", org_id="101", tbl_id="DT_T", tbl_nm="test", prd_se="Y", first_period="2019",
                   obj_levels=("ALL", "ALL"), itm_id="T1+T2", unit="x")
YEARS = {2019, 2020}
REGIONS = ("11", "22", "00")


def record(**fields: str) -> dict[str, str]:
    """A well-formed record of TABLE (2019, Seoul, item T1) with ``fields`` replaced."""
    base = {"ORG_ID": "101", "TBL_ID": "DT_T", "TBL_NM": "test", "C1": "11", "C1_NM": "서울", "C2": "A",
            "C2_NM": "a", "ITM_ID": "T1", "ITM_NM": "item", "UNIT_NM": "x", "PRD_SE": "A", "PRD_DE": "2019",
            "DT": "1,234", "LST_CHN_DE": "20240101"}
    return {**base, **fields}


def open_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    ensure_schema(con)
    if not con.execute("SELECT count(*) FROM reference.region_code_map").fetchone()[0]:
        con.executemany("INSERT INTO reference.region_code_map VALUES ('kosis_sido', ?, ?, 1900, NULL)",
                        [(c, c) for c in REGIONS])
    return con


@dataclass
class Load:
    malformed: list[MalformedBody] = field(default_factory=list)  # bodies the client refuses (-> KosisError)
    errors: list[str] = field(default_factory=list)  # KOSIS err codes of error bodies
    snapshots: list[Snapshot] = field(default_factory=list)
    accounting: dict[str, Accounting] = field(default_factory=dict)
    quarantine: list[tuple[str, str]] = field(default_factory=list)  # (payload, reason) added by this load


def load_bodies(con: duckdb.DuckDBPyConnection, bodies: list[bytes], raw_dir: Path, *, years=YEARS,
                table: KosisTable = TABLE) -> Load:
    run_id = uuid.uuid4().hex
    out = Load()
    for i, body in enumerate(bodies):
        sha, path = archive(body, raw_dir)
        try:
            records, code, _ = classify_body(body)
        except MalformedBody as exc:
            out.malformed.append(exc)
            continue
        if code is not None and code != "30":
            out.errors.append(code)
            continue
        out.snapshots.append(Snapshot(sha, path, f"test:{i}", "live", len(records), code))
    request = LoadRequest(table, [(s, set(years)) for s in out.snapshots], sorted(years), offline=False,
                          run_id=run_id, asset="test", now=datetime.now(), parse_records=body_records)
    result, _ = load(con, request)  # the asset's own load, after its fetch
    assert result.validation.rules_run > 10
    out.accounting = result.merged.accounting
    out.quarantine = con.execute("SELECT payload::VARCHAR, reason FROM quality.quarantine WHERE run_id = ?",
                                 [run_id]).fetchall()
    assert con.execute(f"SELECT count(*) FROM {STAGED}").fetchone()[0] == sum(
        a.n_loaded + a.n_quarantined for a in out.accounting.values())
    return out
