-- SME shares in manufacturing by region, their gap to the whole country and the regions' ranks
-- (1 = highest; the country row is not ranked; ties share a rank). SMEs: under 300 employees.
-- Sources, in order of preference for each region-year (kosis.role_values, series manufacturing_by_size):
-- the KOSIS establishment census tables (lowest priority first), then the paper's Table 2 in KOSIS form;
-- the paper's Table 2 itself for any region-year none of them covers.
WITH by_table AS (
    SELECT catalog_id, priority, region_code, year,
           round(100.0 * sum(value) FILTER (WHERE role = 'firms_sme')
                 / sum(value) FILTER (WHERE role = 'firms_total'), 6) AS sme_firm_pct,
           round(100.0 * sum(value) FILTER (WHERE role = 'workers_sme')
                 / sum(value) FILTER (WHERE role = 'workers_total'), 6) AS sme_worker_pct,
           any_value(origin) AS source
    FROM kosis.role_values
    WHERE series = 'manufacturing_by_size'
    GROUP BY catalog_id, priority, region_code, year
    HAVING sum(value) FILTER (WHERE role = 'firms_total') > 0 AND sum(value) FILTER (WHERE role = 'workers_total') > 0
),
preferred AS (
    SELECT * FROM by_table
    QUALIFY row_number() OVER (PARTITION BY region_code, year ORDER BY priority, catalog_id) = 1
),
shares AS (
    SELECT * FROM preferred
    UNION ALL
    SELECT 'paper.sme_share_manufacturing', 1000, region_code, year, sme_firm_pct, sme_worker_pct,
           'the paper''s Table 2 (as printed)' AS source
    FROM paper.sme_share_manufacturing p
    WHERE NOT EXISTS (SELECT 1 FROM preferred k WHERE k.region_code = p.region_code AND k.year = p.year)
),
country AS (
    SELECT year, sme_firm_pct AS country_firm_pct, sme_worker_pct AS country_worker_pct
    FROM shares WHERE region_code = '00'
)
SELECT
    s.region_code,
    g.name_en AS region_name,
    g.name_ko AS region_name_ko,
    s.year,
    g.region_type,
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
    s.catalog_id AS source_table,
    s.source
FROM shares s
JOIN reference.regions g USING (region_code)
LEFT JOIN country c USING (year)
ORDER BY s.year, s.region_code
