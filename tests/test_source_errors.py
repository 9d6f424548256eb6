"""Failures a user can act on: a broken cell of a paper CSV is named by file, editor line, column, value and
every rule it breaks, once, on the console (the step's failure) and in quality.quarantine; a file with fewer
rows than printed (a header-only file) is a structural failure too."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import dagster as dg

from assets.file_tables import read_source_file, source_lines
from schemas.registry import SPECS_BY_NAME
from schemas.validation import locate_in_file, validate_structure
from tests.conftest import materialize, query, snapshot

TABLE_2 = "table_2_sme_share_manufacturing.csv"


def located(table: str, path: Path):
    spec = SPECS_BY_NAME[table]
    raw = read_source_file(path)
    return locate_in_file(spec, validate_structure(spec, raw), raw, path.name, source_lines(path))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def read_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def put(path: Path, match: str, column: str, value: str) -> int:
    """Sets one cell; returns its line as an editor shows it (header = line 1)."""
    rows = read_rows(path)
    line = next(n for n, row in enumerate(rows, start=1) if match in row)
    rows[line - 1][rows[0].index(column)] = value
    write_rows(path, rows)
    return line


def test_a_letter_in_a_number_is_one_cell_with_every_rule(sources_copy: Path) -> None:
    path = sources_copy / "paper" / TABLE_2
    line = put(path, "Daegu", "sme_worker_pct", "8O.9")
    outcome = located("paper.sme_share_manufacturing", path)
    assert len(outcome.failure_cases) > 1  # pandera reports the coercion and the range checks...
    (cell,) = outcome.cells  # ... we report the cell once
    assert (cell.file, cell.line, cell.column, cell.value) == (TABLE_2, line, "sme_worker_pct", "8O.9")
    assert cell.rules[0] == "must be a number (DOUBLE)"
    assert any(">= 0" in r for r in cell.rules) and any("<= 100" in r for r in cell.rules)
    assert outcome.failed_rows["reason"].tolist() == [cell.text()]


def test_lines_are_editor_lines_even_with_blank_lines(sources_copy: Path) -> None:
    path = sources_copy / "paper" / TABLE_2
    rows = read_rows(path)
    write_rows(path, rows[:3] + [[]] + rows[3:])  # a blank line before Busan
    line = put(path, "Daegu", "sme_firm_pct", "101")
    assert read_rows(path)[line - 1][1] == "Daegu"
    (cell,) = located("paper.sme_share_manufacturing", path).cells
    assert cell.line == line and cell.rules == ("must be <= 100",)


def test_a_row_rule_names_only_the_cells_it_reads(sources_copy: Path) -> None:
    path = sources_copy / "paper" / TABLE_2
    line = put(path, "Daegu", "region_type", "province")
    cells = located("paper.sme_share_manufacturing", path).cells
    assert [(c.line, c.column) for c in cells] == [(line, "region_code"), (line, "region_type")]
    assert all(c.rules[0].startswith("region_type_matches_reference: ") for c in cells)


def test_an_unknown_code_is_one_cell_with_both_rules(sources_copy: Path) -> None:
    path = sources_copy / "paper" / TABLE_2
    line = put(path, "Daegu", "region_code", "99")
    cells = {c.column: c for c in located("paper.sme_share_manufacturing", path).cells}
    assert cells["region_code"].line == line and cells["region_code"].value == "99"
    assert cells["region_code"].rules[0].startswith("must be one of 00, 11")
    assert any(r.startswith("region_type_matches_reference") for r in cells["region_code"].rules)


def test_header_faults_point_at_line_1(sources_copy: Path) -> None:
    path = sources_copy / "paper" / "table_1_grdp_structure.csv"
    rows = read_rows(path)
    rows[0][rows[0].index("tertiary_pct")] = "tertiary"
    write_rows(path, rows)
    cells = {c.column: c for c in located("paper.grdp_structure", path).cells}
    assert cells["tertiary"].line == 1 and cells["tertiary"].rules[0].startswith("unexpected column")
    assert cells["tertiary_pct"].line == 1 and cells["tertiary_pct"].rules == ("missing column in the header",)


def step_failures(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    return {e.step_key: e.event_specific_data.error.message for e in result.all_events if e.is_step_failure}


def test_a_broken_cell_is_named_on_the_console_and_in_the_quarantine(baseline_copy: Path, sources_copy: Path) -> None:
    line = put(sources_copy / "paper" / TABLE_2, "Daegu", "sme_worker_pct", "8O.9")
    result = materialize(baseline_copy, sources_copy)
    assert not result.success
    message = step_failures(result)["paper__sme_share_manufacturing"]  # what `make run` prints
    expected = f"{TABLE_2} line {line}, column sme_worker_pct, value '8O.9': must be a number (DOUBLE)"
    assert expected in message
    assert message.count("'8O.9'") == 1  # once, with every rule
    assert ">= 0" in message and "<= 100" in message
    ((source, reason, payload),) = query(baseline_copy, "SELECT source, reason, payload FROM quality.quarantine")
    assert source == f"assets/sources/paper/{TABLE_2}"
    assert reason.startswith(expected) and reason.count("8O.9") == 1
    assert json.loads(payload)["sme_worker_pct"] == "8O.9"
    ((n, details),) = query(baseline_copy, "SELECT n_failures, details FROM quality.check_results WHERE NOT passed "
                                           "AND asset = ? AND check_name = 'structure'",
                            ["paper/sme_share_manufacturing"])
    assert n == 1
    assert json.loads(details)["failures"][0] | {"rules": None} == {
        "file": TABLE_2, "line": line, "column": "sme_worker_pct", "value": "8O.9", "rules": None}
    # the WARN check after it did not run: recorded as not run, never as failed; no result in the UI's events
    ((passed, n, details),) = query(baseline_copy, "SELECT passed, n_failures, details FROM quality.check_results "
                                                   "WHERE asset = ? AND check_name = 'source_consistency' "
                                                   "ORDER BY evaluated_at DESC LIMIT 1",
                                    ["paper/sme_share_manufacturing"])
    assert passed is None and n == 0 and json.loads(details) == {"not_run": "the structure check failed first"}
    evaluated = [e.asset_check_evaluation_data for e in result.all_events
                 if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert not [c for c in evaluated if c.asset_key == dg.AssetKey(["paper", "sme_share_manufacturing"])
                and c.check_name == "source_consistency"]


def test_a_header_only_file_fails_its_structure_and_blocks_downstream(baseline_copy: Path,
                                                                      sources_copy: Path) -> None:
    before = snapshot(baseline_copy)
    path = sources_copy / "paper" / "table_7_st_program_counts.csv"
    write_rows(path, read_rows(path)[:1])
    result = materialize(baseline_copy, sources_copy)

    check = next(e for e in result.get_asset_check_evaluations()
                 if e.asset_key.to_user_string() == "paper/st_program_counts" and e.check_name == "structure")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    done = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert not {"paper/st_program_counts", "indicators/st_program_mix", "indicators/paper_claims",
                "published_warehouse"} & done
    assert "paper/daegu_plans" in done
    message = step_failures(result)["paper__st_program_counts"]
    assert "table_7_st_program_counts.csv: has 0 data rows; paper.st_program_counts needs at least 3" in message
    assert snapshot(baseline_copy) == before  # nothing written: Table 7 keeps its three rows
    assert query(baseline_copy, "SELECT count(*) FROM paper.st_program_counts") == [(3,)]
