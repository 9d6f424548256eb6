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

from assets.kosis import (
    CATALOG_ERRORS,
    available_periods,
    kosis_partitions,
    normalize_date,
    offline_providers,
    table_covers,
)
from assets.kosis_client import KosisError
from schemas.kosis import KosisTable
from warehouse.io import WarehouseResource

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class TableState:
    available: dict[int, str]  # year -> the source's date for it ('' if none): NCD SEND_DE live, LST_CHN_DE offline
    loaded: dict[int, str]  # year -> the date held for it, comparable with `available` ('' if none)
    problem: str = ""  # the service rejected the catalog entry: nothing is planned for it
    # Offline: for each year, (sha256, request) of the file a load would read it from; the table's snapshots
    # recorded in kosis.snapshots; the rolled-back ones with the date of their rollback.
    providers: dict[int, tuple[str, str]] = field(default_factory=dict)
    seen: frozenset[str] = frozenset()
    rolled_back: dict[str, str] = field(default_factory=dict)


@dataclass
class TablePlan:
    table: KosisTable
    available: dict[int, str]
    new_years: list[int] = field(default_factory=list)
    revised_years: list[int] = field(default_factory=list)
    reason: str = ""
    problem: str = ""
    not_loaded: list[str] = field(default_factory=list)  # files not loaded, each with why (said by make refresh)

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
        # Offline, a year's file whose content was rolled back is never merged again (warehouse/kosis_load.py):
        # said by name instead of planned; a file whose content the warehouse has not seen is a revision even
        # when it carries the same LST_CHN_DE (a corrected file, or a portal download, which has none).
        blocked = {y: state.providers[y] for y in covered if y in state.providers
                   and state.providers[y][0] in state.rolled_back}
        not_loaded = [f"{offline_file_name(request)}: not loaded: snapshot {sha[:12]} with this content was rolled "
                      f"back on {state.rolled_back[sha]}; change or replace the file (a corrected file loads)"
                      for sha, request in dict.fromkeys(blocked.values())]
        new = [y for y in new if y not in blocked]
        if reread_all:
            revised, reason = [y for y in held if y not in blocked], "re-read of every period requested"
        else:
            dated = {y for y in held if normalize_date(covered[y])
                     and normalize_date(covered[y]) > normalize_date(state.loaded[y])}
            unseen = {y for y in held if y in state.providers and state.providers[y][0] not in state.seen}
            revised = sorted((dated | unseen) - set(blocked))
            reason = ("the source dates these periods after what the warehouse holds" if dated - set(blocked) else
                      "a file with content the warehouse has not loaded provides these periods") if revised else ""
        plans.append(TablePlan(table, covered, new_years=new, revised_years=revised, reason=reason,
                               problem=state.problem, not_loaded=not_loaded))
    return plans


def offline_file_name(request: str) -> str:
    """An offline snapshot's request as the file a user sees: inbox:x.json -> inbox/x.json."""
    kind, _, name = request.partition(":")
    return {"inbox": f"inbox/{name}", "inbox-portal": f"inbox/{name}"}.get(kind, name or request)


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


def snapshot_state(warehouse: WarehouseResource, tables: tuple[KosisTable, ...], timeout_s: float
                   ) -> dict[str, tuple[frozenset[str], dict[str, str]]]:
    """Per table: the sha256 of every snapshot recorded for it, and the rolled-back ones with their date."""
    out: dict[str, tuple[frozenset[str], dict[str, str]]] = {t.id: (frozenset(), {}) for t in tables}
    if not warehouse.exists():
        return out
    with warehouse.read_connection(timeout_s) as con:
        try:
            seen: dict[str, set[str]] = {}
            for catalog_id, sha in con.execute("SELECT catalog_id, snapshot_sha256 FROM kosis.snapshots").fetchall():
                seen.setdefault(catalog_id, set()).add(sha)
            rolled = dict(con.execute("SELECT snapshot_sha256, strftime(max(rolled_back_at), '%Y-%m-%d %H:%M UTC') "
                                      "FROM kosis.rollbacks GROUP BY 1").fetchall()) \
                if _has_table(con, "kosis", "rollbacks") else {}
        except duckdb.CatalogException:
            return out
    for t in tables:
        shas = frozenset(seen.get(t.id, ()))
        out[t.id] = (shas, {sha: date for sha, date in rolled.items() if sha in shas})
    return out


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                            "AND schema_name = ? AND table_name = ?",
                            [schema, name]).fetchone()[0])


def gather(tables: tuple[KosisTable, ...], kosis, source_root: str, warehouse: WarehouseResource,
           inbox: Path, lock_timeout_s: float | None = None) -> dict[str, TableState]:
    timeout = warehouse.lock_timeout_s if lock_timeout_s is None else lock_timeout_s
    loaded = loaded_state(warehouse, tables, timeout, live=not kosis.offline)
    snapshots = snapshot_state(warehouse, tables, timeout)
    states = {}
    for t in tables:
        try:
            providers = {} if t.is_kosis and not kosis.offline else {
                y: (f.sha256, f.request) for y, f in offline_providers(t, source_root, inbox).items()}
            states[t.id] = TableState(available=available_periods(t, kosis, source_root, inbox), loaded=loaded[t.id],
                                      providers=providers, seen=snapshots[t.id][0], rolled_back=snapshots[t.id][1])
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


def register_years(instance: dg.DagsterInstance, table: KosisTable, years) -> list[str]:
    """Adds the years of a table the instance does not know yet and keeps its keys in year order: Dagster lists
    dynamic partitions in the order they were added, so a year older than the newest known one (an inbox file of
    1997 after 2010 was loaded) would sort after it in the UI and split ranges; the keys from that point on are
    removed and added again in order (their materializations stay: they are kept by key). Returns those added."""
    name = kosis_partitions(table).name
    known = list(instance.get_dynamic_partitions(name))
    ordered = [str(y) for y in sorted({int(k) for k in known} | {int(y) for y in years})]
    missing = [k for k in ordered if k not in set(known)]
    if known == ordered:
        return []
    keep = 0
    while keep < len(known) and known[keep] == ordered[keep]:
        keep += 1
    for key in known[keep:]:
        instance.delete_dynamic_partition(name, key)
    instance.add_dynamic_partitions(name, ordered[keep:])
    return missing


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
    merge), each table's years registered first, in order. The sensor returns these; `make refresh` and `make run`
    execute the same ones in-process, so they cannot disagree. The run key names table, years and the source's
    dates: the same revision is requested once however often the sensor ticks."""
    requests = []
    for p in plans:
        if not p.years:
            continue
        register_years(instance, p.table, p.years)
        keys = instance.get_dynamic_partitions(kosis_partitions(p.table).name)
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


def full_read_plans(tables: tuple[KosisTable, ...], states: dict[str, TableState]) -> list[TablePlan]:
    """Every year each table has (within its catalogued periods), as `make run` and the monthly schedule read
    them; a year already held counts as revised, so its run is a re-read."""
    plans = []
    for table in tables:
        state = states[table.id]
        if state.problem:  # the service rejects the entry: one run asks again, and its check says so in the UI
            held = sorted(state.loaded) or [int(table.first_period[:4])]
            plans.append(TablePlan(table, {}, revised_years=held, reason="the service rejected this entry"))
            continue
        covered = {y: d for y, d in state.available.items() if table_covers(table, y)}
        plans.append(TablePlan(table, covered, new_years=sorted(y for y in covered if y not in state.loaded),
                               revised_years=sorted(y for y in covered if y in state.loaded), reason="full read"))
    return plans


def held_years_plans(instance: dg.DagsterInstance, tables: tuple[KosisTable, ...]) -> list[TablePlan]:
    """Every year registered for each table, as a re-read (the monthly schedule: revisions anywhere)."""
    plans = []
    for table in tables:
        years = sorted(int(k) for k in instance.get_dynamic_partitions(kosis_partitions(table).name))
        plans.append(TablePlan(table, {}, revised_years=years, reason="monthly re-read of every period"))
    return plans


@dataclass
class RunSequence:
    """The runs of one command (make run, a refresh's first build), read as one result: it succeeded if every run
    did; events, materializations and check evaluations are those of all of them, in order."""

    results: list = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)

    @property
    def run_id(self) -> str:
        return self.results[-1].run_id if self.results else ""

    @property
    def run_ids(self) -> list[str]:
        return [r.run_id for r in self.results]

    @property
    def all_events(self) -> list:
        return [e for r in self.results for e in r.all_events]

    def get_asset_materialization_events(self) -> list:
        return [e for r in self.results for e in r.get_asset_materialization_events()]

    def get_asset_check_evaluations(self) -> list:
        return [e for r in self.results for e in r.get_asset_check_evaluations()]


def phases(asset_graph, selection: dg.AssetSelection) -> tuple[list[dg.AssetKey], list[dg.AssetKey], list[dg.AssetKey]]:
    """The selected assets in the order a whole build runs them: the unpartitioned ones no KOSIS table feeds
    (reference, paper, the catalog), the KOSIS tables (one run per table and range of years), then what they feed
    (indicators, accounting, report, the published copy)."""
    keys = selection.resolve(asset_graph)
    partitioned = {k for k in keys if asset_graph.get(k).partitions_def is not None}
    downstream = dg.AssetSelection.assets(*partitioned).downstream().resolve(asset_graph) - partitioned \
        if partitioned else set()
    first = sorted(keys - partitioned - downstream)
    return first, sorted(partitioned), sorted(keys & downstream)


def whole_build_requests(asset_graph, requests: list[dg.RunRequest], selection: dg.AssetSelection
                         ) -> list[dg.RunRequest]:
    """The runs of a whole build, in order: the first phase, the planner's run requests for the selected KOSIS
    tables, the last phase."""
    first, partitioned, last = phases(asset_graph, selection)
    steps = [dg.RunRequest(asset_selection=first)] if first else []
    steps += [r for r in requests if set(r.asset_selection or []) <= set(partitioned)]
    if last:
        steps.append(dg.RunRequest(asset_selection=last))
    return steps


def execute_whole_build(execute, asset_graph, requests: list[dg.RunRequest], selection: dg.AssetSelection
                        ) -> RunSequence:
    """A whole build as a sequence of runs (`execute(run_request)` runs one and returns its result). Stops at the
    first failed run, so nothing is derived from a failed load."""
    runs = RunSequence()
    for request in whole_build_requests(asset_graph, requests, selection):
        result = execute(request)
        runs.results.append(result)
        if not result.success:
            break
    return runs


def derive_request() -> dg.RunRequest:
    """The derive-and-publish tail of a refresh or rollback (pipelines/jobs.py), as a run request."""
    return dg.RunRequest(job_name="derive_and_publish")


def prepare_full_run(instance: dg.DagsterInstance, tables: tuple[KosisTable, ...], kosis, source_root: str,
                     warehouse: WarehouseResource) -> list[dg.RunRequest]:
    """The run requests for every year each catalogued table has (its years registered, in order): make run."""
    states = gather(tables, kosis, source_root, warehouse, inbox_dir(warehouse))
    return run_requests(instance, full_read_plans(tables, states))
