"""Resident population by region: the size of Daegu among the metropolitan cities."""

from __future__ import annotations

from schemas.indicators.spec import (
    Claim,
    IndicatorSpec,
    RankedBars,
    Ranking,
    Recheck,
    RegionLines,
    region_names,
    source_table,
    src,
)
from schemas.registry import REGION_CODES, Column, Measure, region_code, year

CHARTS = (
    RegionLines(value="population", title="Resident population over the years"),
    RankedBars(value="population", title="Resident population by region"),
)

# C20's rule, on the paper's year and on any later one: the fourth city, with 2.45 to 2.55 million residents.
C20_VERDICT = """CASE WHEN count(*) = 0 THEN 'not evaluable'
                    WHEN any_value(city_rank) = 4 AND any_value(population) BETWEEN 2450000 AND 2550000
                        THEN 'supported'
                    WHEN any_value(city_rank) = 4 OR any_value(population) BETWEEN 2450000 AND 2550000
                        THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict,"""

SPEC = IndicatorSpec(
    name="population",
    title='Population: residents by region',
    unit="persons; rank",
    formula="population = resident registration population (KOSIS DT_1B040A3, item T20 총인구수), administrative "
    "region codes mapped to reference.regions; city_rank = RANK() among the metropolitan cities (incl. Seoul) "
    "by population, descending; region_rank = RANK() among all regions (country excluded)",
    sources=("reference.region_names", "kosis.population_by_sido", "reference.regions"),
    description="Resident population by region and year, with ranks among cities and among all regions.",
    key=("region_code", "year"),
    columns=(
        region_code(), *region_names(), year(),
        Column("region_type", "VARCHAR", "country | metropolitan | province"),
        Column("population", "BIGINT", "Resident registration population, persons", min=0),
        Column("city_rank", "BIGINT", "Rank among metropolitan cities incl. Seoul (NULL for provinces)",
               nullable=True, min=1, max=len(REGION_CODES)),
        Column("region_rank", "BIGINT", "Rank among all regions (NULL for the country)", nullable=True, min=1,
               max=len(REGION_CODES)),
        Column("series_break", "BOOLEAN", "True when the source table differs from the region's previous "
               "observed year"),
        source_table(),
        src(),
    ),
    measures={
        'population': Measure('Resident population', 'persons', 0),
        'city_rank': Measure('Rank among the metropolitan cities by population', '', 0),
        'region_rank': Measure('Rank among all regions by population', '', 0),
    },
    charts=CHARTS,
    claims=(
        Claim(
            id='C20',
            section='3.1 Local economy in Daegu City',
            text='Daegu City was the fourth largest city in South Korea, with 2.5 million population.',
            tables='indicators.population',
            sql=f"""
        -- The year nearest the paper's writing (2012) that the warehouse holds; "city" = metropolitan city
        -- incl. Seoul (reference.regions.region_type); 2.5 million read as 2.45 to 2.55 million.
        WITH daegu AS (
            SELECT * FROM indicators.population WHERE region_code = '22'
            ORDER BY abs(year - 2012), year LIMIT 1
        )
        SELECT coalesce(any_value('Daegu ' || year || ': ' || population || ' residents, rank ' || city_rank
                                  || ' among metropolitan cities (' || source || ')'),
                        'no population series loaded (KOSIS DT_1B040A3, catalog entry population_by_sido; offline '
                        || 'it loads only from warehouse/data/inbox/)') AS observed,
               {C20_VERDICT}
               (SELECT string_agg(DISTINCT p.source_table || ':' || p.year, ',') FROM indicators.population p
                WHERE p.year IN (SELECT year FROM daegu)) AS rows_read
        FROM daegu
        """,
            paper_years=(2012, 2012),
            recheck=Recheck(
                text=("Daegu is still the fourth largest city (metropolitan cities incl. Seoul) with about 2.5 million "
                      "residents, 2.45 to 2.55 million (partly supported: one of the two)."),
                years="SELECT DISTINCT year FROM indicators.population WHERE region_code = '22'",
                sql=f"""
        SELECT coalesce(any_value('Daegu ' || year || ': ' || population || ' residents, rank ' || city_rank
                                  || ' among metropolitan cities (' || source || ')'), 'no row') AS observed,
               {C20_VERDICT}
               (SELECT string_agg(DISTINCT p.source_table || ':' || p.year, ',') FROM indicators.population p
                WHERE p.year = $year AND p.city_rank IS NOT NULL) AS rows_read
        FROM indicators.population WHERE region_code = '22' AND year = $year
        """,
                ranking=Ranking(title="Daegu's rank by population among the metropolitan cities, every year",
                                value="resident population, persons", sql="""
        SELECT p.year, g.name_en AS series, p.region_code, p.population AS value, p.city_rank AS rank, p.source
        FROM indicators.population p JOIN reference.regions g USING (region_code) WHERE p.city_rank IS NOT NULL
        """),
            ),
        ),
    ),
)
