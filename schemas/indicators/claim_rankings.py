"""Daegu among its peers over the years: for each claim comparing regions, every region's (or group's) value
and rank in every year the data hold (each claim's `recheck.ranking`)."""

from __future__ import annotations

from schemas.indicators.spec import IndicatorSpec
from schemas.registry import Column

SPEC = IndicatorSpec(
    name="claim_rankings",
    title='Daegu among its peers, every year the data hold',
    unit="rank; the measure's unit",
    formula="each claim's `recheck.ranking` query (schemas/indicators/): one row per year and series (a region, or "
    "a group's mean), rank 1 = highest value",
    sources=("indicators.*", "reference.regions"),
    description="Daegu among its peers over the years: for each claim comparing regions, every region's (or "
    "group's) value and rank in every year the data hold.",
    key=("claim_id", "year", "series"),
    columns=(
        Column("claim_id", "VARCHAR", "Claim identifier (indicators.paper_claims.claim_id)"),
        Column("year", "INTEGER", "Year", min=1900, max=2100),
        Column("series", "VARCHAR", "Region (English name) or group (e.g. 'metropolitan cities, mean')"),
        Column("region_code", "VARCHAR", "Region code (reference.regions); NULL for a group", nullable=True),
        Column("measure", "VARCHAR", "What `value` is, with its unit"),
        Column("value", "DOUBLE", "The value compared", nullable=True),
        Column("rank", "BIGINT", "Rank among the series compared that year, 1 = highest (NULL for a group)",
               nullable=True, min=1, max=100),
        Column("is_daegu", "BOOLEAN", "The series is Daegu"),
        Column("source", "VARCHAR", "Where the numbers come from (the indicator rows' source)"),
    ),
)
