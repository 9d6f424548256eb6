"""Which (table, year) pairs a refresh loads: one pure planner, shared by the sensor and `make refresh`.

`plan()` decides from two facts per table, gathered by `gather()`:
- available: the years the source has, each with the source's date for it: live, getMeta PRD (first and
  last period) and getMeta NCD (SEND_DE per period, the date KOSIS last loaded it); offline, the bundled
  or inbox files and their LST_CHN_DE;
- loaded: the years the working warehouse holds, each with the date to compare: live, the SEND_DE recorded
  when the year was last read (kosis.period_updates; a year recorded there was read even if every row of it
  was quarantined); offline, the year's latest LST_CHN_DE. Rows of a rolled-back snapshot count as read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from assets.kosis import CATALOG_ERRORS, KOSIS_YEARS, available_periods, normalize_date, table_covers
from assets.kosis_client import KosisError
from schemas.kosis import KosisTable
from warehouse.io import WarehouseResource

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class TableState:
    available: dict[int, str]  # year -> the source's date for it ('' if none): NCD SEND_DE live, LST_CHN_DE offline
    loaded: dict[int, str]  # year -> the date held for it, comparable with `available` ('' if none)
    problem: str = ""  # the service rejected the catalog entry: nothing is planned for it


@dataclass
class TablePlan:
    table: KosisTable
    available: dict[int, str]
    new_years: list[int] = field(default_factory=list)
    revised_years: list[int] = field(default_factory=list)
    reason: str = ""
    problem: str = ""

    @property
    def years(self) -> list[int]:
        return sorted({*self.new_years, *self.revised_years})


def plan(tables: tuple[KosisTable, ...], states: dict[str, TableState], *, reread_all: bool = False) -> list[TablePlan]:
    """New years: available, within the table's catalogued periods, not loaded. Revised years: loaded years
    whose date at the source is newer than the one held (or held without a date while the source has one);
    or every loaded year when asked (`reread_all`: the monthly schedule and `make refresh ALL=1`)."""
    plans = []
    for table in tables:
        state = states[table.id]
        covered = {y: d for y, d in state.available.items() if table_covers(table, y)}
        new = sorted(y for y in covered if y not in state.loaded)
        held = sorted(y for y in covered if y in state.loaded)
        if reread_all:
            revised, reason = held, "re-read of every period requested"
        else:
            revised = [y for y in held if normalize_date(covered[y])
                       and normalize_date(covered[y]) > normalize_date(state.loaded[y])]
            reason = "the source dates these periods after what the warehouse holds" if revised else ""
        plans.append(TablePlan(table, covered, new_years=new, revised_years=revised, reason=reason,
                               problem=state.problem))
    return plans


def loaded_state(warehouse: WarehouseResource, tables: tuple[KosisTable, ...], timeout_s: float,
                 live: bool) -> dict[str, dict[int, str]]:
    """Loaded years per table with the date to compare: live, the service's update date recorded when the
    year was last read (kosis.period_updates); offline, the year's latest LST_CHN_DE. Read from the working
    warehouse (what the next load merges into), waiting a bounded time for a writer."""
    loaded: dict[str, dict[int, str]] = {t.id: {} for t in tables}
    if not warehouse.exists():
        return loaded
    with warehouse.read_connection(timeout_s) as con:
        try:
            # Rows of a rolled-back snapshot count as read: the source's version of that period was seen and undone,
            # and is not "new" or "revised" again until the source dates it later (make rollback).
            read = ("(valid_to IS NULL OR snapshot_sha256 IN (SELECT snapshot_sha256 FROM kosis.rollbacks))"
                    if _has_table(con, "kosis", "rollbacks") else "valid_to IS NULL")
            for table in tables:
                if live and table.is_kosis:
                    # A year recorded in kosis.period_updates was read, even if no row of it loaded (all quarantined).
                    sql = (f"WITH years AS (SELECT DISTINCT year FROM kosis.observations WHERE org_id = ? "
                           f"AND tbl_id = ? AND {read} UNION "
                           "SELECT year FROM kosis.period_updates WHERE catalog_id = ?) "
                           "SELECT y.year, coalesce(max(u.update_de), '') FROM years y "
                           "LEFT JOIN kosis.period_updates u ON u.catalog_id = ? AND u.year = y.year GROUP BY y.year")
                    params = [table.org_id, table.tbl_id, table.id, table.id]
                else:
                    sql = (f"SELECT year, coalesce(max(lst_chn_de), '') FROM kosis.observations "
                           f"WHERE org_id = ? AND tbl_id = ? AND {read} GROUP BY year")
                    params = [table.org_id, table.tbl_id]
                loaded[table.id] = dict(con.execute(sql, params).fetchall())
        except duckdb.CatalogException:  # a warehouse with no kosis tables yet
            pass
    return loaded


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                            "AND schema_name = ? AND table_name = ?",
                            [schema, name]).fetchone()[0])


def gather(tables: tuple[KosisTable, ...], kosis, source_root: str, warehouse: WarehouseResource,
           inbox: Path, lock_timeout_s: float | None = None) -> dict[str, TableState]:
    timeout = warehouse.lock_timeout_s if lock_timeout_s is None else lock_timeout_s
    loaded = loaded_state(warehouse, tables, timeout, live=not kosis.offline)
    states = {}
    for t in tables:
        try:
            states[t.id] = TableState(available=available_periods(t, kosis, source_root, inbox), loaded=loaded[t.id])
        except KosisError as exc:  # one wrong catalog entry must not stop the others; a bad key still does
            if exc.code not in CATALOG_ERRORS:
                raise
            states[t.id] = TableState(available={}, loaded=loaded[t.id], problem=str(exc))
    return states


def inbox_dir(warehouse: WarehouseResource) -> Path:
    return warehouse.path.parent / "inbox"


def plan_refresh(tables: tuple[KosisTable, ...], kosis, source_root: str, warehouse: WarehouseResource,
                 *, reread_all: bool = False, lock_timeout_s: float | None = None) -> list[TablePlan]:
    states = gather(tables, kosis, source_root, warehouse, inbox_dir(warehouse), lock_timeout_s)
    return plan(tables, states, reread_all=reread_all)


def register_years(instance: dg.DagsterInstance, years) -> list[str]:
    """Adds the years the instance does not know yet and keeps every key in year order: Dagster lists dynamic
    partitions in the order they were added, so a year older than the newest known one (an inbox file of 1997
    after 2010 was loaded) would sort after it in the UI and split ranges; the keys from that point on are
    removed and added again in order (their materializations stay: they are kept by key). Returns those added."""
    known = list(instance.get_dynamic_partitions(KOSIS_YEARS.name))
    wanted = sorted({int(k) for k in known} | {int(y) for y in years})
    ordered = [str(y) for y in wanted]
    missing = [k for k in ordered if k not in set(known)]
    if not missing and known == ordered:
        return []
    keep = 0
    while keep < len(known) and keep < len(ordered) and known[keep] == ordered[keep]:
        keep += 1
    for key in known[keep:]:
        instance.delete_dynamic_partition(KOSIS_YEARS.name, key)
    instance.add_dynamic_partitions(KOSIS_YEARS.name, ordered[keep:])
    return missing


def all_years_tags(instance: dg.DagsterInstance) -> dict[str, str]:
    """Run tags that make one run load every registered year (the KOSIS assets run them in one go)."""
    keys = sorted(instance.get_dynamic_partitions(KOSIS_YEARS.name), key=int)
    return {RANGE_START: keys[0], RANGE_END: keys[-1]} if keys else {}


def partition_ranges(keys: list[str], wanted: set[str]) -> list[tuple[str, str]]:
    """The wanted keys as few (first, last) ranges of consecutive keys as possible, in year order: a range never
    spans a key that is not wanted (a run owns exactly the years it loads)."""
    ranges: list[list[str]] = []
    previous_wanted = False
    for key in sorted(keys, key=int):
        if key in wanted:
            if previous_wanted:
                ranges[-1][1] = key
            else:
                ranges.append([key, key])
        previous_wanted = key in wanted
    return [(a, b) for a, b in ranges]


def run_requests(instance: dg.DagsterInstance, plans: list[TablePlan]) -> list[dg.RunRequest]:
    """The runs a refresh makes: one per table and range of consecutive years it plans (one fetch per range, one
    merge), the years registered first, in order. The sensor returns these; `make refresh` executes the same ones
    in-process, so the two cannot disagree. The run key names table, years and the source's dates: the same
    revision is requested once however often the sensor ticks."""
    register_years(instance, {y for p in plans for y in p.years})
    keys = instance.get_dynamic_partitions(KOSIS_YEARS.name)
    requests = []
    for p in plans:
        for first, last in partition_ranges(keys, {str(y) for y in p.years}):
            span = [y for y in p.years if int(first) <= y <= int(last)]
            dates = ",".join(p.available.get(y) or "unknown" for y in span)
            reason = "new period" if all(y in p.new_years for y in span) else (
                "revised period" if not any(y in p.new_years for y in span) else "new and revised periods")
            tags = {"refresh/reason": reason, "refresh/table": p.table.id, "refresh/years": f"{first}-{last}"}
            if first != last:
                tags.update({RANGE_START: first, RANGE_END: last})
            requests.append(dg.RunRequest(
                run_key=f"{p.table.id}:{first}-{last}:{dates}",
                asset_selection=[dg.AssetKey(["kosis", p.table.id])],
                partition_key=first if first == last else None, tags=tags))
    return requests
