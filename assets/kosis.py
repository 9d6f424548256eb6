"""KOSIS tables, one asset per catalog entry: fetch (or replay), archive, parse, validate, merge.

A table's load is one transaction: a fetch that fails (after the client's bounded retries) or a
response that cannot be right leaves kosis.* exactly as it was, and the error names the table, the
period range and the KOSIS code or HTTP status.
"""

from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pandas as pd

from assets.common import OWNERS, check_result, markdown_table
from pipelines.resources import KosisResource
from schemas.kosis import CATALOG_PATH, KosisTable, load_catalog
from warehouse.io import SourceFiles, WarehouseResource, transaction
from warehouse.kosis_load import STAGED, Snapshot, archive, merge, region_codes, stage_snapshots, validate_staged

CATALOG_KEY = dg.AssetKey(["kosis", "catalog"])


def current_period(prd_se: str, today: date | None = None) -> str:
    today = today or date.today()
    return {"Y": f"{today.year}", "H": f"{today.year}0{1 + (today.month > 6)}",
            "Q": f"{today.year}0{(today.month - 1) // 3 + 1}", "M": f"{today.year}{today.month:02d}"}.get(
        prd_se, f"{today.year}")


def replay_bundled(table: KosisTable, source_root: str, raw_dir: Path) -> list[Snapshot]:
    path = table.bundled_path(source_root)
    if path is None or not path.exists():
        raise dg.Failure(f"KOSIS {table.org_id}/{table.tbl_id} ({table.id}): no KOSIS_API_KEY and no bundled "
                         f"snapshot to replay; set KOSIS_API_KEY or add `bundled` to the catalog")
    body = path.read_bytes()
    sha, archived = archive(body, raw_dir)
    n = body.count(b'"ORG_ID"')  # a count for the record; parsing proper happens later, from the archive
    return [Snapshot(sha, archived, f"bundled:assets/sources/kosis/{table.bundled}", "bundled", n)]


def fetch_live(table: KosisTable, kosis: KosisResource, raw_dir: Path, start: str, end: str,
               log) -> list[Snapshot]:
    # The last body archived for a URL is the one the client accepted (earlier ones were retried).
    archived: dict[str, tuple[str, Path]] = {}

    def on_body(body: bytes, redacted_url: str) -> None:  # before the client parses anything
        archived[redacted_url] = archive(body, raw_dir)

    with kosis.client(on_body=on_body, logger=log) as client:
        bodies = client.get_data(table.org_id, table.tbl_id, obj_levels=list(table.obj_levels), itm_id=table.itm_id,
                                 prd_se=table.prd_se, start=start, end=end)
    return [Snapshot(*archived[b.request_url], b.request_url, "live", b.n_records, "30" if b.no_data else None)
            for b in bodies]


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


def build_kosis_asset(table: KosisTable) -> dg.AssetsDefinition:
    key = dg.AssetKey(["kosis", table.id])

    @dg.asset(
        key=key,
        deps=[CATALOG_KEY, dg.AssetKey(["reference", "region_code_map"])],
        group_name="sources",
        kinds={"kosis", "duckdb"},
        owners=OWNERS,
        description=f"KOSIS table {table.org_id}/{table.tbl_id}: {table.tbl_nm}. Every response body is archived "
        f"under warehouse/data/raw/ (sha256) before parsing and recorded in kosis.snapshots; rows are validated "
        f"and merged into kosis.observations, every vintage kept. Used by: {', '.join(table.used_by) or '-'}. "
        f"{'Verified against the live service.' if table.verified else 'Not yet verified against the live service.'}"
        f" Offline (no KOSIS_API_KEY): replays {table.bundled or 'nothing'}.",
        metadata={"org_id": table.org_id, "tbl_id": table.tbl_id, "prd_se": table.prd_se,
                  "verified": table.verified, "bundled_provenance": table.bundled_provenance or ""},
        check_specs=[dg.AssetCheckSpec(
            "observations_valid", asset=key, blocking=True,
            description="Rows failing the observation schema (types, known region codes, one value per cell and "
            "period, DT a number or a known marker) are quarantined (WARN); a response that cannot be parsed "
            "as KOSIS records at all is an ERROR and nothing is written.")],
    )
    def _kosis_table(context: dg.AssetExecutionContext, warehouse: WarehouseResource, kosis: KosisResource,
                     source_files: SourceFiles):
        raw_dir = warehouse.path.parent / "raw"
        now = datetime.now(UTC).replace(tzinfo=None)
        if kosis.offline:
            snapshots = replay_bundled(table, source_files.root, raw_dir)
            period_range = "bundled"
        else:
            start, end = table.first_period, current_period(table.prd_se)
            snapshots = fetch_live(table, kosis, raw_dir, start, end, context.log)
            period_range = f"{start}-{end}"

        with warehouse.get_connection() as con:
            staged = stage_snapshots(con, snapshots)
            outcome = validate_staged(con, table, region_codes(con, table.region_code_system))
            if outcome.unattributed:  # a failure that names no row: the whole response is suspect
                yield check_result(context, warehouse, asset_key=key, check_name="observations_valid",
                                   severity=dg.AssetCheckSeverity.ERROR, outcome=None, failures=outcome.summary(),
                                   n_failures=outcome.failure_cases.height)
                raise dg.Failure(f"KOSIS {table.org_id}/{table.tbl_id} ({period_range}): the response is not a table "
                                 f"of KOSIS records; nothing was written",
                                 metadata={"failures": str(outcome.summary())})
            with transaction(con):
                merged = merge(con, table, snapshots, outcome, run_id=context.run_id, asset=key.to_user_string(),
                               now=now)
                tbl_nm = con.execute(f"SELECT any_value(tbl_nm) FROM {STAGED}").fetchone()[0]
                con.execute(UPDATE_TABLE_SQL, [tbl_nm, now, table.id])
                current = con.execute("SELECT count(*), max(prd_de) FROM kosis.observations_current "
                                      "WHERE org_id = ? AND tbl_id = ?", [table.org_id, table.tbl_id]).fetchone()
        yield dg.MaterializeResult(metadata={
            "dagster/row_count": current[0],
            "last_period": current[1] or "",
            "origin": "bundled" if kosis.offline else "live",
            "period_range": period_range,
            "snapshots": dg.MetadataValue.md(markdown_table(
                pd.DataFrame([{"sha256": s.sha256[:16], "records": s.n_records,
                                                 "request": s.request} for s in snapshots]))),
            "cells_new": merged.inserted_new,
            "cells_revised": merged.revised,
            "cells_unchanged": merged.unchanged,
            "rows_quarantined": merged.quarantined,
            "rows_staged": staged,
        })
        yield check_result(context, warehouse, asset_key=key, check_name="observations_valid",
                           severity=dg.AssetCheckSeverity.WARN, outcome=None, failures=outcome.summary(limit=50),
                           n_failures=outcome.rejected.height,
                           extra_metadata={"rows_quarantined": merged.quarantined})

    return _kosis_table


def build_catalog_asset(catalog_path: Path | str, tables: tuple[KosisTable, ...]) -> dg.AssetsDefinition:
    @dg.asset(
        key=CATALOG_KEY,
        group_name="sources",
        kinds={"yaml", "duckdb"},
        owners=OWNERS,
        description="The catalog of KOSIS tables to ingest (assets/sources/kosis/catalog.yaml) written to "
        "kosis.tables, with the code roles that tell indicators which codes to read (kosis.code_roles).",
    )
    def kosis_catalog(warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.get_connection() as con, transaction(con):
            for t in tables:
                con.execute(
                    "INSERT INTO kosis.tables (id, org_id, tbl_id, tbl_nm, prd_se, unit, verified, used_by, "
                    "region_code_system, bundled_provenance) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET org_id = excluded.org_id, tbl_id = excluded.tbl_id, "
                    "prd_se = excluded.prd_se, unit = excluded.unit, verified = excluded.verified, "
                    "used_by = excluded.used_by, region_code_system = excluded.region_code_system, "
                    "bundled_provenance = excluded.bundled_provenance",
                    [t.id, t.org_id, t.tbl_id, t.tbl_nm, t.prd_se, t.unit, t.verified, ", ".join(t.used_by),
                     t.region_code_system, t.bundled_provenance])
            con.execute("DELETE FROM kosis.code_roles")
            roles = [(t.id, r.itm_id, r.level, r.code, r.role) for t in tables for r in t.code_roles]
            if roles:
                con.executemany("INSERT INTO kosis.code_roles VALUES (?, ?, ?, ?, ?)", roles)
        return dg.MaterializeResult(metadata={"dagster/row_count": len(tables), "catalog": str(catalog_path),
                                              "code_roles": len(roles)})

    return kosis_catalog


def build_kosis_assets(catalog_path: Path | str = CATALOG_PATH) -> list[dg.AssetsDefinition]:
    tables = load_catalog(catalog_path)
    return [build_catalog_asset(catalog_path, tables), *(build_kosis_asset(t) for t in tables)]
