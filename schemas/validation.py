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
from dataclasses import dataclass, field
from functools import cache

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from schemas.registry import Column, ConsistencyRule, TableSpec

MIN_ROWS_CHECK = "min_rows"


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
    if spec.min_rows:
        # A header-only (or truncated) file is an error, not an empty table.
        checks.append(pa.Check(lambda df: len(df) >= spec.min_rows, name=MIN_ROWS_CHECK,
                               error=f"{MIN_ROWS_CHECK}: at least {spec.min_rows} data rows"))
    return pa.DataFrameSchema(columns, checks=checks, unique=list(spec.key), strict=True,
                              name=f"{spec.qualified_name}:structure", report_duplicates="all")


@dataclass
class Validation:
    """The outcome of validating one frame: never raises, always reports."""

    frame: pd.DataFrame | None  # the coerced frame, None when a structural check failed
    failure_cases: pd.DataFrame  # pandera's failure cases (schema_context, column, check, failure_case, index)
    failed_rows: pd.DataFrame  # the input rows named by a failure, with the reasons
    cells: list[CellFailure] = field(default_factory=list)  # set by locate_in_file: one entry per cell

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


# --- failures a user can act on: file, line, column, value, rules -------------------------------------

@dataclass(frozen=True)
class CellFailure:
    """One cell of a source file (or its header, or the whole file) and every rule it breaks."""

    file: str  # the file name, e.g. table_2_sme_share_manufacturing.csv
    line: int | None  # as an editor shows it: the header is line 1, the first data row line 2; None: the file
    column: str | None
    value: str | None  # the cell's text as in the file ("" for an empty cell)
    rules: tuple[str, ...]

    def text(self) -> str:
        where = self.file if self.line is None else f"{self.file} line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        if self.value is not None:
            where += f", value {self.value!r}" if self.value != "" else ", empty cell"
        return f"{where}: {'; '.join(self.rules)}"

    def record(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column, "value": self.value,
                "rules": "; ".join(self.rules)}


_KIND = {"DOUBLE": "a number", "INTEGER": "a whole number", "BIGINT": "a whole number", "BOOLEAN": "true or false",
         "VARCHAR": "text"}


def _column_rule(col: Column | None, check: str) -> str:
    """A pandera column check, in the registry's words."""
    if col is not None:
        if check.startswith(("coerce_dtype", "dtype")):
            return f"must be {_KIND.get(col.dtype, col.dtype)} ({col.dtype})"
        if check.startswith("greater_than_or_equal_to") and col.min is not None:
            return f"must be >= {col.min:g}"
        if check.startswith("less_than_or_equal_to") and col.max is not None:
            return f"must be <= {col.max:g}"
        if check.startswith("isin") and col.allowed is not None:
            return "must be one of " + ", ".join(col.allowed)
    if check == "not_nullable":
        return "must not be empty"
    return check


def locate_in_file(spec: TableSpec, outcome: Validation, raw: pd.DataFrame, file: str,
                   lines: list[int] | None = None) -> Validation:
    """Turns pandera's failure cases into one entry per cell (file, line, column, value, every rule broken)
    and sets each failed row's reason to its cells' texts. A bad cell can trip several checks (`8O.9` in a
    number column fails the type coercion, and so the range checks cannot run): it is reported once."""
    if outcome.passed:
        return outcome
    lines = lines if lines is not None and len(lines) == len(raw) else [i + 2 for i in range(len(raw))]
    positions = {idx: pos for pos, idx in enumerate(raw.index)}
    columns = {c.name: c for c in spec.columns}
    row_checks = {rc.name: rc for rc in spec.row_checks}
    by_cell: dict[tuple[int, str], list[str]] = {}
    wrong_type: set[tuple[int, str]] = set()  # cells whose text is not of the column's type
    unlocated: list[CellFailure] = []
    unchecked: dict[str, list[str]] = {}  # column -> checks that could not run (a value of the wrong type)
    for case in outcome.failure_cases.to_dict(orient="records"):
        check, column = str(case.get("check")), case.get("column")
        column = None if column is None or (isinstance(column, float) and pd.isna(column)) else str(column)
        idx = pd.to_numeric(pd.Series([case.get("index")]), errors="coerce").iloc[0]
        name = check.split(":", 1)[0]
        if pd.isna(idx) or int(idx) not in positions:
            failure = str(case.get("failure_case"))
            if check == "column_in_schema":
                unlocated.append(CellFailure(file, 1, failure, None, (
                    "unexpected column: the header may only name " + ", ".join(columns),)))
            elif check == "column_in_dataframe":
                unlocated.append(CellFailure(file, 1, failure, None, ("missing column in the header",)))
            elif name == MIN_ROWS_CHECK:
                unlocated.append(CellFailure(file, None, None, None, (
                    f"has {len(raw)} data rows; {spec.qualified_name} needs at least {spec.min_rows} "
                    f"({spec.source_table or 'the reference table'} as printed): is the file truncated?",)))
            elif column in columns and "Error(" in failure:  # the check met a value of the wrong type
                unchecked.setdefault(column, []).append(_column_rule(columns[column], check))
            else:
                unlocated.append(CellFailure(file, None, column, None, (_column_rule(columns.get(column), check),)))
            continue
        idx = int(idx)
        if name in row_checks:
            involved = row_checks[name].columns
            if involved and column not in involved:
                continue  # pandera names every column of the row; the rule reads only these
            rule = f"{name}: {row_checks[name].description}"
        elif "uniqueness" in check:
            rule = f"duplicate key ({', '.join(spec.key)}): another row has the same"
        else:
            rule = _column_rule(columns.get(column), check)
            if check.startswith(("coerce_dtype", "dtype")):
                wrong_type.add((idx, column))
        rules = by_cell.setdefault((idx, column or "(row)"), [])
        if rule not in rules:
            rules.append(rule)
    cells = []
    for (idx, column), rules in sorted(by_cell.items(), key=lambda kv: (positions[kv[0][0]], kv[0][1])):
        value = raw.loc[idx, column] if column in raw.columns else None
        value = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
        extra = [f"{r} (not checked: not {_KIND.get(columns[column].dtype)})"
                 for r in unchecked.get(column, []) if (idx, column) in wrong_type]
        rules = sorted(rules, key=lambda r: not r.startswith("must "))  # the cell's own rules, then row rules
        cells.append(CellFailure(file, lines[positions[idx]], column, value, tuple(rules + extra)))
    outcome.cells = unlocated + cells
    if not outcome.failed_rows.empty:
        reasons: dict[int, list[str]] = {}
        for (idx, _), cell in zip(sorted(by_cell, key=lambda k: (positions[k[0]], k[1])), cells, strict=True):
            reasons.setdefault(idx, []).append(cell.text())
        outcome.failed_rows["reason"] = [" | ".join(reasons.get(i, [])) or r
                                         for i, r in zip(outcome.failed_rows.index, outcome.failed_rows["reason"],
                                                         strict=True)]
    return outcome


def cells_message(cells: list[CellFailure], limit: int = 20) -> str:
    shown = [f"  {c.text()}" for c in cells[:limit]]
    if len(cells) > limit:
        shown.append(f"  ... and {len(cells) - limit} more (quality.quarantine, quality.check_results)")
    return "\n".join(shown)

