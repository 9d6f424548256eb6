"""KOSIS ingestion through real Dagster materializations against the loopback KOSIS server."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import dagster as dg
import pytest

from assets.source_files import SOURCES_DIR
from pipelines.definitions import build_assets
from pipelines.resources import KosisResource
from tests.conftest import grdp_catalog, materialize, query, snapshot
from tests.kosis_server import KosisServer, KosisTable, make_generated_table

KEY = "SECRET-kosis-key-7f3a91c2"
YEARS = [str(y) for y in range(2000, 2020)]
BIG = dict(n_regions=18, n_classes=60, n_items=2)  # 18 x 60 x 2 x 20 years = 43,200 cells > 40,000
N_BIG = 18 * 60 * 2 * len(YEARS)

CATALOG = """
tables:
  - id: big
    org_id: "101"
    tbl_id: DT_BIG
    tbl_nm: generated
    prd_se: Y
    first_period: "2000"
    obj_levels: ["ALL", "ALL"]
    itm_id: ALL
    unit: test
    verified: false
"""
KOSIS_ONLY = dg.AssetSelection.assets(["reference", "region_code_map"],
                                      ["kosis", "catalog"], ["kosis", "big"])


@pytest.fixture
def server():
    with KosisServer([make_generated_table("DT_BIG", periods=YEARS, seed=3, **BIG)], api_key=KEY) as srv:
        yield srv


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ingested_template(tmp_path_factory) -> Path:
    """DT_BIG as `server` serves it, loaded once into a warehouse (w.duckdb and its raw archive in the returned
    folder); `ingested` copies it. Nothing may write here."""
    root = tmp_path_factory.mktemp("ingested")
    catalog = root / "catalog.yaml"
    catalog.write_text(CATALOG, encoding="utf-8")
    with KosisServer([make_generated_table("DT_BIG", periods=YEARS, seed=3, **BIG)], api_key=KEY) as srv:
        result = ingest(root / "data" / "w.duckdb", catalog, srv)
    assert result.success, failure_message(result)
    assert query(root / "data" / "w.duckdb", "SELECT count(*) FROM kosis.observations_current") == [(N_BIG,)]
    return root / "data"


@pytest.fixture
def ingested(ingested_template: Path, tmp_path: Path) -> Path:
    """A warehouse that has loaded all of DT_BIG (a copy of ingested_template): its path."""
    shutil.copytree(ingested_template, tmp_path / "data")
    db = tmp_path / "data" / "w.duckdb"
    assert query(db, "SELECT count(*) FROM kosis.observations_current") == [(N_BIG,)]
    return db


# One worker for the tests of `ingested` under pytest-xdist (--dist loadgroup).
INGESTED = pytest.mark.xdist_group("kosis_ingested")


def kosis(server: KosisServer, **overrides) -> KosisResource:
    settings = dict(api_key=KEY, base_url=server.base_url, timeout_s=1.0, connect_timeout_s=1.0, max_retries=4,
                    backoff_base_s=0.01, backoff_max_s=0.05)
    return KosisResource(**{**settings, **overrides})


def ingest(db: Path, catalog: Path, server: KosisServer, instance=None, **overrides) -> dg.ExecuteInProcessResult:
    return materialize(db, SOURCES_DIR, selection=KOSIS_ONLY, assets=build_assets(catalog),
                       kosis=kosis(server, **overrides), instance=instance)


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(e.event_specific_data.error.to_string() for e in result.all_events if e.is_step_failure)


def test_a_table_over_40000_cells_arrives_in_split_calls_and_loads_completely(tmp_path, catalog, server) -> None:
    db = tmp_path / "w.duckdb"
    result = ingest(db, catalog, server)
    assert result.success, failure_message(result)
    data_calls = [r for r in server.requests_log if r.get("method") == "getList"]
    assert len(data_calls) >= 2
    assert query(db, "SELECT count(*), count(DISTINCT cell_key) FROM kosis.observations_current") == [(N_BIG, N_BIG)]
    snapshots = query(db, "SELECT snapshot_sha256, path, request, n_records, origin FROM kosis.snapshots")
    assert sum(s[3] for s in snapshots) == N_BIG and {s[4] for s in snapshots} == {"live"}
    for sha, path, request, _, _ in snapshots:
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha  # archived as received
        assert KEY not in request and "apiKey" not in request and "DT_BIG" in request
    table: KosisTable = server.tables["DT_BIG"]
    for (itm, cs, prd), dt in [((i, c, p), table.cell(i, c, p)) for i, c, p in
                               [("T01", ("22", "C007"), "2010"), ("T02", ("29", "C001"), "2005"),
                                ("T01", ("11", "C060"), "2019")]]:
        got = query(db, "SELECT value, value_raw FROM kosis.observations_current WHERE itm_id = ? AND c1 = ? "
                        "AND c2 = ? AND prd_de = ?", [itm, cs[0], cs[1], prd])
        expected = None if dt == "-" else float(dt.replace(",", ""))
        assert got == [(expected, dt)]
    assert query(db, "SELECT last_period, last_lst_chn_de IS NOT NULL FROM kosis.tables WHERE id = 'big'") == [
        ("2019", True)]
    assert query(db, "SELECT count(*) FROM kosis.observations WHERE prd_se <> 'A' OR year IS NULL") == [(0,)]


@INGESTED
def test_a_revision_adds_one_vintage_and_an_unchanged_load_adds_nothing(ingested, catalog, server) -> None:
    db = ingested  # DT_BIG loaded once already
    before = snapshot(db)
    assert ingest(db, catalog, server).success  # the same data again
    assert snapshot(db) == before

    cell = ("T01", ("22", "C007"), "2010")
    old = server.tables["DT_BIG"].cell(*cell)
    server.revise("DT_BIG", cell, "9,999,999", "20250301")
    assert ingest(db, catalog, server).success
    rows = query(db, "SELECT value_raw, value, valid_to IS NULL, lst_chn_de FROM kosis.observations "
                     "WHERE itm_id = 'T01' AND c1 = '22' AND c2 = 'C007' AND prd_de = '2010' ORDER BY valid_from")
    assert rows == [(old, rows[0][1], False, rows[0][3]), ("9,999,999", 9999999.0, True, "2025-03-01")]
    assert query(db, "SELECT count(*) FROM kosis.observations") == [(N_BIG + 1,)]
    assert query(db, "SELECT count(*) FROM kosis.observations_current") == [(N_BIG,)]


RECOVERABLE = [("err", {"code": "40"}), ("err", {"code": "42"}), ("err", {"code": "50"}), ("http", {"status": 500}),
               ("http", {"status": 503}), ("slow", {"seconds": 2.5}), ("truncate", {}), ("unquoted", {}),
               ("reset", {})]


@pytest.mark.parametrize(("kind", "kw"), RECOVERABLE, ids=lambda v: str(v))
def test_transient_faults_are_recovered(tmp_path, catalog, server, kind, kw) -> None:
    db = tmp_path / "w.duckdb"
    server.inject(kind, times=2, **kw)
    result = ingest(db, catalog, server)
    assert result.success, failure_message(result)
    assert query(db, "SELECT count(*) FROM kosis.observations_current") == [(N_BIG,)]


FATAL = [
    ("err", {"code": "11"}, 1, ["KOSIS_API_KEY", "DT_BIG", "11"]),
    ("http", {"status": 503}, 50, ["DT_BIG", "503", "2000"]),
]


@pytest.mark.parametrize(("kind", "kw", "times", "expected"), FATAL, ids=["key", "persistent_503"])
@INGESTED
def test_a_failure_names_table_period_and_code_and_leaves_the_warehouse_unchanged(
    ingested, catalog, server, kind, kw, times, expected
) -> None:
    db = ingested  # DT_BIG loaded once already
    server.revise("DT_BIG", ("T01", ("11", "C001"), "2001"), "1", "20250301")  # something new to (not) load
    before = snapshot(db)
    server.inject(kind, times=times, **kw)
    result = ingest(db, catalog, server)
    assert not result.success
    message = failure_message(result)
    for text in expected:
        assert text in message, (text, message)
    assert KEY not in message
    assert snapshot(db) == before


@INGESTED
def test_a_catalog_entry_the_service_rejects_loads_nothing_and_fails_its_check(ingested, catalog, server) -> None:
    """err 21 (invalid parameter, also "no such table") concerns the catalog entry, not this request's luck: the
    table loads nothing and its check says why (WARN), so one wrong entry does not stop the other tables."""
    db = ingested  # DT_BIG loaded once already
    server.revise("DT_BIG", ("T01", ("11", "C001"), "2001"), "1", "20250301")  # something new to (not) load
    before = snapshot(db)
    server.inject("err", times=1, code="21")
    result = ingest(db, catalog, server)
    assert result.success
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "observations_valid"]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    rejected = str(evaluation.metadata["service_rejected_entry"].value)
    assert "rejected this catalog entry" in rejected and "DT_BIG" in rejected and "21" in rejected
    assert KEY not in rejected
    assert snapshot(db) == before


def test_rows_with_unknown_region_codes_are_quarantined_and_the_rest_load(tmp_path, catalog) -> None:
    table = make_generated_table("DT_BIG", n_regions=20, n_classes=2, n_items=1, periods=["2019"], seed=1)
    with KosisServer([table], api_key=KEY) as srv:
        db = tmp_path / "w.duckdb"
        result = ingest(db, catalog, srv)
    assert result.success
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "observations_valid"]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    quarantined = query(db, "SELECT reason, payload FROM quality.quarantine")
    assert len(quarantined) == 2 * 2  # regions R018 and R019, two classes each
    assert all("c1" in reason for reason, _ in quarantined)
    assert {json.loads(p)["c1"] for _, p in quarantined} == {"R018", "R019"}
    assert query(db, "SELECT count(*) FROM kosis.observations_current") == [(18 * 2,)]


def test_the_key_appears_in_no_file_log_or_event(tmp_path, catalog, server, capfd, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    home = tmp_path / "dagster_home"
    home.mkdir()
    db = tmp_path / "data" / "w.duckdb"
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        server.inject("err", times=1, code="40")
        server.inject("http", times=1, status=503)
        assert ingest(db, catalog, server, instance=instance).success
        server.inject("err", times=1, code="11")
        assert not ingest(db, catalog, server, instance=instance).success
        events = [e.to_json() if hasattr(e, "to_json") else repr(e) for e in instance.all_logs(
            instance.get_run_records()[0].dagster_run.run_id)]
        events += [repr(e) for r in instance.get_run_records() for e in instance.all_logs(r.dagster_run.run_id)]
    assert events and not any(KEY in e for e in events)
    for folder in (tmp_path / "data", home):
        for path in folder.rglob("*"):
            if path.is_file():
                assert KEY.encode() not in path.read_bytes(), path
    out, err = capfd.readouterr()
    assert KEY not in out and KEY not in err
    assert KEY not in caplog.text


GRDP_CATALOG = grdp_catalog({"Z10": "total", "A": "primary", "B": "secondary", "C": "secondary", "S": "tertiary"})


def test_indicators_prefer_kosis_and_record_where_it_disagrees_with_the_paper(tmp_path) -> None:
    # Daegu 2010 in million won: primary 400, secondary 15,000 + 4,800 = 19,800 (19.8 %, printed 19.7),
    # tertiary 79,800 (79.8 %, printed 79.9); 2011 exists only in KOSIS.
    amounts = {"2010": {"Z10": "100,000", "A": "400", "B": "15,000", "C": "4,800", "S": "79,800"},
               "2011": {"Z10": "110,000", "A": "440", "B": "20,000", "C": "2,000", "S": "87,560"}}
    values = {("T1", ("22", code), year): dt for year, row in amounts.items() for code, dt in row.items()}
    table = KosisTable(org_id="101", tbl_id="DT_1C81", tbl_nm="시도별 경제활동별 지역내총생산",
                       levels=[[("22", "대구광역시")], [(c, c) for c in ("Z10", "A", "B", "C", "S")]],
                       level_names=["시도별", "경제활동별"], items=[("T1", "명목", "백만원")], prd_se="Y",
                       periods=["2010", "2011"], values=values, lst_chn_de="20241220")
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(GRDP_CATALOG, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    with KosisServer([table], api_key=KEY) as srv:
        result = materialize(db, SOURCES_DIR, assets=build_assets(catalog), kosis=kosis(srv))
    assert result.success, failure_message(result)
    rows = query(db, "SELECT year, sector, share_pct, source LIKE 'KOSIS table 101/DT_1C81, live%' FROM "
                     "indicators.industrial_structure WHERE year >= 2005 ORDER BY year, sector")
    assert rows == [(2005, "primary", 0.5, False), (2005, "secondary", 19.3, False), (2005, "tertiary", 80.2, False),
                    (2010, "primary", 0.4, True), (2010, "secondary", 19.8, True), (2010, "tertiary", 79.8, True),
                    (2011, "primary", 0.4, True), (2011, "secondary", 20.0, True), (2011, "tertiary", 79.6, True)]
    issues = query(db, "SELECT row_key, published, recomputed FROM quality.source_issues "
                       "WHERE source_table = 'Table 1 vs KOSIS' ORDER BY row_key")
    assert issues == [("region_code=22, year=2010, sector=secondary", 19.7, 19.8),
                      ("region_code=22, year=2010, sector=tertiary", 79.9, 79.8)]
    (source_used,) = query(db, "SELECT source_used FROM indicators.catalog WHERE indicator = 'industrial_structure'")
    assert "KOSIS table 101/DT_1C81, live" in source_used[0] and "the paper's Table 1 (as printed)" in source_used[0]
