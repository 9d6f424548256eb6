"""Which (table, year) pairs a refresh loads: one pure planner, shared by the sensor and `make refresh`.

`plan()` decides from three facts per table, gathered by `gather()`:
- available: the years the source has (getMeta PRD live; the bundled or inbox files offline), with a
  per-year revision date where the source gives one;
- loaded: the years the working warehouse holds for that table, with their latest LST_CHN_DE;
- the table's update date as the service reports it (getMeta NCD SEND_DE) against the one recorded when
  every loaded year was last re-read (kosis.tables.last_update_de).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assets.kosis import available_periods, live_update_date, normalize_date, table_covers
from schemas.kosis import KosisTable
from warehouse.io import WarehouseResource, connect_with_retry


@dataclass(frozen=True)
class TableState:
    available: dict[int, str]  # year -> revision date the source gives ('' if none)
    loaded: dict[int, str]  # year -> latest LST_CHN_DE held ('' if none)
    update_de: str = ""  # the service's last update of the table (NCD SEND_DE), YYYYMMDD
    recorded_update_de: str = ""  # the update date recorded after the last full re-read


@dataclass
class TablePlan:
    table: KosisTable
    available: dict[int, str]
    new_years: list[int] = field(default_factory=list)
    revised_years: list[int] = field(default_factory=list)
    reason: str = ""

    @property
    def years(self) -> list[int]:
        return sorted({*self.new_years, *self.revised_years})


def plan(tables: tuple[KosisTable, ...], states: dict[str, TableState], *, reread_all: bool = False) -> list[TablePlan]:
    """New years: available, within the table's catalogued periods, not loaded. Revised years: loaded years
    whose per-year revision date is newer than the one held; or every loaded year when the service says the
    table changed since the last full re-read (KOSIS gives no per-year date in getMeta); or all of them when
    asked (`reread_all`, what the monthly schedule and `make refresh ALL=1` do)."""
    plans = []
    for table in tables:
        state = states[table.id]
        covered = {y: d for y, d in state.available.items() if table_covers(table, y)}
        new = sorted(y for y in covered if y not in state.loaded)
        held = [y for y in covered if y in state.loaded]
        reason = ""
        if reread_all:
            revised, reason = sorted(held), "re-read of every period requested"
        elif held and state.update_de and state.update_de > state.recorded_update_de:
            revised = sorted(held)
            reason = (f"KOSIS reports an update on {state.update_de}"
                      + (f" (last full re-read: {state.recorded_update_de})" if state.recorded_update_de else ""))
        else:
            revised = sorted(y for y in held if covered[y] and state.loaded[y]
                             and normalize_date(covered[y]) > normalize_date(state.loaded[y]))
            reason = "newer LST_CHN_DE per period" if revised else ""
        plans.append(TablePlan(table, covered, new_years=new, revised_years=revised, reason=reason))
    return plans


def loaded_state(db_path: Path, tables: tuple[KosisTable, ...],
                 timeout_s: float) -> tuple[dict[str, dict[int, str]], dict[str, str]]:
    """Loaded years per table and the recorded update dates, read from the working warehouse (what the next
    load merges into), waiting a bounded time for a writer."""
    loaded: dict[str, dict[int, str]] = {t.id: {} for t in tables}
    recorded: dict[str, str] = {t.id: "" for t in tables}
    if not db_path.exists():
        return loaded, recorded
    con = connect_with_retry(db_path, read_only=True, timeout_s=timeout_s)
    try:
        for table in tables:
            rows = con.execute("SELECT year, coalesce(max(lst_chn_de), '') FROM kosis.observations_current "
                               "WHERE org_id = ? AND tbl_id = ? GROUP BY year",
                               [table.org_id, table.tbl_id]).fetchall()
            loaded[table.id] = dict(rows)
        try:
            recorded.update(dict(con.execute(
                "SELECT id, coalesce(last_update_de, '') FROM kosis.tables").fetchall()))
        except duckdb.BinderException:  # a warehouse from before update dates were recorded
            pass
    except duckdb.CatalogException:  # a warehouse with no kosis tables yet
        pass
    finally:
        con.close()
    return loaded, recorded


def gather(tables: tuple[KosisTable, ...], kosis, source_root: str, warehouse: WarehouseResource,
           inbox: Path, lock_timeout_s: float | None = None) -> dict[str, TableState]:
    timeout = warehouse.lock_timeout_s if lock_timeout_s is None else lock_timeout_s
    loaded, recorded = loaded_state(warehouse.path, tables, timeout)
    states = {}
    for table in tables:
        live = table.is_kosis and not kosis.offline
        states[table.id] = TableState(
            available=available_periods(table, kosis, source_root, inbox),
            loaded=loaded[table.id],
            update_de=live_update_date(table, kosis) if live and loaded[table.id] else "",
            recorded_update_de=normalize_date(recorded.get(table.id)),
        )
    return states
