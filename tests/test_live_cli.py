"""The README's commands, live, as a user runs them: `make run` and `make refresh` in a subprocess with
KOSIS_API_KEY and KOSIS_BASE_URL pointing at the loopback KOSIS server (which serves the catalog's tables
in the service's shape), WAREHOUSE_PATH and DAGSTER_HOME in a temporary folder."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import Built, query
from tests.conftest import make as user_make
from tests.kosis_server import KosisServer
from tests.live_tables import (
    ADMIN_TO_STAT,
    FISCAL_YEARS,
    GRDP_2020_YEARS,
    GRDP_EARLIER_YEARS,
    POPULATION_YEARS,
    REGIONS,
    SIZE_2006_YEARS,
    SIZE_2020_YEARS,
    SME_ACT_YEARS,
    grdp_share,
    live_tables,
    population,
    sme_act_shares,
    sme_shares,
)

PROJECT = Path(__file__).resolve().parent.parent
KEY = "live+Key/with=Signs 7f3a"  # characters that URL-encode differently: none may leak in any form

# One worker, in this order, for the tests of `offline_then_live` under pytest-xdist (--dist loadgroup).
LIVE_OFFLINE_THEN_LIVE = pytest.mark.xdist_group("live_offline_then_live")


def make(target: str, tmp: Path, *, key: str | None = KEY, base_url: str | None = None, extra: tuple = (),
         timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """tests.conftest.make (the user's environment, WAREHOUSE_PATH and DAGSTER_HOME in tmp), with KEY by default."""
    return user_make(target, tmp, key=key, base_url=base_url, extra=extra, timeout=timeout, env=env)


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def assert_key_nowhere(tmp: Path, *outputs: str) -> None:
    from urllib.parse import quote, quote_plus

    forms = {KEY, quote(KEY, safe=""), quote_plus(KEY)}
    for text in outputs:
        assert not any(f in text for f in forms)
    for path in tmp.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(f.encode() in data for f in forms), path


def data_requests(server: KosisServer) -> list[tuple[str, str, str]]:
    return [(r["tblId"], r.get("startPrdDe", ""), r.get("endPrdDe", "")) for r in server.requests_log
            if r.get("method") == "getList"]


@pytest.fixture(scope="module")
def server():
    with KosisServer(live_tables(), api_key=KEY) as srv:
        yield srv


@pytest.fixture(scope="module")
def offline_then_live(server, built_template: Built, tmp_path_factory):
    """An offline `make run` (a copy of the session's, tests/conftest.py), then a live `make refresh`: the first
    live load."""
    tmp = built_template.copy_to(tmp_path_factory.mktemp("live")).root
    server.requests_log.clear()
    first = ok(make("refresh", tmp, base_url=server.base_url))
    return tmp, first


@LIVE_OFFLINE_THEN_LIVE
def test_a_first_live_refresh_after_an_offline_run_reads_every_period_of_every_table(server, offline_then_live):
    tmp, out = offline_then_live
    db = tmp / "data" / "warehouse.duckdb"
    # Every period the server offers from each table's first catalogued period was asked for and loaded,
    # although the offline run had loaded the paper's figures for 2010 and 2011.
    expected = {"DT_1C91": GRDP_2020_YEARS, "DT_1C81": GRDP_EARLIER_YEARS, "DT_1K52F03": SIZE_2020_YEARS,
                "DT_1K52B03": SIZE_2006_YEARS, "DT_1B040A3": POPULATION_YEARS, "DT_BR_A001": SME_ACT_YEARS,
                "DT_BR_B001": SME_ACT_YEARS, "DT_1YL20921": FISCAL_YEARS}
    for tbl_id, years in expected.items():
        assert f"/{tbl_id}): new periods {[int(y) for y in years]}" in out, out
        loaded = query(db, "SELECT DISTINCT prd_de FROM kosis.observations_current WHERE tbl_id = ? ORDER BY 1",
                       [tbl_id])
        assert [r[0] for r in loaded] == years, tbl_id
    # Every cell with the value served: compare the warehouse with the server's own rendering.
    for table in server.tables.values():
        served = {}
        for key, dt in table.iter_cells():
            itm, cs, prd = key
            if table.tbl_id == "DT_1B040A3" and itm != "T20":
                continue  # the catalog asks for T20 only
            if table.tbl_id in ("DT_1K52F03", "DT_1K52B03") and cs[1] != "C":
                continue  # the catalog asks for manufacturing only
            if table.tbl_id == "DT_1C81" and itm != "T1":
                continue
            if table.tbl_id.startswith("DT_BR_") and cs[0] != "IM_C":
                continue  # the catalog asks for manufacturing only
            if table.tbl_id == "DT_1YL20921" and len(cs[0]) not in (2, 4):
                continue  # the catalog asks for the sido only, not the sigungu
            served[(itm, cs, prd)] = dt
        rows = query(db, "SELECT itm_id, c1, c2, c3, prd_de, value_raw FROM kosis.observations_current "
                         "WHERE org_id = ? AND tbl_id = ?", [table.org_id, table.tbl_id])
        held = {(r[0], tuple(c for c in r[1:4] if c is not None), r[4]): r[5] for r in rows}
        assert held == served, table.tbl_id
    # The paper's figures stay under their own identity, never a KOSIS table's.
    assert query(db, "SELECT DISTINCT org_id, tbl_id FROM kosis.observations WHERE itm_id LIKE 'PAPER%'") == [
        ("PAPER", "KIM2013_T1"), ("PAPER", "KIM2013_T2")] or sorted(query(
            db, "SELECT DISTINCT org_id, tbl_id FROM kosis.observations WHERE itm_id LIKE 'PAPER%'")) == [
        ("PAPER", "KIM2013_T1"), ("PAPER", "KIM2013_T2")]
    assert query(db, "SELECT count(*) FROM kosis.snapshots WHERE origin = 'bundled' AND org_id = '101'") == [(0,)]
    assert "Published:" in out
    assert_key_nowhere(tmp, out)


@LIVE_OFFLINE_THEN_LIVE
def test_live_indicators_cover_every_region_and_year_served(offline_then_live):
    tmp, _ = offline_then_live
    published = tmp / "data" / "published.duckdb"
    rows = query(published, "SELECT region_code, year, sector, share_pct, source_table, series_break, source "
                            "FROM indicators.industrial_structure WHERE source_table <> 'paper.grdp_structure'")
    by_key = {(r[0], r[1], r[2]): r for r in rows}
    for region in REGIONS:
        for year in range(2008, 2024):
            base = "2020" if year >= 2015 else "earlier"  # the 2020 base is preferred where both cover a year
            for sector, share in grdp_share(region, year, base).items():
                row = by_key[(region, year, sector)]
                assert row[3] == pytest.approx(share, abs=1e-6), (region, year, sector)
                assert row[4] == ("grdp_by_activity_2020" if base == "2020" else "grdp_by_activity_earlier_base")
                # the change of base is flagged, not spliced silently (and Daegu's 2008 follows the paper's 2005)
                assert row[5] == (year == 2015 or (region == "22" and year == 2008)), (region, year)
                assert row[6].startswith("KOSIS table 101/DT_1C") and "live" in row[6]
    sme = {(r[0], r[1]): r[2:] for r in query(
        published, "SELECT region_code, year, sme_firm_pct, sme_worker_pct, source_table "
                   "FROM indicators.sme_concentration WHERE source_table <> 'paper.sme_share_manufacturing'")}
    for region in REGIONS:
        for year in range(2010, 2024):
            # 2023: only the SME ministry's tables hold it (firms and workers read together, the SME Act's SMEs)
            firm, worker = sme_shares(region, year) if year < 2023 else sme_act_shares(region, year)
            assert sme[(region, year)][:2] == (pytest.approx(firm, abs=1e-6), pytest.approx(worker, abs=1e-6))
            assert sme[(region, year)][2] == ("sme_firms_by_size+sme_workers_by_size" if year == 2023 else
                                              "manufacturing_by_size" if year >= 2020 else "manufacturing_by_size_2006")
    # shares and gaps are stored to the precision the spec gives them (one decimal), as the report shows them
    from schemas.indicators import INDICATORS

    for spec in (s for s in INDICATORS if s.name in ("industrial_structure", "sme_concentration", "population")):
        for column, measure in spec.measures.items():
            off = query(published, f"SELECT count(*) FROM indicators.{spec.name} WHERE {column} IS NOT NULL "
                                   f"AND round({column}, {measure.decimals}) <> {column}")
            assert off == [(0,)], (spec.name, column)
    definitions = dict(query(published, "SELECT year, any_value(sme_definition) FROM indicators.sme_concentration "
                                        "WHERE region_code = '22' GROUP BY year"))
    assert "Framework Act on SMEs" in definitions[2023] and "under 300 workers" in definitions[2022]
    breaks = [r[0] for r in query(published, "SELECT year FROM indicators.sme_concentration WHERE region_code = '22' "
                                             "AND series_break ORDER BY year")]
    assert 2023 in breaks and 2020 in breaks  # a change of definition (2023) and of table (2020) are both flagged
    # Every cell of every loaded table is accounted for up to the indicators: nothing unread but what the
    # catalog does not ask for, and the superseded years of the SME ministry's tables are said so.
    accounting = query(published, "SELECT catalog_id, outcome, reason, sum(n_cells) FROM quality.kosis_cell_accounting "
                                  "GROUP BY ALL ORDER BY ALL")
    outcomes = {(t, o) for t, o, _, _ in accounting}
    assert ("sme_firms_by_size", "feeds an indicator") in outcomes and ("sme_firms_by_size", "superseded") in outcomes
    assert not any(o == "nothing loaded" for _, o in outcomes)
    assert any(t == "population_by_sido" and "read as population" in r for t, _, r, _ in accounting)
    people = dict(((r[0], r[1]), r[2]) for r in query(published, "SELECT region_code, year, population "
                                                                  "FROM indicators.population"))
    assert people == {(ADMIN_TO_STAT[a], int(y)): population(a, int(y))
                      for a in ADMIN_TO_STAT for y in POPULATION_YEARS}
    claim = query(published, "SELECT verdict, observed FROM indicators.paper_claims WHERE claim_id = 'C20'")
    assert claim[0][0] == "supported" and "rank 4" in claim[0][1] and "DT_1B040A3" in claim[0][1]
    # each claim says what it was checked against, from the rows it read: KOSIS where KOSIS holds the claim's year
    against = dict(query(published, "SELECT claim_id, checked_against FROM indicators.paper_claims"))
    # 2011: the census for the regions the server serves, the paper for the others
    assert against["C05"] == against["C06"] == against["C07"] == (
        "KOSIS table 101/DT_1K52B03, 2011; the paper's own figures (PAPER/KIM2013_T2), 2011")
    assert against["C01"] == "KOSIS table 101/DT_1C81, 2010"
    assert against["C20"] == "KOSIS table 101/DT_1B040A3, 2012"
    assert against["C04"] == "KOSIS table 101/DT_1C81, 2010; the paper's own figures (PAPER/KIM2013_T1), 1986"
    # the printed Table 1 against KOSIS: differences are recorded, the printed values kept in paper.*
    issues = query(published, "SELECT count(*) FROM quality.source_issues WHERE source_table = 'Table 1 vs KOSIS'")
    assert issues[0][0] > 0
    assert query(published, "SELECT count(*) FROM paper.grdp_structure") == [(4,)]


@LIVE_OFFLINE_THEN_LIVE
def test_nothing_new_touches_nothing_then_a_new_year_loads_alone_then_a_revision(server, offline_then_live):
    tmp, _ = offline_then_live
    db = tmp / "data" / "warehouse.duckdb"
    server.requests_log.clear()
    out = ok(make("refresh", tmp, base_url=server.base_url))
    assert "Nothing new" in out and data_requests(server) == []

    server.publish_period("DT_1C91", "2024", lst_chn_de="20251215")
    server.requests_log.clear()
    out = ok(make("refresh", tmp, base_url=server.base_url))
    assert "grdp_by_activity_2020 (KOSIS 101/DT_1C91): new periods [2024]" in out, out
    assert data_requests(server) == [("DT_1C91", "2024", "2024")]
    assert "grdp_by_activity_2020 2024:" in out
    assert query(tmp / "data" / "published.duckdb",
                 "SELECT count(*) FROM indicators.industrial_structure WHERE year = 2024") == [(3 * len(REGIONS),)]

    # A revised older value: KOSIS reloads that period (its NCD SEND_DE moves); only it is re-read.
    server.revise("DT_1C91", ("N", ("22", "G05"), "2016"), "99999", "20260105")
    server.requests_log.clear()
    out = ok(make("refresh", tmp, base_url=server.base_url))
    assert "revised periods [2016]" in out and "grdp_by_activity_2020 2016: 0 new, 1 revised" in out, out
    assert data_requests(server) == [("DT_1C91", "2016", "2016")]
    assert query(db, "SELECT value_raw FROM kosis.observations WHERE tbl_id = 'DT_1C91' AND c1 = '22' AND c2 = 'G05' "
                     "AND itm_id = 'N' AND prd_de = '2016' ORDER BY valid_from") == [
        (str(grdp_parts_value()),), ("99999",)]

    # ALL=1 re-reads every period on demand and says how many cells changed (none).
    server.requests_log.clear()
    out = ok(make("refresh", tmp, base_url=server.base_url, extra=("ALL=1",)))
    assert "re-read of every period requested" in out
    assert "none: every cell re-read has the value already held" in out
    assert {r[0] for r in data_requests(server)} == {"DT_1C91", "DT_1C81", "DT_1K52F03", "DT_1K52B03", "DT_1B040A3",
                                                     "DT_BR_A001", "DT_BR_B001", "DT_1YL20921"}


def grdp_parts_value() -> int:
    from tests.live_tables import grdp_parts

    return grdp_parts("22", 2016, "2020")["manufacturing"]


def test_a_first_live_make_run_loads_every_table(server, tmp_path):
    out = ok(make("run", tmp_path, base_url=server.base_url))
    assert "SUCCESS" in out and "C20 [supported]" in out
    kosis_years = set(server.tables["DT_1C81"].periods) | set(server.tables["DT_1C91"].periods)
    assert query(tmp_path / "data" / "published.duckdb",
                 "SELECT count(DISTINCT year) FROM indicators.industrial_structure WHERE region_code = '22'") == [
        (3 + len(kosis_years),)]  # 1986, 1997 and 2005 as printed; every year KOSIS serves
    assert_key_nowhere(tmp_path, out)


def test_an_invalid_key_fails_at_once_with_one_clear_line_and_exit_2(server, tmp_path):
    wrong = "wrong+Key/=x"
    proc = make("refresh", tmp_path, key=wrong, base_url=server.base_url)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("FAILED") and "err 11" in last and "KOSIS_API_KEY" in last, last
    assert "Traceback" not in proc.stdout + proc.stderr
    for text in (proc.stdout, proc.stderr):
        assert wrong not in text and "wrong%2BKey" not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert wrong.encode() not in path.read_bytes()


def test_an_unreachable_endpoint_fails_with_a_clear_line_and_exit_2(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    proc = make("refresh", tmp_path, base_url=f"http://127.0.0.1:{port}/openapi/")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("FAILED") and f"127.0.0.1:{port}" in last, last
    assert "Traceback" not in proc.stdout + proc.stderr
    assert time.monotonic() - started < 120
    assert_key_nowhere(tmp_path, proc.stdout, proc.stderr)


def test_a_catalog_entry_the_service_rejects_is_skipped_and_the_others_load(tmp_path):
    tables = [t for t in live_tables() if t.tbl_id != "DT_1K52B03"]  # an identifier that turned out wrong
    with KosisServer(tables, api_key=KEY) as srv:
        out = ok(make("refresh", tmp_path, base_url=srv.base_url))
        assert "SKIPPED manufacturing_by_size_2006 (KOSIS 101/DT_1K52B03): the service rejected this catalog " \
               "entry; check it with make kosis-check" in out, out
        assert "err 21" in out
        published = tmp_path / "data" / "published.duckdb"
        assert query(published, "SELECT count(DISTINCT year) FROM indicators.sme_concentration "
                                "WHERE source_table = 'manufacturing_by_size'") == [(len(SIZE_2020_YEARS),)]
        # make run loads every other table too, and flags the rejected entry in its check instead of failing
        proc = make("run", tmp_path, base_url=srv.base_url)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "WARN kosis/manufacturing_by_size_2006:observations_valid (1 failures)" in proc.stdout
