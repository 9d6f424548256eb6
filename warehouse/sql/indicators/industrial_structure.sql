-- Sector shares of GRDP, long form (one row per region, year and sector), with the change in
-- percentage points since the previous observed year of the same region and sector.
-- Source preference: the current vintage of the catalogued KOSIS GRDP table (grdp_by_activity), its
-- codes mapped to sectors by kosis.code_roles; the paper's Table 1 for region-years KOSIS lacks.
WITH kosis_cells AS (
    SELECT m.region_code, o.year, r.role, sum(o.value) AS value,
           'KOSIS ' || any_value(o.org_id) || '/' || any_value(o.tbl_id)
               || CASE WHEN bool_or(snap.origin = 'bundled') THEN ' bundled offline snapshot' ELSE ' live' END
               || ', current vintage' AS origin,
           max(o.lst_chn_de) AS lst_chn_de
    FROM kosis.observations_current o
    JOIN kosis.snapshots snap USING (snapshot_sha256)
    JOIN kosis.tables t ON t.id = 'grdp_by_activity' AND o.org_id = t.org_id AND o.tbl_id = t.tbl_id
    JOIN kosis.code_roles r ON r.catalog_id = t.id AND r.itm_id = o.itm_id
         AND r.code = CASE r.level WHEN 'c2' THEN o.c2 WHEN 'c3' THEN o.c3 WHEN 'c4' THEN o.c4 END
    JOIN reference.region_code_map m ON m.code_system = t.region_code_system AND m.code = o.c1
         AND o.year BETWEEN m.valid_from_year AND coalesce(m.valid_to_year, 9999)
    WHERE o.value IS NOT NULL
    GROUP BY m.region_code, o.year, r.role
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
