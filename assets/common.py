"""Small helpers shared by the asset modules: metadata, previews, check bookkeeping."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd

from schemas.registry import Column
from schemas.validation import Validation
from warehouse.io import table_schema_metadata
from warehouse.tables import CheckRow

OWNERS = ["team:regional-statistics"]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def markdown_table(df: pd.DataFrame, limit: int = 25) -> str:
    """A markdown preview without the optional `tabulate` dependency."""
    head = df.head(limit)
    cells = [[("" if pd.isna(v) else str(v)).replace("|", "\\|") for v in row] for row in head.itertuples(index=False)]
    lines = ["| " + " | ".join(map(str, head.columns)) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    if len(df) > limit:
        lines.append(f"\n_{len(df) - limit} more rows_")
    return "\n".join(lines)


def ddl_columns(columns: tuple[Column, ...] | list[Column]) -> list[tuple[str, str, str]]:
    return [(c.name, c.dtype, c.description) for c in columns]


def table_metadata(df: pd.DataFrame, columns: list[tuple[str, str, str]], table: str, **extra) -> dict:
    return {
        "dagster/row_count": len(df),
        "dagster/column_schema": table_schema_metadata(columns),
        "dagster/table_name": table,
        "preview": dg.MetadataValue.md(markdown_table(df)),
        **extra,
    }


@dataclass(frozen=True)
class Findings:
    """What a check found: its failure cases (the first 50 are kept) and how many failures there are. The one
    count of every check: a validation's (Findings.of), a list's (Findings.listed), or a sample with its total."""

    cases: list[dict]
    count: int

    @classmethod
    def of(cls, outcome: Validation) -> Findings:
        return cls(outcome.summary() if not outcome.passed else [], outcome.n_failures)

    @classmethod
    def listed(cls, cases: list[dict]) -> Findings:
        return cls(list(cases), len(cases))


NOTHING_FOUND = Findings([], 0)


def evaluate_check(
    *,
    asset_key: dg.AssetKey,
    check_name: str,
    severity: dg.AssetCheckSeverity,
    findings: Findings = NOTHING_FOUND,
    extra_metadata: dict | None = None,
    description: str | None = None,
    not_run: str | None = None,
) -> tuple[CheckRow, dg.AssetCheckResult | None]:
    """The one way a check becomes the row of quality.check_results the warehouse keeps and the Dagster check
    result the UI shows, with the failure cases in both. A check that did not run (`not_run`: why) is recorded as
    not run (passed NULL), never as failed, and yields no result: the UI shows it as not executed."""
    if not_run is not None:
        return CheckRow(check_name=check_name, severity=severity.value, passed=None, n_failures=0,
                        details={"not_run": not_run}), None
    count, failures = findings.count, findings.cases
    passed = count == 0
    row = CheckRow(check_name=check_name, severity=severity.value, passed=passed, n_failures=count,
                   details={"failures": failures[:50], **(extra_metadata or {}),
                            **({"note": description} if description else {})})
    metadata: dict = {"n_failures": count, **(extra_metadata or {})}
    if failures:
        metadata["failures"] = dg.MetadataValue.md(markdown_table(pd.DataFrame(failures)))
    return row, dg.AssetCheckResult(asset_key=asset_key, check_name=check_name, passed=passed, severity=severity,
                                    metadata=metadata, description=description)
