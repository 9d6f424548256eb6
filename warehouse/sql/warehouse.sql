-- Schemas and the tables that the pipeline appends to or merges into (the contract, docs/warehouse-contract.md).
-- Tables rebuilt whole by an asset (paper.*, reference.*, indicators.*) are created by that asset from
-- the metadata registry. Every statement is idempotent. Changes to an existing table's layout are versioned
-- migrations (warehouse/migrations.py), applied after this file and recorded in meta.schema_migrations;
-- views and comments (views.sql) come after them. Runs once per process and database file.

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

CREATE TABLE IF NOT EXISTS paper.catalog (
    source_table  VARCHAR PRIMARY KEY,
    table_name    VARCHAR,
    title         VARCHAR,
    unit          VARCHAR,
    source_note   VARCHAR,
    file          VARCHAR,
    file_sha256   VARCHAR,
    rows_printed  INTEGER,
    rows_stored   INTEGER,
    notes         VARCHAR
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

-- kosis.observations: generated from schemas/kosis.py (OBSERVATION_ROW), see warehouse/migrations.py.

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

-- The service's date for each period of a table (getMeta NCD SEND_DE) when the pipeline last read it: a
-- later date at the service means the period was reloaded there and is re-read (the refresh planner).
CREATE TABLE IF NOT EXISTS kosis.period_updates (
    catalog_id   VARCHAR NOT NULL,
    year         INTEGER NOT NULL,
    update_de    VARCHAR NOT NULL,   -- YYYYMMDD
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (catalog_id, year)
);

-- Which cells of a catalogued table an indicator reads, and as what (from the catalog's code_roles):
-- a cell plays a role when, for every dimension (level) the role lists, its code or its name is accepted.
-- The kosis/catalog asset rewrites its rows from the catalog on every run (migration 5 set this layout).
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
