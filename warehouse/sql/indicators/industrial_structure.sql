-- Sector shares of GRDP, long form (one row per region, year and sector), with the change in
-- percentage points since the previous observed year of the same region and sector.
WITH shares AS (
    SELECT region_code, year, replace(sector, '_pct', '') AS sector, share_pct,
           'paper Table 1' AS source
    FROM (UNPIVOT paper.grdp_structure
          ON primary_pct, secondary_pct, tertiary_pct
          INTO NAME sector VALUE share_pct)
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
