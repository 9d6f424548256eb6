"""The refresh machinery against the loopback KOSIS server and a real Dagster instance."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from assets.source_files import SOURCES_DIR
from pipelines.cli import run_pipeline, run_refresh
from pipelines.definitions import build_definitions
from pipelines.planner import RANGE_END, RANGE_START
from pipelines.resources import KosisResource
from pipelines.schedules import monthly_requests
from pipelines.sensors import RejectedInboxFiles
from tests.conftest import Built, grdp_catalog, query, snapshot
from tests.kosis_server import KosisServer, KosisTable
from warehouse.io import SourceFiles, WarehouseResource, published_path
from warehouse.tables import with_table_io_manager

KEY = "refresh-test-key"
PROJECT = Path(__file__).resolve().parent.parent
CATALOG = grdp_catalog({"Z10": "total", "A": "primary", "C": "secondary", "S": "tertiary"})
CODES = ("Z10", "A", "C", "S")

# One worker for the tests of `env` under pytest-xdist (--dist loadgroup): env_template is built once.
REFRESH_ENV = pytest.mark.xdist_group("refresh_env")


def amounts(year: int) -> dict[str, str]:
    """Daegu GRDP by sector, million won: the tertiary share grows one point a year from 2010."""
    tertiary = 790 + 10 * (year - 2010)
    return {"Z10": "1,000", "A": "4", "C": str(996 - 4 - tertiary), "S": str(tertiary)}


def grdp_table(years: range) -> KosisTable:
    values = {("T1", ("22", code), str(y)): dt for y in years for code, dt in amounts(y).items()}
    return KosisTable(org_id="101", tbl_id="DT_1C81", tbl_nm="GRDP", levels=[[("22", "대구광역시")],
                      [(c, c) for c in CODES]], level_names=["시도별", "경제활동별"], items=[("T1", "명목", "백만원")],
                      prd_se="Y", periods=[str(y) for y in years], values=values, lst_chn_de="20240101")


def live_resources(data: Path, server: KosisServer) -> dict:
    warehouse = WarehouseResource(database=str(data / "warehouse.duckdb"), lock_timeout_s=5)
    return with_table_io_manager({
        "warehouse": warehouse, "source_files": SourceFiles(root=str(SOURCES_DIR)),
        "kosis": KosisResource(api_key=KEY, base_url=server.base_url, timeout_s=2, max_retries=2, backoff_base_s=0.01,
                               backoff_max_s=0.02)})


@pytest.fixture(scope="module")
def env_template(tmp_path_factory) -> Path:
    """The live-mode pipeline over the loopback server, built once for 2010-2012 and published: data/ and
    dagster_home/ under the returned folder. Tests copy it (`env`); nothing may write here."""
    root = tmp_path_factory.mktemp("refresh_env")
    catalog = root / "catalog.yaml"
    catalog.write_text(CATALOG, encoding="utf-8")
    (root / "dagster_home").mkdir()
    with KosisServer([grdp_table(range(2010, 2013))], api_key=KEY) as server:
        defs = build_definitions(catalog, live_resources(root / "data", server))
        with dg.instance_for_test(temp_dir=str(root / "dagster_home")) as instance:
            assert run_pipeline(instance, definitions=defs).success
    return root


@pytest.fixture
def env(env_template: Path, tmp_path: Path):
    """A live-mode pipeline over the loopback server, built once for 2010-2012 and published: a copy of
    env_template (warehouse, published copy, raw archive, Dagster instance) and a fresh server serving the same
    2010-2012 (the build's requests are not in its log)."""
    for name in ("catalog.yaml", "data", "dagster_home"):
        copy = shutil.copytree if (env_template / name).is_dir() else shutil.copy
        copy(env_template / name, tmp_path / name)
    server = KosisServer([grdp_table(range(2010, 2013))], api_key=KEY).start()
    resources = live_resources(tmp_path / "data", server)
    defs = build_definitions(tmp_path / "catalog.yaml", resources)
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster_home")) as instance:
        runs = instance.get_runs()  # the build this copy comes from: sources, the KOSIS table, the derived tables
        assert runs and {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
        yield server, defs, instance, resources["warehouse"]
    server.stop()


def sensor_result(defs: dg.Definitions, instance: dg.DagsterInstance) -> dg.SensorResult | dg.SkipReason:
    sensor = defs.resolve_sensor_def("kosis_new_periods")
    # A context manager: the warehouse resource has a teardown (the run's connection), as under the daemon.
    with dg.build_sensor_context(instance=instance, resources=defs.resources) as context:
        return sensor(context)


def data_periods(server: KosisServer) -> set[tuple[str, str]]:
    return {(r.get("startPrdDe"), r.get("endPrdDe")) for r in server.requests_log if r.get("method") == "getList"}


def run_request(defs, instance, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    return defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, asset_selection=request.asset_selection, partition_key=request.partition_key)


@REFRESH_ENV
def test_a_new_year_is_requested_alone_loaded_and_flows_to_indicators(env) -> None:
    server, defs, instance, warehouse = env
    assert isinstance(sensor_result(defs, instance), dg.SkipReason)  # nothing new yet

    server.publish_period("DT_1C81", "2013", values={("T1", ("22", c)): v for c, v in amounts(2013).items()},
                          lst_chn_de="20250601")
    result = sensor_result(defs, instance)
    assert [(r.partition_key, r.asset_selection) for r in result.run_requests] == [
        ("2013", [dg.AssetKey(["kosis", "grdp_by_activity"])])]
    # registered by the planner, in year order, among the table's own years only
    assert instance.get_dynamic_partitions("kosis_year__grdp_by_activity") == ["2010", "2011", "2012", "2013"]
    before = dg.evaluate_automation_conditions(defs=defs, instance=instance)  # the automation sensor's cursor
    server.requests_log.clear()
    assert run_request(defs, instance, result.run_requests[0]).success
    assert data_periods(server) == {("2013", "2013")}  # no other period fetched again

    # Declarative automation now wants the indicators (upstream updated, its blocking check passed).
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=before.cursor)
    assert after.get_num_requested(dg.AssetKey(["indicators", "industrial_structure"])) == 1
    assert after.get_num_requested(dg.AssetKey(["indicators", "land_price_gap"])) == 0  # its inputs did not change
    assert defs.resolve_job_def("derive_and_publish").execute_in_process(instance=instance).success

    db = warehouse.path
    assert query(db, "SELECT max(prd_de) FROM kosis.observations_current") == [("2013",)]
    assert query(published_path(db), "SELECT share_pct FROM indicators.industrial_structure "
                                     "WHERE year = 2013 AND sector = 'tertiary'") == [(82.0,)]
    assert isinstance(sensor_result(defs, instance), dg.SkipReason)  # and now nothing is new


@REFRESH_ENV
def test_a_revised_older_value_gives_one_vintage_and_updated_indicators(env) -> None:
    server, defs, instance, warehouse = env
    server.revise("DT_1C81", ("T1", ("22", "S"), "2011"), "850", "20250701")
    result = sensor_result(defs, instance)
    assert [(r.partition_key, r.tags["refresh/reason"]) for r in result.run_requests] == [("2011", "revised period")]
    assert run_request(defs, instance, result.run_requests[0]).success
    assert data_periods(server) == {("2011", "2011")}
    assert defs.resolve_job_def("derive_and_publish").execute_in_process(instance=instance).success
    db = warehouse.path
    history = query(db, "SELECT value_raw, valid_to IS NULL FROM kosis.observations WHERE c2 = 'S' "
                        "AND prd_de = '2011' ORDER BY valid_from")
    assert history == [("800", False), ("850", True)]
    assert query(db, "SELECT count(*) FROM kosis.observations") == [(3 * 4 + 1,)]
    assert query(published_path(db), "SELECT share_pct FROM indicators.industrial_structure "
                                     "WHERE year = 2011 AND sector = 'tertiary'") == [(85.0,)]


@REFRESH_ENV
def test_make_refresh_executes_exactly_the_sensors_run_requests_then_derives_and_publishes(env) -> None:
    server, defs, instance, warehouse = env
    server.publish_period("DT_1C81", "2013", values={("T1", ("22", c)): v for c, v in amounts(2013).items()},
                          lst_chn_de="20250601")
    server.revise("DT_1C81", ("T1", ("22", "S"), "2011"), "850", "20250701")
    requested = sensor_result(defs, instance).run_requests  # what the daemon would launch
    before = {r.run_id for r in instance.get_runs()}
    code, _ = run_refresh(instance, defs)
    assert code == 0
    runs = [r for r in reversed(instance.get_runs()) if r.run_id not in before]  # newest first: reversed
    refresh_tags = ("refresh/reason", "refresh/table", "refresh/years")

    def described(selection, tags) -> tuple:
        return (sorted(selection), tags.get("dagster/partition"), tags.get(RANGE_START), tags.get(RANGE_END),
                *(tags.get(t) for t in refresh_tags))

    loads = [described(r.asset_selection, r.tags) for r in runs if "refresh/table" in r.tags]
    assert loads == [described(r.asset_selection, {**r.tags, "dagster/partition": r.partition_key})
                     for r in requested]
    assert len(loads) == 2 and [r.job_name for r in runs if "refresh/table" not in r.tags] == ["derive_and_publish"]
    assert all(r.tags["cli/pid"] == str(os.getpid()) for r in runs)  # each run tagged as the command's
    assert query(published_path(warehouse.path), "SELECT share_pct FROM indicators.industrial_structure "
                                                 "WHERE year = 2011 AND sector = 'tertiary'") == [(85.0,)]


@REFRESH_ENV
def test_a_refresh_that_fails_midway_leaves_both_warehouses_unchanged(env) -> None:
    server, defs, instance, warehouse = env
    before, before_published = snapshot(warehouse.path), snapshot(warehouse.published)
    server.publish_period("DT_1C81", "2013", values={("T1", ("22", c)): v for c, v in amounts(2013).items()})
    server.inject("http", times=50, status=503)
    code, lines = run_refresh(instance, defs)
    assert code == 1
    report = "\n".join(lines)
    assert "FAILED loading grdp_by_activity 2013" in report and "503" in report and KEY not in report
    assert snapshot(warehouse.path) == before
    assert snapshot(warehouse.published) == before_published


@REFRESH_ENV
def test_a_reader_of_the_published_copy_sees_old_data_then_new_after_reopening(env) -> None:
    server, defs, instance, warehouse = env
    reader = duckdb.connect(str(warehouse.published), read_only=True)
    try:
        server.publish_period("DT_1C81", "2013", values={("T1", ("22", c)): v for c, v in amounts(2013).items()})
        code, lines = run_refresh(instance, defs)  # the reader's open session does not block it
        assert code == 0, lines
        assert reader.execute("SELECT max(year) FROM indicators.industrial_structure").fetchone() == (2012,)
    finally:
        reader.close()
    assert query(warehouse.published, "SELECT max(year) FROM indicators.industrial_structure") == [(2013,)]
    report = "\n".join(lines)
    assert "new periods [2013]" in report and "Rebuilt:" in report and "indicators/industrial_structure" in report


@REFRESH_ENV
def test_the_monthly_refresh_rereads_every_registered_year_once_a_month_in_seoul_time(env) -> None:
    _, defs, instance, _ = env
    assert defs.resolve_sensor_def("monthly_refresh")  # a sensor keeping a calendar (one job cannot span the tables)
    tables = defs.resources["kosis"].catalog()
    before = datetime(2026, 12, 2, 5, 59, tzinfo=ZoneInfo("Asia/Seoul"))
    assert monthly_requests(instance, tables, before, "2026-11") == ([], "2026-11")  # not due yet
    tick = datetime(2026, 12, 1, 21, 0, tzinfo=ZoneInfo("UTC"))  # 06:00 on the 2nd in Seoul
    (request,), month = monthly_requests(instance, tables, tick, "2026-11")
    assert month == "2026-12" and request.run_key.startswith("2026-12:grdp_by_activity:2010-2012")
    keys = instance.get_dynamic_partitions("kosis_year__grdp_by_activity")
    assert request.tags[RANGE_START] == keys[0] and request.tags[RANGE_END] == keys[-1]
    assert keys == ["2010", "2011", "2012"]
    assert monthly_requests(instance, tables, tick, month) == ([], month)  # once a month
    with dg.instance_for_test() as empty:
        assert monthly_requests(empty, tables, tick, "2026-11") == ([], "2026-12")


@REFRESH_ENV
def test_automation_sensor_is_on_by_default_and_targets_derived_tables(env) -> None:
    _, defs, _, _ = env
    sensor = defs.resolve_sensor_def("derived_tables_automation")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_sensor_def("kosis_new_periods").default_status == dg.DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    condition = graph.get(dg.AssetKey(["indicators", "sme_concentration"])).automation_condition
    assert condition is not None and "checks passed" in condition.get_label()


def _cli(module: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("KOSIS_API_KEY", "KOSIS_BASE_URL")}
    env.update(WAREHOUSE_PATH=str(tmp_path / "data" / "warehouse.duckdb"), DAGSTER_HOME=str(tmp_path / "home"))
    (tmp_path / "home").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", module], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_make_refresh_offline_says_when_nothing_is_new_and_loads_an_inbox_file(built_copy: Built) -> None:
    # after an offline run: a copy of the session's `make run` (tests/conftest.py: built_template)
    tmp_path = built_copy.root
    with dg.DagsterInstance.from_config(str(built_copy.home)) as instance:
        assert {r.status for r in instance.get_runs()} == {dg.DagsterRunStatus.SUCCESS}
    db = tmp_path / "data" / "warehouse.duckdb"
    before = snapshot(db)
    proc = _cli("pipelines.refresh", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Nothing new" in proc.stdout
    assert snapshot(db) == before

    # A KOSIS file a user downloaded, dropped in the inbox: Daegu 2011 of DT_1C81 in the service's shape.
    dt = {("Z10", "총부가가치(기초가격)"): "1,000", ("A", "농림어업"): "4", ("B", "광업"): "10", ("C", "제조업"): "191",
          ("S", "서비스업"): "795"}
    records = [kosis_record("DT_1C81", "22", "대구광역시", [(code, name)], "T1", "명목", "백만원", "2011", value,
                            "2012-09-01") for (code, name), value in dt.items()]
    (tmp_path / "data" / "inbox").mkdir(exist_ok=True)
    (tmp_path / "data" / "inbox" / "grdp_2011.json").write_text(json.dumps(records, ensure_ascii=False))
    proc = _cli("pipelines.refresh", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "grdp_by_activity_earlier_base (KOSIS 101/DT_1C81): new periods [2011]" in proc.stdout
    # 2010 comes from the paper's Table 1, 2011 from KOSIS: the change is computed and flagged as a break.
    assert query(published_path(db), "SELECT share_pct, change_pp, series_break, source_table FROM "
                                     "indicators.industrial_structure WHERE year = 2011 AND sector = 'tertiary'") == [
        (79.5, -0.4, True, "grdp_by_activity_earlier_base")]
    assert query(db, "SELECT origin FROM kosis.snapshots WHERE request = 'inbox:grdp_2011.json'") == [("inbox",)]


def kosis_record(tbl_id: str, c1: str, c1_nm: str, levels: list[tuple[str, str]], itm_id: str, itm_nm: str,
                 unit: str, prd_de: str, dt: str, lst_chn_de: str) -> dict[str, str]:
    """One getList record with the service's keys in the service's order."""
    record = {"C1_OBJ_NM": "시도별", **{f"C{i + 2}_OBJ_NM": "분류" for i in range(len(levels))}, "DT": dt, "C1": c1,
              **{f"C{i + 2}": code for i, (code, _) in enumerate(levels)}, "PRD_SE": "A", "UNIT_NM_ENG": unit,
              "ITM_ID": itm_id, "TBL_ID": tbl_id, "ITM_NM": itm_nm, "TBL_NM": "downloaded from KOSIS",
              "PRD_DE": prd_de, "LST_CHN_DE": lst_chn_de, "C1_NM": c1_nm,
              **{f"C{i + 2}_NM": name for i, (_, name) in enumerate(levels)}, "UNIT_NM": unit, "ORG_ID": "101"}
    return record


def test_offline_the_sensor_watches_the_inbox(built_copy: Built) -> None:
    tmp_path = built_copy.root  # after an offline run: a copy of the session's `make run` (tests/conftest.py)
    warehouse = WarehouseResource(database=str(tmp_path / "data" / "warehouse.duckdb"))
    defs = build_definitions(resources={"warehouse": warehouse, "source_files": SourceFiles(root=str(SOURCES_DIR)),
                                        "kosis": KosisResource()})
    with dg.instance_for_test(temp_dir=str(tmp_path / "home")) as instance:
        assert {r.status for r in instance.get_runs()} == {dg.DagsterRunStatus.SUCCESS}
        assert isinstance(sensor_result(defs, instance), dg.SkipReason)
        # A file that cannot be read: moved aside and named in a failed tick (the UI shows it), never retried.
        (tmp_path / "data" / "inbox").mkdir(exist_ok=True)  # `make run` created it (with its README.txt)
        (tmp_path / "data" / "inbox" / "broken.json").write_text('[{"ORG_ID": "101", "TBL_ID"', encoding="utf-8")
        with pytest.raises(RejectedInboxFiles, match="broken.json: not readable as KOSIS getList JSON"):
            sensor_result(defs, instance)
        assert (tmp_path / "data" / "inbox" / "rejected" / "broken.json.reason.txt").exists()
        assert isinstance(sensor_result(defs, instance), dg.SkipReason)
        sizes = [("00", "계"), ("01", "1-4명"), ("06", "100-299명"), ("07", "300-499명")]
        dropped = [kosis_record("DT_1K52B03", "22", "대구광역시", [("C", "제조업"), size], itm, itm_nm, unit, "2012",
                                str(100 + i), "2013-06-01")
                   for i, size in enumerate(sizes) for itm, itm_nm, unit in (("T1", "사업체수", "개"),
                                                                             ("T2", "종사자수", "명"))]
        (tmp_path / "data" / "inbox" / "sme_2012.json").write_text(json.dumps(dropped, ensure_ascii=False))
        result = sensor_result(defs, instance)
        assert [(r.asset_selection, r.partition_key) for r in result.run_requests] == [
            ([dg.AssetKey(["kosis", "manufacturing_by_size_2006"])], "2012")]
        assert "2012" in instance.get_dynamic_partitions("kosis_year__manufacturing_by_size_2006")  # by the planner


@REFRESH_ENV
def test_a_year_whose_every_row_is_quarantined_is_reported_once_not_reloaded_forever(env) -> None:
    server, defs, instance, warehouse = env
    # 2013 at the service, every DT garbage: all rows quarantined, none loaded
    server.publish_period("DT_1C81", "2013", values={("T1", ("22", c)): "12..5" for c in CODES},
                          lst_chn_de="20250601")
    code, lines = run_refresh(instance, defs)
    report = "\n".join(lines)
    assert code == 0, report
    assert "new periods [2013]" in report
    assert "QUARANTINED 4 rows of kosis:101/DT_1C81" in report
    assert "NO ROWS LOADED for grdp_by_activity 2013" in report
    db = warehouse.path
    assert query(db, "SELECT count(*) FROM kosis.observations WHERE year = 2013") == [(0,)]
    assert query(db, "SELECT update_de FROM kosis.period_updates WHERE catalog_id = 'grdp_by_activity' "
                     "AND year = 2013") == [("20250601",)]

    # the next refresh does not load it again: it was read, and the service has not dated it later
    server.requests_log.clear()
    code, lines = run_refresh(instance, defs)
    assert code == 0 and "Nothing new" in "\n".join(lines), lines
    assert not data_periods(server)
    assert isinstance(sensor_result(defs, instance), dg.SkipReason)

    # once the service reloads the year (a later date), it is re-read and its rows load
    for c, v in amounts(2013).items():
        server.revise("DT_1C81", ("T1", ("22", c), "2013"), v, "20250901")
    code, lines = run_refresh(instance, defs)
    assert code == 0 and "revised periods [2013]" in "\n".join(lines), lines
    assert query(db, "SELECT count(*) FROM kosis.observations_current WHERE year = 2013") == [(4,)]
