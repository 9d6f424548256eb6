"""The data dictionary, generated from the registry: `python -m schemas.dictionary > docs/data_dictionary.md`.

A test keeps the committed file equal to what this prints, so the dictionary cannot drift from the schemas.
"""

from __future__ import annotations

from schemas.indicators import CLAIM_SPECS, INDICATORS, IndicatorSpec
from schemas.kosis import OBSERVATION_ROW, OBSERVATIONS_DESCRIPTION, observation_rules
from schemas.registry import FILE_TABLES, Column, TableSpec
from schemas.warehouse_tables import PUBLICATIONS, SCHEMA_MIGRATIONS, WAREHOUSE_TABLES, WarehouseTable


def _constraints(col: Column) -> str:
    parts = []
    if col.min is not None or col.max is not None:
        parts.append(f"{'' if col.min is None else f'{col.min:g}'} to {'' if col.max is None else f'{col.max:g}'}")
    if col.allowed is not None:
        parts.append("one of " + ", ".join(f"`{a}`" for a in col.allowed))
    parts.append("nullable" if col.nullable else "not null")
    if col.default is not None:
        parts.append(f"default `{col.default}`")
    if not col.stored:
        parts.append("checked, not stored")
    return "; ".join(parts)


def _columns(columns: tuple[Column, ...], key: tuple[str, ...]) -> list[str]:
    lines = ["| column | type | meaning | constraints |", "| --- | --- | --- | --- |"]
    for col in columns:
        name = f"**{col.name}**" if col.name in key else col.name
        lines.append(f"| {name} | {col.dtype} | {col.description.replace('|', '/')} | {_constraints(col)} |")
    return lines


def table_section(spec: TableSpec) -> list[str]:
    lines = [f"### `{spec.qualified_name}`", "", spec.description, ""]
    if spec.source_table:
        lines += [f"Printed as {spec.source_table}, *{spec.title}*; unit: {spec.unit or '-'}. {spec.source_note}", ""]
    rows = f" At least {spec.min_rows} data rows (fewer, e.g. a header-only file, is an ERROR)." * bool(spec.min_rows)
    lines += [f"File: `assets/sources/{spec.file}`. Key (bold): {', '.join(spec.key)}.{rows}", ""]
    lines += _columns(spec.columns, spec.key)
    checks = [f"- ERROR `{c.name}`: {c.description}" for c in spec.row_checks]
    checks += [f"- WARN `{r.name}` (tolerance {r.tolerance:g}): {r.description}" for r in spec.consistency]
    if checks:
        lines += ["", "Checks beyond the columns':", *checks]
    return [*lines, ""]


def indicator_section(spec: IndicatorSpec) -> list[str]:
    computed = ("one query per claim below and in the other specs" if spec.name == "paper_claims"
                else f"`warehouse/sql/indicators/{spec.name}.sql`")
    lines = [f"### `indicators.{spec.name}`", "", spec.description, "",
             f"Unit: {spec.unit}. Formula: {spec.formula}. Sources: {', '.join(spec.sources)}.", "",
             f"Defined in `schemas/indicators/{spec.name}.py`; computed by {computed}.", ""]
    lines += _columns(spec.columns, spec.key)
    if spec.claims:
        lines += ["", "Claims of the paper evaluated on it (rows of `indicators.paper_claims`):",
                  *(f"- {c.id} ({c.section}): {c.text}" for c in spec.claims)]
    return [*lines, ""]


def warehouse_table_section(table: WarehouseTable) -> list[str]:
    key = f" Key (bold): {', '.join(table.key)}." if table.key else ""
    lines = [f"### `{table.qualified_name}`", "", table.description, "",
             f"Defined in `schemas/warehouse_tables.py`.{key}", ""]
    return [*lines, *_columns(table.columns, table.key), ""]


def observations_section() -> list[str]:
    lines = ["### `kosis.observations`", "", OBSERVATIONS_DESCRIPTION + " Current values: the view "
             "`kosis.observations_current`. Every KOSIS table and the paper's figures in KOSIS form load here, each "
             "response archived first (`kosis.snapshots`).", "",
             "| column | type | meaning | from the KOSIS record |", "| --- | --- | --- | --- |"]
    for col in OBSERVATION_ROW:
        origin = "set by the merge" if col.staged_as is None else (
            f"`{col.staged_as}`" if col.staged_as.isidentifier() else "computed (see schemas/kosis.py)")
        lines.append(f"| {col.name} | {col.dtype} | {col.description.replace('|', '/')} | {origin} |")
    rules = observation_rules("<the requested PRD_SE>", "<region_level>", "<region_code_system>", "<requested ORG_ID>",
                              "<requested TBL_ID>", ("<requested items>",))
    lines += ["", "A record that breaks any of these rules is quarantined (quality.quarantine, with every rule it "
              "breaks); the others load:", "", *(f"- `{r.name}` ({r.column}): {r.error}" for r in rules), ""]
    return lines


def render() -> str:
    lines = ["# Data dictionary", "",
             "Generated from `schemas/registry.py`, `schemas/warehouse_tables.py`, `schemas/kosis.py` and "
             "`schemas/indicators/` by "
             "`python -m schemas.dictionary`; do not edit by hand. The SQL interface is `docs/warehouse-contract.md`; "
             "the views are described there and in `warehouse/sql/views.sql`. "
             "Every column below also carries its meaning as a DuckDB comment (`SELECT * FROM duckdb_columns()`).", "",
             "## Tables loaded from files", ""]
    for spec in FILE_TABLES:
        lines += table_section(spec)
    lines += ["## KOSIS observations", "", *observations_section()]
    lines += ["## Catalogs, logs and KOSIS bookkeeping", ""]
    for table in (*WAREHOUSE_TABLES, SCHEMA_MIGRATIONS, PUBLICATIONS):
        lines += warehouse_table_section(table)
    lines += ["## Indicators", ""]
    for spec in (*INDICATORS, *CLAIM_SPECS):
        lines += indicator_section(spec)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
