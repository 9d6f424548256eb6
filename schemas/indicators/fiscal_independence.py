"""Fiscal independence (재정자립도) by region and year: the last column of the paper's Table 6, continued by KOSIS
101/DT_1YL20921; claim C15 (Seoul, Incheon and Gyeonggi are the most independent) judged on every year."""

from __future__ import annotations

from schemas.indicators.spec import (
    IndicatorSpec,
    RankedBars,
    Ranking,
    Recheck,
    RegionLines,
    region_names,
    source_table,
    src,
)
from schemas.registry import REGION_CODES, Column, Measure, pct, region_code, year

CHARTS = (
    RankedBars(value="independence_pct", title="Fiscal independence by region"),
    RegionLines(value="independence_pct", title="Fiscal independence over the years", min_years=2),
)

# The paper's claim C15 reads Table 6 (indicators.st_budget_dependence); on later years it reads this table.
C15_LATER = """
        WITH r AS (SELECT region_code, independence_pct, independence_rank, source_table, year,
                          median(independence_pct) OVER () AS median_pct
                   FROM indicators.fiscal_independence WHERE region_code <> '00' AND year = $year
                   AND independence_pct IS NOT NULL)
        SELECT $year || ': ' || string_agg(g.name_en || ' ' || independence_pct || '% (rank ' || independence_rank || ')',
                                          ', ' ORDER BY independence_rank) || '; median ' || any_value(median_pct) || '%'
               AS observed,
               CASE WHEN count(*) < 3 THEN 'not evaluable'
                    WHEN max(independence_rank) <= 3 THEN 'supported'
                    WHEN bool_and(independence_pct > median_pct) THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict,
               (SELECT string_agg(DISTINCT source_table || ':' || year, ',') FROM indicators.fiscal_independence
                WHERE year = $year AND region_code <> '00') AS rows_read
        FROM r JOIN reference.regions g USING (region_code) WHERE region_code IN ('11', '23', '31')
        """

C15_RECHECK = Recheck(
    text=("Seoul, Incheon and Gyeonggi are still the three most fiscally independent regions (재정자립도 before the "
          "reform of revenue classes, the paper's definition; partly supported: all three above the median)."),
    tables="indicators.fiscal_independence",
    years="SELECT DISTINCT year FROM indicators.fiscal_independence WHERE independence_pct IS NOT NULL",
    sql=C15_LATER,
    ranking=Ranking(title="Fiscal independence: every region's rank, every year", value="재정자립도, %",
                    sql="""
        SELECT f.year, g.name_en AS series, f.region_code, f.independence_pct AS value, f.independence_rank AS rank,
               f.source
        FROM indicators.fiscal_independence f JOIN reference.regions g USING (region_code)
        WHERE f.region_code <> '00' AND f.independence_pct IS NOT NULL
        """),
)

SPEC = IndicatorSpec(
    name="fiscal_independence",
    title='Fiscal independence: the share of revenue a region raises itself',
    unit="%; rank",
    formula="independence_pct = 재정자립도 before the reform of revenue classes (KOSIS DT_1YL20921 item T10) where "
    "KOSIS covers the region-year, else the paper's Table 6 column as printed; independence_after_reform_pct = "
    "item T20 (a different definition, never spliced); independence_rank = RANK() among regions by "
    "independence_pct, descending (country excluded)",
    sources=("reference.region_names", "kosis.fiscal_independence_by_sido", "paper.st_budget_2011",
             "reference.regions"),
    description="Fiscal independence (재정자립도) by region and year: the share of its general-account revenue a "
    "region raises itself, with its rank among the regions.",
    key=("region_code", "year"),
    columns=(
        region_code(), *region_names(), year(),
        Column("region_type", "VARCHAR", "country | metropolitan | province"),
        pct("independence_pct", "재정자립도 before the reform of revenue classes (the paper's definition)",
            nullable=True),
        pct("independence_after_reform_pct", "재정자립도 after the reform of revenue classes (KOSIS T20; NULL where "
            "not served, e.g. the paper's year)", nullable=True),
        Column("independence_rank", "BIGINT", "Rank by independence_pct among the regions (1 = highest; NULL for "
               "the country)", nullable=True, min=1, max=len(REGION_CODES)),
        Column("series_break", "BOOLEAN", "True when the source table differs from the region's previous "
               "observed year (the paper's printed column, then KOSIS)"),
        source_table(),
        src(),
    ),
    measures={
        'independence_pct': Measure('Fiscal independence (before the reform of revenue classes)', '%', 1),
        'independence_after_reform_pct': Measure('Fiscal independence (after the reform of revenue classes)', '%', 1),
        'independence_rank': Measure('Rank by fiscal independence', '', 0),
    },
    charts=CHARTS,
)
