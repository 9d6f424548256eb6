"""An indicator that had rows and comes out empty fails its blocking schema check and keeps its table;
one that never had rows (population offline) stays allowed."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from pipelines.cli import published_is_behind
from tests.conftest import materialize, query
from tests.test_refresh import kosis_record
from warehouse.io import WarehouseResource
from warehouse.rollback import rollback_snapshot

POPULATION = dg.AssetKey(["indicators", "population"])


def test_an_indicator_emptied_by_a_rollback_is_an_error_and_nothing_is_written(baseline_copy: Path,
                                                                                sources_copy: Path) -> None:
    db = baseline_copy
    # offline, population has never had a row: allowed (the baseline build succeeded)
    assert query(db, "SELECT count(*) FROM indicators.population") == [(0,)]

    # a KOSIS population file dropped in the inbox: Seoul and Daegu, 2012
    records = [kosis_record("DT_1B040A3", c1, name, [], "T20", "총인구수", "명", "2012", dt, "2013-03-01")
               for c1, name, dt in (("11", "서울특별시", "10,195,318"), ("27", "대구광역시", "2,505,644"))]
    inbox = db.parent / "inbox"
    inbox.mkdir()
    (inbox / "population_2012.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    assert materialize(db, sources_copy).success
    rows = query(db, "SELECT * FROM indicators.population ORDER BY ALL")
    assert len(rows) == 2

    # the load is rolled back: population's only input is gone
    (sha,) = query(db, "SELECT snapshot_sha256 FROM kosis.snapshots WHERE request = 'inbox:population_2012.json'")[0]
    with WarehouseResource(database=str(db)).get_connection() as con:
        rollback_snapshot(con, sha, "test")
    result = materialize(db, sources_copy, selection=[POPULATION])

    assert not result.success
    (check,) = [e for e in result.get_asset_check_evaluations() if e.asset_key == POPULATION]
    assert check.check_name == "schema" and not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "0 rows where its previous build had 2" in (check.description or "")
    assert POPULATION not in {e.asset_key for e in result.get_asset_materialization_events()}
    assert query(db, "SELECT * FROM indicators.population ORDER BY ALL") == rows  # left as it was
    (details,) = query(db, "SELECT details FROM quality.check_results WHERE asset = 'indicators/population' "
                           "AND check_name = 'schema' AND NOT passed")[0]
    assert "previous build had 2" in details
    # nothing was published; the next make refresh sees the rollback as not yet published and derives again
    assert published_is_behind(WarehouseResource(database=str(db)))
