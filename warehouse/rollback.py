"""Rolling back one KOSIS snapshot: the vintages it made current are closed and, cell by cell, the vintage
its load had closed is current again, in one transaction, recorded in kosis.rollbacks. Nothing is deleted:
kosis.snapshots, kosis.observations' rows and the raw archive stay as they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from warehouse.clock import utc_now
from warehouse.io import transaction
from warehouse.rows import insert_rows


class SnapshotNotFoundError(LookupError):
    """No snapshot, or more than one, matches what was given."""


@dataclass(frozen=True)
class Rollback:
    sha256: str
    catalog_id: str
    cells_closed: int
    cells_reopened: int
    rolled_back_at: datetime
    years: tuple[int, ...]


def resolve_snapshot(con: duckdb.DuckDBPyConnection, given: str) -> tuple[str, str]:
    """(sha256, catalog_id) of the one snapshot whose sha256 is `given` or starts with it."""
    given = given.strip().lower()
    if not given or any(c not in "0123456789abcdef" for c in given):
        raise SnapshotNotFoundError(f"'{given}' is not a sha256 or a prefix of one (hex digits)")
    rows = con.execute("SELECT snapshot_sha256, catalog_id FROM kosis.snapshots WHERE starts_with(snapshot_sha256, ?) "
                       "ORDER BY fetched_at, snapshot_sha256", [given]).fetchall()
    if not rows:
        raise SnapshotNotFoundError(f"no KOSIS snapshot {given}* in kosis.snapshots")
    if len(rows) > 1:
        raise SnapshotNotFoundError(f"{len(rows)} KOSIS snapshots start with {given} "
                                    f"({', '.join(r[0][:16] for r in rows[:5])}...): give more of the sha256")
    return rows[0]


def rollback_snapshot(con: duckdb.DuckDBPyConnection, sha256: str, reason: str,
                      now: datetime | None = None) -> Rollback:
    """Closes (valid_to = now) the current vintages snapshot `sha256` created and re-opens, for each such cell,
    the row whose valid_to equals the closed row's valid_from (the vintage that load had closed). One
    transaction, with its row of kosis.rollbacks and kosis.tables.last_period brought up to date."""
    now = now or utc_now()
    catalog_id = con.execute("SELECT catalog_id FROM kosis.snapshots WHERE snapshot_sha256 = ?",
                             [sha256]).fetchone()[0]
    with transaction(con):
        con.execute("CREATE OR REPLACE TEMP TABLE rollback_rows AS SELECT cell_key, valid_from, year "
                    "FROM kosis.observations WHERE snapshot_sha256 = ? AND valid_to IS NULL", [sha256])
        closed = con.execute("SELECT count(*) FROM rollback_rows").fetchone()[0]
        years = tuple(r[0] for r in con.execute("SELECT DISTINCT year FROM rollback_rows ORDER BY 1").fetchall())
        con.execute("UPDATE kosis.observations SET valid_to = ? WHERE snapshot_sha256 = ? AND valid_to IS NULL",
                    [now, sha256])
        reopened = con.execute("""
            UPDATE kosis.observations AS p SET valid_to = NULL
            FROM rollback_rows r
            WHERE p.cell_key = r.cell_key AND p.valid_to = r.valid_from AND p.snapshot_sha256 <> ?""",
                               [sha256]).fetchone()[0]
        insert_rows(con, "kosis.rollbacks", [{"snapshot_sha256": sha256, "rolled_back_at": now, "cells_closed": closed,
                                              "cells_reopened": reopened, "reason": reason}])
        con.execute("""
            UPDATE kosis.tables SET
                last_period = (SELECT max(prd_de) FROM kosis.observations_current o
                               WHERE o.org_id = kosis.tables.org_id AND o.tbl_id = kosis.tables.tbl_id),
                last_lst_chn_de = (SELECT max(lst_chn_de) FROM kosis.observations_current o
                                   WHERE o.org_id = kosis.tables.org_id AND o.tbl_id = kosis.tables.tbl_id)
            WHERE id = ?""", [catalog_id])
        con.execute("DROP TABLE rollback_rows")
    return Rollback(sha256, catalog_id, closed, reopened, now, years)
