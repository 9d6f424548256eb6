"""`make rollback`: a bad KOSIS load undone on real warehouses built by the pipeline (nothing lost)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from assets.source_files import SOURCES_DIR, load_catalog
from pipelines.planner import gather, plan
from tests.conftest import materialize, query
from tests.kosis_server import KosisServer, make_generated_table
from tests.test_kosis_pipeline import CATALOG, ingest, kosis
from warehouse.io import WarehouseResource, published_path
from warehouse.rollback import resolve_snapshot, rollback_snapshot

PROJECT = Path(__file__).resolve().parent.parent
KEY = "SECRET-kosis-key-7f3a91c2"
CELL = ("T01", ("22", "C002"), "2011")
CELL_SQL = "itm_id = 'T01' AND c1 = '22' AND c2 = 'C002' AND prd_de = '2011'"

# One worker for the tests of `revised_offline` under pytest-xdist (--dist loadgroup).
ROLLBACK_REVISED = pytest.mark.xdist_group("rollback_revised")


def test_rolling_back_a_revision_makes_the_old_vintage_current_and_the_planner_does_not_reload_it(tmp_path) -> None:
    table = make_generated_table("DT_BIG", n_regions=18, n_classes=3, n_items=1, periods=["2010", "2011"], seed=5)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    with KosisServer([table], api_key=KEY) as srv:
        assert ingest(db, catalog, srv).success
        before = query(db, "SELECT cell_key, value, snapshot_sha256 FROM kosis.observations_current ORDER BY 1")
        old = srv.tables["DT_BIG"].cell(*CELL)
        srv.revise("DT_BIG", CELL, "9,999", "20250301")
        assert ingest(db, catalog, srv).success
        (revision,) = query(db, f"SELECT snapshot_sha256 FROM kosis.observations_current WHERE {CELL_SQL}")[0]
        assert query(db, f"SELECT value FROM kosis.observations_current WHERE {CELL_SQL}") == [(9999.0,)]
        n_rows = query(db, "SELECT count(*) FROM kosis.observations")

        wh = WarehouseResource(database=str(db), lock_timeout_s=5)
        with wh.get_connection() as con:
            assert resolve_snapshot(con, revision[:12].upper()) == (revision, "big")
            done = rollback_snapshot(con, revision, "bad revision")
        assert (done.cells_closed, done.cells_reopened, done.years) == (1, 1, (2011,))

        # the old values are current again; nothing was deleted (the revision is a closed vintage)
        assert query(db, "SELECT cell_key, value, snapshot_sha256 FROM kosis.observations_current ORDER BY 1") == before
        assert query(db, f"SELECT value_raw FROM kosis.observations_current WHERE {CELL_SQL}") == [(old,)]
        assert query(db, "SELECT count(*) FROM kosis.observations") == n_rows
        assert query(db, f"SELECT value, valid_to IS NOT NULL FROM kosis.observations WHERE {CELL_SQL} "
                         f"AND snapshot_sha256 = ?", [revision]) == [(9999.0, True)]
        assert query(db, "SELECT snapshot_sha256, cells_closed, cells_reopened, reason, rolled_back_at IS NOT NULL "
                         "FROM kosis.rollbacks") == [(revision, 1, 1, "bad revision", True)]
        (path,) = query(db, "SELECT path FROM kosis.snapshots WHERE snapshot_sha256 = ?", [revision])[0]
        assert Path(path).is_file()  # the archived body is kept

        # the service still dates 2011 as when the revision was read: not new, not revised
        tables = load_catalog(catalog)
        plans = plan(tables, gather(tables, kosis(srv), "", wh, tmp_path / "inbox"))
        assert [(p.new_years, p.revised_years) for p in plans] == [([], [])]


def cli(args: list[str], db: Path, home: Path, *, via_make: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOSIS_", "WAREHOUSE_", "DAGSTER_"))}
    env.update(WAREHOUSE_PATH=str(db), DAGSTER_HOME=str(home), WAREHOUSE_LOCK_TIMEOUT_S="10")
    command = ["make", "-s", "rollback", *args] if via_make else [sys.executable, "-m", "pipelines.rollback", *args]
    if not via_make:
        home.mkdir(parents=True, exist_ok=True)
    return subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def revised_template(baseline: Path, tmp_path_factory) -> tuple[Path, Path, str]:
    """The baseline warehouse, then a second load whose bundled Table 2 revises Daegu's 2011 SME worker share
    (89.9 -> 80.0, with a vintage date): (warehouse, sources, the revision's sha256). Built once; tests copy it
    (`revised_offline`) and only read the sources."""
    root = tmp_path_factory.mktemp("revised")
    sources = root / "sources"
    shutil.copytree(SOURCES_DIR, sources)
    db = root / "data" / "warehouse.duckdb"
    db.parent.mkdir()
    shutil.copy(baseline, db)
    bundled = sources / "kosis" / "bundled" / "paper_table_2_sme_share.json"
    records = json.loads(bundled.read_text(encoding="utf-8"))
    for r in records:
        if (r["C1"], r["C2"], r["ITM_ID"], r["PRD_DE"]) == ("22", "SME", "PAPER_WORKERS", "2011"):
            r.update(DT="80.0", LST_CHN_DE="20260101")
    bundled.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    assert materialize(db, sources).success
    (sha,) = query(db, "SELECT snapshot_sha256 FROM kosis.observations_current WHERE tbl_id = 'KIM2013_T2' "
                       "AND c1 = '22' AND c2 = 'SME' AND itm_id = 'PAPER_WORKERS'")[0]
    return db, sources, sha


@pytest.fixture
def revised_offline(revised_template: tuple[Path, Path, str], tmp_path: Path) -> tuple[Path, Path, str]:
    """revised_template's data folder (warehouse, published copy, raw archive, report) copied into tmp_path."""
    template_db, sources, sha = revised_template
    shutil.copytree(template_db.parent, tmp_path / "data")
    return tmp_path / "data" / "warehouse.duckdb", sources, sha


DAEGU_2011 = "SELECT sme_worker_pct FROM indicators.sme_concentration WHERE region_code = '22' AND year = 2011"


@ROLLBACK_REVISED
def test_make_rollback_restores_the_old_vintage_rebuilds_and_publishes(revised_offline, tmp_path) -> None:
    db, sources, sha = revised_offline
    assert query(db, DAEGU_2011) == [(80.0,)]
    n_snapshots = query(db, "SELECT count(*) FROM kosis.snapshots")

    proc = cli([f"SNAPSHOT={sha[:10]}", "REASON=wrong transcription"], db, tmp_path / "home", via_make=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"Rolled back KOSIS snapshot {sha}" in proc.stdout and "1 cells closed" in proc.stdout
    assert "Published:" in proc.stdout

    for where in (db, published_path(db)):  # rebuilt and published
        assert query(where, DAEGU_2011) == [(89.9,)]
        assert query(where, "SELECT snapshot_sha256, cells_closed, cells_reopened, reason FROM kosis.rollbacks") == [
            (sha, 1, 1, "wrong transcription")]
    assert query(db, "SELECT count(*) FROM kosis.snapshots") == n_snapshots  # nothing lost

    # a full run (make run re-reads every year) does not merge the rolled-back body again
    assert materialize(db, sources).success
    assert query(db, DAEGU_2011) == [(89.9,)]
    assert query(db, "SELECT count(*) FROM kosis.observations_current WHERE snapshot_sha256 = ?", [sha]) == [(0,)]

    # the bundled file still dates 2011 after what is current, but that version was read and rolled back
    from pipelines.resources import KosisResource

    tables = KosisResource().catalog()
    plans = plan(tables, gather(tables, KosisResource(), str(sources), WarehouseResource(database=str(db)),
                                db.parent / "inbox"))
    assert all(not p.years for p in plans), [(p.table.id, p.years) for p in plans]


@ROLLBACK_REVISED
def test_an_unknown_or_ambiguous_snapshot_exits_2_with_one_line(revised_offline, tmp_path) -> None:
    db, _, sha = revised_offline
    before = query(db, "SELECT count(*) FROM kosis.observations_current")
    unknown = cli(["--snapshot", "0000deadbeef"], db, tmp_path / "home")
    assert unknown.returncode == 2
    assert unknown.stdout.strip().splitlines() == ["FAILED: no KOSIS snapshot 0000deadbeef* in kosis.snapshots; "
                                                   "nothing was changed"]
    # a second snapshot whose sha256 starts with the same 8 digits (recorded, without rows)
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO kosis.snapshots (snapshot_sha256, catalog_id, org_id, tbl_id, request, fetched_at, "
                "n_records, path, origin) SELECT ?, catalog_id, org_id, tbl_id, request, fetched_at, 0, path, origin "
                "FROM kosis.snapshots WHERE snapshot_sha256 = ?", [sha[:8] + "0" * 56, sha])
    con.close()
    ambiguous = cli(["--snapshot", sha[:8]], db, tmp_path / "home")
    assert ambiguous.returncode == 2
    (line,) = ambiguous.stdout.strip().splitlines()
    assert line.startswith("FAILED: 2 KOSIS snapshots start with " + sha[:8]) and "give more of the sha256" in line
    assert query(db, "SELECT count(*) FROM kosis.observations_current") == before
    assert query(db, "SELECT count(*) FROM kosis.rollbacks") == [(0,)]
