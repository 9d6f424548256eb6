"""`make kosis-search`, `make kosis-meta`, `make kosis-check` and `make kosis-add`, run as a user runs them,
against the loopback KOSIS server."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
import yaml

from tests.conftest import PROJECT
from tests.kosis_server import KosisServer
from tests.live_tables import live_tables
from tests.test_live_cli import KEY, assert_key_nowhere, make


def test_kosis_check_confirms_every_catalog_entry_and_names_the_codes(tmp_path) -> None:
    with KosisServer(live_tables(), api_key=KEY) as server:
        proc = make("kosis-check", tmp_path, base_url=server.base_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for entry in ("grdp_by_activity_2020 (101/DT_1C91)", "grdp_by_activity_earlier_base (101/DT_1C81)",
                  "manufacturing_by_size (101/DT_1K52F03)", "manufacturing_by_size_2006 (101/DT_1K52B03)",
                  "population_by_sido (101/DT_1B040A3)", "sme_firms_by_size (142/DT_BR_A001)",
                  "sme_workers_by_size (142/DT_BR_B001)", "fiscal_independence_by_sido (101/DT_1YL20921)"):
        assert f"OK {entry}" in out, out
    assert "paper_table" not in out  # the paper's figures are not KOSIS tables: nothing to check there
    assert "role secondary: itm N 명목; c2 G03 광업; c2 G05 제조업" in out  # names resolved to the service's codes
    assert "role firms_sme: itm T1 사업체수; c2 C 제조업; c3 01 1-4명" in out
    assert "periods: 2015-2023 (9)" in out  # the real range, printed for the user
    assert "note: objL1 codes 29, 30" in out  # codes of the fixed list the service does not offer (here)
    assert "cells of a full load: 972" in out  # DT_1C91: 2 items x 6 regions x 9 activities x 9 years
    # the region on C2 in the ministry's own codes: the catalog's region_codes agree with getMeta's names
    assert "role firms_sme: itm T001 기업수; c1 IM_C C.제조업(10~34); c3 T002 중소기업" in out
    assert out.strip().endswith("8 of 8 catalog entries match the service")
    assert_key_nowhere(tmp_path, proc.stdout, proc.stderr)


def test_kosis_check_fails_on_a_table_item_or_code_the_service_does_not_have(tmp_path) -> None:
    tables = live_tables()
    grdp = tables[0]
    grdp.levels[1] = [(c, n) for c, n in grdp.levels[1] if n != "광업"]  # a part of the secondary sector gone
    grdp.items = [("N", "명목(당해년가격)", "백만원"), ("R", "실질", "백만원")]  # the item renamed: roles find nothing
    del tables[3]  # DT_1K52B03 gone
    with KosisServer(tables, api_key=KEY) as server:
        proc = make("kosis-check", tmp_path, base_url=server.base_url)
    assert proc.returncode != 0, proc.stdout + proc.stderr  # the tool exits 1; make reports any failure as 2
    assert "MISMATCH grdp_by_activity_2020 (101/DT_1C91)" in proc.stdout
    assert "! role total: nothing at itm matches 명목 (name)" in proc.stdout
    assert "note: role secondary: 광업 not found at c2" in proc.stdout
    assert "MISMATCH manufacturing_by_size_2006 (101/DT_1K52B03): the service does not describe this table" in (
        proc.stdout)
    assert "OK population_by_sido (101/DT_1B040A3)" in proc.stdout
    assert "6 of 8 catalog entries match the service; 2 do not" in proc.stdout


def test_kosis_check_fails_when_the_region_axis_or_a_region_code_disagrees_with_getmeta(tmp_path) -> None:
    tables = live_tables()
    firms = next(t for t in tables if t.tbl_id == "DT_BR_A001")
    firms.levels[1] = [(c if c != "15142C504" else "15142C599", n) for c, n in firms.levels[1]]  # 대구 recoded
    with KosisServer(tables, api_key=KEY) as server:
        proc = make("kosis-check", tmp_path, base_url=server.base_url)
    assert proc.returncode != 0
    assert "MISMATCH sme_firms_by_size (142/DT_BR_A001)" in proc.stdout
    assert "! region code 15142C599 (대구) on c2 maps to no region in code system table" in proc.stdout


def test_kosis_add_finds_the_region_on_c2_and_maps_the_ministry_codes_by_name(tmp_path) -> None:
    with KosisServer(live_tables(), api_key=KEY) as server:
        proc = make("kosis-add", tmp_path, base_url=server.base_url, extra=("TBL=DT_BR_A001", "ORG=142"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (entry,) = yaml.safe_load(proc.stdout)
    assert entry["region_level"] == "c2" and entry["region_code_system"] == "table"
    assert entry["region_codes"]["15142C504"] == "22" and entry["region_codes"]["15142C501"] == "00"
    assert entry["unit"] == "개"
    # what was checked, never a live check it did not do
    assert entry["verification"].startswith("skeleton checked on ") and "not live-checked" in entry["verification"]
    assert not entry["verification"].startswith("live-checked")


@pytest.mark.parametrize(("target", "subcommand"), [
    ("kosis-check", ["check"]), ("kosis-add", ["add", "--tbl", "DT_1C91"]),
    ("kosis-search", ["search", "--query", "인구"]), ("kosis-meta", ["meta", "--tbl", "DT_1C91"])])
def test_without_a_key_every_kosis_tool_stops_at_once_saying_how_to_get_and_set_one(tmp_path, target,
                                                                                    subcommand) -> None:
    proc = make(target, tmp_path, key=None, extra=("TBL=DT_1C91", "Q=인구"))
    assert proc.returncode != 0
    out = proc.stdout
    assert f"no KOSIS_API_KEY in the environment: `make {target}` asks the live KOSIS service" in out
    assert "https://kosis.kr/openapi/" in out and "인증키" in out  # where and how to get a key
    assert "export KOSIS_API_KEY=" in out  # how to set it
    # The python command the target runs, timed alone (make's own overhead is small): it answers before Dagster
    # and the definitions are imported (they took about 15 s here before).
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOSIS_")}
    started = time.monotonic()
    direct = subprocess.run([str(PROJECT / ".venv" / "bin" / "python"), "-m", "pipelines.kosis_tools", *subcommand],
                            cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert direct.returncode == 2 and direct.stdout == out
    assert elapsed < 2.0, elapsed


def test_kosis_search_prints_org_table_name_and_periods_of_every_table_found(tmp_path) -> None:
    with KosisServer(live_tables(), api_key=KEY) as server:
        proc = make("kosis-search", tmp_path, base_url=server.base_url, extra=("Q=지역내총생산",))
        searches = [r for r in server.requests_log if r.get("searchNm")]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        "101\tDT_1C91\t시도별 경제활동별 지역내총생산\t2015-2023",
        "101\tDT_1C81\t시도별 경제활동별 지역내총생산\t2008-2016",
        "2 table(s) found for '지역내총생산'",
    ]
    assert searches == [{"method": "getList", "apiKey": "REDACTED", "searchNm": "지역내총생산", "sort": "RANK",
                         "startCount": "1", "resultCount": "50", "format": "json", "jsonVD": "Y"}]
    assert_key_nowhere(tmp_path, proc.stdout, proc.stderr)


def test_kosis_search_says_how_many_it_did_not_show_and_when_nothing_matches(tmp_path) -> None:
    with KosisServer(live_tables(), api_key=KEY) as server:
        some = make("kosis-search", tmp_path, base_url=server.base_url, extra=("Q=시도", "N=2"))
        none = make("kosis-search", tmp_path, base_url=server.base_url, extra=("Q=사교육비",))
    assert some.returncode == 0 and len(some.stdout.splitlines()) == 3, some.stdout
    assert some.stdout.splitlines()[-1].endswith("table(s) found for '시도'; the first 2 shown (N=... for more)")
    assert int(some.stdout.splitlines()[-1].split()[0]) > 2
    assert none.returncode == 0 and none.stdout.splitlines() == ["0 table(s) found for '사교육비'"]  # err 30


def test_kosis_search_and_meta_fail_in_words_on_a_bad_key_and_meta_on_a_table_that_does_not_exist(tmp_path) -> None:
    with KosisServer(live_tables(), api_key="another key") as server:
        search = make("kosis-search", tmp_path, base_url=server.base_url, extra=("Q=인구",))
        meta = make("kosis-meta", tmp_path, base_url=server.base_url, extra=("TBL=DT_1B040A3",))
    with KosisServer(live_tables(), api_key=KEY) as server:
        missing = make("kosis-meta", tmp_path, base_url=server.base_url, extra=("TBL=DT_NONE",))
    for proc in (search, meta):
        assert proc.returncode != 0
        assert "KOSIS err 11 (API key expired or invalid)" in proc.stdout and "KOSIS_API_KEY" in proc.stdout
    assert search.stdout.startswith("FAILED: KOSIS statisticsSearch: KOSIS err 11")
    assert missing.returncode != 0 and "KOSIS err 21" in missing.stdout and "tblId=DT_NONE" in missing.stdout
    assert_key_nowhere(tmp_path, search.stdout, meta.stdout, missing.stdout, search.stderr, meta.stderr)


def test_kosis_search_and_meta_without_q_or_tbl_print_their_usage(tmp_path) -> None:
    search, meta = make("kosis-search", tmp_path), make("kosis-meta", tmp_path)
    assert search.returncode != 0 and "usage: make kosis-search Q=" in search.stdout
    assert meta.returncode != 0 and "usage: make kosis-meta TBL=" in meta.stdout


def test_kosis_meta_prints_levels_codes_items_units_periods_and_footnotes_korean_and_english(tmp_path) -> None:
    tables = live_tables()
    population = next(t for t in tables if t.tbl_id == "DT_1B040A3")
    # English as getMeta TBL and ITM gave it for this table (WooilJeong/PublicDataReader assets/docs/kosis/Kosis.md)
    population.tbl_nm_eng = "Resident Population by City, County, and District"
    population.names_eng = {"obj:c1": "By Administrative District", "c1:00": "Whole country", "c1:11": "Seoul",
                            "itm:T20": "Koreans (Total)", "itm:T21": "Koreans (Male)", "unit:명": "Person"}
    # footnotes in the shape of a real type=CMMT answer (PublicDataReader's DT_1B04006): one row per line
    population.comments = [{"CMMT_NM": "통계표", "CMMT_DC": "* 연말 기준, 주민등록에 의한 집계"},
                           {"CMMT_NM": "통계표", "CMMT_DC": "\n  - 외국인 제외\n  - 거주불명자 포함"},
                           {"CMMT_NM": "분류", "CMMT_DC": "2023년 강원특별자치도로 변경", "OBJ_ID": "A",
                            "OBJ_NM": "행정구역(시군구)별", "ITM_ID": "51", "ITM_NM": "강원특별자치도"}]
    with KosisServer(tables, api_key=KEY) as server:
        proc = make("kosis-meta", tmp_path, base_url=server.base_url, extra=("TBL=DT_1B040A3", "ORG=101"))
        without_notes = make("kosis-meta", tmp_path, base_url=server.base_url, extra=("TBL=DT_BR_A001", "ORG=142"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:3] == [
        "101/DT_1B040A3 행정구역(시군구)별 성별 인구수 [Resident Population by City, County, and District]",
        "periods:", "  년 (Y): 2010-2023 (14 periods)"]
    assert lines[3:6] == ["items (2):", "  T20 총인구수 [Koreans (Total)] (명 [Person])",
                          "  T21 남자인구수 [Koreans (Male)] (명 [Person])"]
    assert lines[6] == "c1 행정구역(시군구)별 [By Administrative District]: 8 codes (objL1)"
    assert lines[7:10] == ["    00 전국 [Whole country]", "    11 서울특별시 [Seoul]", "    26 부산광역시"]
    assert "    52 전북특별자치도" in lines
    assert lines[lines.index("footnotes (3):") + 1:] == [
        "  [통계표] * 연말 기준, 주민등록에 의한 집계",
        "  [통계표] - 외국인 제외", "        - 거주불명자 포함",  # continued lines under the first
        "  [분류 행정구역(시군구)별 51 강원특별자치도] 2023년 강원특별자치도로 변경"]
    assert_key_nowhere(tmp_path, proc.stdout, proc.stderr)
    # the ministry's table: three levels in order, names without English, no footnotes (err 30)
    assert without_notes.returncode == 0, without_notes.stdout
    out = without_notes.stdout.splitlines()
    assert [line.split(":")[0] for line in out if line.startswith("c")] == ["c1 산업별(10차)중분류별", "c2 지역별",
                                                                              "c3 기업규모별"]
    assert "    15142C504 대구" in out and out[-1] == "footnotes: none"


def test_kosis_add_prints_an_entry_skeleton_from_getmeta(tmp_path) -> None:
    with KosisServer(live_tables(), api_key=KEY) as server:
        proc = make("kosis-add", tmp_path, base_url=server.base_url, extra=("TBL=DT_1B040A3", "ORG=101"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "# items: T20 총인구수 (명), T21 남자인구수 (명)" in proc.stdout
    assert "# c1 행정구역(시군구)별: 00 전국, 11 서울특별시, 26 부산광역시, 27 대구광역시" in proc.stdout
    (entry,) = yaml.safe_load(proc.stdout)
    assert entry["tbl_id"] == "DT_1B040A3" and entry["tbl_nm"] == "행정구역(시군구)별 성별 인구수"
    assert entry["obj_levels"] == ["ALL"] and entry["first_period"] == "2010"
    assert entry["region_code_system"] == "admin"  # 27 is Daegu's administrative code
    assert entry["region_level"] == "c1"
    assert entry["verification"].startswith("skeleton checked on ")  # never "live-checked": no roles were checked
    assert_key_nowhere(tmp_path, proc.stdout, proc.stderr)
