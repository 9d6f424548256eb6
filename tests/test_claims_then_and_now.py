"""The paper's claims, then and now (indicators.claim_verdicts, indicators.claim_rankings): offline, "now" is the
paper's year and says so; live, against the loopback KOSIS server serving later years in the service's shape, each
claim is judged again on the latest year, and a revised value that crosses a claim's threshold flips its verdict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemas.indicators import all_claims
from tests.conftest import Built, query
from tests.conftest import make as user_make
from tests.kosis_server import KosisServer
from tests.live_tables import (
    FISCAL_YEARS,
    GRDP_2020_YEARS,
    POPULATION_YEARS,
    SME_ACT_YEARS,
    live_tables,
    population,
)

KEY = "then-and-now key"
LATEST = int(GRDP_2020_YEARS[-1])
REFRESHING = {"C01", "C02", "C03", "C04", "C05", "C06", "C07", "C15", "C20"}  # claims with a recheck
TRENDS = {"C02", "C03", "C04"}
PEERS = {"C05", "C06", "C07", "C15", "C20"}


def verdicts(db: Path) -> dict[tuple[str, str, int], dict]:
    rows = query(db, "SELECT claim_id, period, year, from_year, verdict, change, observed, checked_against "
                     "FROM indicators.claim_verdicts")
    return {(r[0], r[1], r[2]): dict(zip(("from_year", "verdict", "change", "observed", "checked_against"), r[3:],
                                         strict=True)) for r in rows}


def latest(db: Path) -> dict[str, tuple[int, dict]]:
    return {claim: (year, row) for (claim, period, year), row in verdicts(db).items() if period == "latest"}


def test_offline_now_is_the_papers_year_and_says_so(built_copy: Built) -> None:
    db = built_copy.published
    claims = {c.id: c for c in all_claims()}
    rows = verdicts(db)
    assert {claim for claim, period, _ in rows if period == "paper"} == set(claims)
    now = latest(db)
    assert set(now) == set(claims)  # every claim has its "now", if only to say there is none
    paper = dict(query(db, "SELECT claim_id, verdict FROM indicators.paper_claims"))
    for claim_id, (year, row) in now.items():
        claim = claims[claim_id]
        assert rows[(claim_id, "paper", claim.paper_years[1])]["verdict"] == paper[claim_id]
        assert row["verdict"] == row["change"] == "no later data", claim_id
        assert year == claim.paper_years[1], claim_id  # the paper's year, not an invented later one
        if claim.recheck is None:  # a one-off document: said why, from the claim's spec
            assert claim.not_refreshed in row["observed"]
        elif claim_id == "C20":  # offline the population table is empty
            assert "holds no year at all" in row["observed"] and "DT_1B040A3" in row["observed"]
        else:  # the paper's figures only: the KOSIS tables that would carry later years are named
            assert f"is the paper's own, {year}" in row["observed"], row
            assert "KOSIS table" in row["observed"] and "KOSIS_API_KEY" in row["observed"]
    # every claim comparing regions is judged on every year its data hold: offline, the paper's
    for claim_id in PEERS - {"C20"}:  # C15 on Table 6's successor, indicators.fiscal_independence: the same 2011
        assert rows[(claim_id, "each year", 2011)]["verdict"] == paper[claim_id]
    ranked = query(db, "SELECT claim_id, count(DISTINCT year), count(*) FILTER (WHERE is_daegu) "
                       "FROM indicators.claim_rankings GROUP BY 1 ORDER BY 1")
    assert ranked == [("C05", 1, 1), ("C06", 1, 1), ("C07", 1, 1), ("C15", 1, 1)]
    # the paper's one-off tables say so in the catalog
    refreshes = dict(query(db, "SELECT source_table, refreshes FROM paper.catalog"))
    for table in ("Table 3", "Table 4", "Table 5", "Table 7", "Table 8"):
        assert refreshes[table].startswith("does not refresh: a one-off"), table
    for table in ("Table 1", "Table 2"):
        assert refreshes[table].startswith("refreshed: ") and "KOSIS" in refreshes[table]
    assert refreshes["Table 9"].startswith("not yet refreshed") and "docs/paper-successors.md" in refreshes["Table 9"]
    assert refreshes["Table 6"].startswith("partly refreshed") and "DT_1YL20921" in refreshes["Table 6"]


def test_the_report_opens_with_then_and_now(built_copy: Built) -> None:
    text = built_copy.report.read_text(encoding="utf-8")
    sections = re.findall(r'<section class="([^"]+)" id="([^"]+)"', text)
    assert sections[0] == ("now", "then-and-now") and sections[1] == ("peers", "peers")
    now = text[text.index('id="then-and-now"'):text.index('id="peers"')]
    assert now.count("<tr data-claim-id=") == len(all_claims())
    assert "no later data: 20" in now  # offline: every claim, and the badge says so
    assert "Then and now: 20 no later data." in text[:text.index("</header>")]  # and the header's summary
    for table in ("Table 3", "Table 4", "Table 5", "Table 7", "Table 8"):
        assert f'data-paper-table="{table}"' in now
    for claim_id in ("C05", "C06", "C07", "C15"):
        assert f'data-chart="peers-{claim_id}"' in text


@pytest.fixture(scope="module")
def server():
    with KosisServer(live_tables(), api_key=KEY) as srv:
        yield srv


@pytest.fixture(scope="module")
def live(server, built_template: Built, tmp_path_factory):
    """An offline build (a copy of the session's), then a live `make refresh` as a user runs it."""
    tmp = built_template.copy_to(tmp_path_factory.mktemp("then_and_now")).root
    proc = user_make("refresh", tmp, key=KEY, base_url=server.base_url, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return tmp


@pytest.mark.xdist_group("then_and_now_live")
def test_live_every_refreshing_claim_is_judged_on_the_latest_year(live: Path) -> None:
    db = live / "data" / "published.duckdb"
    claims = {c.id: c for c in all_claims()}
    now = latest(db)
    rows = verdicts(db)
    expected_latest = {"C01": LATEST, "C02": LATEST, "C03": LATEST, "C04": LATEST,
                       "C05": int(SME_ACT_YEARS[-1]), "C06": int(SME_ACT_YEARS[-1]), "C07": int(SME_ACT_YEARS[-1]),
                       "C15": int(FISCAL_YEARS[-1]), "C20": int(POPULATION_YEARS[-1])}
    for claim_id, claim in claims.items():
        year, row = now[claim_id]
        if claim_id not in REFRESHING:
            assert row["verdict"] == "no later data" and year == claim.paper_years[1], claim_id
            continue
        assert year == expected_latest[claim_id], claim_id
        assert row["verdict"] in ("supported", "partly supported", "contradicted"), (claim_id, row)
        assert row["change"] in ("still holds", "no longer holds", "newly holds", "still does not hold"), row
        assert str(year) in row["observed"], row  # the observed numbers say their year...
        assert re.search(rf"KOSIS table \d+/DT_\w+[^;]*, [0-9, -]*{year}", row["checked_against"]), row  # ...and table
        assert "paper's own figures" not in row["checked_against"], row
    for claim_id in TRENDS:  # the trend since the paper's last year, from it to the latest
        trend = rows[(claim_id, "since paper", LATEST)]
        assert trend["from_year"] == 2010 and trend["verdict"] in ("supported", "partly supported", "contradicted")
        assert "2010: " in trend["observed"] and f"{LATEST}: " in trend["observed"], trend
    for claim_id in PEERS:  # every year the data hold, and the ranking behind it
        years = {y for (c, period, y) in rows if c == claim_id and period == "each year"}
        ranked = {y for y, in query(db, "SELECT DISTINCT year FROM indicators.claim_rankings WHERE claim_id = ?",
                                    [claim_id])}
        assert years == ranked and len(years) > 5 and expected_latest[claim_id] in years, claim_id
        daegu = query(db, "SELECT count(*) FROM indicators.claim_rankings WHERE claim_id = ? AND is_daegu",
                      [claim_id])[0][0]
        assert daegu == len(years), claim_id
    # C15 on Table 6's successor: Seoul, Gyeonggi and Incheon the three most independent, Gwangju under 1224
    assert now["C15"][1]["verdict"] == "supported" and "DT_1YL20921" in now["C15"][1]["checked_against"]
    assert query(db, "SELECT independence_pct, independence_after_reform_pct FROM indicators.fiscal_independence "
                     "WHERE region_code = '24' AND year = 2023") == [(46.2, 41.2)]
    report = (live / "data" / "reports" / "index.html").read_text(encoding="utf-8")
    assert f'data-claim-id="C01" data-change="{now["C01"][1]["change"]}"' in report


@pytest.mark.xdist_group("then_and_now_live")
def test_live_a_value_crossing_the_threshold_flips_the_verdict(live: Path, server: KosisServer) -> None:
    db = live / "data" / "published.duckdb"
    year = int(POPULATION_YEARS[-1])
    before = latest(db)["C20"]
    served = population("27", year)  # Daegu (administrative code 27)
    assert before[0] == year and 2_450_000 <= served <= 2_550_000
    assert before[1]["verdict"] == "supported" and before[1]["change"] == "still holds", before
    assert f"{served} residents, rank 4" in before[1]["observed"]
    # KOSIS revises Daegu's latest population above Busan's: no longer the fourth city, nor 2.5 million
    server.revise("DT_1B040A3", ("T20", ("27",), str(year)), "3500000", "20300101")
    proc = user_make("refresh", live, key=KEY, base_url=server.base_url, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    after = latest(db)["C20"]
    assert after[0] == year
    assert after[1]["verdict"] == "contradicted" and after[1]["change"] == "no longer holds", after
    assert "3500000 residents, rank 2" in after[1]["observed"]
    # the paper's verdict is the paper's year's: unchanged
    assert verdicts(db)[("C20", "paper", 2012)]["verdict"] == "supported"
    ranks = dict(query(db, "SELECT year, rank FROM indicators.claim_rankings WHERE claim_id = 'C20' AND is_daegu"))
    assert ranks[year] == 2 and ranks[year - 1] == 4
