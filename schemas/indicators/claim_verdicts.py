"""The paper's claims, then and now: each claim judged on the paper's years, on the latest year the warehouse
holds, on the trend since the paper's last year (claims about a trend) and on every year the data hold (claims
comparing Daegu with other regions)."""

from __future__ import annotations

from schemas.indicators.spec import CLAIM_CHANGES, CLAIM_PERIODS, PERIOD_VERDICTS, IndicatorSpec
from schemas.registry import Column

SPEC = IndicatorSpec(
    name="claim_verdicts",
    title="The paper's claims, then and now",
    unit="verdict",
    formula="period 'paper': the claim's query (as indicators.paper_claims); 'latest': its recheck (the `recheck` "
    "of each claim in schemas/indicators/) on the latest year its data hold, if after the paper's last year, else "
    "'no later data' and why; 'since paper': a trend claim's recheck from the paper's last year to the latest; "
    "'each year': a claim comparing regions, on every year its data hold. change: holds (supported or partly "
    "supported) or not, on the paper's years and on this period",
    sources=("indicators.*", "paper.*", "kosis.tables"),
    description="The paper's claims, then and now: each claim's verdict on the paper's years, on the latest year, "
    "on the trend since the paper and, for claims comparing regions, on every year.",
    key=("claim_id", "period", "year"),
    columns=(
        Column("claim_id", "VARCHAR", "Claim identifier (indicators.paper_claims.claim_id)"),
        Column("period", "VARCHAR", " | ".join(CLAIM_PERIODS), allowed=CLAIM_PERIODS),
        Column("year", "INTEGER", "The year judged: the paper's last year for 'paper', the latest year for "
               "'latest' and 'since paper' (for 'no later data': the latest year the data hold, or the paper's)",
               min=1900, max=2100),
        Column("from_year", "INTEGER", "First year of the span judged: the paper's first year for 'paper', the "
               "paper's last year for 'since paper' (NULL otherwise)", nullable=True, min=1900, max=2100),
        Column("judged", "VARCHAR", "What was judged on this period: the claim as printed, or restated for any year"),
        Column("observed", "VARCHAR", "What the warehouse shows for this period, with the year; for 'no later data', "
               "why not and which table would carry a later year"),
        Column("verdict", "VARCHAR", " | ".join(PERIOD_VERDICTS), allowed=PERIOD_VERDICTS),
        Column("change", "VARCHAR", "From the paper's verdict to this period's: " + " | ".join(CLAIM_CHANGES)
               + " (NULL for 'paper')", nullable=True, allowed=CLAIM_CHANGES),
        Column("checked_against", "VARCHAR", "What this period was checked against, from the rows its query read: "
               "KOSIS tables and years, or the paper's own figures"),
        Column("query", "VARCHAR", "The SQL that judged it ($year, $from_year: the years above)", nullable=True),
    ),
)
