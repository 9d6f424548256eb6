-- Resident population by region and year (KOSIS resident registration, series population), the country
-- row included, with ranks among the metropolitan cities (Seoul included) and among all regions.
WITH preferred AS (
    SELECT catalog_id, region_code, year, value, origin
    FROM kosis.role_values
    WHERE series = 'population' AND role = 'population' AND value IS NOT NULL  -- no partial sums
    QUALIFY row_number() OVER (PARTITION BY region_code, year ORDER BY priority, catalog_id) = 1
)
SELECT
    p.region_code,
    g.name_en AS region_name,
    coalesce(n.name_ko, g.name_ko) AS region_name_ko,
    p.year,
    g.region_type,
    CAST(round(p.value) AS BIGINT) AS population,
    CASE WHEN g.region_type = 'metropolitan'
         THEN rank() OVER (PARTITION BY p.year, g.region_type = 'metropolitan' ORDER BY p.value DESC) END
        AS city_rank,
    CASE WHEN p.region_code <> '00'
         THEN rank() OVER (PARTITION BY p.year, p.region_code = '00' ORDER BY p.value DESC) END AS region_rank,
    coalesce(lag(p.catalog_id) OVER (PARTITION BY p.region_code ORDER BY p.year) <> p.catalog_id, false)
        AS series_break,
    p.catalog_id AS source_table,
    p.origin AS source
FROM preferred p
JOIN reference.regions g USING (region_code)
LEFT JOIN reference.region_names n ON n.region_code = p.region_code
     AND p.year BETWEEN n.valid_from_year AND coalesce(n.valid_to_year, 9999)
ORDER BY p.year, p.region_code
