-- SME shares in manufacturing by region, their gap to the whole country and the regions' ranks
-- (1 = highest; the country row is not ranked; ties share a rank).
-- Source preference: the current vintage of the catalogued KOSIS table (manufacturing_by_size),
-- codes mapped by kosis.code_roles (view kosis.role_values); the paper's Table 2 for region-years KOSIS lacks.
WITH kosis_cells AS (
    SELECT * FROM kosis.role_values WHERE catalog_id = 'manufacturing_by_size'
),
kosis_rows AS (
    SELECT region_code, year,
           round(100.0 * sum(value) FILTER (WHERE role = 'firms_sme')
                 / sum(value) FILTER (WHERE role = 'firms_total'), 6) AS sme_firm_pct,
           round(100.0 * sum(value) FILTER (WHERE role = 'workers_sme')
                 / sum(value) FILTER (WHERE role = 'workers_total'), 6) AS sme_worker_pct,
           any_value(origin) || ' (LST_CHN_DE ' || max(lst_chn_de) || ')' AS source
    FROM kosis_cells
    GROUP BY region_code, year
    HAVING sum(value) FILTER (WHERE role = 'firms_total') > 0 AND sum(value) FILTER (WHERE role = 'workers_total') > 0
),
shares AS (
    SELECT * FROM kosis_rows
    UNION ALL
    SELECT region_code, year, sme_firm_pct, sme_worker_pct, 'paper Table 2' AS source
    FROM paper.sme_share_manufacturing p
    WHERE NOT EXISTS (SELECT 1 FROM kosis_rows k WHERE k.region_code = p.region_code AND k.year = p.year)
),
country AS (
    SELECT year, sme_firm_pct AS country_firm_pct, sme_worker_pct AS country_worker_pct
    FROM shares WHERE region_code = '00'
)
SELECT
    s.region_code,
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
    s.source
FROM shares s
JOIN reference.regions g USING (region_code)
LEFT JOIN country c USING (year)
ORDER BY s.year, s.region_code
