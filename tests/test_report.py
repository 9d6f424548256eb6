"""The HTML report: built by a real materialization (the session's `make run`, or one of its own) into a tmp
warehouse, every number read from it."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.publish import PUBLISHED_KEY
from assets.report import REPORT_KEY, fmt, indicators_report
from assets.source_files import SOURCES_DIR
from pipelines.definitions import build_assets
from schemas.indicators import CLAIM_SPECS, INDICATORS
from tests.conftest import Built, materialize, query

CLAIM_TABLES = {s.name for s in CLAIM_SPECS}

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


def report_metadata(home: Path) -> dict:
    """The report's materialization metadata as the run recorded it in its Dagster instance (DAGSTER_HOME)."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (event,) = instance.fetch_materializations(REPORT_KEY, limit=10).records
    return event.asset_materialization.metadata


@pytest.fixture(scope="module")
def built(built_template: Built, tmp_path_factory) -> tuple[Path, dict]:
    """The session's offline `make run` (tests/conftest.py: built_template): its warehouse, beside which the report
    was written, and the report's materialization metadata from a copy of its Dagster home."""
    home = tmp_path_factory.mktemp("report") / "home"
    shutil.copytree(built_template.home, home)
    return built_template.db, report_metadata(home)


def catalog(db: Path) -> list[tuple]:
    return query(db, "SELECT indicator, table_name, unit, formula, sources FROM indicators.catalog ORDER BY indicator")


def test_the_report_is_written_beside_the_warehouse(built) -> None:
    db, meta = built
    path = report_of(db)
    assert path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["index.html"]  # no temporary file left behind
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
    assert names == {s.name for s in INDICATORS} | CLAIM_TABLES
    assert set(page.sections) == names and len(page.sections) == len(names)
    charted = {c["indicator"] for c in page.charts}
    empty = {r[0] for r in rows if rows_in(db, r[1]) == 0}  # offline, population has no rows: no chart, a note
    assert charted == names - {"paper_claims", "claim_verdicts"} - empty
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
        # the claims' tables are shown by their own sections (a download holds every row)
        if name in CLAIM_TABLES or rows_in(db, table_name) == 0:
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


def table_of(text: str, css_class: str) -> list[list[str]]:
    """The rows (header first) of the page's one `table.data.<css_class>`."""
    (fragment,) = re.findall(rf'<table class="data {css_class}">.*?</table>', text, re.S)
    page = Page()
    page.feed(fragment)
    return page.tables[""]


def csv_rows(text: str, filename: str) -> list[list[str]]:
    """The rows (header first) of the page's CSV download `filename`."""
    href = html.unescape(dict(CSV_LINK.findall(text))[filename])
    return list(csv.reader(io.StringIO(urllib.parse.unquote(href.split(",", 1)[1]), newline="")))


def test_data_quality_section_counts_source_issues_and_lists_latest_checks(built) -> None:
    """Source issues are counted by table, year and what is inconsistent, with at most three examples each (they
    were listed one row each: a long list an analyst scrolled past); the download holds every row."""
    db, _ = built
    text, page = parse(report_of(db))
    issues = query(db, "SELECT source_table, row_key, column_name FROM quality.source_issues")
    assert issues
    groups = query(db, "SELECT source_table, description, count(*) FROM quality.source_issues GROUP BY ALL")
    header, *rows = table_of(text, "source-issues")
    assert header == ["table", "year", "what is inconsistent", "rows", "examples"]
    shown = {(r[0], r[2]): r for r in rows}
    assert len(shown) == len(rows) == len(groups) < len(issues)  # Table 6's four printed ratios: one group
    for table, description, n in groups:
        row = shown[(table, " ".join(description.split()))]
        assert row[1] == "–" and row[3] == str(n), row  # the paper's rows name no year
        examples = query(db, "SELECT row_key, column_name FROM quality.source_issues WHERE source_table = ? AND "
                             "description = ?", [table, description])
        named = [key for key, column in examples if key in row[4]]
        assert len(named) == min(n, 3), row
    # every row, whole, in the download
    header, *body = csv_rows(text, "quality.source_issues.csv")
    assert len(body) == len(issues)
    assert {(r[0], r[1], r[2]) for r in body} == set(issues)
    latest = query(db, "SELECT asset, check_name FROM quality.check_results "
                       "QUALIFY row_number() OVER (PARTITION BY asset, check_name ORDER BY evaluated_at DESC) = 1")
    quality = page.tables["data-quality"]
    shown_checks = {(r[0], r[1]) for r in quality if len(r) >= 8}
    assert set(latest) <= shown_checks
    assert ("paper/st_budget_2011", "source_consistency") in {
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
    build(db, selection=[PUBLISHED_KEY, REPORT_KEY])  # the report reads what is published
    text, page = parse(report_of(db))
    assert evil not in text and "<img src=x" not in text
    assert "bad row &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt; &amp;" in text
    assert page.external == []
    # the quarantined row's group: its table (source) and asset first (the rows are counted by group)
    assert any(r[:2] == ["assets/sources/paper/evil.csv", "sources/evil"] for r in page.tables["data-quality"])
    assert "quality.quarantine, 1 rows" in " ".join(text.split()).replace("<code>", "").replace("</code>", "")


def test_the_report_shows_the_published_copy_not_the_working_warehouse(built, tmp_path: Path) -> None:
    """A change written to the working warehouse reaches the page only once it is published, as it reaches an
    analyst's queries."""
    from warehouse.io import published_path

    source_db, _ = built
    db = tmp_path / "warehouse.duckdb"
    db.write_bytes(source_db.read_bytes())
    published_path(db).write_bytes(published_path(source_db).read_bytes())
    marker = "working-copy-only-7f3a"
    con = duckdb.connect(str(db))
    try:
        con.execute("UPDATE indicators.catalog SET description = description || ? WHERE indicator = 'population'",
                    [f" {marker}"])
    finally:
        con.close()
    build(db, selection=[REPORT_KEY])
    assert marker not in report_of(db).read_text(encoding="utf-8")
    build(db, selection=[PUBLISHED_KEY, REPORT_KEY])
    assert marker in report_of(db).read_text(encoding="utf-8")


# --- provenance a reader can trust: sources, units, Korean names, source issues, downloads ------------------

SOURCE_LINE = re.compile(r'<p class="source" data-source-for="([^"]+)"><b>Source:</b> (.*?)</p>', re.S)
CSV_LINK = re.compile(r'<a class="csv-download" download="([^"]+)" href="([^"]+)">')
PLOT = re.compile(r'Plotly\.newPlot\(\s*"(plot-[^"]+)",\s*')


def source_lines(text: str) -> dict[str, str]:
    return {what: html.unescape(" ".join(line.split())) for what, line in SOURCE_LINE.findall(text)}


def plots(text: str) -> dict[str, tuple[list, dict]]:
    """Each chart's Plotly data and layout, by its div id."""
    decoder = json.JSONDecoder()
    found = {}
    for match in PLOT.finditer(text):
        data, end = decoder.raw_decode(text, match.end())
        layout, _ = decoder.raw_decode(text, text.index("{", end))
        found[match.group(1)] = (data, layout)
    return found


def plot_of(text: str, indicator: str, kind: str) -> tuple[list, dict]:
    (found,) = [v for k, v in plots(text).items() if k.startswith(f"plot-{indicator}-{kind}-")]
    return found


def test_every_chart_is_a_valid_plotly_figure(built) -> None:
    """The report writes Plotly's JSON itself (no validation at run time): each figure on the page must pass
    Plotly's own schema, which rejects an unknown property or a value of the wrong kind."""
    import plotly.graph_objects as go

    db, _ = built
    found = plots(report_of(db).read_text(encoding="utf-8"))
    assert len(found) >= 7
    for div, (data, layout) in found.items():
        figure = go.Figure({"data": data, "layout": layout})  # raises ValueError on anything invalid
        assert figure.layout.template.layout.paper_bgcolor == "white", div  # plotly_white, as shipped
        assert len(figure.data) == len(data) >= 1, div


def table_frame(db: Path, table_name: str):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT * FROM {table_name}").df()
    finally:
        con.close()


def test_every_chart_and_table_says_where_its_numbers_come_from(built) -> None:
    db, _ = built
    text, page = parse(report_of(db))
    lines = source_lines(text)
    for chart in page.charts:  # every chart, and every table with rows, has its "Source:" line
        assert chart["id"] in lines, chart
    for name, table_name, *_ in catalog(db):
        if name not in CLAIM_TABLES and rows_in(db, table_name):  # the claims' rows are a download
            assert f"table-{name}" in lines, name
    for line in lines.values():
        assert "fetched" not in line.lower() and "LST_CHN_DE" not in line and "vintage" not in line, line
        assert not re.search(r"\d{4}-\d{2}-\d{2}", line), line  # no made-up vintage date
    # offline every row is the paper's: said so, never as KOSIS's
    for what in ("chart-industrial_structure-lines", "table-industrial_structure"):
        assert lines[what] == "the paper's Table 1 (as printed), in KOSIS form.", lines[what]
    for what, line in lines.items():
        assert "KOSIS table" not in line, (what, line)
        assert "the paper's Table" in line, (what, line)
    assert lines["table-sme_concentration"] == "the paper's Table 2 (as printed), in KOSIS form."
    assert lines["table-land_price_gap"] == "the paper's Table 5 (as printed)."
    assert lines["chart-st_budget_dependence-stacked"] == "the paper's Table 6 (as printed)."
    assert lines["table-rd_orientation"] == ("the paper's Table 8 (as printed): Daegu R&D programs by managing body; "
                                             "the paper's Table 9 (as printed): National R&D investment by research "
                                             "body.")
    # the line follows the warehouse: each table's distinct sources name its tables
    for name, table_name, *_ in catalog(db):
        if name in CLAIM_TABLES or not rows_in(db, table_name):
            continue
        frame = table_frame(db, table_name)
        for source in frame["source"].unique():
            (number,) = re.findall(r"Table (\d+)", source) or re.findall(
                r"Table (\d+)", str(frame.loc[frame["source"] == source, "source_table"].iloc[0]))
            assert f"the paper's Table {number} (as printed)" in lines[f"table-{name}"], (name, source)


def test_source_words_keep_what_the_warehouse_says() -> None:
    from assets.report import source_words
    live = "KOSIS table 101/DT_1C91, 2020 base, live, current vintage (LST_CHN_DE 2024-12-20)"
    assert source_words(live, "kosis.grdp_by_activity_2020") == live
    assert source_words("the paper's Table 1 (as printed), in KOSIS form", "paper_table_1_kosis_form") == \
        "the paper's Table 1 (as printed), in KOSIS form"
    assert source_words("paper Table 5") == "the paper's Table 5 (as printed)"
    assert source_words("National R&D investment by research body (Table 9)", "Table 9") == \
        "the paper's Table 9 (as printed): National R&D investment by research body"
    for words in map(source_words, ("paper Table 5", "paper Table 10")):
        assert "KOSIS" not in words and "fetched" not in words and "vintage" not in words


def test_claims_checked_only_against_the_paper_say_so(built) -> None:
    db, _ = built
    text, _ = parse(report_of(db))
    claims = query(db, "SELECT claim_id, evidence_tables, observed FROM indicators.paper_claims")
    rows = {c: (attrs, body) for c, attrs, body in
            re.findall(r'<tr data-claim-id="([^"]+)"([^>]*)>(.*?)</tr>', text, re.S)}
    must = {c for c, evidence, observed in claims
            if all(t.strip().startswith("paper.") for t in evidence.split(","))
            or "the paper's Table" in (observed or "")}
    assert must >= {"C01", "C05", "C08", "C09", "C17"}
    for claim_id in must:
        attrs, body = rows[claim_id]
        assert 'data-paper-only="true"' in attrs, claim_id
        (verdict_cell,) = re.findall(r'<td class="verdict[^"]*">(.*?)</td>', body, re.S)
        assert "checked against the paper's own figures" in html.unescape(verdict_cell), claim_id
    # offline the indicators hold only the paper's rows: every evaluable claim was checked against the paper
    assert {c for c, (attrs, _) in rows.items() if "data-paper-only" in attrs} == {c for c, *_ in claims} - {"C20"}


def test_axis_titles_are_words_with_units_and_numbers_have_one_precision_per_measure(built) -> None:
    db, _ = built
    text, page = parse(report_of(db))
    titles = []
    for _, layout in plots(text).values():
        for axis in ("xaxis", "yaxis"):
            title = html.unescape(layout.get(axis, {}).get("title", {}).get("text", ""))
            titles.append(title)
            assert "_" not in title, title  # no column names
    assert "SME workers, % of manufacturing employment" in titles
    assert "National fund, % of the region's S&T budget" in titles
    assert "Sector share of GRDP, %" in titles
    assert "Sale price, 1,000 KRW per 3.3 m²" in titles
    # shares to one decimal, in the table and on the chart alike
    header, *rows = page.tables["sme_concentration"]
    for column in ("sme_firm_pct", "sme_worker_pct", "worker_gap_to_country_pp"):
        assert all(re.fullmatch(r"-?\d+\.\d", r[header.index(column)]) for r in rows), column
    data, _ = plot_of(text, "sme_concentration", "ranked")
    assert all(re.fullmatch(r"\d+\.\d", t) for t in data[0]["text"]), data[0]["text"]
    assert all(re.fullmatch(r"\d+\.\d", c[1]) for c in data[0]["customdata"])
    # amounts: no decimals, thousands separators from 10,000
    header, *rows = page.tables["st_budget_dependence"]
    budgets = [r[header.index("total_budget_mkrw")] for r in rows]
    assert "3,982,380" in budgets and all(re.fullmatch(r"\d{1,4}|\d{1,3}(,\d{3})+", b) for b in budgets)
    assert all(re.fullmatch(r"\d+\.\d", r[header.index("national_share_pct")]) for r in rows)


def test_regions_are_named_in_english_and_korean(built) -> None:
    db, _ = built
    text, page = parse(report_of(db))
    names = {code: f"{en} {ko}" for code, en, ko in query(db, "SELECT region_code, name_en, name_ko "
                                                              "FROM reference.regions")}
    assert names["22"] == "Daegu 대구광역시"
    for indicator in ("sme_concentration", "st_budget_dependence", "industrial_structure"):
        header, *rows = page.tables[indicator]
        for row in rows:
            assert row[header.index("region")] == names[row[header.index("region_code")]], (indicator, row)
    data, layout = plot_of(text, "sme_concentration", "ranked")
    labels = [html.unescape(y) for y in data[0]["y"]]
    assert "Daegu 대구광역시" in labels and all(any(ko in label for ko in [n.split(" ", 1)[1] for n in
                                                                          names.values()]) for label in labels)
    data, _ = plot_of(text, "st_budget_dependence", "stacked")
    assert "<b>Daegu 대구광역시" in data[0]["y"][[i for i, y in enumerate(data[0]["y"]) if "Daegu" in y][0]]
    assert "Daegu 대구광역시" in html.unescape(plot_of(text, "industrial_structure", "lines")[1]["title"]["text"])
    # the data-quality section names the region a source issue's row key gives (in the issue's example: the
    # issues are counted by table, year and description, each group with a few examples)
    assert any("region_code=38 (Gyeongnam 경상남도), total_budget_mkrw" in r[4]
               for r in table_of(text, "source-issues")[1:])


def test_values_touched_by_a_source_issue_are_flagged_where_drawn(built) -> None:
    db, _ = built
    text, page = parse(report_of(db))
    (issue,) = query(db, "SELECT description FROM quality.source_issues WHERE source_table = 'Table 6' "
                         "AND row_key = 'region_code=38' AND column_name = 'total_budget_mkrw'")
    # the table: a note on Gyeongnam's row, the cell marked, the footnote under the table
    header, *rows = page.tables["st_budget_dependence"]
    assert header[0] == "note"
    (gyeongnam,) = [r for r in rows if r[header.index("region_code")] == "38"]
    assert gyeongnam[0].startswith("†")
    assert gyeongnam[header.index("total_budget_mkrw")] == "166,170"  # the value itself as published
    (cell,) = re.findall(r'<td class="num issue" data-issue="([^"]+)" title="([^"]*)">166,170</td>', text)
    assert cell[0].startswith("†") and html.escape(issue[0]) in cell[1]
    section = text[text.index('data-indicator="st_budget_dependence"'):text.index('data-indicator="st_program_mix"')]
    assert re.search(r'<ol class="issue-notes".*Gyeongnam 경상남도, total_budget_mkrw', section, re.S)
    assert html.escape(issue[0]) in section
    # an unflagged row stays unflagged
    (seoul,) = [r for r in rows if r[header.index("region_code")] == "11"]
    assert seoul[0] == ""
    # the charts: Gyeongnam's label carries the mark, its hover the issue
    for kind in ("ranked", "stacked"):
        data, _ = plot_of(text, "st_budget_dependence", kind)
        (i,) = [i for i, y in enumerate(data[0]["y"]) if "Gyeongnam" in y]
        assert data[0]["y"][i].endswith("†")
        assert html.escape(issue[0]) in data[0]["customdata"][i][-1].replace("<br>", " ")
        (j,) = [j for j, y in enumerate(data[0]["y"]) if "Seoul" in y]
        assert data[0]["customdata"][j][-1] == "" and "†" not in data[0]["y"][j]
    assert "marks values touched by a recorded source issue" in section
    # Table 5's misprinted city: the complex's label on the chart
    data, _ = plot_of(text, "land_price_gap", "bars")
    assert [y for y in data[0]["y"] if "†" in y] == ["High-tech Components &amp; Materials District (Yeongchen) †"]


def _same(cell: str, value: object) -> bool:
    if value is None or (isinstance(value, float) and value != value) or str(value) in ("<NA>", "NaT", "nan"):
        return cell == ""
    if isinstance(value, bool):
        return cell == str(value)
    if isinstance(value, int | float):
        return float(cell) == float(value)
    return cell == str(value)


def test_each_table_downloads_as_csv_inside_the_page(built) -> None:
    db, _ = built
    text, page = parse(report_of(db))
    links = dict(CSV_LINK.findall(text))
    assert page.external == []
    for name, table_name, *_ in catalog(db):
        if not rows_in(db, table_name):
            continue
        href = html.unescape(links[f"{table_name}.csv"])
        assert href.startswith("data:text/csv;charset=utf-8,")
        rows = list(csv.reader(io.StringIO(urllib.parse.unquote(href.split(",", 1)[1]), newline="")))
        con = duckdb.connect(str(db), read_only=True)
        try:
            cursor = con.execute(f"SELECT * FROM {table_name}")
            columns = [d[0] for d in cursor.description]
            expected = cursor.fetchall()
        finally:
            con.close()
        header, *body = rows
        assert header == columns, name
        assert len(body) == len(expected), name
        unmatched = list(body)  # every warehouse row, once, whatever the order
        for want in expected:
            match = next((r for r in unmatched if all(_same(c, v) for c, v in zip(r, want, strict=True))), None)
            assert match is not None, (name, want)
            unmatched.remove(match)
    assert {"quality.source_issues.csv", "indicators.paper_claims.csv"} <= set(links)


def test_wide_tables_scroll_rather_than_lose_columns(built) -> None:
    db, _ = built
    text, _ = parse(report_of(db))
    tables = re.findall(r'(.{0,120})<table class="data', text)
    assert tables and all('<div class="table-wrap"' in before for before in tables)
    assert re.search(r"\.table-wrap \{[^}]*overflow-x: auto", text)


LIVE = "KOSIS table 101/DT_1B040A3, live, current vintage (LST_CHN_DE 2024-12-20)"
LIVE_GRDP = "KOSIS table 101/DT_1C91, 2020 base, live, current vintage (LST_CHN_DE 2024-12-20)"


def test_rows_from_kosis_are_said_as_the_warehouse_says_them(built) -> None:
    """A warehouse holding KOSIS rows beside the paper's (as a live run does): each chart names both sources
    as recorded, the paper's rows stay the paper's, and a claim read from KOSIS rows is not called paper-only."""
    import pandas as pd

    from assets.report import read_report_data, render_report

    db, _ = built
    con = duckdb.connect(str(db), read_only=True)
    try:
        data = read_report_data(con)
    finally:
        con.close()
    structure = data.tables["industrial_structure"]
    live_years = structure["year"] >= 2005
    data.tables["industrial_structure"] = structure.assign(
        source=structure["source"].where(~live_years, LIVE_GRDP),
        source_table=structure["source_table"].where(~live_years, "grdp_by_activity_2020"))
    budget = data.tables["st_budget_dependence"]
    data.tables["st_budget_dependence"] = budget.assign(
        source=budget["source"].where(budget["region_code"] != "38", LIVE))  # no issue of the paper's touches it
    data.tables["population"] = pd.DataFrame({
        "region_code": ["00", "22", "11", "00", "22", "11"], "year": [2010, 2010, 2010, 2011, 2011, 2011],
        "region_type": ["country", "metropolitan", "metropolitan"] * 2,
        "population": [50515666, 2511676, 10575447, 50734284, 2507271, 10528774],
        "city_rank": [None, 4, 1, None, 4, 1], "region_rank": [None, 6, 1, None, 6, 1],
        "source_table": ["population_by_sido"] * 6, "source": [LIVE] * 6})
    # what each claim was checked against comes with the claims (derived from the rows its query read)
    claims = data.claims.copy()
    claims.loc[claims["claim_id"].isin(["C02", "C03", "C04"]), "checked_against"] = (
        "KOSIS table 101/DT_1C91, 2005-2010; the paper's own figures (PAPER/KIM2013_T1), 1986-1997")
    data.claims = claims
    text, n_charts = render_report(data)
    page = Page()
    page.feed(text)
    lines = source_lines(text)
    assert lines["chart-industrial_structure-lines"] == f"the paper's Table 1 (as printed), in KOSIS form; {LIVE_GRDP}."
    assert lines["chart-population-lines"] == lines["chart-population-ranked"] == f"{LIVE}."
    assert n_charts == len(page.charts) and {c["indicator"] for c in page.charts} >= {"population"}
    # populations: no decimals, separators; Korean names on the chart
    header, *rows = page.tables["population"]
    assert sorted(r[header.index("population")] for r in rows)[0] == "10,528,774"
    data_, layout = plot_of(text, "population", "ranked")
    assert [html.unescape(y) for y in data_[0]["y"]] == ["Seoul 서울특별시", "Daegu 대구광역시"]
    assert data_[0]["text"] == ["10,528,774", "2,507,271"]
    assert html.unescape(layout["xaxis"]["title"]["text"]) == "Resident population, persons"
    # Gyeongnam's row now comes from KOSIS: the paper's Table 6 issues do not touch it
    header, *rows = page.tables["st_budget_dependence"]
    (gyeongnam,) = [r for r in rows if r[header.index("region_code")] == "38"]
    assert gyeongnam[0] == ""
    assert lines["table-st_budget_dependence"] == f"the paper's Table 6 (as printed); {LIVE}."
    # claims checked against KOSIS rows are not called paper-only; those whose rows are all the paper's are
    marked = set(re.findall(r'<tr data-claim-id="([^"]+)" data-paper-only="true">', text))
    assert {"C02", "C03", "C04"}.isdisjoint(marked)
    assert {"C01", "C05", "C08", "C10", "C16"} <= marked
    assert "checked against KOSIS table 101/DT_1C91, 2005-2010" in html.unescape(text)


# --- what an analyst reads: headings in words, long tables collapsed, the country on its own scale, quarantine
# counted ------------------------------------------------------------------------------------------------------

MADE_UP_YEARS = (2009, 2023)  # 15 years of every region: 270 rows, as long as a live population table
MADE_UP_SOURCE = "made-up test rows (no KOSIS table)"


def add_made_up_population(db: Path) -> int:
    """A population table as long as a live warehouse's (every region, 15 years; made-up numbers: the country the
    sum of the regions, Daegu falling, the others growing), written into the working warehouse `db`."""
    con = duckdb.connect(str(db))
    try:
        con.execute(f"""
            INSERT INTO indicators.population BY NAME
            WITH regional AS (
                SELECT g.region_code, g.name_en AS region_name, g.name_ko AS region_name_ko, y.year::INTEGER AS year,
                       g.region_type,
                       (1000000 + 400000 * dense_rank() OVER (ORDER BY g.region_code)
                        + CASE WHEN g.region_code = '22' THEN -15000 ELSE 5000 END * (y.year - {MADE_UP_YEARS[0]}))
                       ::BIGINT AS population
                FROM reference.regions g, range({MADE_UP_YEARS[0]}, {MADE_UP_YEARS[1] + 1}) y(year)
                WHERE g.region_code <> '00'),
            everything AS (
                SELECT * FROM regional
                UNION ALL
                SELECT '00', any_value(n.name_en), any_value(n.name_ko), r.year, 'country', sum(r.population)::BIGINT
                FROM regional r, (SELECT * FROM reference.regions WHERE region_code = '00') n GROUP BY r.year)
            SELECT *, CASE WHEN region_type = 'metropolitan' THEN rank() OVER (
                          PARTITION BY year, region_type = 'metropolitan' ORDER BY population DESC) END AS city_rank,
                   CASE WHEN region_code <> '00' THEN rank() OVER (
                          PARTITION BY year, region_code = '00' ORDER BY population DESC) END AS region_rank,
                   false AS series_break, 'made_up_population' AS source_table, '{MADE_UP_SOURCE}' AS source
            FROM everything""")
        return con.execute("SELECT count(*) FROM indicators.population").fetchone()[0]
    finally:
        con.close()


def add_kosis_quarantine(db: Path, tmp: Path) -> list[tuple[str, str, str, str]]:
    """Rows quarantined by the KOSIS load itself (tests/kosis_loading.py: the asset's staging, validation and
    quarantine) from bodies with bad values in 2019 and 2020 and periods outside the request, copied into `db`'s
    quality.quarantine: more than the 100 rows the page used to show. Returns (source, asset, payload, reason)."""
    from tests.kosis_loading import load_bodies, open_warehouse, record

    body = [record(PRD_DE=str(year), C2=f"A{i}", DT="NaN") for year in (2019, 2020) for i in range(60)]
    body += [record(PRD_DE="2015", C2=f"B{i}") for i in range(7)]
    loaded = tmp / "kosis-load.duckdb"
    con = open_warehouse(loaded)
    try:
        load = load_bodies(con, [json.dumps(body, ensure_ascii=False).encode()], tmp / "raw")
        assert len(load.quarantine) == len(body)
    finally:
        con.close()
    con = duckdb.connect(str(db))
    try:
        con.execute(f"ATTACH '{loaded}' AS loaded (READ_ONLY)")
        con.execute("INSERT INTO quality.quarantine SELECT * FROM loaded.quality.quarantine")
        return con.execute("SELECT source, asset, payload::VARCHAR, reason FROM loaded.quality.quarantine").fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def long_report(built, tmp_path_factory) -> tuple[Path, int, list]:
    """A copy of the session's warehouse with a live-length population table and 127 quarantined KOSIS rows,
    published and reported by a real materialization: (report, population rows, quarantined rows)."""
    source_db, _ = built
    tmp = tmp_path_factory.mktemp("long-report")
    db = tmp / "warehouse.duckdb"
    db.write_bytes(source_db.read_bytes())
    n_population = add_made_up_population(db)
    quarantined = add_kosis_quarantine(db, tmp)
    build(db, selection=[PUBLISHED_KEY, REPORT_KEY])
    return report_of(db), n_population, quarantined


def test_every_section_is_headed_in_words_from_its_spec_with_its_name_beside(built) -> None:
    from schemas.indicators import spec_named

    db, _ = built
    text, page = parse(report_of(db))
    headings = dict(re.findall(r'<section class="[^"]*" id="[^"]+" data-indicator="([^"]+)">\s*<h2>(.*?)</h2>',
                               text, re.S))
    assert set(headings) == set(page.sections)
    for name, heading in headings.items():
        words = html.unescape(re.sub(r"<code[^>]*>.*?</code>", "", heading)).strip()
        assert words == spec_named(name).title and "_" not in words, (name, words)
        if name not in ("claim_verdicts", "claim_rankings"):  # the first two sections stay as they were
            assert '<code class="indicator-id"' in heading and f">{name}</code>" in heading, name
    assert html.unescape(headings["industrial_structure"]).startswith("Industrial structure: sector shares of GRDP")
    # the ids links rely on are the names, as before
    assert 'id="industrial-structure" data-indicator="industrial_structure"' in text


def test_a_long_table_shows_its_latest_year_and_downloads_every_row(long_report) -> None:
    report, n_population, _ = long_report
    text, page = parse(report)
    header, *rows = page.tables["population"]
    regions = n_population // (MADE_UP_YEARS[1] - MADE_UP_YEARS[0] + 1)
    assert n_population == 270 and len(rows) == regions == 18  # the latest year's rows only
    assert {r[header.index("year")] for r in rows} == {str(MADE_UP_YEARS[1])}
    (note,) = re.findall(r'<p class="note collapsed" data-rows-shown="(\d+)" data-rows-total="(\d+)">(.*?)</p>', text)
    assert note[:2] == ("18", "270")
    assert html.unescape(note[2]) == f"Showing the latest year, {MADE_UP_YEARS[1]}: 18 of 270 rows. The download " \
                                     "below holds all 270."
    header, *body = csv_rows(text, "indicators.population.csv")
    assert len(body) == n_population
    assert {r[header.index("year")] for r in body} == {str(y) for y in range(MADE_UP_YEARS[0], MADE_UP_YEARS[1] + 1)}
    # short tables stay whole
    for name in ("sme_concentration", "st_budget_dependence", "industrial_structure"):
        assert len(page.tables[name]) - 1 == rows_in(report.parent.parent / "published.duckdb", f"indicators.{name}")
    assert text.count('class="note collapsed"') == 1


def test_a_level_puts_the_country_on_its_own_scale_a_share_keeps_one_axis(long_report) -> None:
    report, _, _ = long_report
    text = report.read_text(encoding="utf-8")
    # population (persons, a level): the country's line on a right-hand axis, the regions' on the left
    data, layout = plot_of(text, "population", "lines")
    country = [t for t in data if "Whole country" in html.unescape(t["name"])]
    assert len(country) == 1 and country[0]["yaxis"] == "y2" and "(right axis)" in country[0]["name"]
    assert all("yaxis" not in t for t in data if t is not country[0])
    assert layout["yaxis2"]["overlaying"] == "y" and layout["yaxis2"]["side"] == "right"
    assert "Whole country" in html.unescape(layout["yaxis2"]["title"]["text"])
    # ranked bars of a level: the country is said above the bars, not a reference line that squeezes them
    data, layout = plot_of(text, "population", "ranked")
    (total,) = query(report.parent.parent / "published.duckdb",
                     f"SELECT population FROM indicators.population WHERE region_code = '00' AND year = "
                     f"{MADE_UP_YEARS[1]}")[0]
    assert "shapes" not in layout and layout["xaxis"]["range"][1] < total / 3
    assert any(f"{total:,}" in a["text"] and "not drawn" in a["text"] for a in layout["annotations"])
    # a share (SME workers, %): the country stays on the regions' axis, as the dashed reference line
    data, layout = plot_of(text, "sme_concentration", "ranked")
    assert layout["shapes"][0]["type"] == "line" and "yaxis2" not in layout
    assert all("yaxis" not in t for t in plot_of(text, "industrial_structure", "lines")[0])


def test_quarantine_is_counted_by_table_year_and_reason_with_a_few_examples(long_report) -> None:
    report, _, quarantined = long_report
    text, _ = parse(report)
    assert len(quarantined) == 127 > 100  # more than the page used to list
    expected: dict[tuple, int] = {}
    for source, asset, payload, reason in quarantined:
        year = json.loads(payload)["year"]  # the staged row's year, read here independently of the page's SQL
        expected[(source, asset, str(year), reason)] = expected.get((source, asset, str(year), reason), 0) + 1
    assert {k[2] for k in expected} == {"2019", "2020", "2015"}
    header, *rows = table_of(text, "quarantine")
    assert header == ["table (source)", "asset", "year", "reason", "rows", "examples"]
    shown = {tuple(r[:4]): int(r[4]) for r in rows}
    assert shown == {tuple(" ".join(v.split()) for v in k): n for k, n in expected.items()}
    (fragment,) = re.findall(r'<table class="data quarantine">.*?</table>', text, re.S)
    groups = re.findall(r'<tr data-rows="(\d+)">(.*?)</tr>', fragment, re.S)
    assert len(groups) == len(rows)
    for n, row in groups:
        examples = [html.unescape(e) for e in re.findall(r"<li><code>(.*?)</code></li>", row, re.S)]
        assert len(examples) == min(int(n), 3), row
        assert all(len(e) <= 161 and e.startswith("{") for e in examples), examples  # cut to 160 characters + '…'
        assert (f"and {int(n) - 3:,} more" in row) == (int(n) > 3)
    assert "quality.quarantine, 127 rows" in " ".join(text.split()).replace("<code>", "").replace("</code>", "")
    # every row, whole, in the download
    header, *body = csv_rows(text, "quality.quarantine.csv")
    assert len(body) == 127
    assert sorted(json.loads(r[header.index("payload")])["year"] for r in body) == sorted(
        json.loads(p)["year"] for _, _, p, _ in quarantined)
