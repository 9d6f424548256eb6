"""Real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright): the report renders its charts
offline without errors, and the Dagster UI shows the indicator assets. Screenshots go to test-artifacts/.

A missing browser fails these tests (it never skips them): install it with scripts/install-browser.sh
(Debian packages chromium and chromium-driver). Never `playwright install`: it downloads a browser build.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assets.report import HIGHLIGHT
from schemas.indicators import INDICATORS
from tests.conftest import Built, query

PROJECT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MISSING_BROWSER = (f"{CHROMIUM} is missing: the browser tests need the Debian packages chromium and chromium-driver "
                   "(run scripts/install-browser.sh, or apt-get install -y chromium chromium-driver). "
                   "Do not run `playwright install`.")
INDICATOR_NAMES = [s.name for s in INDICATORS] + ["paper_claims"]
UI_START_TIMEOUT_S = 120
# Restores the default SIGINT action before exec: a process started in the background by a non-interactive
# shell inherits SIGINT ignored, and `dagster dev` then cannot be stopped cleanly.
SIGINT_WRAPPER = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                  "os.execv(sys.argv[1], sys.argv[1:])")

# Every mark a Plotly trace draws: bars, line paths and markers, with a non-empty outline.
CHART_MARKS_JS = """() => [...document.querySelectorAll('.chart')].map(chart => {
    const marks = [...chart.querySelectorAll('svg.main-svg g.trace path, svg.main-svg g.trace .point')]
        .filter(p => (p.getAttribute('d') || '').length > 2);
    const fills = marks.map(p => getComputedStyle(p).fill);
    return {indicator: chart.dataset.indicator, kind: chart.dataset.chart,
            svgs: chart.querySelectorAll('svg.main-svg').length, marks: marks.length, fills: fills};
})"""


def hex_to_rgb(colour: str) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture
def browser() -> Iterator:
    """One Chromium per test, started after the session's warehouse is built: Dagster runs are kept out of the
    thread while Playwright's event loop runs in it."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(MISSING_BROWSER, pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the dev extra installs it
        pytest.fail(f"the Python package playwright is missing ({exc}): pip install -e '.[dev]'", pytrace=False)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
                                     timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def built_report(built_template: Built) -> tuple[Path, Path]:
    """The whole pipeline plus the report, built once per session by `make run` into a tmp warehouse
    (tests/conftest.py: built_template): (warehouse, report)."""
    return built_template.db, built_template.report


def test_report_renders_every_chart_offline_without_errors(built_report, browser, artifacts: Path) -> None:
    db, report = built_report
    assert report.is_file()
    expected = {name for name, table in query(db, "SELECT indicator, table_name FROM indicators.catalog")
                if query(db, f"SELECT count(*) FROM {table}")[0][0]} - {"paper_claims", "claim_verdicts"}  # empty: none

    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(("file:", "data:", "blob:"))
            else None)
    try:
        page.goto(report.as_uri(), wait_until="load", timeout=60_000)
        page.wait_for_function("""() => { const charts = [...document.querySelectorAll('.chart')];
            return charts.length > 0 && charts.every(c => c.querySelector('svg.main-svg g.trace')); }""",
                               timeout=30_000)
        charts = page.evaluate(CHART_MARKS_JS)
        page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    finally:
        context.close()

    assert errors == []
    assert outside == []  # nothing fetched from the network
    assert {c["indicator"] for c in charts} == expected
    for chart in charts:
        assert chart["svgs"] >= 1 and chart["marks"] >= 1, chart
    daegu = hex_to_rgb(HIGHLIGHT)
    for chart in charts:
        if chart["kind"] == "ranked" or chart["kind"].startswith("peers-") or chart["indicator"] == "land_price_gap":
            assert daegu in chart["fills"], chart  # Daegu highlighted
    assert (artifacts / "report.png").stat().st_size > 50_000


@pytest.fixture(scope="module")
def long_report(built_template: Built, tmp_path_factory) -> Path:
    """The session's warehouse with a live-length population table (270 rows) and 127 quarantined KOSIS rows,
    published and reported by a real materialization (tests/test_report.py), before any browser starts."""
    from assets.publish import PUBLISHED_KEY
    from assets.report import REPORT_KEY
    from tests.test_report import add_kosis_quarantine, add_made_up_population, build, report_of

    tmp = tmp_path_factory.mktemp("long-report-browser")
    db = tmp / "warehouse.duckdb"
    db.write_bytes(built_template.db.read_bytes())
    add_made_up_population(db)
    add_kosis_quarantine(db, tmp)
    build(db, selection=[PUBLISHED_KEY, REPORT_KEY])
    return report_of(db)


# What a reader sees of each section's heading, of the long table, and of the population lines: the plot area and
# the drawn extent of Daegu's line and of the country's.
LONG_REPORT_JS = """() => {
    const headings = [...document.querySelectorAll('section[data-indicator] > h2')].map(h => {
        const code = h.querySelector('code');
        return {indicator: h.parentElement.dataset.indicator, text: h.innerText,
                words: code ? h.innerText.replace(code.innerText, '').trim() : h.innerText.trim(),
                code: code ? code.innerText : null};
    });
    const table = document.querySelector('#population .table-wrap');
    const lines = document.querySelector('#population .chart[data-chart="lines"]');
    const plot = lines.querySelector('svg.main-svg .cartesianlayer .bg, svg.main-svg rect.nsewdrag');
    const traces = [...lines.querySelectorAll('g.scatterlayer g.trace')].map(t => {
        const path = t.querySelector('path.js-line');
        return path ? path.getBoundingClientRect().height : 0;
    });
    const names = [...lines.querySelectorAll('g.legend g.traces text.legendtext')].map(t => t.textContent);
    return {headings, tableHeight: table.getBoundingClientRect().height,
            tableRows: table.querySelectorAll('tbody tr').length,
            plotHeight: plot.getBoundingClientRect().height, traceHeights: traces, legend: names,
            quarantineHeight: document.querySelector('table.quarantine').getBoundingClientRect().height};
}"""


def test_long_report_reads_as_words_with_short_tables_and_readable_lines(long_report: Path, browser,
                                                                          artifacts: Path) -> None:
    """What the analyst reported, judged as drawn: headings in words (the name a small code label beside), the
    270-row population table a screenful (its latest year), the quarantine counted in a few rows, and Daegu's
    population line spread over the plot rather than flattened under the whole country's."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(long_report.as_uri(), wait_until="load", timeout=60_000)
        page.wait_for_function("""() => [...document.querySelectorAll('.chart')].every(
            c => c.querySelector('svg.main-svg g.trace'))""", timeout=30_000)
        seen = page.evaluate(LONG_REPORT_JS)
        page.locator("#population").screenshot(path=str(artifacts / "report-population.png"))
        page.locator("#data-quality").screenshot(path=str(artifacts / "report-quality.png"))
    finally:
        context.close()
    assert errors == []
    for heading in seen["headings"]:
        assert "_" not in heading["words"] and " " in heading["words"], heading
        if heading["code"] is not None:
            assert heading["code"] == heading["indicator"], heading
    assert {h["indicator"] for h in seen["headings"] if h["code"]} >= {s.name for s in INDICATORS}
    # the latest year's 18 rows, not 270: at most about a screen and a half high (it was some 22,000 px)
    assert seen["tableRows"] == 18
    assert seen["tableHeight"] < 1300, seen["tableHeight"]
    assert seen["quarantineHeight"] < 900, seen["quarantineHeight"]  # 3 groups, not 127 payloads
    # Daegu's line and the country's each span a good part of the plot: each on a scale of its own
    assert any("right axis" in name for name in seen["legend"]), seen["legend"]
    visible = [h for h in seen["traceHeights"] if h > 0]
    assert len(visible) == 2 and all(h > 0.3 * seen["plotHeight"] for h in visible), seen


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url: str, proc: subprocess.Popen, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster dev exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"dagster dev did not answer {url} within {timeout_s:.0f} s:\n"
                f"{log.read_text(errors='replace')[-4000:]}")


def stop_group(proc: subprocess.Popen) -> None:
    """SIGINT to the whole process group (dagster dev shuts its webserver, daemon and code servers down),
    then SIGKILL to whatever is left of that group."""
    pgid = proc.pid  # start_new_session: the group id is the leader's pid
    for sig, wait_s in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            proc.poll()
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.25)


@pytest.fixture
def dagster_ui(built_copy: Built, tmp_path: Path) -> Iterator[str]:
    """`dagster dev` (what `make ui` runs) after an offline `make run`: a copy of the session's build
    (tests/conftest.py), so that its daemon finds nothing new to launch while the page is read."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOSIS_", "DAGSTER_"))}
    env.update(DAGSTER_HOME=str(built_copy.home), WAREHOUSE_PATH=str(built_copy.db), PYTHONUNBUFFERED="1")
    dagster = Path(sys.executable).with_name("dagster")
    if not dagster.exists():
        dagster = Path(shutil.which("dagster") or "dagster")
    port = free_port()
    log = tmp_path / "dagster-dev.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", SIGINT_WRAPPER, str(dagster), "dev", "-w", "workspace.yaml",
             "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        wait_for_server(f"http://127.0.0.1:{port}/server_info", proc, log, UI_START_TIMEOUT_S)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_group(proc)


def test_dagster_ui_shows_the_indicator_assets(browser, artifacts: Path, dagster_ui: str) -> None:
    # Tall enough for the whole group at a zoom where the asset names are still written out in full.
    context = browser.new_context(viewport={"width": 1800, "height": 3400})
    # The UI's one-time "Join the Dagster community" dialog would cover the graph.
    context.add_init_script("try { localStorage.setItem('communityNux', '\"1\"'); } catch (e) {}")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{dagster_ui}/locations/pipelines.definitions:defs/asset-groups/indicators", timeout=60_000)
        page.get_by_text("paper_claims", exact=True).first.wait_for(state="visible", timeout=60_000)
        # zoom out (ctrl + wheel) so that the whole group (the indicators, the claims, their KOSIS and paper inputs)
        # fits, asset cards still readable
        page.mouse.move(1000, 1000)
        page.keyboard.down("Control")
        page.mouse.wheel(0, 150)
        page.keyboard.up("Control")
        page.wait_for_timeout(800)
        page.screenshot(path=str(artifacts / "dagster-asset-graph.png"))
        viewport = page.viewport_size
        missing = []
        for name in INDICATOR_NAMES:
            label = page.get_by_text(name, exact=True).first
            label.wait_for(state="visible", timeout=15_000)
            box = label.bounding_box()
            if not (box and 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"]
                    and 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"]):
                missing.append((name, box))
        page.screenshot(path=str(artifacts / "dagster-asset-graph.png"))
    finally:
        context.close()
    assert missing == [], "indicator assets outside the screenshot"
    assert errors == []
    assert (artifacts / "dagster-asset-graph.png").stat().st_size > 50_000


# Unassigned code points (Greek block gaps): no font has a glyph for them, so they render as tofu (.notdef).
UNASSIGNED = ("\u0378\u0379\u0380\u0381\u0382", "\u0383\u038b\u038d\u03a2\u0378")
KOREAN = "대구광역시"


def test_korean_text_renders_as_glyphs_not_tofu(browser, artifacts: Path) -> None:
    """Region names in Korean (reference.regions.name_ko) must render in headless screenshots: the Debian
    package fonts-noto-cjk (scripts/install-browser.sh) provides the glyphs."""
    spans = {"ko": KOREAN, "tofu1": UNASSIGNED[0], "tofu2": UNASSIGNED[1],
             **{f"syllable{i}": ch for i, ch in enumerate(KOREAN)}}
    body = "".join(f'<div><span id="{k}">{v}</span></div>' for k, v in spans.items())
    page = browser.new_page(viewport={"width": 600, "height": 900})
    try:
        page.set_content(f'<html lang="ko"><body style="margin:8px;font:32px sans-serif">{body}</body></html>')
        shots = {k: page.locator(f"#{k}").screenshot() for k in spans}
        page.screenshot(path=str(artifacts / "korean-glyphs.png"))
        widths = page.evaluate("""([ko, tofu]) => { const c = document.createElement('canvas').getContext('2d');
            c.font = '32px sans-serif'; return [c.measureText(ko).width, c.measureText(tofu).width]; }""",
                               [KOREAN, UNASSIGNED[0]])
    finally:
        page.close()

    # Tofu is one box whatever the code point: two different unassigned strings look the same...
    assert shots["tofu1"] == shots["tofu2"], "the tofu comparison is meaningless in this browser"
    # ... Korean text does not look like them, and its five syllables are five different glyphs.
    assert shots["ko"] != shots["tofu1"], f"{KOREAN} renders as tofu: run scripts/install-browser.sh (fonts-noto-cjk)"
    syllables = [shots[f"syllable{i}"] for i in range(len(KOREAN))]
    assert len(set(syllables)) == len(KOREAN), "the Korean syllables render as identical boxes (tofu)"
    assert widths[0] != widths[1], widths
