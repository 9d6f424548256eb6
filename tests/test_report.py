"""The HTML report: built by a real materialization from a tmp warehouse, every number read from it."""

from __future__ import annotations

import csv
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.report import REPORT_KEY, fmt, indicators_report
from pipelines.definitions import build_assets
from schemas.indicators import INDICATORS
from schemas.registry import SOURCES_DIR
from tests.conftest import materialize, query

EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


class Page(HTMLParser):
    """What the tests read from the report: charts, sections, claims, external references and the rows of
    every `table.data` under the section (data-indicator) it belongs to."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.charts: list[dict[str, str]] = []
        self.sections: list[str] = []
        self.claim_rows: dict[str, list[str]] = {}
        self.external: list[tuple[str, str, str]] = []
        self.scripts = 0
        self.tables: dict[str, list[list[str]]] = {}
        self._section: str | None = None
        self._depth = 0
        self._section_depth: int | None = None
        self._in_table = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._claim: str | None = None
        self._claim_classes: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in ("br", "meta", "link", "img", "input"):
            self._depth += 1
        for attr in ("src", "href", "action", "data"):
            if a.get(attr) and EXTERNAL.match(a[attr]):
                self.external.append((tag, attr, a[attr]))
        if tag == "script":
            self.scripts += 1
        classes = (a.get("class") or "").split()
        if tag == "section":
            self._section = a.get("data-indicator") or a.get("id")
            self._section_depth = self._depth
            if a.get("data-indicator"):
                self.sections.append(a["data-indicator"])
        if tag == "div" and "chart" in classes:
            self.charts.append({"indicator": a.get("data-indicator", ""), "kind": a.get("data-chart", ""),
                                "id": a.get("id", ""), "section": self._section or ""})
        if tag == "table" and "data" in classes:
            self._in_table = True
            self.tables.setdefault(self._section or "", [])
        if tag == "tr":
            self._row = []
            self._claim = a.get("data-claim-id")
            self._claim_classes = []
        if tag in ("td", "th") and self._row is not None:
            self._cell = []
            if self._claim:
                self._claim_classes += classes

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._in_table:
                self.tables[self._section or ""].append(self._row)
            if self._claim:
                self.claim_rows[self._claim] = self._claim_classes
            self._row = None
            self._claim = None
        elif tag == "table":
            self._in_table = False
        if tag == "section" and self._section_depth == self._depth:
            self._section = None
        if tag not in ("br", "meta", "link", "img", "input"):
            self._depth -= 1

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> tuple[str, Page]:
    text = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    return text, page


def build(db: Path, sources: Path = SOURCES_DIR, selection=None) -> dg.ExecuteInProcessResult:
    result = materialize(db, sources, assets=[*build_assets(), indicators_report], selection=selection)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return result


def report_of(db: Path) -> Path:
    return db.parent / "reports" / "index.html"


def report_metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = [m for m in result.get_asset_materialization_events()
                if m.asset_key == REPORT_KEY]
    return event.materialization.metadata


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dg.ExecuteInProcessResult]:
    db = tmp_path_factory.mktemp("report") / "warehouse.duckdb"
    return db, build(db)


def catalog(db: Path) -> list[tuple]:
    return query(db, "SELECT indicator, table_name, unit, formula, sources FROM indicators.catalog ORDER BY indicator")


def test_the_report_is_written_beside_the_warehouse(built) -> None:
    db, result = built
    path = report_of(db)
    assert path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["index.html"]  # no temporary file left behind
    meta = report_metadata(result)
    assert meta["path"].value == str(path)
    assert meta["size_bytes"].value == path.stat().st_size
    _, page = parse(path)
    assert meta["n_charts"].value == len(page.charts)
    assert "| sme_concentration | 17 |" in meta["summary"].value


def rows_in(db, table_name: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table_name}").fetchone()[0]
    finally:
        con.close()


def test_one_section_per_catalog_row_with_its_unit_formula_sources_and_a_chart(built) -> None:
    db, _ = built
    text, page = parse(report_of(db))
    rows = catalog(db)
    names = {r[0] for r in rows}
    assert names == {s.name for s in INDICATORS} | {"paper_claims"}
    assert set(page.sections) == names and len(page.sections) == len(names)
    charted = {c["indicator"] for c in page.charts}
    empty = {r[0] for r in rows if rows_in(db, r[1]) == 0}  # offline, population has no rows: no chart, a note
    assert charted == names - {"paper_claims"} - empty
    assert empty == {"population"} and "No data yet" in text
    for chart in page.charts:  # each chart sits in its indicator's section, with a stable id
        assert chart["section"] == chart["indicator"] and chart["id"].startswith(f"chart-{chart['indicator']}-")
    assert {(c["indicator"], c["kind"]) for c in page.charts} >= {
        ("industrial_structure", "lines"), ("st_program_mix", "lines"), ("sme_concentration", "ranked"),
        ("st_budget_dependence", "ranked"), ("st_budget_dependence", "stacked"), ("rd_orientation", "bars"),
        ("land_price_gap", "bars")}
    for _, table_name, unit, formula, sources in rows:
        for value in (table_name, unit, formula, sources):
            assert html.escape(value) in text, value


def test_each_table_beneath_a_chart_shows_the_warehouse_rows(built) -> None:
    db, _ = built
    _, page = parse(report_of(db))
    for name, table_name, *_ in catalog(db):
        if name == "paper_claims" or rows_in(db, table_name) == 0:
            continue
        header, *rows = page.tables[name]
        con = duckdb.connect(str(db), read_only=True)
        try:
            frame = con.execute(f"SELECT * FROM {table_name}").df()
        finally:
            con.close()
        assert len(rows) == len(frame), name
        for column in frame.columns:
            if column not in header:  # said once above the table when it is the same long text in every row
                continue
            shown = sorted(r[header.index(column)] for r in rows)
            numeric = frame[column].dtype.kind in "iuf"  # numbers to their measure's precision
            assert shown == sorted(" ".join(fmt(v, column if numeric else None).split())
                                   for v in frame.astype(object)[column]), (name, column)


def test_every_claim_with_its_colour_coded_verdict(built) -> None:
    db, _ = built
    _, page = parse(report_of(db))
    claims = query(db, "SELECT claim_id, verdict FROM indicators.paper_claims")
    assert claims
    assert set(page.claim_rows) == {c for c, _ in claims}
    for claim_id, verdict in claims:
        assert f"verdict-{verdict.replace(' ', '-')}" in page.claim_rows[claim_id], (claim_id, verdict)


def test_data_quality_section_lists_source_issues_and_latest_checks(built) -> None:
    db, _ = built
    _, page = parse(report_of(db))
    issues = query(db, "SELECT source_table, row_key, column_name FROM quality.source_issues")
    assert issues
    quality = page.tables["data-quality"]
    cells = {tuple(r[:3]) for r in quality}
    for issue in issues:
        assert issue in cells, issue
    latest = query(db, "SELECT asset, check_name FROM quality.check_results "
                       "QUALIFY row_number() OVER (PARTITION BY asset, check_name ORDER BY evaluated_at DESC) = 1")
    shown = {(r[0], r[1]) for r in quality if len(r) >= 8}
    assert set(latest) <= shown
    assert ("sources/table_6_st_budget_2011", "source_consistency") in {
        (r[0], r[1]) for r in quality if len(r) >= 4 and r[3] == "failed (WARN)"}


def test_the_page_is_self_contained(built) -> None:
    db, _ = built
    text, page = parse(report_of(db))
    assert page.external == []
    assert text.count("plotly.js v") == 1  # the library is inlined once
    assert "Plotly.newPlot" in text
    assert page.scripts == 1 + len(page.charts)


def test_numbers_on_the_page_come_from_the_warehouse(sources_copy: Path, tmp_path: Path) -> None:
    table = sources_copy / "paper" / "table_5_industrial_land_prices.csv"
    with open(table, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    (esiapolis,) = [r for r in rows if r["complex"] == "Esiapolis"]
    assert esiapolis["price_krw_thousand_per_3_3m2"] == "1700"
    esiapolis["price_krw_thousand_per_3_3m2"] = "1777"
    with open(table, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    db = tmp_path / "warehouse.duckdb"
    build(db, sources_copy)
    assert query(db, "SELECT price_krw_thousand_per_3_3m2 FROM indicators.land_price_gap "
                     "WHERE complex = 'Esiapolis'") == [(1777.0,)]
    text, page = parse(report_of(db))
    header, *table_rows = page.tables["land_price_gap"]
    prices = {r[header.index("complex")]: r[header.index("price_krw_thousand_per_3_3m2")] for r in table_rows}
    assert prices["Esiapolis"] == "1777"
    (ratio,) = query(db, "SELECT ratio_to_peripheral_mean FROM indicators.land_price_gap WHERE complex = 'Esiapolis'")
    assert [r[header.index("ratio_to_peripheral_mean")] for r in table_rows
            if r[header.index("complex")] == "Esiapolis"] == [fmt(ratio[0])]
    # the chart's data is the warehouse's too
    (plot,) = re.findall(r'Plotly\.newPlot\(\s*"plot-land_price_gap-[^"]*",\s*(\[.*?\]),\s*\{', text, re.S)
    assert 1777.0 in json.loads(plot)[0]["x"]
    (observed,) = query(db, "SELECT observed FROM indicators.paper_claims WHERE claim_id = 'C10'")
    assert "1777" in observed[0] and html.escape(observed[0]) in text


def test_text_from_the_warehouse_is_escaped(built, tmp_path: Path) -> None:
    source_db, _ = built
    db = tmp_path / "warehouse.duckdb"
    db.write_bytes(source_db.read_bytes())
    evil = '<script>alert("x")</script>'
    con = duckdb.connect(str(db))
    try:
        con.execute("INSERT INTO quality.quarantine VALUES ('assets/sources/paper/evil.csv', ?, ?, 'run-x', "
                    "'sources/evil', now()::TIMESTAMP)", [json.dumps({"city": evil}), f"bad row {evil}"])
        con.execute("UPDATE indicators.catalog SET description = description || ? "
                    "WHERE indicator = 'land_price_gap'", [f" <img src=x onerror=alert(1)> & {evil}"])
    finally:
        con.close()
    build(db, selection=[REPORT_KEY])
    text, page = parse(report_of(db))
    assert evil not in text and "<img src=x" not in text
    assert "bad row &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt; &amp;" in text
    assert page.external == []
    assert any(r[1:3] == ["assets/sources/paper/evil.csv", "sources/evil"] for r in page.tables["data-quality"])
    assert "quality.quarantine, 1 rows" in " ".join(text.split()).replace("<code>", "").replace("</code>", "")
