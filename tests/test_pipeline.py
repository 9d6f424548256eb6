"""End to end: the paper's tables through pandera into DuckDB, indicators, claims, publication."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import dagster as dg
import pytest

from assets.source_files import SOURCES_DIR, table_file
from schemas.indicators import CLAIM_VERDICTS, all_claims
from schemas.registry import PAPER_TABLES, TableSpec
from tests.conftest import Built, materialize, query, snapshot
from warehouse.io import published_path


def printed_rows(spec: TableSpec) -> list[dict[str, str]]:
    with open(table_file(spec), encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if spec.drop_rows is not None:
        label = next(c.name for c in spec.columns if c.dtype == "VARCHAR")
        rows = [r for r in rows if r[label] != "Total"]
    return rows


def same(printed: str, stored) -> bool:
    if printed == "":
        return stored is None
    if isinstance(stored, float | int) and not isinstance(stored, bool):
        return math.isclose(float(printed), float(stored), rel_tol=0, abs_tol=1e-12)
    return printed == str(stored)


@pytest.mark.parametrize("spec", PAPER_TABLES, ids=lambda s: s.source_table)
def test_every_paper_table_loads_the_printed_values(baseline: Path, spec: TableSpec) -> None:
    columns = [c.name for c in spec.stored_columns]
    printed = printed_rows(spec)
    stored = query(baseline, f"SELECT {', '.join(columns)}, source_table, source_note FROM {spec.qualified_name}")
    assert len(stored) == len(printed)
    stored_by_key = {tuple(str(r[columns.index(k)]) for k in spec.key): r for r in stored}
    for row in printed:
        key = tuple(row[k] if row[k] != "" else "None" for k in spec.key)
        got = stored_by_key[key]
        for i, col in enumerate(columns):
            assert same(row[col], got[i]), (spec.source_table, key, col, row[col], got[i])
        assert got[-2] == spec.source_table and got[-1] == spec.source_note


def test_printed_numbers_spot_checks(baseline: Path) -> None:
    assert query(baseline, "SELECT national_fund_mkrw FROM paper.st_budget_2011 WHERE region_code = '00'") == [
        (1894602,)]  # printed '1894,602': the misplaced separator is removed, nothing else changes
    assert query(baseline, "SELECT primary_pct, secondary_pct, tertiary_pct FROM paper.grdp_structure "
                           "WHERE year = 2010") == [(0.4, 19.7, 79.9)]
    assert query(baseline, "SELECT count(*), count(detail) FROM paper.daegu_plans") == [(15, 8)]
    assert query(baseline, "SELECT city FROM paper.industrial_land_prices WHERE sale_year = 2012 "
                           "AND price_krw_thousand_per_3_3m2 = 430") == [("Yeongchen",)]  # spelled as printed


def test_inconsistencies_of_the_printed_source_are_recorded_not_fixed(baseline: Path) -> None:
    issues = query(baseline, "SELECT row_key, column_name, published, round(recomputed, 2) FROM quality.source_issues "
                             "WHERE source_table = 'Table 6' AND check_name <> 'recorded' ORDER BY 1, 2")
    assert issues == [
        ("region_code=00", "total_budget_mkrw", 3982380.0, 3992380.0),  # regions sum to 10,000 more
        ("region_code=21", "regional_ratio_pct", 41.6, 41.65),
        ("region_code=22", "regional_ratio_pct", 28.3, 28.22),
        ("region_code=34", "regional_ratio_pct", 28.3, 28.25),
        ("region_code=38", "regional_ratio_pct", 19.7, 22.37),
    ]
    recorded = query(baseline, "SELECT source_table, column_name FROM quality.source_issues "
                               "WHERE check_name = 'recorded' ORDER BY 1, 2")
    assert ("Table 5", "city") in recorded and ("Table 6", "national_fund_mkrw") in recorded
    # ... and the data still land as printed
    assert query(baseline, "SELECT regional_ratio_pct FROM paper.st_budget_2011 WHERE region_code = '38'") == [(19.7,)]
    checks = query(baseline, "SELECT asset, passed, n_failures FROM quality.check_results "
                             "WHERE check_name = 'source_consistency' AND severity = 'WARN' AND NOT passed")
    assert checks == [("paper/st_budget_2011", False, 5)]


def test_indicators_are_derived_from_the_paper_tables(baseline: Path) -> None:
    daegu = query(baseline, "SELECT worker_rank, firm_rank, worker_gap_to_country_pp FROM indicators.sme_concentration "
                            "WHERE region_code = '22'")
    assert daegu == [(3, 4, 16.2)]
    busan = query(baseline, "SELECT worker_rank FROM indicators.sme_concentration WHERE region_code = '21'")
    assert busan == [(3,)]  # ties share a rank
    assert query(baseline, "SELECT worker_rank FROM indicators.sme_concentration WHERE region_code = '00'") == [(None,)]
    assert query(baseline, "SELECT count(*) FILTER (WHERE national_exceeds_regional), count(*) "
                           "FROM indicators.st_budget_dependence WHERE region_code <> '00'") == [(13, 16)]
    shares = query(baseline, "SELECT national_share_pct + regional_share_pct + other_share_pct "
                             "FROM indicators.st_budget_dependence")
    assert all(abs(s - 100) < 1e-5 for (s,) in shares)  # each share rounded to 6 decimals
    assert query(baseline, "SELECT year, change_pp FROM indicators.industrial_structure WHERE sector = 'tertiary' "
                           "ORDER BY year") == [(1986, None), (1997, 10.6), (2005, 4.7), (2010, -0.3)]
    assert query(baseline, "SELECT round(national_share_pct, 1), change_pp IS NULL FROM indicators.st_program_mix "
                           "ORDER BY year") == [(58.6, True), (70.6, False), (73.4, False)]
    orientation = query(baseline, "SELECT source_table, year, research_oriented_pct, firm_oriented_pct "
                                  "FROM indicators.rd_orientation ORDER BY 1, 2")
    assert orientation == [("Table 8", 2013, 64.0, 0.7), ("Table 9", 2010, 70.3, 21.0), ("Table 9", 2011, 68.7, 21.7)]
    gap = query(baseline, "SELECT round(ratio_to_peripheral_mean, 4) FROM indicators.land_price_gap "
                          "WHERE complex = 'Daegu Technopolis'")
    assert gap == [(round(720 / 560, 4),)]
    catalog = query(baseline, "SELECT indicator, unit, formula, sources FROM indicators.catalog")
    assert {r[0] for r in catalog} >= {"industrial_structure", "sme_concentration", "st_budget_dependence",
                                       "st_program_mix", "rd_orientation", "land_price_gap", "paper_claims"}
    assert all(all(v for v in r) for r in catalog)


def test_paper_claims_have_observations_and_verdicts(baseline: Path) -> None:
    claims = query(baseline, "SELECT claim_id, verdict, observed FROM indicators.paper_claims ORDER BY claim_id")
    assert [c for c, _, _ in claims] == sorted(c.id for c in all_claims())  # every claim, once
    assert {v for _, v, _ in claims} <= set(CLAIM_VERDICTS)
    verdicts = {c: v for c, v, _ in claims}
    assert verdicts["C14"] == "supported"  # 13 regions got more from central government
    assert verdicts["C06"] == "partly supported"  # Daegu is not second after Seoul: Jeju and Busan
    assert verdicts["C03"] == "partly supported"  # tertiary share fell 0.3 pp in 2010
    assert all(obs for _, _, obs in claims)


def structure_evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()
            if e.check_name == "structure"}


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def _edit(path: Path, transform) -> None:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    rows = transform(rows)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _set(row_match: str, column: str, value: str):
    def transform(rows):
        header = rows[0]
        for row in rows[1:]:
            if row_match in row:
                row[header.index(column)] = value
        return rows
    return transform


FAULTS = {
    "wrong_type": ("paper/table_2_sme_share_manufacturing.csv", _set("Daegu", "sme_worker_pct", "89.9%"),
                   "paper/sme_share_manufacturing", "indicators/sme_concentration"),
    "out_of_range_share": ("paper/table_1_grdp_structure.csv", _set("1986", "tertiary_pct", "164.9"),
                           "paper/grdp_structure", "indicators/industrial_structure"),
    "duplicate_key": ("paper/table_6_st_budget_2011.csv", lambda rows: rows + [rows[3]],
                      "paper/st_budget_2011", "indicators/st_budget_dependence"),
    "unknown_region": ("paper/table_2_sme_share_manufacturing.csv", _set("Daegu", "region_code", "99"),
                       "paper/sme_share_manufacturing", "indicators/sme_concentration"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_structural_fault_blocks_downstream_and_leaves_the_warehouse_unchanged(
    fault: str, baseline_copy: Path, sources_copy: Path
) -> None:
    file, transform, source_asset, indicator = FAULTS[fault]
    before = snapshot(baseline_copy)
    _edit(sources_copy / file, transform)

    result = materialize(baseline_copy, sources_copy)

    check = structure_evaluations(result)[source_asset]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    table_asset = "paper/" + next(s.name for s in PAPER_TABLES if s.file == file)
    done = materialized(result)
    assert table_asset not in done and indicator not in done and "published_warehouse" not in done
    assert "indicators/paper_claims" not in done
    # Unrelated tables still build.
    assert "paper/daegu_plans" in done
    assert snapshot(baseline_copy) == before
    failed = query(baseline_copy, "SELECT severity, n_failures FROM quality.check_results "
                                  "WHERE asset = ? AND check_name = 'structure' AND NOT passed", [source_asset])
    assert failed and failed[0][0] == "ERROR" and failed[0][1] >= 1
    quarantined = query(baseline_copy, "SELECT source, reason, payload FROM quality.quarantine")
    assert quarantined and all(q[0].endswith(file) and q[1] for q in quarantined)


def test_two_runs_give_identical_tables(baseline: Path, tmp_path: Path) -> None:
    db = tmp_path / "again.duckdb"
    assert materialize(db, SOURCES_DIR).success
    first = snapshot(db)
    assert materialize(db, SOURCES_DIR).success
    assert snapshot(db) == first
    assert snapshot(baseline, across_builds=True) == snapshot(db, across_builds=True)


def test_published_copy_is_complete(baseline: Path) -> None:
    published = published_path(baseline)
    assert published.exists()
    assert snapshot(published) == snapshot(baseline)  # a copy, not a rebuild


def test_make_run_prints_the_summary(built_template: Built) -> None:
    # `make run` itself (the .venv is already installed), pointed at a temporary warehouse and Dagster home: the
    # session's offline build (tests/conftest.py: built_template, which asserts that it exits 0).
    out = built_template.stdout
    for expected in ("SUCCESS", "paper.st_budget_2011: 17", "Checks (this run): ERROR", "Paper claims", "index.html",
                     "C14 [supported]", "published.duckdb", "duckdb -readonly"):
        assert expected in out, expected
    assert built_template.published.exists()
    # ... and creates the KOSIS inbox with a README saying what to drop there and when it is looked at
    readme = (built_template.data / "inbox" / "README.txt").read_text(encoding="utf-8")
    for expected in ("getList", "*.json", "kosis_new_periods", "every 6 hours", "make refresh", "make clean"):
        assert expected in readme, expected
    assert "inbox" in out
