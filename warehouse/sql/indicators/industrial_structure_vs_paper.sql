-- Where KOSIS and the paper's Table 1 cover the same region and year: the printed share against the
-- share computed from KOSIS, for quality.source_issues (differences beyond the printed precision).
WITH paper_shares AS (
    SELECT region_code, year, replace(sector, '_pct', '') AS sector, share_pct
    FROM (UNPIVOT paper.grdp_structure ON primary_pct, secondary_pct, tertiary_pct
          INTO NAME sector VALUE share_pct)
)
SELECT
    $label AS source_table,
    'region_code=' || i.region_code || ', year=' || i.year || ', sector=' || i.sector AS row_key,
    i.sector || '_pct' AS column_name,
    p.share_pct AS published,
    i.share_pct AS recomputed,
    round(p.share_pct - i.share_pct, 6) AS difference,
    'the share printed in the paper differs from the share computed from ' || i.source
        || ' by more than the printed precision' AS description,
    'paper_vs_kosis' AS check_name,
    0.05 AS tolerance
FROM indicators.industrial_structure i
JOIN paper_shares p USING (region_code, year, sector)
WHERE i.source LIKE 'KOSIS%' AND abs(p.share_pct - i.share_pct) > 0.05 + 1e-9
