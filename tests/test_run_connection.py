"""A run opens the working warehouse once and sets up its schema once: every step works on a cursor of the run's
connection (opening DuckDB and closing it, which checkpoints the file, cost more than the work, 80 times a run)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

import warehouse.io
from assets.source_files import SOURCES_DIR
from tests.conftest import materialize, query


def test_a_run_opens_the_warehouse_once_and_sets_up_the_schema_once(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "warehouse.duckdb"
    opened: list[bool] = []  # read_only of every connection to the working file
    schema_setups: list[str] = []
    connect, ensure_schema = duckdb.connect, warehouse.io.ensure_schema

    def counting_connect(database=":memory:", *args, **kwargs):
        if Path(str(database)) == db:
            opened.append(bool(kwargs.get("read_only")))
        return connect(database, *args, **kwargs)

    def counting_ensure_schema(con) -> None:
        schema_setups.append("setup")
        ensure_schema(con)

    copied: list[Path] = []
    copyfile = shutil.copyfile

    def counting_copyfile(src, dst, **kwargs):
        copied.append(Path(src))
        return copyfile(src, dst, **kwargs)

    assert materialize(db, SOURCES_DIR).success  # a first run; the second, measured one finds the file set up
    monkeypatch.setattr(duckdb, "connect", counting_connect)
    monkeypatch.setattr(warehouse.io, "ensure_schema", counting_ensure_schema)
    monkeypatch.setattr(shutil, "copyfile", counting_copyfile)
    result = materialize(db, SOURCES_DIR)
    assert result.success
    n_steps = len({e.step_key for e in result.all_events if e.is_step_success})
    assert n_steps >= 25
    # a whole build is a few runs (sources, one per KOSIS table and range of years, derived tables): per run, the
    # lock probe before it (opened and closed at once), then one writer connection for all its steps
    assert len(result.run_ids) >= 3
    assert opened.count(False) == 2 * len(result.run_ids), opened
    assert schema_setups == ["setup"] * len(result.run_ids)  # once per run (the work itself once per process)
    # the publication checkpointed through the run's connection and copied the file (no table-by-table fallback:
    # a transaction left open on the run's connection would force it, 100x slower)
    assert copied == [db]
    # the run's connection was closed at the end: another process-level writer can open the file at once
    assert query(db, "SELECT count(*) FROM kosis.tables")[0][0] > 0
    con = connect(str(db))
    con.close()


def test_a_check_row_commits_with_the_table_it_describes_or_not_at_all(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """An indicator whose write fails after its table and its check's row were written leaves neither: the IO
    manager commits them in one transaction (warehouse/tables.py); the other tables' rows are there."""
    import warehouse.tables

    record = warehouse.tables.record_checks

    def failing(con, checks, *, run_id, asset):
        record(con, checks, run_id=run_id, asset=asset)
        if asset == "indicators/sme_concentration":
            raise OSError("disk full while writing indicators.sme_concentration")

    monkeypatch.setattr(warehouse.tables, "record_checks", failing)
    db = tmp_path / "warehouse.duckdb"
    result = materialize(db, SOURCES_DIR)
    assert not result.success
    rows = dict(query(db, "SELECT asset || ':' || check_name, passed FROM quality.check_results"))
    assert "indicators/sme_concentration:schema" not in rows
    assert query(db, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'indicators' "
                     "AND table_name = 'sme_concentration'") == [(0,)]
    assert rows["indicators/industrial_structure:schema"] is True
    assert rows["paper/sme_share_manufacturing:structure"] is True


def test_an_asset_can_take_a_warehouse_table_as_an_input(baseline_copy: Path) -> None:
    """The IO manager that writes the tables also reads them: an analyst's own asset downstream of an indicator
    gets the table as a frame (the rows the warehouse holds, with its columns)."""
    from assets.kosis_resource import KosisResource
    from pipelines.definitions import defs
    from warehouse.io import SourceFiles, WarehouseResource
    from warehouse.tables import TABLE_IO_MANAGER, with_table_io_manager

    seen: dict[str, pd.DataFrame] = {}

    @dg.asset(ins={"budget": dg.AssetIn(key=["indicators", "st_budget_dependence"],
                                        input_manager_key=TABLE_IO_MANAGER)})
    def national_share_ranking(budget: pd.DataFrame) -> dg.MaterializeResult:
        seen["budget"] = budget
        return dg.MaterializeResult(metadata={"regions": len(budget)})

    result = dg.materialize(
        [*defs.assets, national_share_ranking], selection=[national_share_ranking],
        resources=with_table_io_manager({"warehouse": WarehouseResource(database=str(baseline_copy)),
                                         "source_files": SourceFiles(root=str(SOURCES_DIR)),
                                         "kosis": KosisResource()}),
        instance=dg.DagsterInstance.ephemeral())
    assert result.success
    expected = query(baseline_copy, "SELECT region_code, national_share_pct FROM indicators.st_budget_dependence "
                                    "ORDER BY region_code")
    got = seen["budget"].sort_values("region_code")
    assert list(zip(got["region_code"], got["national_share_pct"], strict=True)) == expected
