"""Industrial structure by GRDP: the primary, secondary and tertiary shares of each region, year by year."""

from __future__ import annotations

from schemas.indicators.spec import (
    SECTORS,
    Claim,
    IndicatorSpec,
    Recheck,
    SeriesLines,
    region_names,
    share,
    source_table,
    src,
)
from schemas.registry import Column, Measure, region_code, year

DAEGU_SECTOR = "FROM indicators.industrial_structure WHERE region_code = '22' AND sector = '{sector}'"
DAEGU_YEARS = "SELECT DISTINCT year FROM indicators.industrial_structure WHERE region_code = '22'"


def sector_step(sector: str, falling: bool) -> str:
    """A later year: the sector's share moved the claimed way since the previous observed year."""
    sign = "<" if falling else ">"
    return f"""
        SELECT coalesce(any_value(year || ': ' || share_pct || '%' || coalesce(' (' || change_pp || ' pp since '
                        || (year - years_since_previous) || CASE WHEN series_break THEN ', across a series break'
                        ELSE '' END || ')', ' (no earlier year)') || ' [' || source || ']'), 'no row') AS observed,
               CASE WHEN count(change_pp) = 0 THEN 'not evaluable'
                    WHEN any_value(change_pp) {sign} 0 THEN 'supported' ELSE 'contradicted' END AS verdict,
               string_agg(DISTINCT source_table || ':' || year, ',') AS rows_read
        {DAEGU_SECTOR.format(sector=sector)} AND year = $year
        """


def sector_trend(sector: str, falling: bool, every_step: bool = True) -> str:
    """Since the paper's last year: every observed change the claimed way (supported), or only the net change from
    the paper's last year to the latest (partly supported; supported when `every_step` is False)."""
    sign = "<" if falling else ">"
    net = "partly supported" if every_step else "supported"
    steps = f"WHEN bool_and(change_pp {sign} 0) FILTER (WHERE year > $from_year) THEN 'supported'" if every_step else ""
    return f"""
        WITH s AS (SELECT * {DAEGU_SECTOR.format(sector=sector)} AND year BETWEEN $from_year AND $year)
        SELECT string_agg(year || ': ' || share_pct || '%', ' -> ' ORDER BY year) AS observed,
               CASE WHEN count(*) FILTER (WHERE year = $from_year) = 0 OR count(*) FILTER (WHERE year = $year) = 0
                    THEN 'not evaluable'
                    {steps}
                    WHEN max(share_pct) FILTER (WHERE year = $year) {sign} max(share_pct) FILTER (WHERE year = $from_year)
                    THEN '{net}'
                    ELSE 'contradicted' END AS verdict,
               string_agg(DISTINCT source_table || ':' || year, ',') AS rows_read
        FROM s
        """


CHARTS = (SeriesLines(value="share_pct", series="sector", title="Sector shares of GRDP over the years"),)

SPEC = IndicatorSpec(
    name="industrial_structure",
    title='Industrial structure: sector shares of GRDP',
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
            paper_years=(2010, 2010),
            recheck=Recheck(
                text=("Daegu's GRDP is still 0.4% primary, 19.7% secondary and 79.9% tertiary, each share within 2.5 "
                      "percentage points (partly supported: the order tertiary > secondary > primary holds)."),
                years=DAEGU_YEARS,
                sql="""
        SELECT string_agg(sector || ' ' || round(share_pct, 1) || '%', ', ' ORDER BY sector) || ' in ' || $year
               || ' [' || string_agg(DISTINCT source, '; ') || ']' AS observed,
               CASE WHEN count(*) < 3 THEN 'not evaluable'
                    WHEN bool_and(abs(share_pct - CASE sector WHEN 'primary' THEN 0.4 WHEN 'secondary' THEN 19.7
                                                              ELSE 79.9 END) <= 2.5) THEN 'supported'
                    WHEN max(share_pct) FILTER (WHERE sector = 'tertiary') > max(share_pct) FILTER (WHERE sector = 'secondary')
                         AND max(share_pct) FILTER (WHERE sector = 'secondary') > max(share_pct) FILTER (WHERE sector = 'primary')
                    THEN 'partly supported' ELSE 'contradicted' END AS verdict,
               string_agg(DISTINCT source_table || ':' || year, ',') AS rows_read
        FROM indicators.industrial_structure WHERE region_code = '22' AND year = $year
        """,
            ),
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
            paper_years=(1986, 2010),
            recheck=Recheck(
                text="Daegu's secondary share fell in the latest year (from the previous observed year).",
                years=DAEGU_YEARS, sql=sector_step("secondary", falling=True),
                trend_text=("Daegu's secondary share kept declining after the paper's last year: every observed change "
                            "since then negative (partly supported: lower in the latest year than in the paper's "
                            "last year)."),
                trend_sql=sector_trend("secondary", falling=True),
            ),
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
            paper_years=(1986, 2010),
            recheck=Recheck(
                text="Daegu's tertiary share rose in the latest year (from the previous observed year).",
                years=DAEGU_YEARS, sql=sector_step("tertiary", falling=False),
                trend_text=("Daegu's tertiary share kept increasing after the paper's last year: every observed change "
                            "since then positive (partly supported: higher in the latest year than in the paper's "
                            "last year)."),
                trend_sql=sector_trend("tertiary", falling=False),
            ),
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
            paper_years=(1986, 2010),
            recheck=Recheck(
                text=("Daegu's tertiary share is still at least its 2010 level, 79.9% (partly supported: less than "
                      "2.5 percentage points below it)."),
                years=DAEGU_YEARS,
                sql="""
        SELECT coalesce(any_value(year || ': ' || round(share_pct, 1) || '% [' || source || ']'), 'no row') AS observed,
               CASE WHEN count(*) = 0 THEN 'not evaluable'
                    WHEN any_value(share_pct) >= 79.9 - 0.05 THEN 'supported'
                    WHEN any_value(share_pct) >= 79.9 - 2.5 THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict,
               string_agg(DISTINCT source_table || ':' || year, ',') AS rows_read
        FROM indicators.industrial_structure WHERE region_code = '22' AND sector = 'tertiary' AND year = $year
        """,
                trend_text="Daegu's tertiary share grew from the paper's last year to the latest.",
                trend_sql=sector_trend("tertiary", falling=False, every_step=False),
            ),
        ),
    ),
)
