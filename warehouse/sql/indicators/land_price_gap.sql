-- Each complex's sale price against the mean price of the peripheral (non-Daegu) complexes.
WITH peripheral AS (
    SELECT avg(price_krw_thousand_per_3_3m2) AS mean_price
    FROM paper.industrial_land_prices WHERE city <> 'Daegu'
)
SELECT
    complex,
    city,
    sale_year,
    price_krw_thousand_per_3_3m2,
    round(price_krw_thousand_per_3_3m2 / p.mean_price, 6) AS ratio_to_peripheral_mean,
    round(p.mean_price, 6) AS peripheral_mean_price,
    city = 'Daegu' AS in_daegu,
    distance_km,
    'paper Table 5' AS source
FROM paper.industrial_land_prices, peripheral p
ORDER BY price_krw_thousand_per_3_3m2 DESC
