-- Every current cell of every catalogued table, accounted for up to the indicators: one row per table, year,
-- outcome and reason with the number of cells. The fed CTE is generated (assets/accounting.py): one SELECT per indicator
-- that reads KOSIS, giving the region-years it holds and the source_table each row came from.
WITH fed AS (
    {fed}
),
fed_cells AS (  -- a row's source_table may name several tables read together (a+b)
    SELECT indicator, region_code, year, unnest(string_split(source_table, '+')) AS catalog_id FROM fed
),
fed_by AS (
    SELECT catalog_id, region_code, year, string_agg(DISTINCT indicator, ', ' ORDER BY indicator) AS indicators
    FROM fed_cells GROUP BY ALL
),
held_by_other AS (
    SELECT indicator, region_code, year, string_agg(DISTINCT source_table, ', ' ORDER BY source_table) AS sources
    FROM fed GROUP BY ALL
),
cells AS (
    SELECT c.*, t.used_by, string_split(coalesce(t.used_by, ''), ', ') AS used_by_list,
           f.indicators AS feeds
    FROM kosis.cell_roles c
    JOIN kosis.tables t ON t.id = c.catalog_id
    LEFT JOIN fed_by f ON f.catalog_id = c.catalog_id AND f.region_code = c.region_code AND f.year = c.year
),
judged AS (
    SELECT c.catalog_id, c.org_id, c.tbl_id, c.year, c.cell_key,
           CASE WHEN c.region_code IS NULL OR len(c.roles) = 0 OR c.value IS NULL THEN 'not read'
                WHEN c.feeds IS NOT NULL THEN 'feeds an indicator'
                WHEN o.sources IS NOT NULL THEN 'superseded'
                ELSE 'read, no indicator row' END AS outcome,
           CASE WHEN c.region_code IS NULL
                     THEN 'region code unmapped: ' || coalesce(c.region_raw, 'NULL') || ' on ' || c.region_level
                          || ' maps to no region in ' || c.year
                WHEN len(c.roles) = 0 AND NOT c.item_used THEN 'item not used: ' || c.itm_id
                WHEN len(c.roles) = 0 THEN 'code in no role (item ' || c.itm_id || ' read, but no role lists '
                                           || 'this combination of codes)'
                WHEN c.value IS NULL THEN 'value not a number: ' || coalesce(c.value_raw, 'NULL')
                WHEN c.feeds IS NOT NULL THEN 'read as ' || array_to_string(c.roles, '+')
                WHEN o.sources IS NOT NULL THEN 'superseded: the indicator uses ' || o.sources
                                                || ' for this region and year (a preferred table of the series)'
                ELSE 'read as ' || array_to_string(c.roles, '+') || ', but the indicator has no row for this '
                     || 'region and year (another role it needs is missing)' END AS reason,
           coalesce(c.feeds, array_to_string(c.used_by_list, ', ')) AS indicator
    FROM cells c
    LEFT JOIN LATERAL (SELECT string_agg(DISTINCT h.sources, ', ') AS sources FROM held_by_other h
                       WHERE list_contains(c.used_by_list, h.indicator) AND h.region_code = c.region_code
                         AND h.year = c.year) o ON true
)
SELECT catalog_id, org_id, tbl_id, year, outcome, reason, count(*) AS n_cells, any_value(indicator) AS indicator,
       min(cell_key) AS example, $now AS built_at
FROM judged
GROUP BY catalog_id, org_id, tbl_id, year, outcome, reason
UNION ALL
-- Tables whose records were received but of which no cell is current: every record was quarantined.
SELECT t.id, t.org_id, t.tbl_id, NULL, 'nothing loaded',
       'records received (' || sum(s.n_records) || '), none loaded: ' || coalesce(sum(s.n_quarantined), 0)
       || ' quarantined (quality.quarantine)', 0, t.used_by, NULL, $now
FROM kosis.tables t JOIN kosis.snapshots s ON s.catalog_id = t.id
WHERE s.n_records > 0
  AND NOT EXISTS (SELECT 1 FROM kosis.observations_current o WHERE o.org_id = t.org_id AND o.tbl_id = t.tbl_id)
  AND NOT EXISTS (SELECT 1 FROM kosis.rollbacks r WHERE r.snapshot_sha256 = s.snapshot_sha256)
GROUP BY t.id, t.org_id, t.tbl_id, t.used_by
