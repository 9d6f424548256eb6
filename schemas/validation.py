"""pandera schemas generated from the registry, and lazy validation that reports instead of raising.

Two schemas per table:
- structural (ERROR): types, non-null, ranges, allowed codes, unique key, row checks. A failure
  means the data cannot be right; nothing is written and downstream assets are blocked.
- consistency (WARN): the printed source against itself (shares summing to 100, parts vs printed
  totals, printed ratios vs amounts). Data still land as printed; each failure becomes a row of
  quality.source_issues with published and recomputed values side by side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from schemas.registry import ConsistencyRule, TableSpec


def _column_checks(col) -> list[pa.Check]:
    checks: list[pa.Check] = []
    if col.min is not None:
        checks.append(pa.Check.ge(col.min))
    if col.max is not None:
        checks.append(pa.Check.le(col.max))
    if col.allowed is not None:
        checks.append(pa.Check.isin(list(col.allowed)))
    return checks


@cache
def structural_schema(spec: TableSpec) -> pa.DataFrameSchema:
    columns = {
        col.name: pa.Column(col.pandas_dtype(), checks=_column_checks(col), nullable=col.nullable,
                            coerce=True, description=col.description)
        for col in spec.columns
    }
    checks = [pa.Check(rc.passes, name=rc.name, error=f"{rc.name}: {rc.description}") for rc in spec.row_checks]
    return pa.DataFrameSchema(columns, checks=checks, unique=list(spec.key), strict=True,
                              name=f"{spec.qualified_name}:structure", report_duplicates="all")


@cache
def consistency_schema(spec: TableSpec) -> pa.DataFrameSchema:
    checks = [pa.Check(rule.passes, name=rule.name, error=f"{rule.name}: {rule.description}")
              for rule in spec.consistency]
    return pa.DataFrameSchema(checks=checks, name=f"{spec.qualified_name}:consistency")


@dataclass
class Validation:
    """The outcome of validating one frame: never raises, always reports."""

    frame: pd.DataFrame | None  # the coerced frame, None when a structural check failed
    failure_cases: pd.DataFrame  # pandera's failure cases (schema_context, column, check, failure_case, index)
    failed_rows: pd.DataFrame  # the input rows named by a failure, with the reasons

    @property
    def passed(self) -> bool:
        return self.failure_cases.empty

    @property
    def n_failures(self) -> int:
        return len(self.failure_cases)

    def summary(self, limit: int = 20) -> list[dict]:
        cols = [c for c in ("column", "check", "failure_case", "index") if c in self.failure_cases]
        return json.loads(self.failure_cases[cols].head(limit).to_json(orient="records", default_handler=str))


def run_schema(schema: pa.DataFrameSchema, df: pd.DataFrame) -> Validation:
    try:
        return Validation(schema.validate(df, lazy=True), pd.DataFrame(), pd.DataFrame())
    except SchemaErrors as err:
        cases = err.failure_cases.copy()
        # Failures without a row index (a missing column, a wrong dtype of a whole column) name no row.
        row_idx = pd.to_numeric(cases["index"], errors="coerce").dropna().astype(int)
        reasons = (
            cases.loc[row_idx.index]
            .assign(idx=row_idx,
                    reason=lambda c: c["column"].fillna("(row)").astype(str) + ": " + c["check"].astype(str))
            .groupby("idx")["reason"].agg(lambda r: "; ".join(sorted(set(r))))
        )
        failed = df.loc[df.index.intersection(reasons.index)].copy()
        failed["reason"] = reasons
        return Validation(None, cases, failed)


def validate_structure(spec: TableSpec, raw: pd.DataFrame) -> Validation:
    return run_schema(structural_schema(spec), raw)


def validate_consistency(spec: TableSpec, typed: pd.DataFrame) -> Validation:
    outcome = run_schema(consistency_schema(spec), typed)
    outcome.frame = typed
    return outcome


def row_key(spec: TableSpec, row: pd.Series) -> str:
    return ", ".join(f"{k}={row[k]}" for k in spec.key)


def source_issues(spec: TableSpec, typed: pd.DataFrame) -> pd.DataFrame:
    """Every inconsistency of the printed table, published and recomputed side by side."""
    records = []
    for rule in spec.consistency:
        diff = rule.differences(typed)
        bad = diff[~rule.passes(typed)]
        for idx, d in bad.iterrows():
            records.append(_issue(spec, rule, typed.loc[idx], d))
    columns = ["source_table", "row_key", "column_name", "published", "recomputed", "difference",
               "description", "check_name", "tolerance"]
    return pd.DataFrame.from_records(records, columns=columns)


def _issue(spec: TableSpec, rule: ConsistencyRule, row: pd.Series, d: pd.Series) -> dict:
    return {
        "source_table": spec.source_table or spec.qualified_name,
        "row_key": row_key(spec, row),
        "column_name": rule.column,
        "published": float(d["published"]),
        "recomputed": round(float(d["recomputed"]), 6),
        "difference": round(float(d["difference"]), 6),
        "description": rule.description,
        "check_name": rule.name,
        "tolerance": rule.tolerance,
    }
