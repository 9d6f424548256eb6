"""SME concentration of manufacturing: how much of each region's manufacturing is in SMEs, against
the country."""

from __future__ import annotations

from schemas.indicators.spec import (
    Claim,
    IndicatorSpec,
    RankedBars,
    Ranking,
    Recheck,
    RegionLines,
    region_names,
    share,
    source_table,
    src,
)
from schemas.registry import REGION_CODES, Column, Measure, region_code, year

CHARTS = (
    RankedBars(value="sme_worker_pct", title="SME workers among manufacturing employment by region"),
    RegionLines(value="sme_worker_pct", title="SME workers among manufacturing employment over the years",
                min_years=2),
)

SME_YEARS = "SELECT DISTINCT year FROM indicators.sme_concentration WHERE region_code = '22'"


def share_ranking(column: str, rank: str) -> str:
    """Every region's share and rank, every year (the country excluded)."""
    return f"""
        SELECT s.year, g.name_en AS series, s.region_code, s.{column} AS value, s.{rank} AS rank, s.source
        FROM indicators.sme_concentration s JOIN reference.regions g USING (region_code)
        WHERE s.region_code <> '00'
        """


C05_SQL = """
        -- One year ($year): other years are judged on their own rows.
        WITH d AS (SELECT * FROM indicators.sme_concentration WHERE region_code = '22' AND year = $year),
             n AS (SELECT count(*) AS regions FROM indicators.sme_concentration WHERE region_code <> '00' AND year = $year)
        SELECT coalesce('Daegu ' || $year || ': firms ' || sme_firm_pct || '% (rank ' || firm_rank || ' of ' || regions || ', '
               || firm_gap_to_country_pp || ' pp vs country), workers ' || sme_worker_pct || '% (rank ' || worker_rank
               || ' of ' || regions || ', ' || worker_gap_to_country_pp || ' pp vs country) [' || source || ']',
                        'no row for Daegu in ' || $year) AS observed,
               CASE WHEN d.region_code IS NULL THEN 'not evaluable'
                    WHEN firm_rank = 1 AND worker_rank = 1 THEN 'supported'
                    WHEN firm_gap_to_country_pp > 0 AND worker_gap_to_country_pp > 0 THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict,
               (SELECT string_agg(DISTINCT source_table || ':' || year, ',') FROM indicators.sme_concentration
                WHERE year = $year) AS rows_read
        FROM n LEFT JOIN d ON true
        """

C06_SQL = """
        WITH r AS (
            SELECT region_code, sme_firm_pct, sme_worker_pct, firm_rank, worker_rank,
                   rank() OVER (PARTITION BY region_type ORDER BY sme_worker_pct DESC) AS worker_rank_in_type,
                   rank() OVER (PARTITION BY region_type ORDER BY sme_firm_pct DESC) AS firm_rank_in_type
            FROM indicators.sme_concentration WHERE region_code <> '00' AND year = $year),
        top AS (SELECT string_agg(x.name_en || ' ' || r.sme_worker_pct, ', ' ORDER BY r.worker_rank) AS leaders
                FROM r JOIN reference.regions x USING (region_code) WHERE r.worker_rank <= 3)
        SELECT coalesce($year || ': Daegu ranks ' || firm_rank || ' by firm share and ' || worker_rank || ' by worker share among all regions '
               || '(' || firm_rank_in_type || ' and ' || worker_rank_in_type || ' among metropolitan cities); top by worker share: '
               || top.leaders, 'no rows in ' || $year) AS observed,
               CASE WHEN firm_rank = 2 AND worker_rank = 2
                         AND (SELECT firm_rank = 1 AND worker_rank = 1 FROM r WHERE region_code = '11') THEN 'supported'
                    WHEN worker_rank_in_type = 2 OR firm_rank_in_type = 2 THEN 'partly supported'
                    WHEN r.region_code IS NULL THEN 'not evaluable'
                    ELSE 'contradicted' END AS verdict,
               (SELECT string_agg(DISTINCT source_table || ':' || year, ',') FROM indicators.sme_concentration
                WHERE year = $year) AS rows_read
        FROM top LEFT JOIN r ON r.region_code = '22'
        """

C07_SQL = """
        WITH m AS (SELECT avg(sme_worker_pct) FILTER (WHERE region_type = 'metropolitan') AS metro,
                          avg(sme_worker_pct) FILTER (WHERE region_type = 'province') AS prov
                   FROM indicators.sme_concentration WHERE region_code <> '00' AND year = $year)
        SELECT $year || ': unweighted mean SME worker share: metropolitan ' || round(metro, 2) || '%, provinces ' || round(prov, 2) || '%'
               AS observed,
               CASE WHEN metro IS NULL OR prov IS NULL THEN 'not evaluable'
                    WHEN metro > prov THEN 'supported' ELSE 'contradicted' END AS verdict,
               (SELECT string_agg(DISTINCT source_table || ':' || year, ',') FROM indicators.sme_concentration
                WHERE year = $year) AS rows_read
        FROM m
        """


SPEC = IndicatorSpec(
    name="sme_concentration",
    title="SME concentration: small and medium firms' share of manufacturing",
    unit="%; percentage points; rank",
    formula="sme_firm_pct = SME establishments / all establishments x 100 (KOSIS current vintage where it "
    "covers the region-year: the establishment census by size class first, then the SME ministry's firm counts "
    "by the SME Act's definition; else the paper's printed share); gap = regional share - whole-country share; "
    "rank = RANK() over regions by share, descending (country excluded, ties share a rank)",
    sources=("reference.region_names", "kosis.manufacturing_by_size", "kosis.manufacturing_by_size_2006",
             "kosis.sme_firms_by_size", "kosis.sme_workers_by_size", "kosis.paper_table_2_kosis_form",
             "paper.sme_share_manufacturing", "reference.regions"),
    comparison="sme_concentration_vs_paper.sql",
    comparison_label="Table 2 vs KOSIS",
    description="How concentrated manufacturing is in SMEs (< 300 employees), by region: shares, gaps to "
    "the country and ranks.",
    key=("region_code", "year"),
    columns=(
        region_code(), *region_names(), year(),
        Column("region_type", "VARCHAR", "country | metropolitan | province"),
        share("sme_firm_pct", "SMEs among manufacturing firms"),
        share("sme_worker_pct", "SME workers among manufacturing employment"),
        Column("firm_gap_to_country_pp", "DOUBLE", "Firm share minus the country's, pp", min=-100, max=100),
        Column("worker_gap_to_country_pp", "DOUBLE", "Worker share minus the country's, pp", min=-100, max=100),
        Column("worker_rank", "BIGINT", "Rank by worker share (1 = highest; NULL for the country)",
               nullable=True, min=1, max=len(REGION_CODES)),
        Column("firm_rank", "BIGINT", "Rank by firm share (1 = highest; NULL for the country)",
               nullable=True, min=1, max=len(REGION_CODES)),
        Column("sme_definition", "VARCHAR", "Which firms count as SMEs in this row, in words: establishments "
               "under 300 workers (the census, the paper), or the SME Act's definition (the SME ministry's tables)"),
        Column("series_break", "BOOLEAN", "True when the source table or the SME definition differs from the "
               "region's previous observed year: not comparable across the break"),
        source_table(),
        src(),
    ),
    measures={
        'sme_firm_pct': Measure('SME establishments', '% of manufacturing establishments', 1),
        'sme_worker_pct': Measure('SME workers', '% of manufacturing employment', 1),
        'firm_gap_to_country_pp': Measure("SME establishment share minus the country's", 'percentage points', 1),
        'worker_gap_to_country_pp': Measure("SME worker share minus the country's", 'percentage points', 1),
        'worker_rank': Measure('Rank by SME worker share', '', 0),
        'firm_rank': Measure('Rank by SME establishment share', '', 0),
    },
    charts=CHARTS,
    claims=(
        Claim(
            id='C05',
            section='3.1 Local economy in Daegu City',
            text='The proportion of SMEs with below 300 employees was much higher in Daegu than in other regions.',
            tables='indicators.sme_concentration',
            sql=C05_SQL.replace("$year", "2011"),
            paper_years=(2011, 2011),
            recheck=Recheck(
                text=("Daegu ranks first among the regions by the SME share of manufacturing firms and of workers "
                      "(partly supported: above the country's share in both)."),
                years=SME_YEARS, sql=C05_SQL,
                ranking=Ranking(title="Daegu's rank by the SME share of manufacturing firms, every year",
                                value="SMEs among manufacturing firms, %",
                                sql=share_ranking("sme_firm_pct", "firm_rank")),
            ),
        ),
        Claim(
            id='C06',
            section='3.1 Local economy in Daegu City',
            text='Daegu was the region where the proportion of SMEs was the highest after Seoul throughout Korea.',
            tables='indicators.sme_concentration',
            sql=C06_SQL.replace("$year", "2011"),
            paper_years=(2011, 2011),
            recheck=Recheck(
                text=("Daegu ranks second, after Seoul, by the SME share of manufacturing firms and of workers "
                      "(partly supported: second among the metropolitan cities by one of them)."),
                years=SME_YEARS, sql=C06_SQL,
                ranking=Ranking(title="Daegu's rank by the SME share of manufacturing workers, every year",
                                value="SME workers among manufacturing employment, %",
                                sql=share_ranking("sme_worker_pct", "worker_rank")),
            ),
        ),
        Claim(
            id='C07',
            section='3.1 Local economy in Daegu City',
            text=('The average proportion of SMEs in metropolitan areas, in terms of number of workers, was higher'
                  ' than that of province areas.'),
            tables='indicators.sme_concentration',
            sql=C07_SQL.replace("$year", "2011"),
            paper_years=(2011, 2011),
            recheck=Recheck(
                text=("The metropolitan cities' mean SME share of manufacturing workers is above the provinces' "
                      "(unweighted means)."),
                years=SME_YEARS, sql=C07_SQL,
                ranking=Ranking(title="SME worker share: metropolitan cities' and provinces' means, and Daegu",
                                value="SME workers among manufacturing employment, %", rank_axis=False,
                                sql="""
        SELECT year, CASE region_type WHEN 'metropolitan' THEN 'metropolitan cities, mean' ELSE 'provinces, mean' END
                     AS series, NULL AS region_code, round(avg(sme_worker_pct), 1) AS value, NULL AS rank,
               string_agg(DISTINCT source, '; ' ORDER BY source) AS source
        FROM indicators.sme_concentration WHERE region_type IN ('metropolitan', 'province') GROUP BY year, series
        UNION ALL
        SELECT s.year, g.name_en, s.region_code, s.sme_worker_pct, s.worker_rank, s.source
        FROM indicators.sme_concentration s JOIN reference.regions g USING (region_code) WHERE s.region_code = '22'
        """),
            ),
        ),
    ),
)
