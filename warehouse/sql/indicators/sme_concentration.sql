-- SME shares in manufacturing by region, their gap to the whole country and the regions' ranks
-- (1 = highest; the country row is not ranked; ties share a rank).
WITH shares AS (
    SELECT region_code, year, region_type, sme_firm_pct, sme_worker_pct
    FROM paper.sme_share_manufacturing
),
country AS (
    SELECT year, sme_firm_pct AS country_firm_pct, sme_worker_pct AS country_worker_pct
    FROM shares WHERE region_code = '00'
)
SELECT
    s.region_code,
    s.year,
    s.region_type,
    s.sme_firm_pct,
    s.sme_worker_pct,
    round(s.sme_firm_pct - c.country_firm_pct, 6) AS firm_gap_to_country_pp,
    round(s.sme_worker_pct - c.country_worker_pct, 6) AS worker_gap_to_country_pp,
    CASE WHEN s.region_code <> '00'
         THEN rank() OVER (PARTITION BY s.year, s.region_code = '00' ORDER BY s.sme_worker_pct DESC) END
        AS worker_rank,
    CASE WHEN s.region_code <> '00'
         THEN rank() OVER (PARTITION BY s.year, s.region_code = '00' ORDER BY s.sme_firm_pct DESC) END
        AS firm_rank,
    'paper Table 2' AS source
FROM shares s
LEFT JOIN country c USING (year)
ORDER BY s.year, s.region_code
