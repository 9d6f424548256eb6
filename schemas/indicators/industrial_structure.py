"""Industrial structure by GRDP: the primary, secondary and tertiary shares of each region, year by year."""

from __future__ import annotations

from schemas.indicators.spec import SECTORS, Claim, IndicatorSpec, SeriesLines, region_names, share, source_table, src
from schemas.registry import Column, Measure, region_code, year

CHARTS = (SeriesLines(value="share_pct", series="sector", title="Sector shares of GRDP over the years"),)

SPEC = IndicatorSpec(
    name="industrial_structure",
    unit="% of GRDP; percentage points",
    formula="share_pct = sector value added / total value added (총부가가치, basic prices) x 100, nominal, from "
    "the preferred KOSIS GRDP table covering the region-year (2020 base, then the earlier base), else the "
    "paper's printed share; tertiary = total - primary - secondary; change_pp = share_pct - share_pct of the "
    "previous observed year of the same region and sector (series_break: the two years come from different "
    "tables)",
    sources=("reference.region_names", "kosis.grdp_by_activity_2020", "kosis.grdp_by_activity_earlier_base",
             "kosis.paper_table_1_kosis_form", "paper.grdp_structure"),
    comparison="industrial_structure_vs_paper.sql",
    comparison_label="Table 1 vs KOSIS",
    description="Industrial structure by GRDP: primary, secondary and tertiary shares by region and year.",
    key=("region_code", "year", "sector"),
    columns=(
        region_code(), *region_names(), year(),
        Column("sector", "VARCHAR", "primary | secondary | tertiary", allowed=SECTORS),
        share("share_pct", "Sector share of GRDP"),
        Column("change_pp", "DOUBLE", "Change since the previous observed year, percentage points (NULL "
               "for the first)", nullable=True, min=-100, max=100),
        Column("years_since_previous", "INTEGER", "Years between this and the previous observation",
               nullable=True, min=1, max=100),
        Column("series_break", "BOOLEAN", "The previous observed year came from another table (another base "
               "year or the paper): change_pp spans a break in the series"),
        source_table(),
        src(),
    ),
    measures={
        'share_pct': Measure('Sector share of GRDP', '%', 1),
        'change_pp': Measure('Change of the sector share from the previous observed year', 'percentage points', 1),
    },
    charts=CHARTS,
    claims=(
        Claim(
            id='C01',
            section='3.1 Local economy in Daegu City',
            text=("Daegu's GRDP consisted of 0.4% primary industry, 19.7% secondary industry and 79.9% tertiary "
                  'industry (2010).'),
            tables='indicators.industrial_structure',
            sql="""
        -- Equal within the printed precision (one decimal); the source says whether KOSIS or the paper itself.
        SELECT string_agg(sector || ' ' || round(share_pct, 2) || '%', ', ' ORDER BY sector)
               || ' [' || string_agg(DISTINCT source, '; ') || ']' AS observed,
               CASE WHEN count(*) = 0 THEN 'not evaluable'
                    WHEN bool_and(abs(share_pct - CASE sector WHEN 'primary' THEN 0.4 WHEN 'secondary' THEN 19.7
                                                              ELSE 79.9 END) <= 0.05 + 1e-9)
                    THEN 'supported' ELSE 'contradicted' END AS verdict,
               string_agg(DISTINCT source_table || ':' || year, ',') AS rows_read
        FROM indicators.industrial_structure WHERE region_code = '22' AND year = 2010
        """,
        ),
        Claim(
            id='C02',
            section='3.1 Local economy in Daegu City',
            text="The proportion of manufacturing (secondary) industry in Daegu's economy had been declining.",
            tables='indicators.industrial_structure',
            sql="""
        -- The paper's period: up to 2010.
        WITH s AS (SELECT * FROM indicators.industrial_structure WHERE region_code = '22' AND sector = 'secondary'
                   AND year <= 2010)
        SELECT string_agg(year || ': ' || share_pct || '%' || coalesce(' (' || change_pp || ' pp)', ''), ' -> ' ORDER BY year)
               AS observed,
               CASE WHEN count(change_pp) = 0 THEN 'not evaluable'
                    WHEN bool_and(change_pp < 0 OR change_pp IS NULL) THEN 'supported'
                    WHEN arg_max(share_pct, year) < arg_min(share_pct, year) THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict,
               string_agg(DISTINCT source_table || ':' || year, ',') AS rows_read
        FROM s
        """,
        ),
        Claim(
            id='C03',
            section='3.1 Local economy in Daegu City',
            text='The service (tertiary) industry was continuously increasing.',
            tables='indicators.industrial_structure',
            sql="""
        WITH s AS (SELECT * FROM indicators.industrial_structure WHERE region_code = '22' AND sector = 'tertiary'
                   AND year <= 2010)
        SELECT string_agg(year || ': ' || share_pct || '%' || coalesce(' (' || change_pp || ' pp)', ''), ' -> ' ORDER BY year)
               AS observed,
               CASE WHEN count(change_pp) = 0 THEN 'not evaluable'
                    WHEN bool_and(change_pp > 0 OR change_pp IS NULL) THEN 'supported'
                    WHEN arg_max(share_pct, year) > arg_min(share_pct, year) THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict,
               string_agg(DISTINCT source_table || ':' || year, ',') AS rows_read
        FROM s
        """,
        ),
        Claim(
            id='C04',
            section='3.1 Local economy in Daegu City',
            text="The tertiary share of Daegu's GRDP was 64.9% in 1986 and grew to 79.9% in 2010.",
            tables='indicators.industrial_structure',
            sql="""
        WITH s AS (SELECT year, share_pct, source, source_table FROM indicators.industrial_structure
                   WHERE region_code = '22' AND sector = 'tertiary' AND year IN (1986, 2010))
        SELECT string_agg(year || ': ' || round(share_pct, 2) || '%', ', ' ORDER BY year) AS observed,
               CASE WHEN count(*) < 2 THEN 'not evaluable'
                    WHEN abs(max(share_pct) FILTER (WHERE year = 1986) - 64.9) <= 0.05 + 1e-9
                         AND abs(max(share_pct) FILTER (WHERE year = 2010) - 79.9) <= 0.05 + 1e-9
                    THEN 'supported' ELSE 'contradicted' END AS verdict,
               string_agg(DISTINCT source_table || ':' || year, ',') AS rows_read
        FROM s
        """,
        ),
    ),
)
