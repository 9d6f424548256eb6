"""KOSIS tables, one asset per catalog entry: fetch (or replay), archive, parse, validate, merge.

A table's load is one transaction: a fetch that fails (after the client's bounded retries) or a
response that cannot be right leaves kosis.* exactly as it was, and the error names the table, the
period range and the KOSIS code or HTTP status.
"""

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd

from assets.common import OWNERS, Findings, evaluate_check, markdown_table
from assets.kosis_body import classify_body, parse_body
from assets.kosis_client import KosisError
from assets.kosis_masking import MaskingWriter
from assets.kosis_portal import (
    PORTAL_DIR,
    PORTAL_ORIGIN,
    PortalFileError,
    is_portal_body,
    parse_portal,
    portal_dir_name,
    portal_files,
    read_region_code_map,
)
from assets.kosis_resource import KosisResource
from assets.source_files import CATALOG_PATH, bundled_file, load_catalog
from schemas.kosis import OBSERVATION_ROW, PRD_SE_ALIASES, KosisTable
from warehouse.clock import utc_now
from warehouse.io import SourceFiles, WarehouseResource, warehouse_pool
from warehouse.kosis_load import ConservationError, LoadRequest, LoadResult, RawArchive, Snapshot, archive, load_into
from warehouse.rows import insert_rows

warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)

CATALOG_KEY = dg.AssetKey(["kosis", "catalog"])
OBSERVATION_COLUMNS = dg.TableSchema(columns=[dg.TableColumn(c.name, c.dtype, description=c.description)
                                             for c in OBSERVATION_ROW])
PARTITIONS_PREFIX = "kosis_year__"


def kosis_partitions(table: KosisTable) -> dg.DynamicPartitionsDefinition:
    """A table's own years: KOSIS publishes a year whenever it is ready, so the planner adds them (in year order),
    and each table shows only the periods it has in the UI."""
    return dg.DynamicPartitionsDefinition(name=f"{PARTITIONS_PREFIX}{table.id}")


@dataclass(frozen=True)
class OfflineFile:
    """A KOSIS-format file replayed without a key: the bundled snapshot or one dropped in the inbox."""

    path: Path
    origin: str  # bundled | inbox | inbox-portal
    request: str
    periods: dict[int, str]  # year -> latest LST_CHN_DE among this table's records of that year
    sha256: str = ""  # of the file as it is now: the snapshot it becomes when loaded


def describe_offline_file(path: Path, origin: str, table: KosisTable, request: str) -> OfflineFile:
    body = path.read_bytes()
    sha = hashlib.sha256(body).hexdigest()
    try:
        data, _ = parse_body(body)
    except ValueError:
        data = None  # not JSON at all: not this table's
    periods: dict[int, str] = {}
    for record in data if isinstance(data, list) else []:
        if not isinstance(record, dict) or record.get("TBL_ID") != table.tbl_id or record.get("ORG_ID") != table.org_id:
            continue
        prd = str(record.get("PRD_DE", ""))
        if prd[:4].isdigit():
            year = int(prd[:4])
            periods[year] = max(periods.get(year, ""), str(record.get("LST_CHN_DE") or ""))
    return OfflineFile(path, origin, request, periods, sha)


def describe_portal_file(path: Path, table: KosisTable, source_root: str) -> OfflineFile:
    """A portal download in inbox/portal/<ORG>_<TBL>/: its years (no LST_CHN_DE: the portal gives none), or no
    years when it cannot be placed (screen_inbox moves it aside with the reason)."""
    body = path.read_bytes()
    try:
        years = parse_portal(body, table, read_region_code_map(source_root)).years
    except PortalFileError:
        years = []
    return OfflineFile(path, PORTAL_ORIGIN, portal_request(table, path), dict.fromkeys(years, ""),
                       hashlib.sha256(body).hexdigest())


def portal_request(table: KosisTable, path: Path) -> str:
    return f"{PORTAL_ORIGIN}:{PORTAL_DIR}/{portal_dir_name(table)}/{path.name}"


def offline_body_records(table: KosisTable, source_root: str):
    """The parser of an archived offline body: a portal download read for this entry, else getList JSON."""
    def records(body: bytes) -> list[dict]:
        if is_portal_body(body):
            return parse_portal(body, table, read_region_code_map(source_root)).records
        return classify_body(body)[0]
    return records


def offline_files(table: KosisTable, source_root: str, inbox_dir: Path) -> list[OfflineFile]:
    """What replays without a key. The paper's figures in KOSIS form: their bundled file only. A KOSIS
    table: KOSIS-format files a user dropped in the inbox, oldest first (for each year, the last file wins);
    never a bundled file, so nothing made here poses as a loaded period of a KOSIS table."""
    if not table.is_kosis:
        bundled = bundled_file(table, source_root)
        if bundled is None or not bundled.exists():
            return []
        return [describe_offline_file(bundled, "bundled", table, f"bundled:assets/sources/kosis/{table.bundled}")]
    files = []
    if inbox_dir.is_dir():
        found = [(p, False) for p in inbox_dir.glob("*.json")] + [(p, True) for p in portal_files(inbox_dir, table)]
        for path, portal in sorted(found, key=lambda f: (f[0].stat().st_mtime, f[0].name)):
            described = describe_portal_file(path, table, source_root) if portal else describe_offline_file(
                path, "inbox", table, f"inbox:{path.name}")
            if described.periods:
                files.append(described)
    return files


def offline_providers(table: KosisTable, source_root: str, inbox_dir: Path) -> dict[int, OfflineFile]:
    """For each year, the offline file a load would read it from (the last one that has it)."""
    latest: dict[int, OfflineFile] = {}
    for file in offline_files(table, source_root, inbox_dir):
        for year in file.periods:
            latest[year] = file
    return latest


def offline_periods(table: KosisTable, source_root: str, inbox_dir: Path) -> dict[int, str]:
    periods: dict[int, str] = {}
    for file in offline_files(table, source_root, inbox_dir):
        periods.update(file.periods)
    return periods


def periods_from_meta(table: KosisTable, records: list[dict[str, str]]) -> dict[int, str]:
    """Years a table has, from getMeta PRD. The service answers one row per periodicity with its first and
    last period (PRD_SE as a Korean label, STRT_PRD_DE/END_PRD_DE); rows that name single periods (PRD_DE,
    with a LST_CHN_DE) are read too. The date is '' where the service gives none per period."""
    periods: dict[int, str] = {}
    for record in records:
        label = str(record.get("PRD_SE", "")).strip()
        if label and label not in PRD_SE_ALIASES.get(table.prd_se, {table.prd_se}):
            continue
        start, end = str(record.get("STRT_PRD_DE", "")), str(record.get("END_PRD_DE", ""))
        if start[:4].isdigit() and end[:4].isdigit():
            for year in range(int(start[:4]), int(end[:4]) + 1):
                periods.setdefault(year, "")
        prd = str(record.get("PRD_DE", ""))
        if prd[:4].isdigit():
            year = int(prd[:4])
            periods[year] = max(periods.get(year, ""), str(record.get("LST_CHN_DE") or ""))
    return periods


def live_periods(table: KosisTable, kosis: KosisResource) -> dict[int, str]:
    """Years KOSIS has for a table (getMeta PRD), each with the service's date for it (getMeta NCD SEND_DE,
    '' where the service gives none)."""
    with kosis.client() as client:
        periods = periods_from_meta(table, client.get_meta(table.org_id, table.tbl_id, "PRD"))
        for year, date in update_dates(table, client).items():
            if year in periods:
                periods[year] = max(periods[year], date)
    return periods


def update_dates(table: KosisTable, client) -> dict[int, str]:
    """SEND_DE per year from getMeta NCD (the date KOSIS loaded a period), YYYYMMDD; {} if it says nothing."""
    try:
        records = client.get_meta(table.org_id, table.tbl_id, "NCD")
    except KosisError as exc:
        if exc.code in ("30", "21"):  # no notes for this table
            return {}
        raise
    dates: dict[int, str] = {}
    for record in records:
        prd, date = str(record.get("PRD_DE", "")), normalize_date(record.get("SEND_DE"))
        if prd[:4].isdigit() and date:
            dates[int(prd[:4])] = max(dates.get(int(prd[:4]), ""), date)
    return dates


def normalize_date(value) -> str:
    """YYYYMMDD from YYYYMMDD, YYYY-MM-DD or YYYY.MM.DD (the service writes dates in more than one way)."""
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return digits[:8] if len(digits) >= 8 else ""


def available_periods(table: KosisTable, kosis: KosisResource, source_root: str, inbox_dir: Path) -> dict[int, str]:
    if not table.is_kosis or kosis.offline:
        return offline_periods(table, source_root, inbox_dir)
    return live_periods(table, kosis)


def replay_offline(table: KosisTable, source_root: str, inbox_dir: Path, raw_dir: Path,
                   years: set[int]) -> list[tuple[Snapshot, set[int]]]:
    """For each requested year, the latest offline file that has it, archived like a live response."""
    files = offline_files(table, source_root, inbox_dir)
    latest: dict[int, OfflineFile] = {}
    for file in files:
        for year in file.periods:
            if year in years:
                latest[year] = file
    out = []
    for file in {id(f): f for f in latest.values()}.values():
        body = file.path.read_bytes()
        # A portal download is archived as received (its own kind: .csv or .xlsx), so its sha256 is the file's.
        sha, archived = archive(body, raw_dir, file.path.suffix.lower() if file.origin == PORTAL_ORIGIN else ".json")
        try:  # counted exactly as the client counts a live body
            if file.origin == PORTAL_ORIGIN:
                records, code = parse_portal(body, table, read_region_code_map(source_root)).records, None
            else:
                records, code, _ = classify_body(body)
        except ValueError as exc:
            raise KosisError(f"{file.request} cannot be read as KOSIS records: {exc}", org_id=table.org_id,
                             tbl_id=table.tbl_id, what="offline replay") from None
        out.append((Snapshot(sha, archived, file.request, file.origin, len(records), code),
                    {y for y, f in latest.items() if f is file}))
    return out


def body_records(body: bytes) -> list[dict]:
    """The client's parser, for bodies DuckDB cannot read (KOSIS's unquoted keys): one verdict for both."""
    return classify_body(body)[0]


def fetch_live(table: KosisTable, kosis: KosisResource, raw_dir: Path, start: str, end: str,
               log) -> list[Snapshot]:
    """Every body streams into the archive as it arrives (sha256 computed on the way), before anything parses
    it; a large one is not parsed here at all (the loader reads the archived copy with DuckDB)."""
    raw = RawArchive(raw_dir)

    def writer() -> MaskingWriter:
        # The client masked the key already; masking again on the way in is the last line of defence.
        return MaskingWriter(raw.writer(), kosis.api_key)

    with kosis.client(archive=writer, logger=log) as client:
        bodies = client.get_data(table.org_id, table.tbl_id, obj_levels=list(table.obj_levels), itm_id=table.itm_id,
                                 prd_se=table.prd_se, start=start, end=end)
    return [Snapshot(*raw.committed[b.request_url], b.request_url, "live", b.n_records, "30" if b.no_data else None,
                     masked=b.n_masked) for b in bodies]


def consecutive_runs(years: list[int]) -> list[list[int]]:
    """The years as maximal runs of consecutive years: [2006, 2010, 2011] -> [[2006], [2010, 2011]]."""
    runs: list[list[int]] = []
    for year in sorted(set(years)):
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return runs


def period_bounds(prd_se: str, years: list[int]) -> tuple[str, str]:
    first, last = min(years), max(years)
    suffix = {"Y": ("", ""), "H": ("01", "02"), "Q": ("01", "04"), "M": ("01", "12")}.get(prd_se, ("", ""))
    return f"{first}{suffix[0]}", f"{last}{suffix[1]}"


# The Dagster pool of the steps that call KOSIS when the warehouse takes many writers (DuckLake): the service limits
# calls per key, so the instance's pool limit (pipelines/dagster.yaml: default_limit) caps concurrent callers.
KOSIS_POOL = "kosis_api"

# KOSIS answers that concern the catalog entry itself (parameters, table), not this request's luck.
CATALOG_ERRORS = ("20", "21")
def table_covers(table: KosisTable, year: int) -> bool:
    """Whether a year lies within the catalogued periods of a table (a discontinued base ends)."""
    first = int(table.first_period[:4])
    last = int(table.final_period[:4]) if table.final_period else 9999
    return first <= year <= last


def asset_description(table: KosisTable) -> str:
    if not table.is_kosis:
        return (f"NOT KOSIS DATA. {table.tbl_nm} ({table.org_id}/{table.tbl_id}): {table.bundled_provenance} "
                f"Replayed from assets/sources/kosis/{table.bundled} through the same archive, parse, validation "
                f"and merge as KOSIS responses, under its own table identity; indicators use it only where no KOSIS "
                f"table of the series ({table.series_id}) covers a region-year.")
    base = f" ({table.base_year} base)" if table.base_year else ""
    return (f"KOSIS table {table.org_id}/{table.tbl_id}{base}: {table.tbl_nm}. Every response body is archived "
            f"under warehouse/data/raw/ (sha256) before parsing and recorded in kosis.snapshots; rows are validated "
            f"and merged into kosis.observations, every vintage kept. Used by: {', '.join(table.used_by) or '-'}. "
            f"Identifiers: {table.verification}. Offline (no KOSIS_API_KEY): loads KOSIS-format files dropped in "
            f"warehouse/data/inbox/ only. Partitioned by year: the table's own dynamic partitions "
            f"({PARTITIONS_PREFIX}{table.id}), added in year order by the planner (make refresh, the kosis_new_periods "
            f"sensor).")


def build_kosis_asset(table: KosisTable) -> dg.AssetsDefinition:
    key = dg.AssetKey(["kosis", table.id])

    @dg.asset(
        key=key,
        deps=[CATALOG_KEY, dg.AssetKey(["reference", "region_code_map"])],
        partitions_def=kosis_partitions(table),
        # One run loads any set of years: one fetch (split as KOSIS needs) and one merge transaction.
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=warehouse_pool() or KOSIS_POOL,  # on DuckLake: the KOSIS rate limit, not the one-writer pool
        group_name="sources",
        kinds={"kosis", "duckdb"},
        owners=OWNERS,
        description=asset_description(table),
        metadata={"org_id": table.org_id, "tbl_id": table.tbl_id, "prd_se": table.prd_se, "source": table.source,
                  "series": table.series_id, "base_year": table.base_year or "",
                  "verification": table.verification, "evidence": "\n".join(table.evidence),
                  "bundled_provenance": table.bundled_provenance or ""},
        check_specs=[dg.AssetCheckSpec(
            "observations_valid", asset=key, blocking=True,
            description="The observation rules (schemas/kosis.py: the requested table, known region codes, one value "
            "per cell and period, DT a number or a known marker, ...) run in SQL over every staged row; rows "
            "breaking any are quarantined with the reasons (WARN). A body that cannot be read as KOSIS records "
            "fails the step and nothing is written.")],
    )
    def _kosis_table(context: dg.AssetExecutionContext, warehouse: WarehouseResource, kosis: KosisResource,
                     source_files: SourceFiles):
        raw_dir = warehouse.path.parent / "raw"
        requested = sorted(int(k) for k in context.partition_keys)
        years = [y for y in requested if table_covers(table, y)]  # the planner registers covered years only
        now = utc_now()
        send_de: dict[int, str] = {}
        rejected_entry = ""
        if not years:
            staged_files, period_range = [], f"none of {requested[0]}-{requested[-1]} (outside the table's periods)"
        elif kosis.offline or not table.is_kosis:
            staged_files = replay_offline(table, source_files.root, warehouse.path.parent / "inbox", raw_dir,
                                          set(years))
            period_range = f"{years[0]}-{years[-1]} (offline replay)"
        else:
            # One request per run of consecutive years: a range never asks for a year this run does not own
            # (2006 and 2010-2019 are two requests), so nothing of another run's years is ever quarantined.
            bounds = [period_bounds(table.prd_se, run) for run in consecutive_runs(years)]
            try:
                with kosis.client() as client:
                    send_de = update_dates(table, client)  # asked before the data: a later update is seen next time
                fetched = [s for start, end in bounds for s in fetch_live(table, kosis, raw_dir, start, end,
                                                                           context.log)]
            except KosisError as exc:
                if exc.code not in CATALOG_ERRORS:
                    raise
                # The service rejects the catalog entry itself (no such table, wrong levels or items): say so
                # loudly in the check, load nothing, and let the other tables of the series feed indicators.
                rejected_entry = f"the service rejected this catalog entry (run make kosis-check): {exc}"
                context.log.warning(rejected_entry)
                fetched = []
            staged_files = [(s, set(years)) for s in fetched]
            period_range = ", ".join(f"{start}-{end}" for start, end in bounds)
        service_dates = None if kosis.offline or not table.is_kosis or rejected_entry else send_de
        request = LoadRequest(table, staged_files, years, offline=kosis.offline, run_id=context.run_id,
                              asset=key.to_user_string(), now=now, service_dates=service_dates,
                              rejected_entry=rejected_entry, full_read=not kosis.offline and table.is_kosis,
                              parse_records=offline_body_records(table, source_files.root) if kosis.offline
                              else body_records)

        def observations_check(_con, loaded: LoadResult):
            # the check's row commits with the merge it describes, or not at all
            outcome = loaded.validation
            return evaluate_check(
                asset_key=key, check_name="observations_valid", severity=dg.AssetCheckSeverity.WARN,
                findings=Findings(([{"catalog_entry": rejected_entry}] if rejected_entry else [])
                                  + outcome.summary(limit=50), outcome.n_rejected + bool(rejected_entry)),
                extra_metadata={"rows_quarantined": loaded.merged.quarantined, "service_rejected_entry": rejected_entry,
                                "rules_run": outcome.rules_run, "rows_breaking_each_rule": json.dumps(outcome.by_rule)})

        try:
            loaded, check = load_into(warehouse, request, check=observations_check, log=context.log.warning)
        except ConservationError as exc:
            raise dg.Failure(f"KOSIS {table.org_id}/{table.tbl_id} ({period_range}): {exc}") from None
        merged, snapshots = loaded.merged, loaded.snapshots
        yield dg.MaterializeResult(metadata={
            "dagster/row_count": loaded.current_cells,
            "last_period": loaded.last_period or "",
            "origin": ", ".join(sorted({s.origin for s in snapshots})),
            "years": ", ".join(map(str, years)),
            "period_range": period_range,
            "cells_by_year": json.dumps({str(y): n for y, n in loaded.cells_by_year.items() if y in set(years)}),
            "snapshots": dg.MetadataValue.md(markdown_table(pd.DataFrame(
                [{"sha256": s.sha256[:16], "records": merged.accounting[s.sha256].n_records, "request": s.request}
                 for s in snapshots]))),
            "cells_new": merged.inserted_new,
            "cells_revised": merged.revised,
            "cells_unchanged": merged.unchanged,
            "cells_no_longer_served": loaded.closed_absent,
            "rows_quarantined": merged.quarantined,
            "rows_staged": loaded.staged,
            "rolled_back_snapshots_skipped": ", ".join(sha[:16] for sha in loaded.rolled_back_skipped) or "none",
            "preview": dg.MetadataValue.md(markdown_table(loaded.preview)),
            "dagster/column_schema": OBSERVATION_COLUMNS,
        })
        yield check[1]

    return _kosis_table


_TABLE_COLUMNS = ("id", "org_id", "tbl_id", "tbl_nm", "prd_se", "unit", "verified", "used_by", "region_code_system",
                  "bundled_provenance", "source", "series", "priority", "base_year", "first_period", "final_period",
                  "verification", "evidence", "source_label", "region_level", "definition")
UPSERT_TABLE_SQL = f"""
MERGE INTO kosis.tables AS t
USING (SELECT * FROM (VALUES ({", ".join("?" for _ in _TABLE_COLUMNS)})) AS v({", ".join(_TABLE_COLUMNS)})) AS s
ON t.id = s.id
WHEN MATCHED THEN UPDATE SET {", ".join(f"{c} = s.{c}" for c in _TABLE_COLUMNS if c not in ("id", "tbl_nm"))}
WHEN NOT MATCHED THEN INSERT BY NAME
"""


def source_label(table: KosisTable) -> str:
    """How indicators, the report and the summary name where a number came from, in words."""
    if not table.is_kosis:
        return table.tbl_nm
    base = f", {table.base_year} base" if table.base_year else ""
    return f"KOSIS table {table.org_id}/{table.tbl_id}{base}"


def build_catalog_asset(catalog_path: Path | str, tables: tuple[KosisTable, ...]) -> dg.AssetsDefinition:
    @dg.asset(
        key=CATALOG_KEY,
        group_name="sources",
        kinds={"yaml", "duckdb"},
        owners=OWNERS,
        pool=warehouse_pool(),
        metadata={"catalog_path": str(catalog_path)},
        description="The catalog of KOSIS tables to ingest (assets/sources/kosis/catalog.yaml) written to "
        "kosis.tables, with the code roles that tell indicators which codes to read (kosis.code_roles).",
    )
    def kosis_catalog(warehouse: WarehouseResource) -> dg.MaterializeResult:
        def write(con) -> tuple[int, pd.DataFrame]:
            for t in tables:
                con.execute(UPSERT_TABLE_SQL, [
                    t.id, t.org_id, t.tbl_id, t.tbl_nm, t.prd_se, t.unit, t.verified, ", ".join(t.used_by),
                    t.region_code_system, t.bundled_provenance, t.source, t.series_id, t.priority, t.base_year,
                    t.first_period, t.final_period, t.verification, "\n".join(t.evidence), source_label(t),
                    t.region_level, t.definition])
            # Entries no longer catalogued stop feeding indicators; their observations stay as they are.
            con.execute(f"DELETE FROM kosis.tables WHERE id NOT IN ({', '.join('?' for _ in tables)})",
                        [t.id for t in tables])
            # Rewritten whole from the catalog on every run (its layout: warehouse/migrations.py), keeping the
            # table and so its comments.
            con.execute("DELETE FROM kosis.region_codes")
            insert_rows(con, "kosis.region_codes", [{"catalog_id": t.id, "code": code, "region_code": region}
                                                    for t in tables for code, region in t.region_codes.items()])
            con.execute("DELETE FROM kosis.code_roles")
            n_roles = insert_rows(con, "kosis.code_roles", [
                {"catalog_id": t.id, "role": r.role, "itm_id": r.itm_id, "level": r.level, "code": r.code,
                 "match_by": r.match_by} for t in tables for r in t.code_roles])
            return n_roles, con.execute("SELECT id, source, org_id, tbl_id, base_year, verification, used_by, "
                                           "last_period FROM kosis.tables ORDER BY id").df()

        n_roles, preview = warehouse.write(write, what="writing the KOSIS catalog")
        return dg.MaterializeResult(metadata={"dagster/row_count": len(tables), "catalog": str(catalog_path),
                                              "code_roles": n_roles, "preview": dg.MetadataValue.md(
                                                  markdown_table(preview))})

    return kosis_catalog


def build_kosis_assets(catalog_path: Path | str = CATALOG_PATH, tables: tuple[KosisTable, ...] | None = None
                       ) -> list[dg.AssetsDefinition]:
    """The catalog asset and one asset per catalogued table (`tables`: the catalog already read from the path)."""
    tables = load_catalog(catalog_path) if tables is None else tables
    return [build_catalog_asset(catalog_path, tables), *(build_kosis_asset(t) for t in tables)]
