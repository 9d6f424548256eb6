-- Share of national (centrally initiated, co-financed) programs among Daegu's S&T programs,
-- recomputed from the counts, and its change since the previous observed year.
WITH mix AS (
    SELECT year, total_programs, national_programs, regional_programs,
           round(100.0 * national_programs / total_programs, 6) AS national_share_pct,
           round(100.0 * regional_programs / total_programs, 6) AS regional_share_pct,
           national_pct AS national_pct_printed
    FROM paper.st_program_counts
)
SELECT *,
       round(national_share_pct - lag(national_share_pct) OVER (ORDER BY year), 6) AS change_pp,
       'paper Table 7' AS source
FROM mix
ORDER BY year
