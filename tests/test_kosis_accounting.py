"""Every KOSIS cell accounted for from the record to the indicator (issue: real KOSIS), as a user meets it:
`make refresh` in a subprocess against the loopback server serving real-shaped tables (tests/live_tables.py),
with the summary and the exit code asserted; and the planner's year order and ranges."""

from __future__ import annotations

import dagster as dg

from assets.kosis import consecutive_runs, kosis_partitions
from assets.source_files import load_catalog
from pipelines.planner import partition_ranges, register_years
from tests.conftest import query
from tests.kosis_server import KosisServer
from tests.live_tables import live_tables
from tests.test_live_cli import KEY, assert_key_nowhere, make


def refresh(tables, tmp):
    with KosisServer(tables, api_key=KEY) as server:
        proc = make("refresh", tmp, base_url=server.base_url)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert_key_nowhere(tmp, proc.stdout, proc.stderr)
    return proc


def test_a_region_code_that_maps_to_no_region_is_quarantined_with_the_reason_never_dropped(tmp_path) -> None:
    tables = live_tables()
    firms = next(t for t in tables if t.tbl_id == "DT_BR_A001")
    # 대구 served under a code the catalog's map does not know (the service recoded it)
    firms.levels[1] = [("15142C599" if c == "15142C504" else c, n) for c, n in firms.levels[1]]
    proc = refresh(tables, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the other regions still feed the indicator
    out = proc.stdout
    assert "QUARANTINED" in out and "kosis:142/DT_BR_A001" in out and "region code unmapped" in out, out
    db = tmp_path / "data" / "warehouse.duckdb"
    assert query(db, "SELECT count(*) FROM quality.quarantine WHERE source = 'kosis:142/DT_BR_A001' AND reason "
                     "LIKE '%region code unmapped%' AND (payload->>'c2') = '15142C599'") == [(7 * 4,)]
    assert query(db, "SELECT count(*) FROM kosis.observations WHERE c2 = '15142C599'") == [(0,)]


def test_a_table_whose_every_row_is_quarantined_fails_a_check_and_exits_3(tmp_path) -> None:
    tables = live_tables()
    for table in tables:
        if table.tbl_id == "DT_BR_B001":  # every region code unknown: every record quarantined
            table.levels[1] = [(c.replace("15142C5", "99999X"), n) for c, n in table.levels[1]]
    proc = refresh(tables, tmp_path)
    out = proc.stdout
    # make reports any failure as 2; the command's own code, 3 (a table contributed nothing), is in make's line
    assert proc.returncode == 2 and "refresh] Error 3" in proc.stderr, out + proc.stderr
    assert "Checks failed: none" not in out
    assert "quality/kosis_cell_accounting:every_loaded_year_feeds_an_indicator (WARN)" in out, out
    assert "CONTRIBUTED NOTHING: sme_workers_by_size" in out and "none loaded" in out
    assert out.strip().splitlines()[-1].startswith("FAILED") and "sme_workers_by_size" in out.strip().splitlines()[-1]
    published = tmp_path / "data" / "published.duckdb"  # published all the same: the other tables are fine
    assert query(published, "SELECT outcome FROM quality.kosis_cell_accounting WHERE catalog_id = "
                            "'sme_workers_by_size'") == [("nothing loaded",)]


def test_labels_that_differ_from_the_catalog_roles_fail_every_role_matches_and_exit_3(tmp_path) -> None:
    tables = live_tables()
    grdp = tables[0]
    grdp.items = [("N", "명목(당해년가격)", "백만원 %p"), ("R", "실질", "백만원 %p")]  # the service renamed the item
    proc = refresh(tables, tmp_path)
    out = proc.stdout
    # make reports any failure as 2; the command's own code, 3 (a table contributed nothing), is in make's line
    assert proc.returncode == 2 and "refresh] Error 3" in proc.stderr, out + proc.stderr
    assert "quality/kosis_cell_accounting:every_role_matches (WARN)" in out, out
    assert "CONTRIBUTED NOTHING: grdp_by_activity_2020" in out and "item not used: N" in out
    db = tmp_path / "data" / "published.duckdb"
    reasons = query(db, "SELECT DISTINCT reason FROM quality.kosis_cell_accounting WHERE catalog_id = "
                        "'grdp_by_activity_2020'")
    assert {r[0] for r in reasons} >= {"item not used: N", "item not used: R"}


def test_a_role_with_a_suppressed_cell_has_no_sum_and_its_region_year_feeds_no_indicator(tmp_path) -> None:
    tables = live_tables()
    grdp = tables[0]  # DT_1C91: the secondary role is 광업 (G03) + 제조업 (G05)
    served = grdp.value_fn

    def suppressed(itm: str, cs: tuple[str, ...], prd: str) -> str | None:
        return "*" if (cs[0], cs[1], prd) == ("22", "G03", "2020") else served(itm, cs, prd)

    grdp.value_fn = suppressed
    proc = refresh(tables, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the other regions and years still feed it
    db = tmp_path / "data" / "published.duckdb"
    # not the sum of the other cell (manufacturing alone passing for the whole secondary sector): no sum at all
    rows = query(db, "SELECT value, n_cells, n_missing FROM kosis.role_values WHERE catalog_id = "
                     "'grdp_by_activity_2020' AND region_code = '22' AND year = 2020 AND role = 'secondary'")
    assert len(rows) == 1 and rows[0][0] is None and rows[0][2] >= 1 and rows[0][1] > rows[0][2], rows
    years = {y for y, in query(db, "SELECT DISTINCT year FROM indicators.industrial_structure "
                                   "WHERE region_code = '22' AND source_table = 'grdp_by_activity_2020'")}
    assert 2020 not in years and {2019, 2021} <= years
    # and the cells it held are accounted for: read, no indicator row
    assert query(db, "SELECT sum(n_cells) > 0 FROM quality.kosis_cell_accounting WHERE catalog_id = "
                     "'grdp_by_activity_2020' AND year = 2020 AND outcome = 'read, no indicator row'") == [(True,)]


def test_each_table_has_its_own_years_in_order_and_a_run_never_spans_a_year_it_does_not_own() -> None:
    instance = dg.DagsterInstance.ephemeral()
    size, grdp = (t for t in load_catalog() if t.id in ("manufacturing_by_size_2006", "grdp_by_activity_2020"))
    register_years(instance, size, [2010, 2011, 2012])
    register_years(instance, size, [1997])  # an older year found later (an inbox file)
    register_years(instance, size, [2006])
    register_years(instance, grdp, [2020])
    assert instance.get_dynamic_partitions(kosis_partitions(size).name) == ["1997", "2006", "2010", "2011", "2012"]
    assert instance.get_dynamic_partitions(kosis_partitions(grdp).name) == ["2020"]  # its own years only
    keys = instance.get_dynamic_partitions(kosis_partitions(size).name)
    assert partition_ranges(keys, {"2006", "2011", "2012"}) == [("2006", "2006"), ("2011", "2012")]
    # within one run, a gap of unregistered years is fetched as separate requests
    assert consecutive_runs([2006, 2010, 2011, 2019]) == [[2006], [2010, 2011], [2019]]
