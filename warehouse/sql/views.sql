-- Views and comments of the warehouse: run after warehouse.sql and the migrations (warehouse/migrations.py),
-- once per process and database file.

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
-- Comments (docs): every table, view and column of the tables and views created above. They run after
-- every statement above, once per process and file, because CREATE OR REPLACE VIEW drops a view's comments.
-- DuckDB >= 1.1 keeps COMMENT ON COLUMN on views too (duckdb_columns().comment); COPY FROM DATABASE
-- (the published copy) keeps them. tests/test_warehouse_comments.py fails on any column without one.
-- Tables rebuilt whole by an asset (paper.*, reference.*, indicators.<indicator>) get theirs from the
-- registry when they are written.
-- ==================================================================================================

BEGIN TRANSACTION;  -- one commit for the whole block: ~6x faster than one per statement

COMMENT ON TABLE paper.catalog IS 'Each printed table of the paper: title, unit, printed source line, the file it is transcribed in and that file''s sha256.';
COMMENT ON COLUMN paper.catalog.source_table IS 'The printed table, e.g. ''Table 6''';
COMMENT ON COLUMN paper.catalog.table_name IS 'The warehouse table that holds it, e.g. paper.st_budget_2011';
COMMENT ON COLUMN paper.catalog.title IS 'The printed title';
COMMENT ON COLUMN paper.catalog.unit IS 'The printed unit (NULL: none printed)';
COMMENT ON COLUMN paper.catalog.source_note IS 'The printed ''Source:'' line';
COMMENT ON COLUMN paper.catalog.file IS 'The file the table is transcribed in, e.g. assets/sources/paper/table_6_st_budget_2011.csv';
COMMENT ON COLUMN paper.catalog.file_sha256 IS 'sha256 of that file as loaded';
COMMENT ON COLUMN paper.catalog.rows_printed IS 'Data rows in the file (printed total rows included)';
COMMENT ON COLUMN paper.catalog.rows_stored IS 'Rows stored in table_name (printed total rows are checked, not stored)';
COMMENT ON COLUMN paper.catalog.notes IS 'Notes printed under the table';
COMMENT ON COLUMN paper.catalog.refreshes IS 'Whether later years exist: refreshed (the KOSIS series that carries them), not yet refreshed (an annual successor not catalogued) or does not refresh (a one-off document)';

COMMENT ON TABLE quality.check_results IS 'One row per evaluation of a check (a log: every run appends).';
COMMENT ON COLUMN quality.check_results.run_id IS 'Dagster run that evaluated the check';
COMMENT ON COLUMN quality.check_results.asset IS 'Asset the check belongs to, e.g. sources/table_6_st_budget_2011';
COMMENT ON COLUMN quality.check_results.check_name IS 'Check name, e.g. structure or source_consistency';
COMMENT ON COLUMN quality.check_results.severity IS 'ERROR (blocks downstream, nothing written) or WARN (data land, issue recorded)';
COMMENT ON COLUMN quality.check_results.passed IS 'True when the check found no failure, false when it found some, NULL when it did not run (details.not_run says why, e.g. the structure check failed first)';
COMMENT ON COLUMN quality.check_results.n_failures IS 'Number of failures found (0 when passed)';
COMMENT ON COLUMN quality.check_results.details IS 'JSON: the first failure cases (file, line, column, value, rule) and notes';
COMMENT ON COLUMN quality.check_results.evaluated_at IS 'When the check was evaluated (local time of the pipeline)';

COMMENT ON TABLE quality.source_issues IS 'Inconsistencies of the sources as published, recorded not corrected: published and recomputed values side by side.';
COMMENT ON COLUMN quality.source_issues.source_table IS 'Printed table (e.g. Table 6), or kosis:<org>/<tbl> for a KOSIS table, or Table N vs KOSIS';
COMMENT ON COLUMN quality.source_issues.row_key IS 'Key of the row concerned, e.g. region_code=22';
COMMENT ON COLUMN quality.source_issues.column_name IS 'Column whose published value disagrees';
COMMENT ON COLUMN quality.source_issues.published IS 'Value as published';
COMMENT ON COLUMN quality.source_issues.recomputed IS 'Value recomputed from other published values (NULL for recorded issues)';
COMMENT ON COLUMN quality.source_issues.difference IS 'published - recomputed';
COMMENT ON COLUMN quality.source_issues.description IS 'What was compared, in words';
COMMENT ON COLUMN quality.source_issues.check_name IS 'Rule that found it, or recorded (assets/sources/paper/recorded_issues.yaml)';
COMMENT ON COLUMN quality.source_issues.tolerance IS 'Largest difference accepted: the printed precision';

COMMENT ON TABLE quality.quarantine IS 'Rows that failed validation and were kept out of the warehouse (a log: every run appends).';
COMMENT ON COLUMN quality.quarantine.source IS 'File or snapshot the row came from, e.g. assets/sources/paper/table_2_sme_share_manufacturing.csv';
COMMENT ON COLUMN quality.quarantine.payload IS 'JSON of the row as received';
COMMENT ON COLUMN quality.quarantine.reason IS 'Why it failed: for files, file:line, column, value and every rule it broke';
COMMENT ON COLUMN quality.quarantine.run_id IS 'Dagster run that quarantined it';
COMMENT ON COLUMN quality.quarantine.asset IS 'Asset that validated it';
COMMENT ON COLUMN quality.quarantine.quarantined_at IS 'When it was quarantined';

COMMENT ON TABLE kosis.snapshots IS 'Every KOSIS response body (or replayed file) archived under warehouse/data/raw/, by sha256.';
COMMENT ON COLUMN kosis.snapshots.snapshot_sha256 IS 'sha256 of the body as received; the archive file name';
COMMENT ON COLUMN kosis.snapshots.catalog_id IS 'Catalog entry (kosis.tables.id) the request was for';
COMMENT ON COLUMN kosis.snapshots.org_id IS 'KOSIS organisation id (orgId)';
COMMENT ON COLUMN kosis.snapshots.tbl_id IS 'KOSIS table id (tblId)';
COMMENT ON COLUMN kosis.snapshots.request IS 'Request URL with the API key removed, or bundled:/inbox:<file> for a replayed file';
COMMENT ON COLUMN kosis.snapshots.fetched_at IS 'When the body was fetched or replayed';
COMMENT ON COLUMN kosis.snapshots.n_records IS 'Number of data records in the body';
COMMENT ON COLUMN kosis.snapshots.path IS 'Archive path of the body (warehouse/data/raw/<sha[:2]>/<sha256>.json)';
COMMENT ON COLUMN kosis.snapshots.origin IS 'live (fetched from KOSIS), bundled (shipped offline file), inbox (a getList JSON dropped in warehouse/data/inbox/) or inbox-portal (a KOSIS portal CSV/XLSX placed by make inbox-import, archived as received)';
COMMENT ON COLUMN kosis.snapshots.kosis_code IS 'NULL for data; the KOSIS err code when KOSIS answered with one (30 = no data)';
COMMENT ON COLUMN kosis.snapshots.masked IS 'How many times the API key (in any encoding) was masked in the body before archiving (then the sha256 is of the masked body)';
COMMENT ON COLUMN kosis.snapshots.n_loaded IS 'Records merged (new, revised or unchanged): n_records = n_loaded + n_quarantined + n_skipped';
COMMENT ON COLUMN kosis.snapshots.n_quarantined IS 'Records sent to quality.quarantine with a reason';
COMMENT ON COLUMN kosis.snapshots.n_skipped IS 'Offline replays only: records of years another file or run provides';


-- kosis.observations and its view's columns are commented from schemas/kosis.py: OBSERVATION_ROW.
COMMENT ON VIEW kosis.observations_current IS 'The current vintage of every KOSIS cell: kosis.observations WHERE valid_to IS NULL.';

COMMENT ON TABLE kosis.tables IS 'The catalog (assets/sources/kosis/catalog.yaml): the KOSIS tables the pipeline ingests and the paper''s figures in KOSIS form (source = paper), with what was last seen of each.';
COMMENT ON COLUMN kosis.tables.id IS 'Catalog id, e.g. grdp_by_activity_2020';
COMMENT ON COLUMN kosis.tables.org_id IS 'KOSIS organisation id (orgId)';
COMMENT ON COLUMN kosis.tables.tbl_id IS 'KOSIS table id (tblId)';
COMMENT ON COLUMN kosis.tables.tbl_nm IS 'Table name';
COMMENT ON COLUMN kosis.tables.prd_se IS 'Period type requested (prdSe, e.g. Y)';
COMMENT ON COLUMN kosis.tables.unit IS 'Unit of the values';
COMMENT ON COLUMN kosis.tables.last_period IS 'Latest period loaded';
COMMENT ON COLUMN kosis.tables.last_lst_chn_de IS 'Latest LST_CHN_DE (revision date) loaded';
COMMENT ON COLUMN kosis.tables.last_checked_at IS 'When KOSIS (or the offline files) were last asked for new periods';
COMMENT ON COLUMN kosis.tables.verified IS 'True only when verification says live-checked on a date';
COMMENT ON COLUMN kosis.tables.used_by IS 'Indicators that read the table';
COMMENT ON COLUMN kosis.tables.region_code_system IS 'Code system of the region axis: kosis_sido or admin (reference.region_code_map), or table (kosis.region_codes)';
COMMENT ON COLUMN kosis.tables.bundled_provenance IS 'What the bundled offline file holds and where its figures come from';
COMMENT ON COLUMN kosis.tables.source IS 'kosis (a KOSIS table) or paper (the paper''s printed figures in KOSIS form, never KOSIS data)';
COMMENT ON COLUMN kosis.tables.series IS 'The concept several tables share (e.g. grdp_by_activity across base years)';
COMMENT ON COLUMN kosis.tables.priority IS 'Within a series, the lowest number covering a region-year is used';
COMMENT ON COLUMN kosis.tables.base_year IS 'Price or classification base of the table (a change of base breaks a series)';
COMMENT ON COLUMN kosis.tables.first_period IS 'First catalogued period';
COMMENT ON COLUMN kosis.tables.final_period IS 'Last period of a discontinued table (NULL: still published)';
COMMENT ON COLUMN kosis.tables.verification IS 'public-evidence, live-checked on DATE, or not KOSIS';
COMMENT ON COLUMN kosis.tables.evidence IS 'Where each identifier and code was seen (repository and file), one per line';
COMMENT ON COLUMN kosis.tables.source_label IS 'Where the numbers come from, in words (used by indicators and the report)';

COMMENT ON TABLE kosis.period_updates IS 'The service''s date for each period of a table (getMeta NCD SEND_DE) when the pipeline last read it.';
COMMENT ON COLUMN kosis.period_updates.catalog_id IS 'Catalog id (kosis.tables.id)';
COMMENT ON COLUMN kosis.period_updates.year IS 'Year of the period';
COMMENT ON COLUMN kosis.period_updates.update_de IS 'SEND_DE as YYYYMMDD: a later date at the service makes the refresh re-read the period';
COMMENT ON COLUMN kosis.period_updates.recorded_at IS 'When the pipeline recorded this date';

COMMENT ON TABLE kosis.code_roles IS 'Which cells of a catalogued table an indicator reads, and as what: a cell plays a role when, on every level the role lists, its code or name is accepted.';
COMMENT ON COLUMN kosis.code_roles.catalog_id IS 'Catalog id (kosis.tables.id)';
COMMENT ON COLUMN kosis.code_roles.role IS 'What an indicator reads it as, e.g. primary (industry share) or workers_sme';
COMMENT ON COLUMN kosis.code_roles.itm_id IS 'The role''s item as catalogued (* = any item, narrowed by level itm)';
COMMENT ON COLUMN kosis.code_roles.level IS 'Dimension: itm (the item) or c1 .. c8';
COMMENT ON COLUMN kosis.code_roles.code IS 'Accepted code, or accepted Korean name when match_by = name';
COMMENT ON COLUMN kosis.code_roles.match_by IS 'code or name (names where public evidence shows names but not codes)';

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

COMMENT ON TABLE indicators.catalog IS 'One row per indicator table: unit, formula, sources and which source the current build used.';
COMMENT ON COLUMN indicators.catalog.indicator IS 'Indicator name';
COMMENT ON COLUMN indicators.catalog.table_name IS 'Table that holds it, e.g. indicators.sme_concentration';
COMMENT ON COLUMN indicators.catalog.unit IS 'Unit of its values';
COMMENT ON COLUMN indicators.catalog.formula IS 'How it is computed';
COMMENT ON COLUMN indicators.catalog.sources IS 'Tables it reads';
COMMENT ON COLUMN indicators.catalog.description IS 'What it shows';
COMMENT ON COLUMN indicators.catalog.source_used IS 'Which source the current build used (a KOSIS vintage or the paper table)';

COMMENT ON COLUMN kosis.tables.region_level IS 'The axis that holds the region (c1 .. c8; the SME ministry''s tables: c2)';
COMMENT ON COLUMN kosis.tables.definition IS 'What the table''s concept means where tables of one series differ (e.g. which firms are SMEs), in words';
COMMENT ON TABLE kosis.region_codes IS 'A table''s own region codes (region_code_system = table, e.g. the SME ministry''s 15142C504 = 대구) mapped to the statistical sido; from the catalog''s region_codes, built from getMeta''s names.';
COMMENT ON COLUMN kosis.region_codes.catalog_id IS 'Catalog id (kosis.tables.id)';
COMMENT ON COLUMN kosis.region_codes.code IS 'The region code as the table uses it on its region axis';
COMMENT ON COLUMN kosis.region_codes.region_code IS 'The statistical sido code it maps to (reference.regions)';
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
COMMENT ON TABLE quality.kosis_cell_accounting IS 'Every current KOSIS cell accounted for up to the indicators, per catalogued table, year, outcome and reason (rebuilt after the indicators on every run).';
COMMENT ON COLUMN quality.kosis_cell_accounting.catalog_id IS 'Catalog id (kosis.tables.id)';
COMMENT ON COLUMN quality.kosis_cell_accounting.org_id IS 'KOSIS organisation id';
COMMENT ON COLUMN quality.kosis_cell_accounting.tbl_id IS 'KOSIS table id';
COMMENT ON COLUMN quality.kosis_cell_accounting.year IS 'Year of the cells (NULL: the table loaded no cell at all)';
COMMENT ON COLUMN quality.kosis_cell_accounting.outcome IS 'feeds an indicator | superseded (a preferred table of the series holds the region-year) | not read | read, no indicator row | nothing loaded';
COMMENT ON COLUMN quality.kosis_cell_accounting.reason IS 'Why, in words: the roles read, the preferred table, item not used, code in no role, region code unmapped, value not a number';
COMMENT ON COLUMN quality.kosis_cell_accounting.n_cells IS 'Number of current cells';
COMMENT ON COLUMN quality.kosis_cell_accounting.indicator IS 'The indicator(s) fed, or those the table is catalogued for';
COMMENT ON COLUMN quality.kosis_cell_accounting.example IS 'One cell_key of these cells';
COMMENT ON COLUMN quality.kosis_cell_accounting.built_at IS 'When the accounting was built (UTC)';

COMMENT ON TABLE kosis.rollbacks IS 'One row per rolled-back KOSIS snapshot (make rollback): its current vintages closed, the vintages it had closed current again.';
COMMENT ON COLUMN kosis.rollbacks.snapshot_sha256 IS 'The rolled-back snapshot (kosis.snapshots, kept, as is its archived body)';
COMMENT ON COLUMN kosis.rollbacks.rolled_back_at IS 'When (valid_to of the closed rows, UTC)';
COMMENT ON COLUMN kosis.rollbacks.cells_closed IS 'Current vintages of the snapshot closed';
COMMENT ON COLUMN kosis.rollbacks.cells_reopened IS 'Vintages the snapshot had closed that are current again';
COMMENT ON COLUMN kosis.rollbacks.reason IS 'Why, as given to make rollback';

COMMENT ON TABLE meta.schema_migrations IS 'Schema migrations applied to this warehouse (warehouse/migrations.py), one row per version.';
COMMENT ON COLUMN meta.schema_migrations.version IS 'Migration version (ordered)';
COMMENT ON COLUMN meta.schema_migrations.applied_at IS 'When it was applied to this file (UTC)';
COMMENT ON COLUMN meta.schema_migrations.description IS 'What it changed, and the release that introduced it';

COMMIT;
