-- Views and their comments: run after the tables (schemas/warehouse_tables.py) and the migrations
-- (warehouse/migrations.py), once per process and database file.

CREATE OR REPLACE VIEW kosis.observations_current AS
SELECT * FROM kosis.observations WHERE valid_to IS NULL;

-- What indicators read from KOSIS: the current vintage summed by role, region codes mapped to
-- reference.regions. A cell plays a role when its item matches and, for every level the role lists in
-- kosis.code_roles, its code at that level is one of the listed codes (e.g. c2 = C and c3 a size class
-- under 300 employees). One row per catalogued table, region, year and role, so that an indicator can
-- prefer one table of a series (lowest priority) and say which one it used.
-- The region codes each catalogued table may carry on its region axis (kosis.tables.region_level), with the
-- years each maps in: the rows of reference.region_code_map for the table's code system, or the table's own codes
-- (region_code_system = 'table', kosis.region_codes, e.g. the SME ministry's 전국..세종 on C2).
CREATE OR REPLACE VIEW kosis.table_region_codes AS
SELECT t.id AS catalog_id, m.code, m.region_code, coalesce(m.valid_from_year, 1900) AS valid_from_year,
       coalesce(m.valid_to_year, 9999) AS valid_to_year
FROM kosis.tables t JOIN reference.region_code_map m ON m.code_system = t.region_code_system
UNION ALL
SELECT r.catalog_id, r.code, r.region_code, 1900, 9999
FROM kosis.region_codes r JOIN kosis.tables t ON t.id = r.catalog_id AND t.region_code_system = 'table';

-- Every current cell of a catalogued table with the region it belongs to (NULL: its code maps to no region in
-- that year) and the roles it plays (empty: none). A cell plays a role when its item matches and, for every level
-- the role lists in kosis.code_roles, its code at that level is one of the listed codes (e.g. c2 = C and c3 a
-- size class under 300 employees). What kosis.role_values sums and quality.kosis_cell_accounting counts.
CREATE OR REPLACE VIEW kosis.cell_roles AS
WITH role_levels AS (
    SELECT catalog_id, role, level,
           coalesce(list(code) FILTER (WHERE match_by = 'code'), []) AS codes,
           coalesce(list(code) FILTER (WHERE match_by = 'name'), []) AS names,
           count(*) OVER (PARTITION BY catalog_id, role) AS n_levels
    FROM kosis.code_roles
    GROUP BY catalog_id, role, level
),
cells AS (
    SELECT t.id AS catalog_id, t.region_level, o.*,
           CASE t.region_level WHEN 'c1' THEN o.c1 WHEN 'c2' THEN o.c2 WHEN 'c3' THEN o.c3 WHEN 'c4' THEN o.c4
                               WHEN 'c5' THEN o.c5 WHEN 'c6' THEN o.c6 WHEN 'c7' THEN o.c7 WHEN 'c8' THEN o.c8 END
               AS region_raw
    FROM kosis.observations_current o
    JOIN kosis.tables t ON o.org_id = t.org_id AND o.tbl_id = t.tbl_id
),
level_matches AS (
    SELECT c.cell_key, c.catalog_id, rl.role, rl.level, any_value(rl.n_levels) AS n_levels
    FROM cells c
    JOIN role_levels rl ON rl.catalog_id = c.catalog_id
         AND (list_contains(rl.codes, CASE rl.level WHEN 'itm' THEN c.itm_id WHEN 'c1' THEN c.c1 WHEN 'c2' THEN c.c2
                                                    WHEN 'c3' THEN c.c3 WHEN 'c4' THEN c.c4 WHEN 'c5' THEN c.c5
                                                    WHEN 'c6' THEN c.c6 WHEN 'c7' THEN c.c7 WHEN 'c8' THEN c.c8 END)
              OR list_contains(rl.names, trim(CASE rl.level WHEN 'itm' THEN c.itm_nm WHEN 'c1' THEN c.c1_nm
                                                            WHEN 'c2' THEN c.c2_nm WHEN 'c3' THEN c.c3_nm END)))
    GROUP BY ALL
),
roles AS (
    SELECT cell_key, catalog_id, list(role ORDER BY role) AS roles
    FROM (SELECT cell_key, catalog_id, role FROM level_matches GROUP BY ALL HAVING count(*) = any_value(n_levels))
    GROUP BY ALL
),
item_roles AS (  -- whether the cell's item is one some role of its table reads (to say "item not used")
    SELECT DISTINCT m.cell_key, m.catalog_id FROM level_matches m
    WHERE m.level = 'itm' OR NOT EXISTS (SELECT 1 FROM kosis.code_roles r WHERE r.catalog_id = m.catalog_id
                                                                   AND r.role = m.role AND r.level = 'itm')
)
SELECT c.catalog_id, c.cell_key, c.org_id, c.tbl_id, c.itm_id, c.itm_nm, c.c1, c.c2, c.c3, c.c1_nm, c.c2_nm, c.c3_nm,
       c.year, c.value, c.value_raw, c.lst_chn_de, c.snapshot_sha256, c.region_level, c.region_raw,
       (SELECT any_value(m.region_code) FROM kosis.table_region_codes m
        WHERE m.catalog_id = c.catalog_id AND m.code = c.region_raw
          AND c.year BETWEEN m.valid_from_year AND m.valid_to_year) AS region_code,
       coalesce(r.roles, []) AS roles,
       i.cell_key IS NOT NULL OR NOT EXISTS (SELECT 1 FROM kosis.code_roles x WHERE x.catalog_id = c.catalog_id
                                                                                AND x.level = 'itm') AS item_used
FROM cells c
LEFT JOIN roles r ON r.cell_key = c.cell_key AND r.catalog_id = c.catalog_id
LEFT JOIN item_roles i ON i.cell_key = c.cell_key AND i.catalog_id = c.catalog_id;

-- What indicators read from KOSIS: the current vintage summed by role, region codes mapped to reference.regions
-- through the table's region axis and code system. One row per catalogued table, region, year and role, so that
-- an indicator can prefer one table of a series (lowest priority) and say which one it used.
CREATE OR REPLACE VIEW kosis.role_values AS
WITH cells AS (
    SELECT catalog_id, region_code, year, unnest(roles) AS role, value, lst_chn_de, snapshot_sha256
    FROM kosis.cell_roles
    WHERE region_code IS NOT NULL
)
SELECT
    t.id AS catalog_id,
    coalesce(t.series, t.id) AS series,
    coalesce(t.priority, 100) AS priority,
    coalesce(t.source, 'kosis') AS source_kind,
    c.region_code,
    c.year,
    c.role,
    -- A role with a cell that holds no number (suppressed "*", empty "-") has no sum: NULL, not the sum of the
    -- rest, which would pass for the whole.
    CASE WHEN count(c.value) = count(*) THEN sum(c.value) END AS value,
    count(*) AS n_cells,
    count(*) - count(c.value) AS n_missing,
    CASE WHEN coalesce(t.source, 'kosis') = 'kosis'
         THEN coalesce(t.source_label, 'KOSIS table ' || t.org_id || '/' || t.tbl_id) || ', '
              || string_agg(DISTINCT snap.origin, '+' ORDER BY snap.origin) || ', current vintage'
              || coalesce(' (LST_CHN_DE ' || max(c.lst_chn_de) || ')', '')
         ELSE coalesce(t.source_label, t.tbl_nm) END AS origin,
    max(c.lst_chn_de) AS lst_chn_de
FROM cells c
JOIN kosis.snapshots snap USING (snapshot_sha256)
JOIN kosis.tables t ON t.id = c.catalog_id
GROUP BY t.id, t.series, t.priority, t.source, t.source_label, t.org_id, t.tbl_id, t.tbl_nm, c.region_code, c.year,
         c.role;

-- ==================================================================================================
-- Comments (docs) of the views above. They run after every statement above, once per process and file,
-- because CREATE OR REPLACE VIEW drops a view's comments. DuckDB >= 1.1 keeps COMMENT ON COLUMN on views too
-- (duckdb_columns().comment); COPY FROM DATABASE (the published copy) keeps them.
-- tests/test_warehouse_comments.py fails on any column without one. The tables' comments are generated from
-- their definitions (schemas/warehouse_tables.py, schemas/kosis.py, the registry, the indicator specs).
-- ==================================================================================================

BEGIN TRANSACTION;  -- one commit for the whole block: ~6x faster than one per statement

-- kosis.observations and its view's columns are commented from schemas/kosis.py: OBSERVATION_ROW.
COMMENT ON VIEW kosis.observations_current IS 'The current vintage of every KOSIS cell: kosis.observations WHERE valid_to IS NULL.';

COMMENT ON VIEW kosis.role_values IS 'What indicators read from KOSIS: the current vintage summed by role, per catalogued table, regions mapped to reference.regions.';
COMMENT ON COLUMN kosis.role_values.catalog_id IS 'Catalog id (kosis.tables.id)';
COMMENT ON COLUMN kosis.role_values.series IS 'Series of the table (kosis.tables.series)';
COMMENT ON COLUMN kosis.role_values.priority IS 'Preference within the series (lower first)';
COMMENT ON COLUMN kosis.role_values.source_kind IS 'kosis or paper (the paper''s figures in KOSIS form)';
COMMENT ON COLUMN kosis.role_values.region_code IS 'KOSIS statistical sido code (reference.regions), mapped from the table''s region axis (kosis.tables.region_level)';
COMMENT ON COLUMN kosis.role_values.year IS 'Year of the period';
COMMENT ON COLUMN kosis.role_values.role IS 'Role of the summed cells (kosis.code_roles.role)';
COMMENT ON COLUMN kosis.role_values.value IS 'Sum of the current values of the cells with that role; NULL when any of them holds no number (n_missing > 0): a partial sum is never passed for the whole';
COMMENT ON COLUMN kosis.role_values.n_missing IS 'Cells of the role that hold no number (DT * or -, value NULL)';
COMMENT ON COLUMN kosis.role_values.n_cells IS 'Number of cells with that role (summed when none is missing)';
COMMENT ON COLUMN kosis.role_values.origin IS 'Where the numbers come from, in words: KOSIS table, origin (live, inbox) and LST_CHN_DE, or the paper''s table';
COMMENT ON COLUMN kosis.role_values.lst_chn_de IS 'Latest LST_CHN_DE among the summed cells (NULL for the paper''s figures)';

COMMENT ON VIEW kosis.table_region_codes IS 'The region codes each catalogued table may carry on its region axis, with the years each maps in: reference.region_code_map for its code system, or its own kosis.region_codes.';
COMMENT ON COLUMN kosis.table_region_codes.catalog_id IS 'Catalog id (kosis.tables.id)';
COMMENT ON COLUMN kosis.table_region_codes.code IS 'Region code as the table uses it';
COMMENT ON COLUMN kosis.table_region_codes.region_code IS 'Statistical sido code (reference.regions)';
COMMENT ON COLUMN kosis.table_region_codes.valid_from_year IS 'First year the code maps (1900: always)';
COMMENT ON COLUMN kosis.table_region_codes.valid_to_year IS 'Last year the code maps (9999: still)';
COMMENT ON VIEW kosis.cell_roles IS 'Every current KOSIS cell of a catalogued table with its region (NULL: unmapped) and the roles it plays (empty: none): what kosis.role_values sums and quality.kosis_cell_accounting counts.';
COMMENT ON COLUMN kosis.cell_roles.catalog_id IS 'Catalog id (kosis.tables.id)';
COMMENT ON COLUMN kosis.cell_roles.cell_key IS 'The cell (kosis.observations.cell_key)';
COMMENT ON COLUMN kosis.cell_roles.org_id IS 'KOSIS organisation id';
COMMENT ON COLUMN kosis.cell_roles.tbl_id IS 'KOSIS table id';
COMMENT ON COLUMN kosis.cell_roles.itm_id IS 'Item id';
COMMENT ON COLUMN kosis.cell_roles.itm_nm IS 'Item name as sent';
COMMENT ON COLUMN kosis.cell_roles.c1 IS 'Code at level 1';
COMMENT ON COLUMN kosis.cell_roles.c2 IS 'Code at level 2';
COMMENT ON COLUMN kosis.cell_roles.c3 IS 'Code at level 3';
COMMENT ON COLUMN kosis.cell_roles.c1_nm IS 'Name at level 1 as sent';
COMMENT ON COLUMN kosis.cell_roles.c2_nm IS 'Name at level 2 as sent';
COMMENT ON COLUMN kosis.cell_roles.c3_nm IS 'Name at level 3 as sent';
COMMENT ON COLUMN kosis.cell_roles.year IS 'Year of the period';
COMMENT ON COLUMN kosis.cell_roles.value IS 'DT as a number (NULL: a non-number marker)';
COMMENT ON COLUMN kosis.cell_roles.value_raw IS 'DT as received';
COMMENT ON COLUMN kosis.cell_roles.lst_chn_de IS 'LST_CHN_DE as sent';
COMMENT ON COLUMN kosis.cell_roles.snapshot_sha256 IS 'Snapshot the current vintage was read from';
COMMENT ON COLUMN kosis.cell_roles.region_level IS 'The table''s region axis (kosis.tables.region_level)';
COMMENT ON COLUMN kosis.cell_roles.region_raw IS 'The cell''s code on that axis';
COMMENT ON COLUMN kosis.cell_roles.region_code IS 'Statistical sido code it maps to in that year (NULL: none)';
COMMENT ON COLUMN kosis.cell_roles.roles IS 'Roles the cell plays (kosis.code_roles; empty: none)';
COMMENT ON COLUMN kosis.cell_roles.item_used IS 'Whether some role of the table reads the cell''s item';

COMMIT;
