"""Land price gap: sale prices of new industrial complexes in Daegu against peripheral Gyeongbuk cities."""

from __future__ import annotations

from schemas.indicators.spec import Claim, IndicatorSpec, ItemBars, src
from schemas.registry import Column, Measure

CHARTS = (
    ItemBars(
        value="price_krw_thousand_per_3_3m2",
        item="complex",
        place="city",
        highlight="in_daegu",
        ratio="ratio_to_peripheral_mean",
        reference="peripheral_mean_price",
        reference_label="peripheral mean",
        title="Sale prices of new industrial complexes",
        caption="Daegu complexes in red; labels: price (ratio to the mean of the peripheral complexes).",
    ),
)

LAND_PRICES_ONE_OFF = ("Table 5 (land prices of particular industrial complexes in and around Daegu, as reported in "
                       "2012) is a one-off comparison: no official series publishes these complexes' prices, so the "
                       "claim is not judged on later years.")

SPEC = IndicatorSpec(
    name="land_price_gap",
    title="Land price gap: Daegu's new industrial complexes against Gyeongbuk's",
    unit="1,000 KRW per 3.3 m2; ratio",
    formula="ratio_to_peripheral_mean = price / mean price of the complexes outside Daegu",
    sources=("paper.industrial_land_prices",),
    description="Land prices of new industrial complexes in Daegu against those of peripheral Gyeongbuk "
    "cities.",
    key=("complex",),
    columns=(
        Column("complex", "VARCHAR", "Industrial complex"),
        Column("city", "VARCHAR", "City as printed"),
        Column("sale_year", "INTEGER", "Sale year", min=1990, max=2013),
        Column("price_krw_thousand_per_3_3m2", "DOUBLE", "Sale price", min=0),
        Column("ratio_to_peripheral_mean", "DOUBLE", "Price / peripheral mean price", min=0),
        Column("peripheral_mean_price", "DOUBLE", "Mean price of the peripheral complexes", min=0),
        Column("in_daegu", "BOOLEAN", "The complex is in Daegu"),
        Column("distance_km", "DOUBLE", "Distance from downtown Daegu, km", nullable=True, min=0),
        src(),
    ),
    measures={
        'price_krw_thousand_per_3_3m2': Measure('Sale price', '1,000 KRW per 3.3 m²', 0),
        'ratio_to_peripheral_mean': Measure("Price relative to the peripheral complexes' mean", 'ratio', 2),
        'peripheral_mean_price': Measure('Mean price of the peripheral complexes', '1,000 KRW per 3.3 m²', 0),
        'distance_km': Measure('Distance', 'km', 1),
    },
    charts=CHARTS,
    claims=(
        Claim(
            id='C10',
            section='3.2 Urban development policies relying on exogenous strategies',
            text=('The prices of newly established industrial sites in the Daegu City region were over 1,300 '
                  'thousand KRW per 3.3 m2.'),
            tables='indicators.land_price_gap',
            sql="""
        SELECT count(*) FILTER (WHERE price_krw_thousand_per_3_3m2 > 1300) || ' of ' || count(*)
               || ' Daegu complexes above 1,300 (' || string_agg(complex || ' ' || price_krw_thousand_per_3_3m2, ', '
               ORDER BY price_krw_thousand_per_3_3m2 DESC) || ')' AS observed,
               CASE WHEN count(*) = 0 THEN 'not evaluable'
                    WHEN bool_and(price_krw_thousand_per_3_3m2 > 1300) THEN 'supported'
                    WHEN bool_or(price_krw_thousand_per_3_3m2 > 1300) THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict
        FROM indicators.land_price_gap WHERE in_daegu
        """,
            paper_years=(2012, 2012),
            not_refreshed=LAND_PRICES_ONE_OFF,
        ),
        Claim(
            id='C11',
            section='3.2 Urban development policies relying on exogenous strategies',
            text=('The prices in peripheral regions such as Gumi, Gyeongsan and Yeongcheon in Gyeongbuk were '
                  '400-800 thousand KRW.'),
            tables='indicators.land_price_gap',
            sql="""
        SELECT string_agg(city || ' ' || price_krw_thousand_per_3_3m2, ', ' ORDER BY city) AS observed,
               CASE WHEN count(*) = 0 THEN 'not evaluable'
                    WHEN bool_and(price_krw_thousand_per_3_3m2 BETWEEN 400 AND 800) THEN 'supported'
                    WHEN bool_or(price_krw_thousand_per_3_3m2 BETWEEN 400 AND 800) THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict
        FROM indicators.land_price_gap WHERE NOT in_daegu
        """,
            paper_years=(2012, 2012),
            not_refreshed=LAND_PRICES_ONE_OFF,
        ),
        Claim(
            id='C12',
            section='3.2 Urban development policies relying on exogenous strategies',
            text=('The Daegu Technopolis was much cheaper than complexes near the city centre, but its price was '
                  'not competitive with complexes in Gyeongbuk.'),
            tables='indicators.land_price_gap',
            sql="""
        WITH t AS (SELECT price_krw_thousand_per_3_3m2 AS price, ratio_to_peripheral_mean AS ratio
                   FROM indicators.land_price_gap WHERE complex = 'Daegu Technopolis'),
             o AS (SELECT avg(price_krw_thousand_per_3_3m2) AS other_daegu FROM indicators.land_price_gap
                   WHERE in_daegu AND complex <> 'Daegu Technopolis'),
             p AS (SELECT min(price_krw_thousand_per_3_3m2) AS cheapest, max(price_krw_thousand_per_3_3m2) AS dearest
                   FROM indicators.land_price_gap WHERE NOT in_daegu)
        SELECT 'Technopolis ' || price || ' vs other Daegu complexes ' || round(other_daegu, 1) || ' (x' || round(price / other_daegu, 2)
               || '); ' || round(ratio, 2) || 'x the peripheral mean; peripheral range ' || cheapest || '-' || dearest AS observed,
               CASE WHEN price IS NULL THEN 'not evaluable'
                    WHEN price < other_daegu AND price > dearest THEN 'supported'
                    WHEN price < other_daegu AND ratio > 1 THEN 'partly supported'
                    ELSE 'contradicted' END AS verdict
        FROM t, o, p
        """,
            paper_years=(2012, 2012),
            not_refreshed=LAND_PRICES_ONE_OFF,
        ),
    ),
)
