-- SME shares in manufacturing by region, their gap to the whole country and the regions' ranks
-- (1 = highest; the country row is not ranked; ties share a rank).
-- Source preference: the current vintage of the catalogued KOSIS table (manufacturing_by_size),
-- codes mapped by kosis.code_roles; the paper's Table 2 for region-years KOSIS lacks.
WITH kosis_cells AS (
    SELECT m.region_code, o.year, r.role, sum(o.value) AS value,
           'KOSIS ' || any_value(o.org_id) || '/' || any_value(o.tbl_id)
               || CASE WHEN bool_or(snap.origin = 'bundled') THEN ' bundled offline snapshot' ELSE ' live' END
               || ', current vintage' AS origin,
           max(o.lst_chn_de) AS lst_chn_de
    FROM kosis.observations_current o
    JOIN kosis.snapshots snap USING (snapshot_sha256)
    JOIN kosis.tables t ON t.id = 'manufacturing_by_size' AND o.org_id = t.org_id AND o.tbl_id = t.tbl_id
    JOIN kosis.code_roles r ON r.catalog_id = t.id AND r.itm_id = o.itm_id
         AND r.code = CASE r.level WHEN 'c2' THEN o.c2 WHEN 'c3' THEN o.c3 WHEN 'c4' THEN o.c4 END
    JOIN reference.region_code_map m ON m.code_system = t.region_code_system AND m.code = o.c1
         AND o.year BETWEEN m.valid_from_year AND coalesce(m.valid_to_year, 9999)
    WHERE o.value IS NOT NULL
    GROUP BY m.region_code, o.year, r.role
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
