"""S&T program mix: the share of national (centrally initiated) programs among Daegu's S&T programs."""

from __future__ import annotations

from schemas.indicators.spec import Claim, IndicatorSpec, YearLine, share, src
from schemas.registry import Column, Measure, year

CHARTS = (
    YearLine(value="national_share_pct", title="National programs' share of Daegu's S&T programs",
             caption="Recomputed from the program counts.", y_range=(0, 100)),
)

SPEC = IndicatorSpec(
    name="st_program_mix",
    title="S&T program mix: national programs among Daegu's S&T programs",
    unit="programs; % of Daegu's S&T programs; percentage points",
    formula="national_share_pct = national programs / all programs x 100; change_pp = difference to the "
    "previous observed year",
    sources=("paper.st_program_counts",),
    description="Share of national (centrally initiated) programs among Daegu City's S&T programs.",
    key=("year",),
    columns=(
        year(),
        Column("total_programs", "BIGINT", "All programs", min=0),
        Column("national_programs", "BIGINT", "National programs", min=0),
        Column("regional_programs", "BIGINT", "Regional programs", min=0),
        share("national_share_pct", "National programs' share, recomputed"),
        share("regional_share_pct", "Regional programs' share, recomputed"),
        share("national_pct_printed", "National share as printed"),
        Column("change_pp", "DOUBLE", "Change of national_share_pct since the previous year, pp",
               nullable=True, min=-100, max=100),
        src(),
    ),
    measures={
        'total_programs': Measure('S&T programs', 'programs', 0),
        'national_programs': Measure('National S&T programs', 'programs', 0),
        'regional_programs': Measure('Regional S&T programs', 'programs', 0),
        'national_share_pct': Measure('National programs', "% of Daegu's S&T programs", 1),
        'regional_share_pct': Measure('Regional programs', "% of Daegu's S&T programs", 1),
        'national_pct_printed': Measure('National programs as printed', "% of Daegu's S&T programs", 1),
        'change_pp': Measure('Change of the national share from the previous observed year', 'percentage points', 1),
    },
    charts=CHARTS,
    claims=(
        Claim(
            id='C16',
            section='3.3 Limits of regional innovation and S&T policies',
            text=('National programs co-financed by Daegu City were 73.4% of its S&T programs in 2012, and this '
                  'ratio was incrementally growing.'),
            tables='indicators.st_program_mix',
            sql="""
        SELECT string_agg(year || ': ' || round(national_share_pct, 1) || '%', ' -> ' ORDER BY year) AS observed,
               CASE WHEN count(*) = 0 THEN 'not evaluable'
                    WHEN round(max(national_share_pct) FILTER (WHERE year = 2012), 1) = 73.4
                         AND bool_and(change_pp > 0 OR change_pp IS NULL) THEN 'supported'
                    WHEN round(max(national_share_pct) FILTER (WHERE year = 2012), 1) = 73.4 THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict
        FROM indicators.st_program_mix
        """,
            paper_years=(2010, 2012),
            not_refreshed=("Table 7 (the national and regional programs among Daegu City's S&T policies, "
                           "2010-2012) is a one-off policy document: no statistical series continues it, so the "
                           "claim is not judged on later years."),
        ),
    ),
)
