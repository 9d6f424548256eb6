"""`make kosis-check` and `make kosis-add`, run as a user runs them, against the loopback KOSIS server."""

from __future__ import annotations

import yaml

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


def test_kosis_check_without_a_key_says_so(tmp_path) -> None:
    proc = make("kosis-check", tmp_path, key=None)
    assert proc.returncode == 2 and "no KOSIS_API_KEY" in proc.stdout


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
