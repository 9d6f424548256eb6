-- Sector shares of GRDP, long form (one row per region, year and sector), with the change in
-- percentage points since the previous observed year of the same region and sector.
-- Source preference: the current vintage of the catalogued KOSIS GRDP table (grdp_by_activity), its
-- codes mapped to sectors by kosis.code_roles (view kosis.role_values); the paper's Table 1 for region-years KOSIS lacks.
WITH kosis_cells AS (
    SELECT * FROM kosis.role_values WHERE catalog_id = 'grdp_by_activity'
),
kosis_shares AS (
    SELECT s.region_code, s.year, s.role AS sector, round(100.0 * s.value / total.value, 6) AS share_pct,
           s.origin || ' (LST_CHN_DE ' || s.lst_chn_de || ')' AS source
    FROM kosis_cells s
    JOIN kosis_cells total ON total.role = 'total' AND total.region_code = s.region_code AND total.year = s.year
    WHERE s.role IN ('primary', 'secondary', 'tertiary') AND total.value <> 0
),
paper_shares AS (
    SELECT region_code, year, replace(sector, '_pct', '') AS sector, share_pct, 'paper Table 1' AS source
    FROM (UNPIVOT paper.grdp_structure
          ON primary_pct, secondary_pct, tertiary_pct
          INTO NAME sector VALUE share_pct)
),
shares AS (
    SELECT * FROM kosis_shares
    UNION ALL
    SELECT * FROM paper_shares p
    WHERE NOT EXISTS (SELECT 1 FROM kosis_shares k WHERE k.region_code = p.region_code AND k.year = p.year)
)
SELECT
    region_code,
    year,
    sector,
    share_pct,
    round(share_pct - lag(share_pct) OVER w, 6) AS change_pp,
    year - lag(year) OVER w AS years_since_previous,
    source
FROM shares
WINDOW w AS (PARTITION BY region_code, sector ORDER BY year)
ORDER BY region_code, year, sector
