"""One factory for every table that ships as a file (the paper's nine tables, the region reference).

Each spec in the registry becomes one asset, `<schema>/<table>`, that reads its file as text and validates it
(pandera, lazily) before anything is written. It writes nothing itself: it returns the validated table, with its
provenance (paper.catalog) and the source's inconsistencies (quality.source_issues), or a rejection, to the
warehouse's IO manager (warehouse/tables.py), which commits either in one transaction. Its two checks:
`structure` (ERROR, blocking: nothing is written, downstream does not run, failing rows go to quality.quarantine)
and `source_consistency` (WARN: the printed source disagrees with itself; the data land as printed).
"""


import csv
from pathlib import Path

import dagster as dg
import pandas as pd
import yaml

from assets.common import OWNERS, Findings, ddl_columns, evaluate_check, sha256_file, table_metadata
from assets.source_files import table_file
from schemas.registry import FILE_TABLES, TableSpec, written_columns
from schemas.validation import (
    cells_message,
    locate_in_file,
    source_issues,
    validate_structure,
)
from warehouse.io import SourceFiles, warehouse_pool
from warehouse.tables import TABLE_IO_MANAGER, CatalogRow, Rejection, SourceIssues, TableWrite

RECORDED_ISSUES_FILE = "paper/recorded_issues.yaml"


def recorded_issues(root: str, source_table: str | None) -> list[dict]:
    path = Path(root) / RECORDED_ISSUES_FILE
    if source_table is None or not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        entries = yaml.safe_load(fh) or []
    return [{"source_table": e["source_table"], "row_key": e["row_key"], "column_name": e["column_name"],
             "description": " ".join(str(e["description"]).split()), "check_name": "recorded"}
            for e in entries if e["source_table"] == source_table]


def source_lines(path: Path | str) -> list[int]:
    """The editor line on which each data record of a CSV starts (header = line 1; blank lines skipped as
    pandas skips them; a quoted field spanning lines counts from its first line)."""
    starts: list[int] = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        previous = 0
        for row in reader:
            if row and any(cell.strip() for cell in row):
                starts.append(previous + 1)
            previous = reader.line_num
    return starts[1:]  # without the header


def read_source_file(path: Path) -> pd.DataFrame:
    # Everything as text: pandera does the typing, so a bad value is reported, not silently parsed.
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")


def table_key(spec: TableSpec) -> dg.AssetKey:
    return dg.AssetKey([spec.schema, spec.name])


def build_file_table_asset(spec: TableSpec) -> dg.AssetsDefinition:
    key = table_key(spec)
    columns = ddl_columns(written_columns(spec))
    printed = f" Printed as {spec.source_table}: {spec.title}. {spec.source_note}" if spec.source_table else ""

    @dg.asset(
        key=key,
        group_name=spec.schema,
        kinds={"csv", "pandera", "duckdb"},
        owners=OWNERS,
        pool=warehouse_pool(),
        io_manager_key=TABLE_IO_MANAGER,
        description=f"`{spec.qualified_name}`: {spec.description}{printed} Transcribed in "
        f"`assets/sources/{spec.file}`, read as text and validated against the pandera schema generated from "
        f"`schemas/registry.py` before anything is written.",
        metadata={"file": spec.file, "source_note": spec.source_note or "", "unit": spec.unit or "",
                  "dagster/column_schema": dg.TableSchema(
                      columns=[dg.TableColumn(n, t, description=d) for n, t, d in columns]),
                  "dagster/table_name": spec.qualified_name},
        check_specs=[
            dg.AssetCheckSpec("structure", asset=key, blocking=True,
                              description="ERROR: types, non-null, ranges, allowed codes, unique key, row checks."),
            dg.AssetCheckSpec("source_consistency", asset=key,
                              description="WARN: printed shares, totals and ratios against values recomputed "
                              "from the printed amounts; each mismatch is kept in quality.source_issues."),
        ],
    )
    def _file_table(context: dg.AssetExecutionContext, source_files: SourceFiles):
        path = table_file(spec, source_files.root)
        raw = read_source_file(path)
        digest = sha256_file(path)
        structure = validate_structure(spec, raw)
        if not structure.passed:
            locate_in_file(spec, structure, raw, path.name, source_lines(path))
            failure_message = (
                f"assets/sources/{spec.file} failed its structure check ({len(structure.cells)} "
                f"{'cell' if len(structure.cells) == 1 else 'cells'}); nothing is written: "
                f"{spec.qualified_name} and everything downstream keep their previous state. Fix the file "
                f"and run again:\n{cells_message(structure.cells)}")
            context.log.error(failure_message)
            checks = [evaluate_check(asset_key=key, check_name="structure", severity=dg.AssetCheckSeverity.ERROR,
                                     findings=Findings.listed([c.record() for c in structure.cells]),
                                     extra_metadata={"rows_quarantined": len(structure.failed_rows)},
                                     description=cells_message(structure.cells, limit=5).strip()),
                      evaluate_check(asset_key=key, check_name="source_consistency",
                                     severity=dg.AssetCheckSeverity.WARN, not_run="the structure check failed first")]
            yield from (result for _, result in checks if result is not None)
            # The IO manager records the failing rows and the checks, then fails the step with the cells in its
            # message (what `make run` prints), not only "check failed"; the table is left as it was.
            yield dg.Output(Rejection(failure_message, tuple(row for row, _ in checks),
                                      quarantine=structure.failed_rows, source=f"assets/sources/{spec.file}",
                                      metadata={"cells": dg.MetadataValue.json([c.record() for c in structure.cells])}))
            return

        frame = structure.frame
        issues = source_issues(spec, frame)
        stored = frame[~spec.drop_rows(frame)] if spec.drop_rows is not None else frame
        if spec.reference_year is not None:
            stored = stored.assign(year=spec.reference_year)
        if spec.schema == "paper":
            stored = stored.assign(source_table=spec.source_table, source_note=spec.source_note)
        stored = stored[[c for c, _, _ in columns]]
        checks = [evaluate_check(asset_key=key, check_name="structure", severity=dg.AssetCheckSeverity.ERROR,
                                 findings=Findings.of(structure)),
                  # the printed source against itself: each rule's disagreements, published and recomputed
                  evaluate_check(asset_key=key, check_name="source_consistency", severity=dg.AssetCheckSeverity.WARN,
                                 findings=Findings.listed(issues.to_dict(orient="records")))]
        catalog, printed_issues = None, None
        if spec.schema == "paper":  # the printed table's provenance, and where it disagrees with itself
            catalog = CatalogRow("paper.catalog", "source_table", {
                "source_table": spec.source_table, "table_name": spec.qualified_name, "title": spec.title,
                "unit": spec.unit, "source_note": spec.source_note, "file": f"assets/sources/{spec.file}",
                "file_sha256": digest, "rows_printed": len(frame), "rows_stored": len(stored),
                "notes": " ".join(spec.notes), "refreshes": spec.refreshes})
            recorded = pd.DataFrame(recorded_issues(source_files.root, spec.source_table))
            printed_issues = SourceIssues(spec.source_table, pd.concat([issues, recorded], ignore_index=True))
        # The IO manager writes the table, its catalog row, its source issues and the checks' rows in one
        # transaction; the check results are shown once they are committed.
        # The IO manager finds the table's columns and key by the asset's key (warehouse/tables.py: table_layout).
        yield dg.Output(TableWrite(
            frame=stored, checks=tuple(row for row, _ in checks),
            catalog=catalog, source_issues=printed_issues,
            metadata=table_metadata(stored, columns, spec.qualified_name, source_file_sha256=digest,
                                    source_file=spec.file, source_rows=len(raw), source_issues=len(issues))))
        yield from (result for _, result in checks)

    return _file_table


def build_file_table_assets() -> list[dg.AssetsDefinition]:
    """Every paper and reference table read from its file (built by the definitions builder, not at import)."""
    return [build_file_table_asset(spec) for spec in FILE_TABLES]
