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
    c1_nm VARCHAR, c2_nm VARCHAR, itm_nm VARCHAR,
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

-- Which codes of a catalogued table an indicator reads, and as what (from the catalog's code_roles).
CREATE TABLE IF NOT EXISTS kosis.code_roles (
    catalog_id  VARCHAR NOT NULL,
    itm_id      VARCHAR NOT NULL,
    level       VARCHAR NOT NULL,  -- c1 .. c8
    code        VARCHAR NOT NULL,
    role        VARCHAR NOT NULL,
    PRIMARY KEY (catalog_id, itm_id, level, code)
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

-- What indicators read from KOSIS: the current vintage summed by role (kosis.code_roles), with region
-- codes mapped to reference.regions and the snapshots' origin (live, bundled, inbox) spelled out.
CREATE OR REPLACE VIEW kosis.role_values AS
SELECT
    t.id AS catalog_id,
    m.region_code,
    o.year,
    r.role,
    sum(o.value) AS value,
    'KOSIS ' || any_value(o.org_id) || '/' || any_value(o.tbl_id) || ' '
        || string_agg(DISTINCT snap.origin, '+' ORDER BY snap.origin) || ', current vintage' AS origin,
    max(o.lst_chn_de) AS lst_chn_de
FROM kosis.observations_current o
JOIN kosis.snapshots snap USING (snapshot_sha256)
JOIN kosis.tables t ON o.org_id = t.org_id AND o.tbl_id = t.tbl_id
JOIN kosis.code_roles r ON r.catalog_id = t.id AND r.itm_id = o.itm_id
     AND r.code = CASE r.level WHEN 'c1' THEN o.c1 WHEN 'c2' THEN o.c2 WHEN 'c3' THEN o.c3 WHEN 'c4' THEN o.c4
                               WHEN 'c5' THEN o.c5 WHEN 'c6' THEN o.c6 WHEN 'c7' THEN o.c7 WHEN 'c8' THEN o.c8 END
JOIN reference.region_code_map m ON m.code_system = t.region_code_system AND m.code = o.c1
     AND o.year BETWEEN m.valid_from_year AND coalesce(m.valid_to_year, 9999)
WHERE o.value IS NOT NULL
GROUP BY t.id, m.region_code, o.year, r.role;
