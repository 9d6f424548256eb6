-- How far each region's S&T budget depends on the central government: every share is recomputed
-- from the printed amounts (the printed ratio is kept beside it for comparison).
SELECT
    b.region_code,
    g.name_en AS region_name,
    coalesce(n.name_ko, g.name_ko) AS region_name_ko,
    b.year,
    total_budget_mkrw,
    national_fund_mkrw,
    regional_fund_mkrw,
    total_budget_mkrw - national_fund_mkrw - regional_fund_mkrw AS other_fund_mkrw,
    round(100.0 * national_fund_mkrw / total_budget_mkrw, 6) AS national_share_pct,
    round(100.0 * regional_fund_mkrw / total_budget_mkrw, 6) AS regional_share_pct,
    round(100.0 * (total_budget_mkrw - national_fund_mkrw - regional_fund_mkrw) / total_budget_mkrw, 6)
        AS other_share_pct,
    national_fund_mkrw > regional_fund_mkrw AS national_exceeds_regional,
    regional_ratio_pct AS regional_ratio_pct_printed,
    finance_independence_pct,
    'paper Table 6' AS source
FROM paper.st_budget_2011 b
JOIN reference.regions g USING (region_code)
LEFT JOIN reference.region_names n ON n.region_code = b.region_code
     AND b.year BETWEEN n.valid_from_year AND coalesce(n.valid_to_year, 9999)
ORDER BY b.region_code
