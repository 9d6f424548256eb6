"""The indicators report: one self-contained HTML page that shows what the warehouse holds.

Everything on the page is read from the published copy (what analysts query) when the asset runs, just
after each publication: the sections come from
`indicators.catalog` (with each table's unit, formula and sources), the numbers from the indicator
tables, region names from `reference.regions`, the verdicts from `indicators.paper_claims` and the
data-quality section from `quality.*`. Each chart and table says where its rows come from ("Source:", in words,
from the rows' `source`/`source_table`), values touched by a recorded source issue are marked (†), regions are
named in English and Korean, and each table's rows can be downloaded as CSV from a `data:` link. The page inlines
Plotly's JavaScript once, so it opens with no network. It is written to `<warehouse dir>/reports/index.html`
through a temporary file and a rename, so a reader never sees half a page.
"""

import html
import json
import math
import os
import re
import textwrap
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path

import dagster as dg
import duckdb
import jinja2
import numpy as np
import pandas as pd
import plotly.io as pio
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from assets.common import OWNERS
from assets.indicators import AUTOMATION
from assets.publish import PUBLISHED_KEY
from schemas.indicators import (
    CLAIM_RANKING_TABLE,
    CLAIM_SPECS,
    CLAIM_VERDICT_TABLE,
    INDICATORS,
    PAPER_CLAIMS,
    IndicatorSpec,
    all_claims,
    spec_named,
)
from schemas.indicators.spec import (
    GroupedBars,
    ItemBars,
    RankedBars,
    RegionLines,
    SeriesLines,
    StackedShares,
    YearLine,
)
from schemas.registry import Measure
from warehouse.io import WarehouseResource, warehouse_pool

REPORT_KEY = dg.AssetKey(["indicators_report"])
DAEGU = "22"
COUNTRY = "00"
HIGHLIGHT = "#d62728"
BASE = "#8da9c4"
SERIES_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
VERDICT_ORDER = ("supported", "partly supported", "contradicted", "not evaluable")
EXAMPLES_PER_GROUP = 3  # quarantined rows and source issues: examples shown per (table, year, reason)
EXAMPLE_CHARS = 160  # an example's payload is cut to this many characters
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


# --- reading the warehouse ------------------------------------------------------------------------------

@dataclass
class ReportData:
    catalog: pd.DataFrame
    tables: dict[str, pd.DataFrame | None]  # indicator -> its table (None: listed in the catalog, missing)
    regions: dict[str, str]  # region_code -> its label, English and Korean ("Daegu 대구광역시")
    claims: pd.DataFrame
    source_issues: pd.DataFrame
    quarantine: pd.DataFrame  # every quarantined row (the download)
    quarantine_total: int
    checks: pd.DataFrame
    # Counted by table, year and reason, with a few examples each (QUARANTINE_GROUPS_SQL, ISSUE_GROUPS_SQL).
    quarantine_groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    issue_groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    paper_tables: pd.DataFrame = field(default_factory=pd.DataFrame)  # paper.catalog: whether each table refreshes


def _quoted(qualified_name: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in qualified_name.split("."))


def _table_exists(con: duckdb.DuckDBPyConnection, qualified_name: str) -> bool:
    schema, _, name = qualified_name.rpartition(".")
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                            [schema or "main", name]).fetchone()[0])


# The year of a quarantined row, from its payload: a KOSIS row staged with `year` (and `prd_de`, the period as sent,
# whose first four digits are the year when `year` could not be read); a file's row with its `year` column.
PAYLOAD_YEAR = """coalesce(
    try_cast(try_cast(json_extract_string(payload, '$.year') AS DOUBLE) AS INTEGER),
    try_cast(nullif(regexp_extract(coalesce(json_extract_string(payload, '$.prd_de'),
                                            json_extract_string(payload, '$.PRD_DE')), '([0-9]{4})', 1), '')
             AS INTEGER))"""

QUARANTINE_GROUPS_SQL = f"""
WITH q AS (SELECT source, asset, reason, payload::VARCHAR AS payload, quarantined_at, {PAYLOAD_YEAR} AS year
           FROM quality.quarantine)
SELECT source, asset, year, reason, count(*) AS n_rows, max(quarantined_at) AS last_quarantined,
       list(CASE WHEN length(payload) > {EXAMPLE_CHARS} THEN left(payload, {EXAMPLE_CHARS}) || '…' ELSE payload END
            ORDER BY quarantined_at DESC, payload)[1:{EXAMPLES_PER_GROUP}] AS examples
FROM q GROUP BY source, asset, year, reason
ORDER BY n_rows DESC, source, asset NULLS FIRST, year NULLS FIRST, reason
"""

# A source issue's year, where its row key names one ('region_code=22, year=2010, sector=primary'); its region,
# where it names a region code. {regions}: reference.regions, or an empty stand-in when the warehouse has none.
ISSUE_GROUPS_SQL = f"""
WITH i AS (
    SELECT s.*, try_cast(nullif(regexp_extract(s.row_key, 'year=([0-9]{{4}})', 1), '') AS INTEGER) AS year,
           r.name_en, r.name_ko
    FROM quality.source_issues s
    LEFT JOIN {{regions}} r ON r.region_code = nullif(regexp_extract(s.row_key, 'region_code=([0-9A-Za-z]+)', 1), '')
)
SELECT source_table, year, description, count(*) AS n_rows,
       list(row_key || CASE WHEN name_en IS NULL THEN '' ELSE ' (' || concat_ws(' ', name_en, name_ko) || ')' END
            || ', ' || column_name
            || coalesce(': printed ' || published::VARCHAR, '') || coalesce(', recomputed ' || recomputed::VARCHAR, '')
            ORDER BY row_key, column_name)[1:{EXAMPLES_PER_GROUP}] AS examples
FROM i GROUP BY source_table, year, description
ORDER BY source_table, year NULLS FIRST, description
"""


def read_report_data(con: duckdb.DuckDBPyConnection) -> ReportData:
    catalog = con.execute("SELECT * FROM indicators.catalog").df()
    order = {s.name: i for i, s in enumerate([*INDICATORS, *CLAIM_SPECS])}
    catalog = catalog.assign(_order=catalog["indicator"].map(order).fillna(len(order))) \
        .sort_values(["_order", "indicator"]).drop(columns="_order").reset_index(drop=True)
    tables: dict[str, pd.DataFrame | None] = {}
    for row in catalog.itertuples(index=False):
        tables[row.indicator] = (con.execute(f"SELECT * FROM {_quoted(row.table_name)}").df()
                                 if _table_exists(con, row.table_name) else None)
    regions = {code: region_label(name_en, name_ko) for code, name_en, name_ko in
               con.execute("SELECT region_code, name_en, name_ko FROM reference.regions").fetchall()} \
        if _table_exists(con, "reference.regions") else {}
    claims = tables.get("paper_claims")
    if claims is None:
        claims = pd.DataFrame(columns=["claim_id", "section", "claim_text", "observed", "verdict"])
    claims = claims.sort_values("claim_id").reset_index(drop=True)
    source_issues = con.execute(
        "SELECT source_table, row_key, column_name, published, recomputed, difference, description "
        "FROM quality.source_issues ORDER BY source_table, row_key, column_name").df()
    quarantine_total = con.execute("SELECT count(*) FROM quality.quarantine").fetchone()[0]
    quarantine = con.execute(
        "SELECT quarantined_at, source, asset, reason, payload, run_id FROM quality.quarantine "
        "ORDER BY quarantined_at DESC").df()
    quarantine_groups = con.execute(QUARANTINE_GROUPS_SQL).df()
    regions_table = "reference.regions" if _table_exists(con, "reference.regions") else \
        "(SELECT NULL::VARCHAR AS region_code, NULL::VARCHAR AS name_en, NULL::VARCHAR AS name_ko WHERE false)"
    issue_groups = con.execute(ISSUE_GROUPS_SQL.replace("{regions}", regions_table)).df()
    checks = con.execute(
        "SELECT asset, check_name, severity, passed, n_failures, details, evaluated_at, run_id "
        "FROM quality.check_results "
        "QUALIFY row_number() OVER (PARTITION BY asset, check_name ORDER BY evaluated_at DESC) = 1 "
        "ORDER BY passed, severity, asset, check_name").df()
    paper_tables = con.execute("SELECT source_table, title, refreshes FROM paper.catalog ORDER BY "
                               "try_cast(regexp_extract(source_table, '[0-9]+') AS INTEGER), source_table").df() \
        if _table_exists(con, "paper.catalog") else pd.DataFrame(columns=["source_table", "title", "refreshes"])
    return ReportData(catalog=catalog, tables=tables, regions=regions, claims=claims,
                      source_issues=source_issues, quarantine=quarantine, quarantine_total=int(quarantine_total),
                      checks=checks, paper_tables=paper_tables, quarantine_groups=quarantine_groups,
                      issue_groups=issue_groups)


# --- formatting -----------------------------------------------------------------------------------------

def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _missing(value: object) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def region_label(name_en: object, name_ko: object) -> str:
    """A region as a reader names it: the English name, then the Korean one ("Daegu 대구광역시")."""
    parts = [str(n).strip() for n in (name_en, name_ko) if not _missing(n) and str(n).strip()]
    return " ".join(dict.fromkeys(parts))


def _measures() -> tuple[dict[tuple[str, str], Measure], dict[str, Measure]]:
    """Each indicator's measures (its spec's `measures`), and by column name alone the first spec's, for a
    column shown outside its indicator."""
    by_indicator: dict[tuple[str, str], Measure] = {}
    by_column: dict[str, Measure] = {}
    for spec in (*INDICATORS, *CLAIM_SPECS):
        for column, m in spec.measures.items():
            by_indicator[(spec.name, column)] = m
            by_column.setdefault(column, m)
    return by_indicator, by_column


MEASURES_BY_INDICATOR, MEASURES = _measures()
# A column no spec describes takes its precision from its suffix; else numbers show at most two decimals.
MEASURE_SUFFIXES = (("_pct", 1), ("_pp", 1), ("_mkrw", 0), ("_rank", 0), ("_km", 1))


def measure(column: str, indicator: str = "") -> Measure | None:
    return MEASURES_BY_INDICATOR.get((indicator, column)) or MEASURES.get(column)


def decimals_of(column: str | None) -> int | None:
    """The precision of a column's numbers (None: no fixed precision)."""
    if not column:
        return None
    if column in MEASURES:
        return MEASURES[column].decimals
    return next((d for suffix, d in MEASURE_SUFFIXES if column.endswith(suffix)), None)


def fmt(value: object, column: str | None = None) -> str:
    """A cell as text: integers >= 10,000 with separators, other numbers to at most two decimals; a number of
    a known measure (`column`) to that measure's fixed precision (e.g. shares to one decimal)."""
    if _missing(value):
        return ""
    decimals = decimals_of(column)
    if decimals is not None and not isinstance(value, bool | np.bool_) and isinstance(value, int | float | np.number):
        number = float(value)
        if math.isinf(number):
            return str(number)
        text = f"{number:,.{decimals}f}" if abs(number) >= 10_000 else f"{number:.{decimals}f}"
        return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"):
        number = int(value)
        return f"{number:,}" if abs(number) >= 10_000 else str(number)
    if isinstance(value, float) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "f"):
        number = float(value)
        if math.isinf(number):
            return str(number)
        text = f"{number:,.2f}" if abs(number) >= 10_000 else f"{number:.2f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return "0" if text == "-0" else text
    if isinstance(value, pd.Timestamp | datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def measure_title(column: str, indicator: str = "", unit: str = "") -> str:
    """An axis title in words with its unit (e.g. 'SME workers, % of manufacturing employment')."""
    m = measure(column, indicator)
    return m.title if m else f"{column.replace('_', ' ')}{f', {unit}' if unit else ''}"


# --- where the numbers come from ------------------------------------------------------------------------

PAPER_TABLE = re.compile(r"\bTable (\d+)\b(?!\.\d)")


def source_words(source: object, source_table: object = None) -> str:
    """Where a row's numbers come from, in words. A source that names KOSIS, or already says "the paper's",
    is said as the warehouse says it; a paper table named tersely ('paper Table 5', or a description ending
    '(Table 8)') becomes "the paper's Table 5 (as printed)". Nothing is added that the warehouse does not say:
    no vintage, no 'fetched'."""
    text = "" if _missing(source) else " ".join(str(source).split())
    table = "" if _missing(source_table) else " ".join(str(source_table).split())
    if not text:
        return table
    if "KOSIS" in text or "the paper's" in text.lower().replace("’", "'"):
        return text
    match = PAPER_TABLE.search(text) or PAPER_TABLE.search(table)
    if match is None:
        return text
    printed = f"the paper's Table {match.group(1)} (as printed)"
    rest = re.sub(r"^\s*paper\s*$", "", re.sub(rf"\(?\s*\bTable {match.group(1)}\b\s*\)?", "", text)).strip(" ,;:-")
    return f"{printed}: {rest}" if rest else printed


def row_sources(df: pd.DataFrame | None) -> list[str]:
    """The distinct sources of a table's rows, in words, in order of first appearance."""
    if df is None or df.empty or not ({"source", "source_table"} & set(df.columns)):
        return []
    sources = df["source"] if "source" in df else [None] * len(df)
    tables = df["source_table"] if "source_table" in df else [None] * len(df)
    return list(dict.fromkeys(w for w in (source_words(s, t) for s, t in zip(sources, tables, strict=True)) if w))


def is_paper_source(words: str) -> bool:
    return "the paper's" in words and "KOSIS table" not in words


# --- values touched by a recorded source issue (quality.source_issues) -----------------------------------

ISSUE_MARK = "†"


@dataclass
class IssueFlags:
    """The source issues that touch a table's rows: footnotes numbered from 1, the rows (by position) and the
    cells (position, column) each touches."""
    notes: list[str] = field(default_factory=list)
    rows: dict[int, list[int]] = field(default_factory=dict)
    cells: dict[tuple[int, str], list[int]] = field(default_factory=dict)


def _issue_rows(df: pd.DataFrame, source_table: str) -> list[int]:
    """Positions of the rows drawn from the source an issue names ('Table 6': the paper's Table 6)."""
    words = [source_words(s, t) for s, t in zip(df["source"] if "source" in df else [None] * len(df),
                                               df["source_table"] if "source_table" in df else [None] * len(df),
                                               strict=True)]
    if PAPER_TABLE.fullmatch(source_table.strip()):
        pattern = re.compile(rf"the paper's {re.escape(source_table.strip())}\b(?!\.\d)")
        return [i for i, w in enumerate(words) if pattern.search(w)]
    raw = df["source_table"].astype(str).tolist() if "source_table" in df else []
    return [i for i, t in enumerate(raw) if t == source_table]


def _issue_note(issue: dict, where: str) -> str:
    numbers = [f"{name} {fmt(issue.get(key), issue.get('column_name'))}"
               for key, name in (("published", "printed"), ("recomputed", "recomputed"))
               if not _missing(issue.get(key))]
    table = str(issue.get("source_table") or "")
    source = f"the paper's {table}" if PAPER_TABLE.fullmatch(table) else table
    column = "" if _missing(issue.get("column_name")) else f", {issue['column_name']}"
    figures = f" ({', '.join(numbers)})" if numbers else ""
    return f"{source} ({where}{column}): {fmt(issue.get('description'))}{figures}"


def issue_flags(df: pd.DataFrame | None, issues: pd.DataFrame, regions: dict[str, str]) -> IssueFlags:
    flags = IssueFlags()
    if df is None or df.empty or issues is None or issues.empty:
        return flags
    df = df.reset_index(drop=True)
    for issue in issues.astype(object).to_dict("records"):
        candidates = _issue_rows(df, str(issue.get("source_table") or ""))
        key = str(issue.get("row_key") or "")
        if "=" in key:
            column, _, value = key.partition("=")
            if column not in df:
                continue
            touched = [i for i in candidates if str(df.at[i, column]) == value]
            where = _label(regions, value) if column == "region_code" else value
        elif key == "(table)":
            touched, where = candidates, "every row"
        else:  # '(header)' and the like: a label as printed, no value touched
            continue
        if not touched:
            continue
        flags.notes.append(_issue_note(issue, where))
        number = len(flags.notes)
        name = issue.get("column_name")
        cell = next((c for c in (name, f"{name}_printed") if not _missing(name) and c in df), None)
        for i in touched:
            flags.rows.setdefault(i, []).append(number)
            if cell:
                flags.cells.setdefault((i, cell), []).append(number)
    return flags


def csv_href(df: pd.DataFrame) -> str:
    """The rows as a CSV `data:` URL: the download stays inside the page, offline."""
    return "data:text/csv;charset=utf-8," + urllib.parse.quote(df.to_csv(index=False, lineterminator="\n"), safe="")


def download_link(df: pd.DataFrame | None, filename: str, what: str = "the table's rows") -> str:
    if df is None:
        return ""
    return (f'<p class="download"><a class="csv-download" download="{esc(filename)}" href="{esc(csv_href(df))}">'
            f"Download {esc(what)} as CSV</a> <span class=\"small\">({len(df)} rows, {esc(filename)})</span></p>")


def render_table(df: pd.DataFrame | None, *, row_class: Callable[[pd.Series], str] | None = None,
                 cell_class: dict[str, Callable[[object], str]] | None = None, css_class: str = "data",
                 long_columns: tuple[str, ...] = (), indicator: str = "", flags: IssueFlags | None = None,
                 csv: pd.DataFrame | None = None, csv_name: str = "") -> str:
    """A table of `df` (numbers to their measure's precision, a header's title says the measure in words);
    `flags`: the cells touched by a source issue get a footnote mark, explained under the table; `csv`: the
    rows offered for download (default: `df`)."""
    if df is None:
        return '<p class="missing">The table is listed in the catalog but missing from the warehouse.</p>'
    if df.empty:
        return '<p class="empty">No rows.</p>'
    download = download_link(df if csv is None else csv, csv_name) if csv_name else ""
    df = df.reset_index(drop=True)
    constant = ""
    if len(df) > 1:  # a long text that is the same in every row is said once, above the table
        same = [c for c in df.columns if df[c].dtype == object and df[c].nunique(dropna=False) == 1
                and len(fmt(df[c].iloc[0])) > 40]
        constant = "".join(f'<p class="constant">Every row: <code>{esc(c)}</code> = {esc(fmt(df[c].iloc[0]))}</p>'
                           for c in same)
        df = df.drop(columns=same)
    flags = flags if flags and flags.notes else None
    head = "".join(f'<th title="{esc(measure_title(c, indicator))}">{esc(c)}</th>' if measure(c, indicator)
                   else f"<th>{esc(c)}</th>" for c in df.columns)
    if flags:
        head = '<th title="source issues: see the notes under the table">note</th>' + head
    numeric = {c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])}
    body = []
    for position, (_, row) in enumerate(df.astype(object).iterrows()):  # object: no per-row upcasting
        cells = []
        if flags:
            marks = ", ".join(f"{ISSUE_MARK}{n}" for n in flags.rows.get(position, []))
            cells.append(f'<td class="issue-note short">{esc(marks)}</td>')
        for col in df.columns:
            value = row[col]
            classes = ["num"] if col in numeric else []
            if cell_class and col in cell_class:
                classes.append(cell_class[col](value))
            text = esc(fmt(value, col if col in numeric else None))
            if col not in numeric and len(text) > 40:
                classes.append("long")
            elif col not in numeric and len(text) <= 24:
                classes.append("short")
            elif col not in numeric:  # a few words: kept from wrapping one word a line in a wide table
                classes.append("mid")
            if col in long_columns and len(text) > 160:
                text = f"<details><summary>{esc(fmt(value)[:120])}…</summary><pre>{text}</pre></details>"
            notes = flags.cells.get((position, col), []) if flags else []
            attrs = ""
            if notes:  # the mark is drawn by CSS (td.issue::after), so the cell's text stays the value
                classes.append("issue")
                attrs = (f' data-issue="{esc(", ".join(f"{ISSUE_MARK}{n}" for n in notes))}"'
                         f' title="{esc(" | ".join(flags.notes[n - 1] for n in notes))}"')
            cls = f' class="{" ".join(c for c in classes if c)}"' if any(classes) else ""
            cells.append(f"<td{cls}{attrs}>{text}</td>")
        rcls = row_class(row) if row_class else ""
        attr = f' class="{esc(rcls)}"' if rcls else ""
        body.append(f"<tr{attr}>{''.join(cells)}</tr>")
    footnotes = ""
    if flags:
        footnotes = ('<ol class="issue-notes" title="Recorded in quality.source_issues; the published values are '
                     'kept">' + "".join(f'<li value="{n}">{ISSUE_MARK}{n} {esc(note)}</li>'
                                       for n, note in enumerate(flags.notes, start=1)) + "</ol>")
    return (f'{constant}<div class="table-wrap" tabindex="0" role="region" aria-label="scrollable table">'
            f'<table class="{css_class}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>{footnotes}{download}')


# --- charts ---------------------------------------------------------------------------------------------

@dataclass
class Chart:
    indicator: str
    kind: str  # lines | ranked | stacked | bars
    title: str
    figure: dict  # Plotly's JSON: {"data": [trace, ...], "layout": {...}}
    caption: str = ""
    rows: pd.DataFrame | None = None  # the rows drawn: their sources make the chart's "Source:" line


@dataclass
class Section:
    indicator: str
    charts: list[Chart] = field(default_factory=list)


ISSUE_COLUMN = "_issue"  # set by build_sections: the hover text of the source issues touching a row ('' if none)


def _label(regions: dict[str, str], code: object) -> str:
    return regions.get(str(code), str(code))


def _issues(rows: pd.DataFrame) -> list[str]:
    return [str(v) if not _missing(v) else "" for v in rows[ISSUE_COLUMN]] if ISSUE_COLUMN in rows \
        else [""] * len(rows)


def _marked(label: str, issue: str) -> str:
    """A label with the source-issue mark when the row is touched by one."""
    return f"{label} {ISSUE_MARK}" if issue else label


def _unit(column: str, indicator: str = "") -> str:
    m = measure(column, indicator)
    return m.unit if m else ""


def _hover_issue(issue: str) -> str:
    return f"<br>{issue}" if issue else ""


# The charts are Plotly's JSON, written directly: building them as plotly.graph_objects validated every property
# and deep-copied the template into each figure (the page took 0.65 s to render, now 0.18 s).
# tests/test_report.py validates each figure against Plotly's schema instead.
@cache
def _template() -> dict:
    """Plotly's "plotly_white" template, as the plotly package ships it."""
    path = resources.files("plotly") / "package_data" / "templates" / "plotly_white.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _figure(*traces: dict) -> dict:
    return {"data": list(traces), "layout": {}}


def _axis(fig: dict, axis: str, **props: object) -> None:
    fig["layout"].setdefault(axis, {}).update(props)


def _vline(fig: dict, x: float, label: str) -> None:
    """A dashed reference line across the plot with its label on top (what plotly's add_vline draws)."""
    layout = fig["layout"]
    layout.setdefault("shapes", []).append({"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1,
                                            "yref": "y domain", "line": {"color": "#555", "dash": "dash"}})
    layout.setdefault("annotations", []).append({"showarrow": False, "text": label, "x": x, "xanchor": "center",
                                                 "xref": "x", "y": 1, "yanchor": "bottom", "yref": "y domain"})


def _layout(fig: dict, *, title: str, height: int, x_title: str = "", y_title: str = "",
            legend: bool = True) -> dict:
    fig["layout"].update(template=_template(), title={"text": esc(title), "x": 0, "font": {"size": 15}},
                         height=height, margin={"l": 10, "r": 20, "t": 50, "b": 40}, showlegend=legend,
                         legend={"orientation": "h", "y": -0.15},
                         font={"family": 'system-ui, "Noto Sans KR", sans-serif'})
    _axis(fig, "xaxis", title={"text": esc(x_title)}, automargin=True)
    _axis(fig, "yaxis", title={"text": esc(y_title)}, automargin=True)
    return fig


def _latest_year(df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if "year" not in df or df["year"].isna().all():
        return df, ""
    year = int(df["year"].max())
    return df[df["year"] == year], str(year)


def _axis_max(values) -> float:
    """Upper end of a bar chart's value axis, with room for the bar labels."""
    numbers = [float(v) for v in values if not _missing(v)]
    return max(numbers, default=1.0) * 1.18 or 1.0


def country_apart(chart: RankedBars | RegionLines | SeriesLines, indicator: str) -> bool:
    """Whether the chart draws the whole country on a scale of its own: as its spec says (`country_scale`), else
    for a level (persons, won), whose country value is many times a region's, but not for a share, a ratio or a
    rank, where the country is a region's peer."""
    if chart.country_scale is not None:
        return chart.country_scale == "own"
    m = measure(chart.value, indicator)
    return m is not None and not m.is_relative


COUNTRY_LINE = {"color": "#333333", "width": 2, "dash": "dash"}


def _country_axis(fig: dict, regions: dict[str, str], value: str, indicator: str) -> None:
    """The right-hand axis the country's line is drawn on, titled so that it is not read as the regions'."""
    _axis(fig, "yaxis2", overlaying="y", side="right", showgrid=False, zeroline=False, automargin=True,
          title={"text": esc(f"{_label(regions, COUNTRY)} (dashed), {_unit(value, indicator) or 'value'}")})


def _ranked_bars(spec: RankedBars, df: pd.DataFrame, regions: dict[str, str], indicator: str) -> Chart | None:
    value = spec.value
    latest, year = _latest_year(df.dropna(subset=[value]))
    if latest.empty:
        return None
    country = latest[latest["region_code"] == COUNTRY]
    bars = latest[latest["region_code"] != COUNTRY].sort_values([value, "region_code"], ascending=[False, True])
    issues = _issues(bars)
    labels = [esc(_marked(_label(regions, c), i)) for c, i in zip(bars["region_code"], issues, strict=True)]
    colors = [HIGHLIGHT if c == DAEGU else BASE for c in bars["region_code"]]
    fig = _figure(dict(
        type="bar", x=bars[value].tolist(), y=labels, orientation="h", marker={"color": colors},
        name=esc(measure_title(value, indicator)),
        text=[fmt(v, value) for v in bars[value]], textposition="outside", cliponaxis=False,
        customdata=[[esc(c), fmt(v, value), _hover_issue(i)]
                    for c, v, i in zip(bars["region_code"], bars[value], issues, strict=True)],
        hovertemplate=f"%{{y}} (%{{customdata[0]}}): %{{customdata[1]}} {esc(_unit(value, indicator))}"
                      "%{customdata[2]}<extra></extra>"))
    _axis(fig, "yaxis", autorange="reversed")
    apart = country_apart(spec, indicator)
    _axis(fig, "xaxis", range=[0, _axis_max([*bars[value], *([] if apart else country[value])])])
    country_words = ""
    if len(country):
        reference = float(country[value].iloc[0])
        said = esc(f"{_label(regions, COUNTRY)} {fmt(reference, value)}")
        if apart:  # a level: the country's bar would dwarf the regions', so it is said, not drawn
            unit = _unit(value, indicator)
            fig["layout"].setdefault("annotations", []).append({
                "showarrow": False, "text": f"{said}{f' {esc(unit)}' if unit else ''} (not drawn: off this scale)",
                "x": 1, "xanchor": "right", "xref": "paper", "y": 1, "yanchor": "bottom", "yref": "paper",
                "font": {"color": "#333333"}})
            country_words = f"{_label(regions, COUNTRY)}: its value is given above the bars, not drawn to their scale."
        else:
            _vline(fig, reference, said)
            country_words = f"dashed line: {_label(regions, COUNTRY)}."
    full_title = f"{spec.title}{f', {year}' if year else ''}"
    _layout(fig, title=full_title, height=120 + 26 * max(len(bars), 3), x_title=measure_title(value, indicator),
            legend=False)
    m = measure(value, indicator)
    return Chart(indicator, spec.kind, full_title, fig,
                 f"Regions ranked by {m.label if m else value}; {_label(regions, DAEGU)} ({DAEGU}) highlighted in "
                 f"red{'; ' if country_words else '.'}{country_words}", rows=latest)


def _region_lines(spec: RegionLines, df: pd.DataFrame, regions: dict[str, str], indicator: str) -> Chart | None:
    value = spec.value
    drawn = df.dropna(subset=[value])
    if drawn.empty or drawn["year"].nunique() < spec.min_years:
        return None
    fig = _figure()
    apart = country_apart(spec, indicator) and (drawn["region_code"] == COUNTRY).any()
    for region, rows in drawn.sort_values("year").groupby("region_code", sort=True):
        name = _label(regions, region)
        issues = _issues(rows)
        on_right = apart and region == COUNTRY
        fig["data"].append(dict(
            type="scatter", x=rows["year"].tolist(), y=rows[value].tolist(), mode="lines+markers",
            name=esc(f"{name} (right axis)" if on_right else name),
            line=COUNTRY_LINE if on_right else {"color": HIGHLIGHT if region == DAEGU else BASE,
                                                "width": 3 if region == DAEGU else 1.5},
            marker={"symbol": ["x" if i else "circle" for i in issues]},
            visible=True if region in (DAEGU, COUNTRY) else "legendonly",
            customdata=[[fmt(v, value), _hover_issue(i)] for v, i in zip(rows[value], issues, strict=True)],
            hovertemplate=f"{esc(name)} %{{x}}: %{{customdata[0]}} {esc(_unit(value, indicator))}"
                          "%{customdata[1]}<extra></extra>", **({"yaxis": "y2"} if on_right else {})))
    _layout(fig, title=spec.title, height=420, x_title="Year", y_title=measure_title(value, indicator))
    if apart:
        _country_axis(fig, regions, value, indicator)
    return Chart(indicator, spec.kind, spec.title, fig,
                 f"One line per region; {_label(regions, DAEGU)} highlighted in red; other regions are in the "
                 "legend (click to show)" + (f"; {_label(regions, COUNTRY)} dashed, on the right-hand axis (its "
                                             "values are many times a region's)" if apart else "") + ".", rows=drawn)


def _series_lines(spec: SeriesLines, df: pd.DataFrame, regions: dict[str, str], indicator: str) -> Chart | None:
    value, series = spec.value, spec.series
    drawn = df.dropna(subset=[value])
    if drawn.empty:
        return None
    fig = _figure()
    multi_region = drawn["region_code"].nunique() > 1
    names = sorted(drawn[series].dropna().unique())
    color = {s: SERIES_COLORS[i % len(SERIES_COLORS)] for i, s in enumerate(names)}
    has_daegu = (drawn["region_code"] == DAEGU).any()
    apart = country_apart(spec, indicator) and multi_region and (drawn["region_code"] == COUNTRY).any()
    for (region, part), rows in drawn.sort_values("year").groupby(["region_code", series], sort=True):
        name = f"{_label(regions, region)} · {part}" if multi_region else str(part)
        issues = _issues(rows)
        shown = region == DAEGU or not has_daegu
        on_right = apart and region == COUNTRY
        fig["data"].append(dict(
            type="scatter", x=rows["year"].tolist(), y=rows[value].tolist(), mode="lines+markers",
            name=esc(f"{name} (right axis)" if on_right else name),
            line={"color": color[part], "dash": "dash" if on_right else "solid" if shown else "dot"},
            marker={"symbol": ["x" if i else "circle" for i in issues]},
            visible=True if shown else "legendonly",
            customdata=[[fmt(v, value), _hover_issue(i)] for v, i in zip(rows[value], issues, strict=True)],
            hovertemplate=f"{esc(name)} %{{x}}: %{{customdata[0]}} {esc(_unit(value, indicator))}"
                          "%{customdata[1]}<extra></extra>", **({"yaxis": "y2"} if on_right else {})))
    regions_shown = ", ".join(_label(regions, r) for r in sorted(drawn["region_code"].unique()))
    title = f"{spec.title} ({regions_shown})"
    _layout(fig, title=title, height=420, x_title="Year", y_title=measure_title(value, indicator))
    if apart:
        _country_axis(fig, regions, value, indicator)
    return Chart(indicator, spec.kind, title, fig,
                 f"One line per {series}" + (f"; regions other than {_label(regions, DAEGU)} are in the legend "
                                             "(click to show)" if multi_region else "")
                 + (f"; {_label(regions, COUNTRY)} dashed, on the right-hand axis" if apart else "") + ".", rows=drawn)


def _stacked_shares(spec: StackedShares, df: pd.DataFrame, regions: dict[str, str], indicator: str) -> Chart | None:
    latest, year = _latest_year(df)
    if latest.empty:
        return None
    order = latest.sort_values([spec.sort_by, "region_code"], ascending=[False, True])
    order = pd.concat([order[order["region_code"] == COUNTRY], order[order["region_code"] != COUNTRY]])
    issues = _issues(order)
    labels = [f"<b>{esc(_marked(_label(regions, c), i))}</b>" if c == DAEGU else esc(_marked(_label(regions, c), i))
              for c, i in zip(order["region_code"], issues, strict=True)]
    fig = _figure()
    for column, name, colour in spec.parts:
        if column not in order:
            continue
        fig["data"].append(dict(
            type="bar", x=order[column].tolist(), y=labels, orientation="h", name=esc(name),
            marker={"color": colour, "line": {"color": [HIGHLIGHT if c == DAEGU else "rgba(0,0,0,0)"
                                                        for c in order["region_code"]], "width": 2}},
            customdata=[[fmt(v, column), _hover_issue(i)] for v, i in zip(order[column], issues, strict=True)],
            hovertemplate=f"%{{y}} {esc(name)}: %{{customdata[0]}} {esc(_unit(column, indicator))}"
                          "%{customdata[1]}<extra></extra>"))
    fig["layout"]["barmode"] = "stack"
    _axis(fig, "yaxis", autorange="reversed")
    _axis(fig, "xaxis", range=[0, 100])
    title = f"{spec.title}{f', {year}' if year else ''}"
    _layout(fig, title=title, height=160 + 26 * max(len(order), 3), x_title=spec.x_title)
    return Chart(indicator, spec.kind, title, fig,
                 f"{spec.caption} {_label(regions, DAEGU)} in bold with a red outline.", rows=order)


def _year_line(spec: YearLine, df: pd.DataFrame, regions: dict[str, str], indicator: str) -> Chart | None:
    value = spec.value
    rows = df.dropna(subset=[value]).sort_values("year")
    if rows.empty:
        return None
    issues = _issues(rows)
    fig = _figure(dict(
        type="scatter", x=rows["year"].tolist(), y=rows[value].tolist(), mode="lines+markers+text",
        name=esc(measure_title(value, indicator)),
        text=[_marked(fmt(v, value), i) for v, i in zip(rows[value], issues, strict=True)],
        textposition="top center", line={"color": SERIES_COLORS[0]},
        customdata=[[fmt(v, value), _hover_issue(i)] for v, i in zip(rows[value], issues, strict=True)],
        hovertemplate=f"%{{x}}: %{{customdata[0]}} {esc(_unit(value, indicator))}%{{customdata[1]}}<extra></extra>"))
    if spec.y_range:
        _axis(fig, "yaxis", range=list(spec.y_range))
    _axis(fig, "xaxis", tickmode="array", tickvals=rows["year"].tolist())
    _layout(fig, title=spec.title, height=380, x_title="Year", y_title=measure_title(value, indicator), legend=False)
    return Chart(indicator, spec.kind, spec.title, fig, spec.caption, rows=rows)


def _grouped_bars(spec: GroupedBars, df: pd.DataFrame, regions: dict[str, str], indicator: str) -> Chart | None:
    rows = df.sort_values(["source", "year"]) if "source" in df else df.sort_values("year")
    columns = [c for c in spec.columns if c in rows]
    if rows.empty or not columns:
        return None
    issues = _issues(rows)
    tables = rows["source_table"] if "source_table" in rows else rows["source"]
    labels = [esc(_marked(f"{t}, {y}", i)) for t, y, i in zip(tables, rows["year"], issues, strict=True)]
    fig = _figure()
    for i, column in enumerate(columns):
        label = m.label if (m := measure(column, indicator)) else column
        fig["data"].append(dict(
            type="bar", x=labels, y=rows[column].tolist(), name=esc(label),
            marker={"color": SERIES_COLORS[i % len(SERIES_COLORS)]},
            text=[fmt(v, column) for v in rows[column]], textposition="outside", cliponaxis=False,
            customdata=[[esc(source_words(s, t)), fmt(v, column), _hover_issue(n)]
                        for s, t, v, n in zip(rows["source"], tables, rows[column], issues, strict=True)],
            hovertemplate=f"%{{customdata[0]}}<br>{esc(label)}: %{{customdata[1]}} {esc(_unit(column, indicator))}"
                          "%{customdata[2]}<extra></extra>"))
    fig["layout"]["barmode"] = "group"
    _axis(fig, "yaxis", range=[0, _axis_max([v for c in columns for v in rows[c]])])
    _layout(fig, title=spec.title, height=420, x_title=spec.x_title, y_title=spec.y_title)
    return Chart(indicator, spec.kind, spec.title, fig, spec.caption, rows=rows)


def _item_bars(spec: ItemBars, df: pd.DataFrame, regions: dict[str, str], indicator: str) -> Chart | None:
    value = spec.value
    rows = df.dropna(subset=[value]).sort_values([value, spec.item], ascending=[False, True])
    if rows.empty:
        return None
    highlighted = rows[spec.highlight].fillna(False).astype(bool) if spec.highlight in rows else [False] * len(rows)
    by_name = {v.split(" ")[0]: v for v in regions.values()}  # a place that is a region: its Korean name too
    issues = _issues(rows)
    labels = [_marked(f"{item} ({by_name.get(str(place), place)})", i)
              for item, place, i in zip(rows[spec.item], rows[spec.place], issues, strict=True)]
    ratio = rows[spec.ratio] if spec.ratio and spec.ratio in rows else [None] * len(rows)
    fig = _figure(dict(
        type="bar", x=rows[value].tolist(), y=[esc(label) for label in labels], orientation="h",
        marker={"color": [HIGHLIGHT if h else BASE for h in highlighted]}, name=esc(measure_title(value, indicator)),
        text=[f"{fmt(p, value)} (×{fmt(r, spec.ratio)})" if not _missing(r) else fmt(p, value)
              for p, r in zip(rows[value], ratio, strict=True)],
        customdata=[[fmt(p, value), _hover_issue(i)] for p, i in zip(rows[value], issues, strict=True)],
        textposition="outside", cliponaxis=False,
        hovertemplate=f"%{{y}}: %{{customdata[0]}} {esc(_unit(value, indicator))}%{{customdata[1]}}<extra></extra>"))
    _axis(fig, "yaxis", autorange="reversed")
    if spec.reference and spec.reference in rows and rows[spec.reference].notna().any():
        reference = float(rows[spec.reference].dropna().iloc[0])
        _vline(fig, reference, esc(f"{spec.reference_label} {fmt(reference, spec.reference)}"))
    _axis(fig, "xaxis", range=[0, _axis_max(rows[value])])
    _layout(fig, title=spec.title, height=140 + 30 * max(len(rows), 3), x_title=measure_title(value, indicator),
            legend=False)
    return Chart(indicator, spec.kind, spec.title, fig, spec.caption, rows=rows)


# Each kind of chart an indicator spec may ask for (schemas/indicators/spec.py), and how it is drawn.
DRAW: dict[type, Callable[..., Chart | None]] = {
    RankedBars: _ranked_bars,
    RegionLines: _region_lines,
    SeriesLines: _series_lines,
    StackedShares: _stacked_shares,
    YearLine: _year_line,
    GroupedBars: _grouped_bars,
    ItemBars: _item_bars,
}


def draw_charts(spec: IndicatorSpec, df: pd.DataFrame, regions: dict[str, str]) -> list[Chart]:
    """The charts the indicator's spec asks for, over its rows (a chart with nothing to draw is left out)."""
    charts = (DRAW[type(chart)](chart, df, regions, spec.name) for chart in spec.charts)
    return [c for c in charts if c is not None]


def _plot(chart: Chart, index: int) -> Markup:
    return Markup(pio.to_html(chart.figure, validate=False, full_html=False, include_plotlyjs=False,
                              div_id=f"plot-{chart.indicator}-{chart.kind}-{index}", config=PLOTLY_CONFIG,
                              default_width="100%",
                              default_height=f"{chart.figure['layout'].get('height') or 420}px"))


# --- the page: assets/report.html.j2, given what each part shows ---------------------------------------------

def _escaped(value: object) -> object:
    """Every value the template prints is escaped once, by `esc` (as the tables are), unless it is markup."""
    return value if hasattr(value, "__html__") else Markup(esc(value))


TEMPLATE = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=True,
                              finalize=_escaped, undefined=jinja2.StrictUndefined).get_template("report.html.j2")


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def _with_region_names(df: pd.DataFrame, regions: dict[str, str]) -> pd.DataFrame:
    if "region_code" not in df.columns or not regions:
        return df
    out = df.copy()
    out.insert(list(df.columns).index("region_code") + 1, "region", [_label(regions, c) for c in df["region_code"]])
    return out


def _is_daegu(row: pd.Series) -> bool:
    if row.get("region_code") == DAEGU:
        return True
    in_daegu = row.get("in_daegu")
    return not _missing(in_daegu) and bool(in_daegu)


def _daegu_rows(table: pd.DataFrame | None) -> Callable[[pd.Series], str] | None:
    """Highlights Daegu's rows, unless every row is Daegu's (then highlighting says nothing)."""
    if table is None or table.empty:
        return None
    flags = [_is_daegu(r) for _, r in table.iterrows()]
    if all(flags) or not any(flags):
        return None
    return lambda row: "daegu" if _is_daegu(row) else ""


def _meta(row, table: pd.DataFrame | None) -> dict:
    """The catalog row of a table: where it is, its unit, formula and sources, and the data used."""
    source_used = getattr(row, "source_used", None)
    return {"table_name": row.table_name, "unit": row.unit, "formula": row.formula, "sources": row.sources,
            "rows": f"{len(table)} rows" if table is not None else "missing from the warehouse",
            "source_used": None if _missing(source_used) else source_used}


def _download(df: pd.DataFrame | None, filename: str, what: str) -> dict | None:
    return None if df is None else {"filename": filename, "href": csv_href(df), "what": what, "rows": len(df)}


def section_title(name: str) -> str:
    """An indicator's heading in words: its spec's `title` (the one source for names); a table no spec describes
    (listed in the catalog only) by its name in words."""
    spec = spec_named(name)
    return spec.title if spec else name.replace("_", " ").capitalize()


# A table longer than this shows its latest year only (all of it, in the download): a table of every region
# and year (258 rows in a live warehouse) was some 22,000 px of scrolling.
TABLE_ROWS_SHOWN = 40


@dataclass
class Shown:
    """The rows of a table the page prints, and in words which they are (None: all of them)."""

    rows: pd.DataFrame | None
    note: str | None = None


def rows_shown(table: pd.DataFrame | None) -> Shown:
    """A short table whole; a long one (> TABLE_ROWS_SHOWN rows) as its latest year, or, with no year, its first
    TABLE_ROWS_SHOWN rows."""
    if table is None or len(table) <= TABLE_ROWS_SHOWN:
        return Shown(table)
    if "year" in table and table["year"].notna().any():
        latest, year = _latest_year(table)
        what = f"the latest year, {year}"
    else:
        latest, what = table.head(TABLE_ROWS_SHOWN), f"the first {TABLE_ROWS_SHOWN} rows"
    latest = latest.reset_index(drop=True)
    return Shown(latest, f"Showing {what}: {len(latest)} of {len(table)} rows. The download below holds all "
                         f"{len(table)}.")


def indicator_section(row, table: pd.DataFrame | None, regions: dict[str, str], charts: list[Chart],
                      first_chart_index: int, source_issues: pd.DataFrame | None = None) -> dict:
    name = str(row.indicator)
    shown = rows_shown(table)
    flags = issue_flags(shown.rows, source_issues, regions) if source_issues is not None else None
    return {
        "name": name, "title": section_title(name), "slug": _slug(name), "description": row.description,
        "meta": _meta(row, table), "rows": None if table is None else len(table),
        "charts": [{"id": f"chart-{c.indicator}-{c.kind}", "kind": c.kind, "plot": _plot(c, first_chart_index + i),
                    "caption": c.caption, "flagged": c.rows is not None and any(_issues(c.rows)),
                    "sources": row_sources(c.rows)} for i, c in enumerate(charts)],
        "table": Markup(render_table(_with_region_names(shown.rows, regions) if shown.rows is not None else None,
                                     row_class=_daegu_rows(table), indicator=name, flags=flags, csv=table,
                                     csv_name=f"{row.table_name}.csv")),
        "collapsed": None if shown.note is None else {"note": shown.note, "shown": len(shown.rows),
                                                      "total": len(table)},
        "sources": row_sources(table),
    }


def paper_only_claims(data: ReportData) -> set[str]:
    """The claims checked only against the paper's own figures, as indicators.paper_claims.checked_against says
    (derived from the rows each claim's query read): no KOSIS table among what it was checked against."""
    found = set()
    for claim in data.claims.astype(object).to_dict("records"):
        against = "" if _missing(claim.get("checked_against")) else str(claim["checked_against"])
        if against.startswith("the paper's own figures") and "KOSIS" not in against:
            found.add(str(claim["claim_id"]))
    return found


def claims_section(data: ReportData, catalog_row) -> dict:
    claims = data.claims
    counts = claims["verdict"].value_counts().to_dict() if len(claims) else {}
    verdicts = [v for v in VERDICT_ORDER if v in counts] + sorted(set(counts) - set(VERDICT_ORDER))
    paper_only = paper_only_claims(data) if len(claims) else set()
    return {
        "title": section_title(PAPER_CLAIMS.name),
        "description": catalog_row.description if catalog_row is not None else "",
        "meta": _meta(catalog_row, claims) if catalog_row is not None else None,
        "badges": [{"verdict": v, "slug": _slug(str(v)), "count": counts[v]} for v in verdicts],
        "rows": [{"id": c["claim_id"], "section": fmt(c.get("section")), "text": fmt(c.get("claim_text")),
                  "observed": fmt(c.get("observed")), "verdict": fmt(c.get("verdict")),
                  "slug": _slug(str(c.get("verdict"))), "evidence": fmt(c.get("evidence_tables")),
                  "query": None if _missing(c.get("query")) else c["query"],
                  "checked_against": fmt(c.get("checked_against")),
                  "paper_only": c["claim_id"] in paper_only}
                 for c in claims.astype(object).to_dict("records")],
        "paper_only": len(paper_only),
        "download": _download(data.claims, "indicators.paper_claims.csv", "the claims"),
    }


# --- then and now: the claims on the latest year, and Daegu among its peers --------------------------------------

CLAIM_TABLES = {spec.name for spec in CLAIM_SPECS}
CHANGE_ORDER = ("still holds", "newly holds", "no longer holds", "still does not hold", "not evaluable",
                "no later data")
PEER_COLORS = ("#1f77b4", "#2ca02c", "#9467bd")  # the groups' means (metropolitan cities, provinces)


def _period_rows(verdicts: pd.DataFrame, period: str) -> dict[str, dict]:
    rows = verdicts[verdicts["period"] == period].astype(object).to_dict("records")
    return {r["claim_id"]: r for r in rows}


def now_section(data: ReportData, catalog_row=None) -> dict:
    """Each claim's verdict on the paper's years and on the latest year the warehouse holds (and on the trend since
    the paper), with the direction of change; why some claims have no later data; where the tables come from."""
    verdicts = data.tables.get(CLAIM_VERDICT_TABLE.name)
    meta = _meta(catalog_row, verdicts) if catalog_row is not None else None
    if verdicts is None or verdicts.empty:
        return {"rows": [], "badges": [], "one_off": [], "download": None, "meta": meta,
                "title": section_title(CLAIM_VERDICT_TABLE.name)}
    paper, latest, since = (_period_rows(verdicts, p) for p in ("paper", "latest", "since paper"))
    texts = dict(zip(data.claims["claim_id"], data.claims["claim_text"], strict=True)) if len(data.claims) else {}
    rows = []
    for claim_id in sorted(paper):
        then, now, trend = paper[claim_id], latest.get(claim_id), since.get(claim_id)
        judged_by = trend or now
        change = judged_by["change"] if judged_by else "not evaluable"
        rows.append({
            "id": claim_id, "text": fmt(texts.get(claim_id, then["judged"])),
            "paper_verdict": then["verdict"], "paper_slug": _slug(str(then["verdict"])),
            "paper_years": (f"{then['from_year']}-{then['year']}" if not _missing(then.get("from_year"))
                            and then["from_year"] != then["year"] else str(then["year"])),
            "paper_observed": fmt(then["observed"]),
            "latest": None if now is None else {
                "verdict": now["verdict"], "slug": _slug(str(now["verdict"])), "year": str(now["year"]),
                "judged": fmt(now["judged"]), "observed": fmt(now["observed"]),
                "against": fmt(now["checked_against"])},
            "since": None if trend is None else {
                "verdict": trend["verdict"], "slug": _slug(str(trend["verdict"])),
                "years": f"{trend['from_year']}-{trend['year']}", "judged": fmt(trend["judged"]),
                "observed": fmt(trend["observed"])},
            "change": change, "change_slug": _slug(str(change)),
        })
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["change"]] = counts.get(row["change"], 0) + 1
    one_off = [{"table": r["source_table"], "title": r["title"], "refreshes": r["refreshes"]}
               for r in data.paper_tables.astype(object).to_dict("records") if not _missing(r.get("refreshes"))]
    return {"rows": rows, "one_off": one_off, "meta": meta, "title": section_title(CLAIM_VERDICT_TABLE.name),
            "badges": [{"change": c, "slug": _slug(c), "count": counts[c]} for c in CHANGE_ORDER if c in counts],
            "download": _download(verdicts, "indicators.claim_verdicts.csv", "every claim on every period")}


def then_and_now_line(now: dict) -> str:
    """The header's words on the claims then and now, e.g. " Then and now: 6 still holds, 12 no later data."."""
    changes = ", ".join(f"{badge['count']} {badge['change']}" for badge in now["badges"])
    return f" Then and now: {changes}." if changes else ""


def peer_charts(data: ReportData) -> list[Chart]:
    """For each claim comparing Daegu with other regions: every region's rank (or the groups' means) over the years
    the data hold, Daegu highlighted."""
    rankings = data.tables.get(CLAIM_RANKING_TABLE.name)
    if rankings is None or rankings.empty:
        return []
    claims = {c.id: c for c in all_claims()}
    charts = []
    for claim_id, rows in rankings.sort_values(["claim_id", "year"]).groupby("claim_id", sort=True):
        claim = claims.get(str(claim_id))
        ranking = claim.recheck.ranking if claim and claim.recheck else None
        if ranking is None:
            continue
        y = "rank" if ranking.rank_axis else "value"
        fig, groups = _figure(), 0
        for series, points in rows.groupby("series", sort=True):
            daegu = bool(points["is_daegu"].any())
            group = points["region_code"].isna().all()
            color = HIGHLIGHT if daegu else PEER_COLORS[groups % len(PEER_COLORS)] if group else BASE
            groups += int(group)
            fig["data"].append(dict(
                type="scatter", x=points["year"].tolist(), y=[None if _missing(v) else v for v in points[y]],
                mode="lines+markers", name=esc(series),
                line={"color": color, "width": 3 if daegu else 2 if group else 1, "dash": "dash" if group else "solid"},
                customdata=[[fmt(v), "" if _missing(r) else f", rank {int(r)}"]
                            for v, r in zip(points["value"], points["rank"], strict=True)],
                hovertemplate=f"{esc(series)} %{{x}}: %{{customdata[0]}}%{{customdata[1]}}<extra></extra>"))
        years = sorted(int(v) for v in rows["year"].unique())
        _layout(fig, title=ranking.title, height=440, x_title="Year",
                y_title="Rank (1 = highest)" if y == "rank" else ranking.value)
        if y == "rank":
            _axis(fig, "yaxis", autorange="reversed", dtick=1)
        _axis(fig, "xaxis", tickmode="array", tickvals=years)
        span = f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
        charts.append(Chart(CLAIM_RANKING_TABLE.name, f"peers-{claim_id}", ranking.title, fig,
                            f"Claim {claim_id}: {claim.text} {'Ranked by' if y == 'rank' else 'Shown:'} "
                            f"{ranking.value}, {span}; Daegu in red"
                            f"{'; dashed: the groups compared' if groups else ''}.", rows=rows))
    return charts


def peers_section(data: ReportData, first_chart_index: int, catalog_row=None) -> dict:
    charts = peer_charts(data)
    rankings = data.tables.get(CLAIM_RANKING_TABLE.name)
    return {
        "title": section_title(CLAIM_RANKING_TABLE.name),
        "meta": _meta(catalog_row, rankings) if catalog_row is not None else None,
        "charts": [{"id": f"chart-{c.indicator}-{c.kind}", "kind": c.kind, "plot": _plot(c, first_chart_index + i),
                    "caption": c.caption, "sources": row_sources(c.rows)} for i, c in enumerate(charts)],
        "download": _download(rankings, "indicators.claim_rankings.csv", "every ranking"),
        "n": len(charts),
    }


def _passed(value: object) -> bool | None:
    """quality.check_results.passed: True, False, or None when the check did not run."""
    return None if _missing(value) else bool(value)


def check_result(passed: object, severity: object) -> str:
    """'passed', 'failed (ERROR|WARN)' or 'not run' (passed NULL: the check did not run, e.g. after a failed
    structure check)."""
    verdict = _passed(passed)
    if verdict is None:
        return "not run"
    return "passed" if verdict else f"failed ({severity})"


def ran_and_failed(checks: pd.DataFrame) -> list[bool]:
    """Per check: it ran and found failures (a check that did not run is not a failure)."""
    return [_passed(p) is False for p in checks["passed"]] if len(checks) else []


def n_not_passed(checks: pd.DataFrame) -> int:
    return sum(ran_and_failed(checks))


def _check_class(result: object) -> str:
    """The colour of a check's result cell: 'passed', 'failed (ERROR)' or 'failed (WARN)'."""
    if result == "passed":
        return "check check-passed"
    if result == "not run":
        return "check check-not-run"
    return "check check-failed-error" if "ERROR" in str(result) else "check check-failed-warn"


def render_groups(groups: pd.DataFrame, columns: dict[str, str], *, css_class: str, what: str) -> str:
    """Rows counted by group (`columns`: each group column and its heading, then `n_rows`), each group with a few
    of its rows as examples (`examples`, a list of text)."""
    if groups.empty:
        return f'<p class="empty">No {esc(what)}.</p>'
    head = "".join(f"<th>{esc(title)}</th>" for title in columns.values()) + "<th>rows</th><th>examples</th>"
    body = []
    for group in groups.astype(object).to_dict("records"):
        texts = [fmt(group[c]) or "–" for c in columns]  # '–': no year (or asset) recorded
        cells = "".join(f'<td class="{"long" if len(t) > 40 else "short"}">{esc(t)}</td>' for t in texts)
        examples = list(group["examples"]) if not _missing_list(group["examples"]) else []
        shown = "".join(f"<li><code>{esc(e)}</code></li>" for e in examples)
        more = int(group["n_rows"]) - len(examples)
        more_text = f'<span class="small">and {more:,} more</span>' if more > 0 else ""
        body.append(f'<tr data-rows="{int(group["n_rows"])}">{cells}'
                    f'<td class="num">{esc(fmt(int(group["n_rows"])))}</td>'
                    f'<td class="long examples"><ol class="examples">{shown}</ol>{more_text}</td></tr>')
    return (f'<div class="table-wrap" tabindex="0" role="region" aria-label="scrollable table">'
            f'<table class="data {esc(css_class)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody>'
            f"</table></div>")


def _missing_list(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def quality_section(data: ReportData) -> dict:
    checks = data.checks
    shown = None
    if len(checks):
        shown = checks.assign(
            result=[check_result(p, sev) for p, sev in zip(checks["passed"], checks["severity"], strict=True)],
            details=[None if _passed(p) else d for p, d in zip(checks["passed"], checks["details"], strict=True)],
            run=[str(r)[:8] for r in checks["run_id"]])
        shown = shown[["asset", "check_name", "severity", "result", "n_failures", "evaluated_at", "run", "details"]]
    return {
        "n_issues": len(data.source_issues), "issue_groups": len(data.issue_groups),
        "issues": Markup(render_groups(data.issue_groups, {"source_table": "table", "year": "year",
                                                           "description": "what is inconsistent"},
                                       css_class="source-issues", what="source inconsistencies recorded")),
        "issues_download": _download(data.source_issues, "quality.source_issues.csv", "every source inconsistency"),
        "quarantine_total": data.quarantine_total, "quarantine_groups": len(data.quarantine_groups),
        "quarantine": Markup(render_groups(data.quarantine_groups, {"source": "table (source)", "asset": "asset",
                                                                    "year": "year", "reason": "reason"},
                                           css_class="quarantine", what="quarantined rows")),
        "quarantine_download": _download(data.quarantine, "quality.quarantine.csv", "every quarantined row")
        if data.quarantine_total else None,
        "n_checks": len(checks),
        "n_failed": n_not_passed(checks),
        "checks": None if shown is None else Markup(render_table(
            shown, css_class="data checks", long_columns=("details",), cell_class={"result": _check_class},
            csv=checks, csv_name="quality.check_results.csv")),
    }


def _hover_notes(flags: IssueFlags, position: int, width: int = 90) -> str:
    """The source issues touching a row as hover text: escaped, wrapped for a hover label."""
    return "<br>".join("<br>".join(esc(line) for line in textwrap.wrap(f"{ISSUE_MARK}{n} {flags.notes[n - 1]}", width))
                       for n in flags.rows.get(position, []))


def build_sections(data: ReportData) -> tuple[list[Section], list[Chart]]:
    sections: list[Section] = []
    charts: list[Chart] = []
    for row in data.catalog.itertuples(index=False):
        if row.indicator in CLAIM_TABLES:  # shown by the claims' own sections
            continue
        table = data.tables.get(row.indicator)
        spec = spec_named(row.indicator)
        made = []
        if spec and spec.charts and table is not None and len(table):
            table = table.reset_index(drop=True)
            flags = issue_flags(table, data.source_issues, data.regions)
            drawn = table.assign(**{ISSUE_COLUMN: [_hover_notes(flags, i) for i in range(len(table))]})
            made = draw_charts(spec, drawn, data.regions)
        sections.append(Section(row.indicator, made))
        charts += made
    return sections, charts


def render_report(data: ReportData, generated_at: datetime | None = None) -> tuple[str, int]:
    """The page and its number of charts."""
    generated_at = generated_at or datetime.now(UTC)
    sections, charts = build_sections(data)
    rows = {r.indicator: r for r in data.catalog.itertuples(index=False)}
    shown, index = [], 0
    for section in sections:
        shown.append(indicator_section(rows[section.indicator], data.tables.get(section.indicator), data.regions,
                                       section.charts, index, data.source_issues))
        index += len(section.charts)
    peers = peers_section(data, index, rows.get(CLAIM_RANKING_TABLE.name))
    now = now_section(data, rows.get(CLAIM_VERDICT_TABLE.name))
    counts = data.claims["verdict"].value_counts().to_dict() if len(data.claims) else {}
    failed = n_not_passed(data.checks)
    summary = (f"{len(sections)} indicator tables, {len(charts) + peers['n']} charts; {len(data.claims)} claims "
               f"({', '.join(f'{counts[v]} {v}' for v in VERDICT_ORDER if v in counts)}); "
               f"{len(data.source_issues)} source inconsistencies; {data.quarantine_total} quarantined rows; "
               f"{failed} of {len(data.checks)} latest checks not passed."
               + then_and_now_line(now))
    page = TEMPLATE.render(
        summary=summary, generated=generated_at.strftime("%Y-%m-%d %H:%M UTC"), plotly_js=Markup(get_plotlyjs()),
        issue_mark=ISSUE_MARK, sections=shown, claims=claims_section(data, rows.get(PAPER_CLAIMS.name)),
        quality=quality_section(data), now=now, peers=peers, examples_per_group=EXAMPLES_PER_GROUP,
        example_chars=EXAMPLE_CHARS)
    return page, len(charts) + peers["n"]


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def report_path(warehouse: WarehouseResource) -> Path:
    return warehouse.path.parent / "reports" / "index.html"


def _summary_markdown(data: ReportData, n_charts: int, path: Path) -> str:
    lines = [f"**Report:** `{path}` ({n_charts} charts)", "", "| indicator | rows |", "|---|---|"]
    for row in data.catalog.itertuples(index=False):
        table = data.tables.get(row.indicator)
        lines.append(f"| {row.indicator} | {len(table) if table is not None else 'missing'} |")
    counts = data.claims["verdict"].value_counts().to_dict() if len(data.claims) else {}
    lines += ["", "**Claims:** " + (", ".join(f"{v}: {n}" for v, n in sorted(counts.items())) or "none")]
    failed = data.checks[ran_and_failed(data.checks)] if len(data.checks) else data.checks
    lines.append(f"**Source inconsistencies:** {len(data.source_issues)}; **quarantined rows:** "
                 f"{data.quarantine_total}; **latest checks not passed:** {len(failed)} of {len(data.checks)}")
    for r in failed.itertuples(index=False):
        lines.append(f"- {r.severity} `{r.asset}` / {r.check_name}: {r.n_failures} failures")
    return "\n".join(lines)


@dg.asset(
    key=REPORT_KEY,
    deps=[PUBLISHED_KEY],  # the page shows what analysts query: the published copy
    group_name="publish",
    kinds={"html"},
    owners=OWNERS,
    pool=warehouse_pool(),
    automation_condition=AUTOMATION,
    description="A self-contained HTML report at `warehouse/data/reports/index.html` (beside the warehouse): for "
    "every table of `indicators.catalog` its unit, formula, sources, a chart and the table; the paper's claims "
    "with colour-coded verdicts; and the data-quality picture (source inconsistencies, quarantined rows, the "
    "latest check results). Everything is read from the published copy, just after each publication. Plotly's "
    "JavaScript is inlined, so the page opens offline. Written to a temporary file and renamed over the old page.",
)
def indicators_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.published_connection() as con:
        data = read_report_data(con)
    page, n_charts = render_report(data)
    path = report_path(warehouse)
    write_atomically(path, page)
    size = path.stat().st_size
    context.log.info(f"wrote {path} ({size:,} bytes, {n_charts} charts)")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(path)),
        "size_bytes": size,
        "n_charts": n_charts,
        "n_claims": len(data.claims),
        "summary": dg.MetadataValue.md(_summary_markdown(data, n_charts, path)),
    })
