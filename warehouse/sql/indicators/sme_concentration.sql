-- SME shares in manufacturing by region, their gap to the whole country and the regions' ranks
-- (1 = highest; the country row is not ranked; ties share a rank).
-- Sources, in order of preference for each region-year (kosis.role_values, series manufacturing_by_size):
-- the KOSIS establishment census tables (SMEs: under 300 workers, lowest priority first), then the SME
-- ministry's firm and worker tables (SMEs as the SME Act defines them: firms and workers come from two tables of
-- one priority, read together), then the paper's Table 2 in KOSIS form; the paper's Table 2 itself for any
-- region-year none of them covers. Each row says which definition it uses; a change of table or definition
-- from the region's previous year is a series_break.
WITH by_table AS (
    SELECT string_agg(DISTINCT r.catalog_id, '+' ORDER BY r.catalog_id) AS catalog_id, r.priority, r.region_code,
           r.year, any_value(t.definition) AS sme_definition,
           round(100.0 * sum(value) FILTER (WHERE role = 'firms_sme')
                 / sum(value) FILTER (WHERE role = 'firms_total'), 1) AS sme_firm_pct,  -- the spec's precision
           round(100.0 * sum(value) FILTER (WHERE role = 'workers_sme')
                 / sum(value) FILTER (WHERE role = 'workers_total'), 1) AS sme_worker_pct,
           string_agg(DISTINCT r.origin, '; ' ORDER BY r.origin) AS source
    FROM kosis.role_values r
    JOIN kosis.tables t ON t.id = r.catalog_id
    WHERE r.series = 'manufacturing_by_size'
    GROUP BY r.priority, r.region_code, r.year
    -- every role present with a number (a NULL role value: a cell without one, never a partial sum)
    HAVING sum(value) FILTER (WHERE role = 'firms_total') > 0 AND sum(value) FILTER (WHERE role = 'workers_total') > 0
       AND count(value) FILTER (WHERE role = 'firms_sme') = count(*) FILTER (WHERE role = 'firms_sme')
       AND count(value) FILTER (WHERE role = 'workers_sme') = count(*) FILTER (WHERE role = 'workers_sme')
       AND count(*) FILTER (WHERE role = 'firms_sme') > 0 AND count(*) FILTER (WHERE role = 'workers_sme') > 0
),
preferred AS (
    SELECT * FROM by_table
    QUALIFY row_number() OVER (PARTITION BY region_code, year ORDER BY priority, catalog_id) = 1
),
shares AS (
    SELECT * FROM preferred
    UNION ALL
    SELECT 'paper.sme_share_manufacturing', 1000, region_code, year,
           'firms with under 300 employees, as the paper''s Table 2 prints them', sme_firm_pct, sme_worker_pct,
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
    coalesce(n.name_ko, g.name_ko) AS region_name_ko,
    s.year,
    g.region_type,
    s.sme_firm_pct,
    s.sme_worker_pct,
    round(s.sme_firm_pct - c.country_firm_pct, 1) AS firm_gap_to_country_pp,
    round(s.sme_worker_pct - c.country_worker_pct, 1) AS worker_gap_to_country_pp,
    CASE WHEN s.region_code <> '00'
         THEN rank() OVER (PARTITION BY s.year, s.region_code = '00' ORDER BY s.sme_worker_pct DESC) END
        AS worker_rank,
    CASE WHEN s.region_code <> '00'
         THEN rank() OVER (PARTITION BY s.year, s.region_code = '00' ORDER BY s.sme_firm_pct DESC) END
        AS firm_rank,
    s.sme_definition,
    coalesce(lag(s.catalog_id) OVER w <> s.catalog_id OR lag(s.sme_definition) OVER w <> s.sme_definition, false)
        AS series_break,
    s.catalog_id AS source_table,
    s.source
FROM shares s
JOIN reference.regions g USING (region_code)
LEFT JOIN reference.region_names n ON n.region_code = s.region_code
     AND s.year BETWEEN n.valid_from_year AND coalesce(n.valid_to_year, 9999)
LEFT JOIN country c USING (year)
WINDOW w AS (PARTITION BY s.region_code ORDER BY s.year)
ORDER BY s.year, s.region_code
