-- Schemas and the tables that the pipeline appends to or merges into (the contract, ../shared/contract).
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
