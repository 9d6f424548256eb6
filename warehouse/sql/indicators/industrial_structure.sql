-- Sector shares of GRDP, long form (one row per region, year and sector), with the change in
-- percentage points since the previous observed year of the same region and sector.
-- Sources, in order of preference for each region-year (kosis.role_values, series grdp_by_activity):
-- the KOSIS GRDP tables by base year (lowest priority first), then the paper's Table 1 in KOSIS form;
-- the paper's Table 1 itself for any region-year none of them covers. Tertiary is total - primary -
-- secondary where a table has no tertiary code (the paper's "service business": every other activity).
-- A change of source table between two observed years is flagged (series_break), never spliced silently.
WITH cells AS (
    SELECT catalog_id, priority, region_code, year, max(origin) AS origin,
           max(value) FILTER (WHERE role = 'total') AS total,
           max(value) FILTER (WHERE role = 'primary') AS primary_value,
           max(value) FILTER (WHERE role = 'secondary') AS secondary_value,
           max(value) FILTER (WHERE role = 'tertiary') AS tertiary_value
    FROM kosis.role_values
    WHERE series = 'grdp_by_activity'
    GROUP BY catalog_id, priority, region_code, year
),
by_table AS (
    SELECT catalog_id, priority, region_code, year, origin AS source, sector,
           round(100.0 * value / total, 1) AS share_pct  -- the spec's precision (one decimal, as printed)
    FROM cells,
         LATERAL (VALUES ('primary', primary_value), ('secondary', secondary_value),
                         ('tertiary', coalesce(tertiary_value, total - primary_value - secondary_value)))
             AS s(sector, value)
    WHERE total > 0 AND primary_value IS NOT NULL AND secondary_value IS NOT NULL
),
preferred AS (
    SELECT * FROM by_table
    QUALIFY dense_rank() OVER (PARTITION BY region_code, year ORDER BY priority, catalog_id) = 1
),
paper_shares AS (
    SELECT 'paper.grdp_structure' AS catalog_id, 1000 AS priority, region_code, year,
           'the paper''s Table 1 (as printed)' AS source, replace(sector, '_pct', '') AS sector, share_pct
    FROM (UNPIVOT paper.grdp_structure
          ON primary_pct, secondary_pct, tertiary_pct
          INTO NAME sector VALUE share_pct)
),
shares AS (
    SELECT * FROM preferred
    UNION ALL
    SELECT * FROM paper_shares p
    WHERE NOT EXISTS (SELECT 1 FROM preferred k WHERE k.region_code = p.region_code AND k.year = p.year)
)
SELECT
    shares.region_code,
    g.name_en AS region_name,
    coalesce(n.name_ko, g.name_ko) AS region_name_ko,
    shares.year,
    sector,
    share_pct,
    round(share_pct - lag(share_pct) OVER w, 1) AS change_pp,
    year - lag(year) OVER w AS years_since_previous,
    lag(catalog_id) OVER w IS NOT NULL AND lag(catalog_id) OVER w <> catalog_id AS series_break,
    catalog_id AS source_table,
    source
FROM shares
JOIN reference.regions g USING (region_code)
LEFT JOIN reference.region_names n ON n.region_code = shares.region_code
     AND shares.year BETWEEN n.valid_from_year AND coalesce(n.valid_to_year, 9999)
WINDOW w AS (PARTITION BY shares.region_code, sector ORDER BY shares.year)
ORDER BY shares.region_code, shares.year, sector
