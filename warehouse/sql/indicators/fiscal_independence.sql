-- Fiscal independence (재정자립도) by region and year: the KOSIS table of the series where it covers the
-- region-year (item T10, before the reform of revenue classes: the definition of the paper's 2011 column; T20,
-- after it, beside it and never spliced into it), else the paper's Table 6 column as printed (2011).
WITH kosis AS (
    SELECT region_code, year, catalog_id,
           max(value) FILTER (WHERE role = 'independence') AS independence_pct,
           max(value) FILTER (WHERE role = 'independence_after_reform') AS after_reform_pct,
           string_agg(DISTINCT origin, '; ') AS source
    FROM kosis.role_values
    WHERE series = 'fiscal_independence' AND value IS NOT NULL
    GROUP BY region_code, year, catalog_id
    QUALIFY row_number() OVER (PARTITION BY region_code, year ORDER BY min(priority), catalog_id) = 1
),
printed AS (
    SELECT region_code, year, finance_independence_pct AS independence_pct, CAST(NULL AS DOUBLE) AS after_reform_pct,
           'paper.st_budget_2011' AS source_table, 'paper Table 6' AS source
    FROM paper.st_budget_2011 p
    WHERE finance_independence_pct IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM kosis k WHERE k.region_code = p.region_code AND k.year = p.year)
),
observed AS (
    SELECT region_code, year, independence_pct, after_reform_pct, catalog_id AS source_table, source FROM kosis
    UNION ALL
    SELECT * FROM printed
)
SELECT
    o.region_code,
    g.name_en AS region_name,
    coalesce(n.name_ko, g.name_ko) AS region_name_ko,
    o.year,
    g.region_type,
    round(o.independence_pct, 2) AS independence_pct,
    round(o.after_reform_pct, 2) AS independence_after_reform_pct,
    CASE WHEN o.region_code <> '00' AND o.independence_pct IS NOT NULL
         THEN rank() OVER (PARTITION BY o.year, o.region_code = '00' OR o.independence_pct IS NULL
                           ORDER BY o.independence_pct DESC) END AS independence_rank,
    coalesce(lag(o.source_table) OVER (PARTITION BY o.region_code ORDER BY o.year) <> o.source_table, false)
        AS series_break,
    o.source_table,
    o.source
FROM observed o
JOIN reference.regions g USING (region_code)
LEFT JOIN reference.region_names n ON n.region_code = o.region_code
     AND o.year BETWEEN n.valid_from_year AND coalesce(n.valid_to_year, 9999)
ORDER BY o.year, o.region_code
