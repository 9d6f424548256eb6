-- Research- vs firm-oriented shares of R&D, from the bodies printed in Tables 8 and 9, classified
-- by reference.rd_body_orientation (research = universities + public research institutes;
-- firm = firms, SMEs and large firms).
WITH bodies AS (
    SELECT 'Table 8' AS source_table, year, managing_body AS body, share_pct FROM paper.rd_programs_by_manager
    UNION ALL
    SELECT 'Table 9', year, research_body, share_pct FROM paper.national_rd_by_body
)
SELECT
    CASE b.source_table WHEN 'Table 8' THEN 'Daegu R&D programs by managing body (Table 8)'
                        ELSE 'National R&D investment by research body (Table 9)' END AS source,
    b.year,
    round(sum(b.share_pct) FILTER (WHERE o.orientation = 'research'), 6) AS research_oriented_pct,
    round(sum(b.share_pct) FILTER (WHERE o.orientation = 'firm'), 6) AS firm_oriented_pct,
    round(coalesce(sum(b.share_pct) FILTER (WHERE o.orientation = 'intermediary'), 0), 6) AS intermediary_pct,
    round(sum(b.share_pct) FILTER (WHERE o.orientation NOT IN ('research', 'firm', 'intermediary')), 6)
        AS other_pct,
    count(*) FILTER (WHERE o.orientation IS NULL) AS unclassified_bodies,
    b.source_table
FROM bodies b
LEFT JOIN reference.rd_body_orientation o ON o.source_table = b.source_table AND o.body = b.body
GROUP BY b.source_table, b.year
ORDER BY b.source_table, b.year
