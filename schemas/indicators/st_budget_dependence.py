"""S&T budget dependence: how much of each region's science and technology budget the central
government pays."""

from __future__ import annotations

from schemas.indicators.fiscal_independence import C15_RECHECK
from schemas.indicators.spec import Claim, IndicatorSpec, RankedBars, StackedShares, region_names, share, src
from schemas.registry import Column, Measure, region_code, year

CHARTS = (
    RankedBars(value="national_share_pct", title="National fund share of the regional S&T budget"),
    StackedShares(
        parts=(("national_share_pct", "national", "#1f77b4"), ("regional_share_pct", "regional", "#2ca02c"),
               ("other_share_pct", "other", "#bbbbbb")),
        sort_by="national_share_pct",
        title="Composition of the S&T budget: national / regional / other",
        x_title="Share of the region's S&T budget, % (national, regional, other funds)",
        caption="Shares recomputed from amounts.",
    ),
)

# docs/paper-successors.md: what was searched for the annual successor of Table 6, and what adding it needs.
ST_BUDGET_SUCCESSOR = ("Table 6's S&T budget by fund (Regional Science and Technology Yearbook 2011) has annual "
                       "successors, but no official API identifier for them was found, so none is in the catalog "
                       "(docs/paper-successors.md says what was searched and what adding one needs); only the "
                       "table's financial-independence column continues, as KOSIS 101/DT_1YL20921 (claim C15). The "
                       "claim is not judged on later years.")

SPEC = IndicatorSpec(
    name="st_budget_dependence",
    title="S&T budget dependence: the central government's share of regional S&T budgets",
    unit="million won; % of the region's S&T budget",
    formula="national_share_pct = national fund / total budget x 100; regional_share_pct = regional fund / "
    "total x 100; other_share_pct = (total - national - regional) / total x 100",
    sources=("reference.region_names", "paper.st_budget_2011",),
    description="Dependence of each region's science and technology budget on central government funds.",
    key=("region_code", "year"),
    columns=(
        region_code(), *region_names(), year(),
        Column("total_budget_mkrw", "BIGINT", "Total S&T budget, million won", min=0),
        Column("national_fund_mkrw", "BIGINT", "National fund, million won", min=0),
        Column("regional_fund_mkrw", "BIGINT", "Regional fund, million won", min=0),
        Column("other_fund_mkrw", "BIGINT", "Other sources = total - national - regional, million won", min=0),
        share("national_share_pct", "National fund share, recomputed"),
        share("regional_share_pct", "Regional fund share, recomputed"),
        share("other_share_pct", "Other sources' share, recomputed"),
        Column("national_exceeds_regional", "BOOLEAN", "The central government put in more than the region"),
        share("regional_ratio_pct_printed", "The regional ratio as printed in Table 6"),
        share("finance_independence_pct", "Finance independence degree as printed", nullable=True),
        src(),
    ),
    measures={
        'total_budget_mkrw': Measure('Total S&T budget', 'million won', 0),
        'national_fund_mkrw': Measure('National fund', 'million won', 0),
        'regional_fund_mkrw': Measure('Regional fund', 'million won', 0),
        'other_fund_mkrw': Measure('Other funds', 'million won', 0),
        'national_share_pct': Measure('National fund', "% of the region's S&T budget", 1),
        'regional_share_pct': Measure('Regional fund', "% of the region's S&T budget", 1),
        'other_share_pct': Measure('Other funds', "% of the region's S&T budget", 1),
        'regional_ratio_pct_printed': Measure('Regional fund as printed', "% of the region's S&T budget", 1),
        'finance_independence_pct': Measure('Financial independence of the region', '%', 1),
    },
    charts=CHARTS,
    claims=(
        Claim(
            id='C13',
            section='3.3 Limits of regional innovation and S&T policies',
            text=('The total S&T budget of the 16 upper-level local authorities was co-financed by central '
                  'government (47.5%), local governments (33.6%) and other sources (18.9%).'),
            tables='indicators.st_budget_dependence',
            sql="""
        SELECT 'recomputed from the printed Total row: national ' || round(national_share_pct, 2) || '%, regional '
               || round(regional_share_pct, 2) || '%, other ' || round(other_share_pct, 2) || '%' AS observed,
               CASE WHEN national_share_pct IS NULL THEN 'not evaluable'
                    WHEN greatest(abs(national_share_pct - 47.5), abs(regional_share_pct - 33.6), abs(other_share_pct - 18.9)) <= 0.05
                    THEN 'supported'
                    WHEN greatest(abs(national_share_pct - 47.5), abs(regional_share_pct - 33.6), abs(other_share_pct - 18.9)) <= 0.15
                    THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict
        FROM indicators.st_budget_dependence WHERE region_code = '00'
        """,
            paper_years=(2011, 2011),
            not_refreshed=ST_BUDGET_SUCCESSOR,
        ),
        Claim(
            id='C14',
            section='3.3 Limits of regional innovation and S&T policies',
            text=('13 regions, all except Seoul City, Incheon City and Gyeonggi Province, invested less S&T budget'
                  ' than central government.'),
            tables='indicators.st_budget_dependence, reference.regions',
            sql="""
        WITH r AS (SELECT b.*, g.name_en FROM indicators.st_budget_dependence b JOIN reference.regions g USING (region_code)
                   WHERE region_code <> '00')
        SELECT count(*) FILTER (WHERE national_exceeds_regional) || ' of ' || count(*)
               || ' regions got more from central government; the others: '
               || coalesce(string_agg(name_en, ', ' ORDER BY region_code) FILTER (WHERE NOT national_exceeds_regional), 'none')
               AS observed,
               CASE WHEN count(*) = 0 THEN 'not evaluable'
                    WHEN count(*) FILTER (WHERE national_exceeds_regional) = 13
                         AND list_sort(list(region_code) FILTER (WHERE NOT national_exceeds_regional)) = ['11', '23', '31']
                    THEN 'supported'
                    WHEN count(*) FILTER (WHERE national_exceeds_regional) >= 10 THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict
        FROM r
        """,
            paper_years=(2011, 2011),
            not_refreshed=ST_BUDGET_SUCCESSOR,
        ),
        Claim(
            id='C15',
            section='3.3 Limits of regional innovation and S&T policies',
            text=('The financial independence of Seoul City, Incheon City and Gyeonggi Province was relatively '
                  'high.'),
            tables='indicators.st_budget_dependence',
            sql="""
        WITH r AS (SELECT region_code, finance_independence_pct,
                          rank() OVER (ORDER BY finance_independence_pct DESC) AS independence_rank,
                          count(*) OVER () AS regions,
                          median(finance_independence_pct) OVER () AS median_pct
                   FROM indicators.st_budget_dependence WHERE region_code <> '00')
        SELECT string_agg(g.name_en || ' ' || finance_independence_pct || '% (rank ' || independence_rank || ')', ', '
                          ORDER BY independence_rank) || '; median ' || any_value(median_pct) || '%' AS observed,
               CASE WHEN count(*) < 3 THEN 'not evaluable'
                    WHEN max(independence_rank) <= 3 THEN 'supported'
                    WHEN bool_and(finance_independence_pct > median_pct) THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict
        FROM r JOIN reference.regions g USING (region_code) WHERE region_code IN ('11', '23', '31')
        """,
            paper_years=(2011, 2011),
            recheck=C15_RECHECK,
        ),
    ),
)
