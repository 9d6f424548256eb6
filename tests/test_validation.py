"""The pandera schemas generated from the registry, on frames (fast, no Dagster)."""

from __future__ import annotations

import pandas as pd
import pytest

from assets.file_tables import read_source_file
from assets.source_files import table_file
from schemas.registry import FILE_TABLES, SPECS_BY_NAME
from schemas.validation import source_issues, validate_structure


def raw(name: str) -> pd.DataFrame:
    return read_source_file(table_file(SPECS_BY_NAME[name]))


@pytest.mark.parametrize("spec", FILE_TABLES, ids=lambda s: s.qualified_name)
def test_every_shipped_file_passes_its_structure(spec) -> None:
    outcome = validate_structure(spec, read_source_file(table_file(spec)))
    assert outcome.passed, outcome.summary()


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "expected_check"),
    [
        ("paper.sme_share_manufacturing", 3, "sme_worker_pct", "89,9", "coerce_dtype"),
        ("paper.grdp_structure", 0, "primary_pct", "-1.1", "greater_than_or_equal_to"),
        ("paper.st_budget_2011", 5, "regional_ratio_pct", "128.0", "less_than_or_equal_to"),
        ("paper.st_budget_2011", 5, "region_code", "99", "isin"),
        ("paper.grdp_structure", 0, "region_code", "29", "region_exists_in_year"),  # Sejong in 1986
        ("paper.sme_share_manufacturing", 3, "region_type", "province", "region_type_matches_reference"),
        ("paper.industrial_land_prices", 0, "distance_km", "", "distance_printed_only_for_daegu"),
        ("paper.st_program_counts", 1, "year", "2010", "field_uniqueness"),
        ("paper.rd_programs_by_manager", 2, "share_pct", "", "not_nullable"),
        # the shipped reference table and the contract's regions (schemas/regions.py) cannot drift apart
        ("reference.regions", 3, "name_ko", "대구시", "matches_the_contract_regions"),
        ("reference.regions", 8, "valid_from_year", "2010", "matches_the_contract_regions"),
    ],
)
def test_structural_faults_are_reported_with_the_failing_row(table, row, column, value, expected_check) -> None:
    frame = raw(table)
    frame.loc[row, column] = value if value != "" else None
    outcome = validate_structure(SPECS_BY_NAME[table], frame)
    assert not outcome.passed
    checks = " ".join(outcome.failure_cases["check"].astype(str))
    assert expected_check in checks or (expected_check == "field_uniqueness" and "unique" in checks), checks
    assert row in outcome.failed_rows.index
    assert outcome.failed_rows.loc[row, "reason"]


def test_an_unexpected_column_is_a_structural_failure() -> None:
    frame = raw("paper.grdp_structure").assign(extra="x")
    assert not validate_structure(SPECS_BY_NAME["paper.grdp_structure"], frame).passed


def test_shares_that_do_not_sum_to_100_are_a_source_issue_not_a_failure() -> None:
    spec = SPECS_BY_NAME["paper.grdp_structure"]
    frame = raw("paper.grdp_structure")
    frame.loc[1, "tertiary_pct"] = "75.8"  # 0.9 + 23.6 + 75.8 = 100.3
    structure = validate_structure(spec, frame)
    assert structure.passed
    issues = source_issues(spec, structure.frame)
    assert issues[["row_key", "column_name"]].values.tolist() == [["region_code=22, year=1997", "primary_pct"]]
    assert issues.loc[0, "published"] == 0.9 and round(issues.loc[0, "recomputed"], 6) == 0.6


def test_rounding_within_printed_precision_is_accepted() -> None:
    spec = SPECS_BY_NAME["paper.st_program_counts"]
    structure = validate_structure(spec, raw("paper.st_program_counts"))
    # 48/163 = 29.45 prints as 29.4: within half a unit of the last digit
    assert source_issues(spec, structure.frame).empty


def test_a_printed_total_that_disagrees_with_its_parts_is_recorded() -> None:
    spec = SPECS_BY_NAME["paper.national_rd_by_body"]
    frame = raw("paper.national_rd_by_body")
    frame.loc[frame.research_body.eq("SME") & frame.year.eq("2011"), "share_pct"] = "13.4"
    issues = source_issues(spec, validate_structure(spec, frame).frame)
    assert issues["row_key"].tolist() == ["year=2011, research_body=Total"]
    assert issues.loc[0, "recomputed"] == pytest.approx(101.0)
