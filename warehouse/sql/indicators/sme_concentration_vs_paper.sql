-- Where KOSIS and the paper's Table 2 cover the same region and year: printed vs KOSIS-derived shares.
SELECT
    $label AS source_table,
    'region_code=' || i.region_code || ', year=' || i.year AS row_key,
    col.column_name,
    col.published,
    col.recomputed,
    round(col.published - col.recomputed, 6) AS difference,
    'the share printed in the paper differs from the share computed from ' || i.source
        || ' by more than the printed precision' AS description,
    'paper_vs_kosis' AS check_name,
    0.05 AS tolerance
FROM indicators.sme_concentration i
JOIN paper.sme_share_manufacturing p USING (region_code, year)
CROSS JOIN LATERAL (
    VALUES ('sme_firm_pct', p.sme_firm_pct, i.sme_firm_pct),
           ('sme_worker_pct', p.sme_worker_pct, i.sme_worker_pct)
) AS col(column_name, published, recomputed)
WHERE i.source LIKE 'KOSIS%' AND abs(col.published - col.recomputed) > 0.05 + 1e-9
