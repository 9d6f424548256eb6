-- Schemas and the tables that the pipeline appends to or merges into (the contract, docs/warehouse-contract.md).
-- Tables rebuilt whole by an asset (paper.*, reference.*, indicators.*) are created by that asset from
-- the metadata registry. Every statement is idempotent: this file runs on every connection setup.

CREATE SCHEMA IF NOT EXISTS reference;
CREATE SCHEMA IF NOT EXISTS paper;
CREATE SCHEMA IF NOT EXISTS kosis;
CREATE SCHEMA IF NOT EXISTS indicators;
CREATE SCHEMA IF NOT EXISTS quality;

CREATE TABLE IF NOT EXISTS quality.check_results (
    run_id        VARCHAR NOT NULL,
    asset         VARCHAR NOT NULL,
    check_name    VARCHAR NOT NULL,
    severity      VARCHAR NOT NULL CHECK (severity IN ('ERROR', 'WARN')),
    passed        BOOLEAN NOT NULL,
    n_failures    INTEGER NOT NULL,
    details       VARCHAR,            -- JSON: the first failure cases
    evaluated_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS quality.source_issues (
    source_table  VARCHAR NOT NULL,   -- 'Table 6', or 'kosis:101/DT_1C81' for a KOSIS table
    row_key       VARCHAR NOT NULL,
    column_name   VARCHAR NOT NULL,
    published     DOUBLE,
    recomputed    DOUBLE,
    difference    DOUBLE,
    description   VARCHAR NOT NULL,
    check_name    VARCHAR,
    tolerance     DOUBLE
);

CREATE TABLE IF NOT EXISTS quality.quarantine (
    source          VARCHAR NOT NULL,  -- the file or snapshot the row came from
    payload         JSON NOT NULL,     -- the row as received
    reason          VARCHAR NOT NULL,
    run_id          VARCHAR NOT NULL,
    asset           VARCHAR,
    quarantined_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS kosis.snapshots (
    snapshot_sha256  VARCHAR PRIMARY KEY,
    catalog_id       VARCHAR NOT NULL,
    org_id           VARCHAR NOT NULL,
    tbl_id           VARCHAR NOT NULL,
    request          VARCHAR NOT NULL,  -- the request URL, with the API key removed
    fetched_at       TIMESTAMP NOT NULL,
    n_records        INTEGER NOT NULL,
    path             VARCHAR NOT NULL,
    origin           VARCHAR NOT NULL,  -- 'live' (fetched) or 'bundled' (offline replay)
    kosis_code       VARCHAR            -- NULL for data; '30' when KOSIS answered "no data"
);
-- Columns added after the first release: ADD COLUMN IF NOT EXISTS upgrades existing warehouses in place.
-- masked: occurrences of the API key (any encoding) masked in the body before it was archived; when it is
-- above 0, the archived file and snapshot_sha256 are those of the masked body, not of the bytes received.
ALTER TABLE kosis.snapshots ADD COLUMN IF NOT EXISTS masked INTEGER DEFAULT 0;
-- Conservation, per snapshot: n_records (received) = n_loaded + n_quarantined + n_skipped, checked before the
-- load writes anything. n_loaded: rows that passed validation and were merged, new, revised or unchanged (a
-- cell already current counts as loaded: it is in kosis.observations_current). n_quarantined: rows written
-- to quality.quarantine with the reason. n_skipped: offline replays only, records of years that this run did
-- not take from this file. NULL for snapshots recorded before these columns existed.
ALTER TABLE kosis.snapshots ADD COLUMN IF NOT EXISTS n_loaded INTEGER;
ALTER TABLE kosis.snapshots ADD COLUMN IF NOT EXISTS n_quarantined INTEGER;
ALTER TABLE kosis.snapshots ADD COLUMN IF NOT EXISTS n_skipped INTEGER;

CREATE TABLE IF NOT EXISTS kosis.observations (
    cell_key         VARCHAR NOT NULL,  -- org|tbl|itm|c1..c8|prd_se|prd_de: one cell of one period
    org_id           VARCHAR NOT NULL,
    tbl_id           VARCHAR NOT NULL,
    itm_id           VARCHAR NOT NULL,
    c1 VARCHAR, c2 VARCHAR, c3 VARCHAR, c4 VARCHAR, c5 VARCHAR, c6 VARCHAR, c7 VARCHAR, c8 VARCHAR,
    c1_nm VARCHAR, c2_nm VARCHAR, c3_nm VARCHAR, itm_nm VARCHAR,
    prd_se           VARCHAR NOT NULL,
    prd_de           VARCHAR NOT NULL,
    year             INTEGER NOT NULL,
    value            DOUBLE,            -- NULL when KOSIS prints a non-number such as '-' or 'x'
    value_raw        VARCHAR,           -- DT exactly as received
    unit_nm          VARCHAR,
    lst_chn_de       VARCHAR,
    snapshot_sha256  VARCHAR NOT NULL,
    valid_from       TIMESTAMP NOT NULL,
    valid_to         TIMESTAMP
);

CREATE OR REPLACE VIEW kosis.observations_current AS
SELECT * FROM kosis.observations WHERE valid_to IS NULL;

CREATE TABLE IF NOT EXISTS kosis.tables (
    id               VARCHAR PRIMARY KEY,  -- the catalog id, e.g. grdp_by_activity
    org_id           VARCHAR NOT NULL,
    tbl_id           VARCHAR NOT NULL,
    tbl_nm           VARCHAR,
    prd_se           VARCHAR NOT NULL,
    unit             VARCHAR,
    last_period      VARCHAR,
    last_lst_chn_de  VARCHAR,
    last_checked_at  TIMESTAMP,
    verified         BOOLEAN NOT NULL,     -- false: identified from public sources, not checked live
    used_by          VARCHAR,
    region_code_system VARCHAR NOT NULL,
    bundled_provenance VARCHAR
);

-- Columns added after the first release (a warehouse built by an earlier commit gains them in place).
ALTER TABLE kosis.observations ADD COLUMN IF NOT EXISTS c3_nm VARCHAR;   -- size classes are matched by name
ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS source VARCHAR;         -- kosis | paper (the paper's figures)
ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS series VARCHAR;         -- the concept tables of several bases share
ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS priority INTEGER;       -- lower: preferred within the series
ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS base_year VARCHAR;      -- price/classification base; a change breaks a series
ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS first_period VARCHAR;   -- first catalogued period
ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS final_period VARCHAR;   -- last period of a discontinued base
ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS verification VARCHAR;   -- public-evidence | live-checked on DATE
ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS evidence VARCHAR;       -- where each identifier and code was seen
ALTER TABLE kosis.tables ADD COLUMN IF NOT EXISTS source_label VARCHAR;   -- where the numbers come from, in words

-- The service's date for each period of a table (getMeta NCD SEND_DE) when the pipeline last read it: a
-- later date at the service means the period was reloaded there and is re-read (the refresh planner).
CREATE TABLE IF NOT EXISTS kosis.period_updates (
    catalog_id   VARCHAR NOT NULL,
    year         INTEGER NOT NULL,
    update_de    VARCHAR NOT NULL,   -- YYYYMMDD
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (catalog_id, year)
);

-- Earlier commits replayed the paper's Tables 1 and 2 under KOSIS identities (101/DT_1C81, 101/DT_1K52F03,
-- items PAPER_*). Those rows were never KOSIS data: their vintages are closed so they cannot pose as loaded
-- periods of the real tables (kept, not deleted, so the history stays complete).
UPDATE kosis.observations SET valid_to = valid_from
WHERE valid_to IS NULL AND org_id = '101' AND itm_id LIKE 'PAPER\_%' ESCAPE '\';

-- Which cells of a catalogued table an indicator reads, and as what (from the catalog's code_roles):
-- a cell plays a role when, for every dimension (level) the role lists, its code or its name is accepted.
-- The kosis/catalog asset rebuilds this table whole (CREATE OR REPLACE) from the catalog on every run.
CREATE TABLE IF NOT EXISTS kosis.code_roles (
    catalog_id  VARCHAR NOT NULL,
    role        VARCHAR NOT NULL,
    itm_id      VARCHAR NOT NULL,  -- the role's item as catalogued ('*': any, narrowed by level itm)
    level       VARCHAR NOT NULL,  -- itm | c1 .. c8
    code        VARCHAR NOT NULL,  -- the accepted code, or name when match_by = 'name'
    match_by    VARCHAR NOT NULL CHECK (match_by IN ('code', 'name'))
);

CREATE TABLE IF NOT EXISTS indicators.catalog (
    indicator    VARCHAR PRIMARY KEY,
    table_name   VARCHAR NOT NULL,
    unit         VARCHAR NOT NULL,
    formula      VARCHAR NOT NULL,
    sources      VARCHAR NOT NULL,
    description  VARCHAR NOT NULL,
    source_used  VARCHAR              -- which source the current build used (KOSIS vintage or paper table)
);

-- The reference table the view below maps region codes with (the reference asset rebuilds it).
CREATE TABLE IF NOT EXISTS reference.region_code_map (
    code_system VARCHAR, code VARCHAR, region_code VARCHAR, valid_from_year INTEGER, valid_to_year INTEGER
);

-- What indicators read from KOSIS: the current vintage summed by role, region codes mapped to
-- reference.regions. A cell plays a role when its item matches and, for every level the role lists in
-- kosis.code_roles, its code at that level is one of the listed codes (e.g. c2 = C and c3 a size class
-- under 300 employees). One row per catalogued table, region, year and role, so that an indicator can
-- prefer one table of a series (lowest priority) and say which one it used.
CREATE OR REPLACE VIEW kosis.role_values AS
WITH role_levels AS (
    SELECT catalog_id, role, level,
           coalesce(list(code) FILTER (WHERE match_by = 'code'), []) AS codes,
           coalesce(list(code) FILTER (WHERE match_by = 'name'), []) AS names,
           count(*) OVER (PARTITION BY catalog_id, role) AS n_levels
    FROM kosis.code_roles
    GROUP BY catalog_id, role, level
),
matches AS (
    SELECT t.id AS catalog_id, rl.role, rl.n_levels, o.cell_key, o.c1, o.year, o.value, o.lst_chn_de,
           o.snapshot_sha256
    FROM kosis.observations_current o
    JOIN kosis.tables t ON o.org_id = t.org_id AND o.tbl_id = t.tbl_id
    JOIN role_levels rl ON rl.catalog_id = t.id
         AND (list_contains(rl.codes, CASE rl.level WHEN 'itm' THEN o.itm_id WHEN 'c1' THEN o.c1 WHEN 'c2' THEN o.c2
                                                    WHEN 'c3' THEN o.c3 WHEN 'c4' THEN o.c4 WHEN 'c5' THEN o.c5
                                                    WHEN 'c6' THEN o.c6 WHEN 'c7' THEN o.c7 WHEN 'c8' THEN o.c8 END)
              OR list_contains(rl.names, trim(CASE rl.level WHEN 'itm' THEN o.itm_nm WHEN 'c1' THEN o.c1_nm
                                                            WHEN 'c2' THEN o.c2_nm WHEN 'c3' THEN o.c3_nm END)))
    WHERE o.value IS NOT NULL
),
cells AS (
    SELECT catalog_id, role, cell_key, any_value(c1) AS c1, any_value(year) AS year, any_value(value) AS value,
           any_value(lst_chn_de) AS lst_chn_de, any_value(snapshot_sha256) AS snapshot_sha256
    FROM matches
    GROUP BY catalog_id, role, cell_key
    HAVING count(*) = any_value(n_levels)
)
SELECT
    t.id AS catalog_id,
    coalesce(t.series, t.id) AS series,
    coalesce(t.priority, 100) AS priority,
    coalesce(t.source, 'kosis') AS source_kind,
    m.region_code,
    c.year,
    c.role,
    sum(c.value) AS value,
    count(*) AS n_cells,
    CASE WHEN coalesce(t.source, 'kosis') = 'kosis'
         THEN coalesce(t.source_label, 'KOSIS table ' || t.org_id || '/' || t.tbl_id) || ', '
              || string_agg(DISTINCT snap.origin, '+' ORDER BY snap.origin) || ', current vintage'
              || coalesce(' (LST_CHN_DE ' || max(c.lst_chn_de) || ')', '')
         ELSE coalesce(t.source_label, t.tbl_nm) END AS origin,
    max(c.lst_chn_de) AS lst_chn_de
FROM cells c
JOIN kosis.snapshots snap USING (snapshot_sha256)
JOIN kosis.tables t ON t.id = c.catalog_id
JOIN reference.region_code_map m ON m.code_system = t.region_code_system AND m.code = c.c1
     AND c.year BETWEEN m.valid_from_year AND coalesce(m.valid_to_year, 9999)
GROUP BY t.id, t.series, t.priority, t.source, t.source_label, t.org_id, t.tbl_id, t.tbl_nm, m.region_code, c.year,
         c.role;

-- ==================================================================================================
-- Comments (docs): every table, view and column of the tables and views created above. They run after
-- every statement above, on every connection, because CREATE OR REPLACE VIEW drops a view's comments.
-- DuckDB >= 1.1 keeps COMMENT ON COLUMN on views too (duckdb_columns().comment); COPY FROM DATABASE
-- (the published copy) keeps them. tests/test_warehouse_comments.py fails on any column without one.
-- Tables rebuilt whole by an asset (paper.*, reference.*, indicators.<indicator>) get theirs from the
-- registry when they are written; paper.catalog from assets/file_tables.py.
-- ==================================================================================================

BEGIN TRANSACTION;  -- one commit for the whole block: ~6x faster than one per statement

COMMENT ON TABLE quality.check_results IS 'One row per evaluation of a check (a log: every run appends).';
COMMENT ON COLUMN quality.check_results.run_id IS 'Dagster run that evaluated the check';
COMMENT ON COLUMN quality.check_results.asset IS 'Asset the check belongs to, e.g. sources/table_6_st_budget_2011';
COMMENT ON COLUMN quality.check_results.check_name IS 'Check name, e.g. structure or source_consistency';
COMMENT ON COLUMN quality.check_results.severity IS 'ERROR (blocks downstream, nothing written) or WARN (data land, issue recorded)';
COMMENT ON COLUMN quality.check_results.passed IS 'True when the check found no failure';
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
COMMENT ON COLUMN kosis.snapshots.origin IS 'live (fetched from KOSIS), bundled (shipped offline file) or inbox (dropped in warehouse/data/inbox/)';
COMMENT ON COLUMN kosis.snapshots.kosis_code IS 'NULL for data; the KOSIS err code when KOSIS answered with one (30 = no data)';
COMMENT ON COLUMN kosis.snapshots.masked IS 'How many times the API key (in any encoding) was masked in the body before archiving (then the sha256 is of the masked body)';
COMMENT ON COLUMN kosis.snapshots.n_loaded IS 'Records merged (new, revised or unchanged): n_records = n_loaded + n_quarantined + n_skipped';
COMMENT ON COLUMN kosis.snapshots.n_quarantined IS 'Records sent to quality.quarantine with a reason';
COMMENT ON COLUMN kosis.snapshots.n_skipped IS 'Offline replays only: records of years another file or run provides';

COMMENT ON TABLE kosis.observations IS 'One row per KOSIS cell per vintage: a revised value closes the old row (valid_to) and adds a new one.';
COMMENT ON COLUMN kosis.observations.cell_key IS 'org|tbl|itm|c1..c8|prd_se|prd_de: one cell of one period';
COMMENT ON COLUMN kosis.observations.org_id IS 'KOSIS organisation id (ORG_ID)';
COMMENT ON COLUMN kosis.observations.tbl_id IS 'KOSIS table id (TBL_ID)';
COMMENT ON COLUMN kosis.observations.itm_id IS 'KOSIS item id (ITM_ID)';
COMMENT ON COLUMN kosis.observations.c1 IS 'Classification code, level 1 (C1; usually the region)';
COMMENT ON COLUMN kosis.observations.c2 IS 'Classification code, level 2 (C2; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations.c3 IS 'Classification code, level 3 (C3; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations.c4 IS 'Classification code, level 4 (C4; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations.c5 IS 'Classification code, level 5 (C5; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations.c6 IS 'Classification code, level 6 (C6; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations.c7 IS 'Classification code, level 7 (C7; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations.c8 IS 'Classification code, level 8 (C8; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations.c1_nm IS 'Name of the level-1 code as KOSIS sends it (C1_NM)';
COMMENT ON COLUMN kosis.observations.c2_nm IS 'Name of the level-2 code as KOSIS sends it (C2_NM)';
COMMENT ON COLUMN kosis.observations.c3_nm IS 'Name of the level-3 code as KOSIS sends it (C3_NM; e.g. a size class)';
COMMENT ON COLUMN kosis.observations.itm_nm IS 'Name of the item as KOSIS sends it (ITM_NM)';
COMMENT ON COLUMN kosis.observations.prd_se IS 'Period type as KOSIS labels it (PRD_SE; annual data come back as A)';
COMMENT ON COLUMN kosis.observations.prd_de IS 'Period as sent (PRD_DE: YYYY, YYYYMM, YYYYQQ, ...)';
COMMENT ON COLUMN kosis.observations.year IS 'Year of the period';
COMMENT ON COLUMN kosis.observations.value IS 'DT as a number; NULL when KOSIS prints a non-number such as - or x';
COMMENT ON COLUMN kosis.observations.value_raw IS 'DT exactly as received';
COMMENT ON COLUMN kosis.observations.unit_nm IS 'Unit name as sent (UNIT_NM)';
COMMENT ON COLUMN kosis.observations.lst_chn_de IS 'Last-revision date as sent (LST_CHN_DE)';
COMMENT ON COLUMN kosis.observations.snapshot_sha256 IS 'Snapshot (kosis.snapshots) this vintage was read from';
COMMENT ON COLUMN kosis.observations.valid_from IS 'When this vintage was loaded';
COMMENT ON COLUMN kosis.observations.valid_to IS 'When a revised value replaced it (NULL: current vintage)';

COMMENT ON VIEW kosis.observations_current IS 'The current vintage of every KOSIS cell: kosis.observations WHERE valid_to IS NULL.';
COMMENT ON COLUMN kosis.observations_current.cell_key IS 'org|tbl|itm|c1..c8|prd_se|prd_de: one cell of one period';
COMMENT ON COLUMN kosis.observations_current.org_id IS 'KOSIS organisation id (ORG_ID)';
COMMENT ON COLUMN kosis.observations_current.tbl_id IS 'KOSIS table id (TBL_ID)';
COMMENT ON COLUMN kosis.observations_current.itm_id IS 'KOSIS item id (ITM_ID)';
COMMENT ON COLUMN kosis.observations_current.c1 IS 'Classification code, level 1 (C1; usually the region)';
COMMENT ON COLUMN kosis.observations_current.c2 IS 'Classification code, level 2 (C2; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations_current.c3 IS 'Classification code, level 3 (C3; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations_current.c4 IS 'Classification code, level 4 (C4; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations_current.c5 IS 'Classification code, level 5 (C5; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations_current.c6 IS 'Classification code, level 6 (C6; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations_current.c7 IS 'Classification code, level 7 (C7; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations_current.c8 IS 'Classification code, level 8 (C8; NULL when the table has fewer levels)';
COMMENT ON COLUMN kosis.observations_current.c1_nm IS 'Name of the level-1 code as KOSIS sends it (C1_NM)';
COMMENT ON COLUMN kosis.observations_current.c2_nm IS 'Name of the level-2 code as KOSIS sends it (C2_NM)';
COMMENT ON COLUMN kosis.observations_current.c3_nm IS 'Name of the level-3 code as KOSIS sends it (C3_NM; e.g. a size class)';
COMMENT ON COLUMN kosis.observations_current.itm_nm IS 'Name of the item as KOSIS sends it (ITM_NM)';
COMMENT ON COLUMN kosis.observations_current.prd_se IS 'Period type as KOSIS labels it (PRD_SE; annual data come back as A)';
COMMENT ON COLUMN kosis.observations_current.prd_de IS 'Period as sent (PRD_DE: YYYY, YYYYMM, YYYYQQ, ...)';
COMMENT ON COLUMN kosis.observations_current.year IS 'Year of the period';
COMMENT ON COLUMN kosis.observations_current.value IS 'DT as a number; NULL when KOSIS prints a non-number such as - or x';
COMMENT ON COLUMN kosis.observations_current.value_raw IS 'DT exactly as received';
COMMENT ON COLUMN kosis.observations_current.unit_nm IS 'Unit name as sent (UNIT_NM)';
COMMENT ON COLUMN kosis.observations_current.lst_chn_de IS 'Last-revision date as sent (LST_CHN_DE)';
COMMENT ON COLUMN kosis.observations_current.snapshot_sha256 IS 'Snapshot (kosis.snapshots) this vintage was read from';
COMMENT ON COLUMN kosis.observations_current.valid_from IS 'When this vintage was loaded';
COMMENT ON COLUMN kosis.observations_current.valid_to IS 'Always NULL here (current vintage)';

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
COMMENT ON COLUMN kosis.tables.region_code_system IS 'Code system of C1 (reference.region_code_map.code_system)';
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
COMMENT ON COLUMN kosis.role_values.region_code IS 'KOSIS statistical sido code (reference.regions), mapped from C1';
COMMENT ON COLUMN kosis.role_values.year IS 'Year of the period';
COMMENT ON COLUMN kosis.role_values.role IS 'Role of the summed cells (kosis.code_roles.role)';
COMMENT ON COLUMN kosis.role_values.value IS 'Sum of the current values of the cells with that role';
COMMENT ON COLUMN kosis.role_values.n_cells IS 'Number of cells summed';
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

COMMIT;

