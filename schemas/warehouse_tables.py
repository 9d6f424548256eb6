"""The warehouse's own tables: those the pipeline appends to, merges into or rewrites, with no file in the registry.

One definition per table: its columns (type, nullability, allowed values, default) and their meanings, its key.
From it come the DDL of a new warehouse (the DuckDB file's and DuckLake's, `warehouse/ddl.py`), the COMMENTs every
table and column carries, the inserts by column name (`warehouse/rows.py`) and the data dictionary. The tables
loaded from files are `schemas/registry.py`'s, kosis.observations is `schemas/kosis.py`'s OBSERVATION_ROW, the
indicators' are their specs'; views are SQL (`warehouse/sql/views.sql`, with their comments).

A table's columns are in the order a warehouse of release e12b694 has them after the migrations
(`warehouse/migrations.py`): the baseline's, then each migration's, so a new warehouse and an upgraded one have the
same layout (tests/test_migrations.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.registry import Column


@dataclass(frozen=True)
class WarehouseTable:
    schema: str
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # the primary key (the file backend enforces it; DuckLake has none)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


CHECK_RESULTS = WarehouseTable(
    'quality', 'check_results',
    'One row per evaluation of a check (a log: every run appends).',
    columns=(
        Column('run_id', 'VARCHAR', 'Dagster run that evaluated the check'),
        Column('asset', 'VARCHAR', 'Asset the check belongs to, e.g. sources/table_6_st_budget_2011'),
        Column('check_name', 'VARCHAR', 'Check name, e.g. structure or source_consistency'),
        Column('severity', 'VARCHAR', 'ERROR (blocks downstream, nothing written) or WARN (data land, issue recorded)', allowed=('ERROR', 'WARN')),
        Column('passed', 'BOOLEAN', 'True when the check found no failure, false when it found some, NULL when it did not run (details.not_run says why, e.g. the structure check failed first)', nullable=True),
        Column('n_failures', 'INTEGER', 'Number of failures found (0 when passed)'),
        Column('details', 'VARCHAR', 'JSON: the first failure cases (file, line, column, value, rule) and notes', nullable=True),
        Column('evaluated_at', 'TIMESTAMP', 'When the check was evaluated (local time of the pipeline)'),
    ),
)

SOURCE_ISSUES = WarehouseTable(
    'quality', 'source_issues',
    'Inconsistencies of the sources as published, recorded not corrected: published and recomputed values side by side.',
    columns=(
        Column('source_table', 'VARCHAR', 'Printed table (e.g. Table 6), or kosis:<org>/<tbl> for a KOSIS table, or Table N vs KOSIS'),
        Column('row_key', 'VARCHAR', 'Key of the row concerned, e.g. region_code=22'),
        Column('column_name', 'VARCHAR', 'Column whose published value disagrees'),
        Column('published', 'DOUBLE', 'Value as published', nullable=True),
        Column('recomputed', 'DOUBLE', 'Value recomputed from other published values (NULL for recorded issues)', nullable=True),
        Column('difference', 'DOUBLE', 'published - recomputed', nullable=True),
        Column('description', 'VARCHAR', 'What was compared, in words'),
        Column('check_name', 'VARCHAR', 'Rule that found it, or recorded (assets/sources/paper/recorded_issues.yaml)', nullable=True),
        Column('tolerance', 'DOUBLE', 'Largest difference accepted: the printed precision', nullable=True),
    ),
)

QUARANTINE = WarehouseTable(
    'quality', 'quarantine',
    'Rows that failed validation and were kept out of the warehouse (a log: every run appends).',
    columns=(
        Column('source', 'VARCHAR', 'File or snapshot the row came from, e.g. assets/sources/paper/table_2_sme_share_manufacturing.csv'),
        Column('payload', 'JSON', 'JSON of the row as received'),
        Column('reason', 'VARCHAR', 'Why it failed: for files, file:line, column, value and every rule it broke'),
        Column('run_id', 'VARCHAR', 'Dagster run that quarantined it'),
        Column('asset', 'VARCHAR', 'Asset that validated it', nullable=True),
        Column('quarantined_at', 'TIMESTAMP', 'When it was quarantined'),
    ),
)

KOSIS_CELL_ACCOUNTING = WarehouseTable(
    'quality', 'kosis_cell_accounting',
    'Every current KOSIS cell accounted for up to the indicators, per catalogued table, year, outcome and reason (rebuilt after the indicators on every run).',
    columns=(
        Column('catalog_id', 'VARCHAR', 'Catalog id (kosis.tables.id)'),
        Column('org_id', 'VARCHAR', 'KOSIS organisation id'),
        Column('tbl_id', 'VARCHAR', 'KOSIS table id'),
        Column('year', 'INTEGER', 'Year of the cells (NULL: the table loaded no cell at all)', nullable=True),
        Column('outcome', 'VARCHAR', 'feeds an indicator | superseded (a preferred table of the series holds the region-year) | not read | read, no indicator row | nothing loaded'),
        Column('reason', 'VARCHAR', 'Why, in words: the roles read, the preferred table, item not used, code in no role, region code unmapped, value not a number'),
        Column('n_cells', 'BIGINT', 'Number of current cells'),
        Column('indicator', 'VARCHAR', 'The indicator(s) fed, or those the table is catalogued for', nullable=True),
        Column('example', 'VARCHAR', 'One cell_key of these cells', nullable=True),
        Column('built_at', 'TIMESTAMP', 'When the accounting was built (UTC)'),
    ),
)

PAPER_CATALOG = WarehouseTable(
    'paper', 'catalog',
    "Each printed table of the paper: title, unit, printed source line, the file it is transcribed in and that file's sha256.",
    columns=(
        Column('source_table', 'VARCHAR', "The printed table, e.g. 'Table 6'"),
        Column('table_name', 'VARCHAR', 'The warehouse table that holds it, e.g. paper.st_budget_2011', nullable=True),
        Column('title', 'VARCHAR', 'The printed title', nullable=True),
        Column('unit', 'VARCHAR', 'The printed unit (NULL: none printed)', nullable=True),
        Column('source_note', 'VARCHAR', "The printed 'Source:' line", nullable=True),
        Column('file', 'VARCHAR', 'The file the table is transcribed in, e.g. assets/sources/paper/table_6_st_budget_2011.csv', nullable=True),
        Column('file_sha256', 'VARCHAR', 'sha256 of that file as loaded', nullable=True),
        Column('rows_printed', 'INTEGER', 'Data rows in the file (printed total rows included)', nullable=True),
        Column('rows_stored', 'INTEGER', 'Rows stored in table_name (printed total rows are checked, not stored)', nullable=True),
        Column('notes', 'VARCHAR', 'Notes printed under the table', nullable=True),
        Column('refreshes', 'VARCHAR', 'Whether later years exist: refreshed (the KOSIS series that carries them), not yet refreshed (an annual successor not catalogued) or does not refresh (a one-off document)', nullable=True),
    ),
    key=('source_table',),
)

SNAPSHOTS = WarehouseTable(
    'kosis', 'snapshots',
    'Every KOSIS response body (or replayed file) archived under warehouse/data/raw/, by sha256.',
    columns=(
        Column('snapshot_sha256', 'VARCHAR', 'sha256 of the body as received; the archive file name'),
        Column('catalog_id', 'VARCHAR', 'Catalog entry (kosis.tables.id) the request was for'),
        Column('org_id', 'VARCHAR', 'KOSIS organisation id (orgId)'),
        Column('tbl_id', 'VARCHAR', 'KOSIS table id (tblId)'),
        Column('request', 'VARCHAR', 'Request URL with the API key removed, or bundled:/inbox:<file> for a replayed file'),
        Column('fetched_at', 'TIMESTAMP', 'When the body was fetched or replayed'),
        Column('n_records', 'INTEGER', 'Number of data records in the body'),
        Column('path', 'VARCHAR', 'Archive path of the body (warehouse/data/raw/<sha[:2]>/<sha256>.json)'),
        Column('origin', 'VARCHAR', 'live (fetched from KOSIS), bundled (shipped offline file), inbox (a getList JSON dropped in warehouse/data/inbox/) or inbox-portal (a KOSIS portal CSV/XLSX placed by make inbox-import, archived as received)'),
        Column('kosis_code', 'VARCHAR', 'NULL for data; the KOSIS err code when KOSIS answered with one (30 = no data)', nullable=True),
        Column('masked', 'INTEGER', 'How many times the API key (in any encoding) was masked in the body before archiving (then the sha256 is of the masked body)', nullable=True, default='0'),
        Column('n_loaded', 'INTEGER', 'Records merged (new, revised or unchanged): n_records = n_loaded + n_quarantined + n_skipped', nullable=True),
        Column('n_quarantined', 'INTEGER', 'Records sent to quality.quarantine with a reason', nullable=True),
        Column('n_skipped', 'INTEGER', 'Offline replays only: records of years another file or run provides', nullable=True),
    ),
    key=('snapshot_sha256',),
)

KOSIS_TABLES = WarehouseTable(
    'kosis', 'tables',
    "The catalog (assets/sources/kosis/catalog.yaml): the KOSIS tables the pipeline ingests and the paper's figures in KOSIS form (source = paper), with what was last seen of each.",
    columns=(
        Column('id', 'VARCHAR', 'Catalog id, e.g. grdp_by_activity_2020'),
        Column('org_id', 'VARCHAR', 'KOSIS organisation id (orgId)'),
        Column('tbl_id', 'VARCHAR', 'KOSIS table id (tblId)'),
        Column('tbl_nm', 'VARCHAR', 'Table name', nullable=True),
        Column('prd_se', 'VARCHAR', 'Period type requested (prdSe, e.g. Y)'),
        Column('unit', 'VARCHAR', 'Unit of the values', nullable=True),
        Column('last_period', 'VARCHAR', 'Latest period loaded', nullable=True),
        Column('last_lst_chn_de', 'VARCHAR', 'Latest LST_CHN_DE (revision date) loaded', nullable=True),
        Column('last_checked_at', 'TIMESTAMP', 'When KOSIS (or the offline files) were last asked for new periods', nullable=True),
        Column('verified', 'BOOLEAN', 'True only when verification says live-checked on a date'),
        Column('used_by', 'VARCHAR', 'Indicators that read the table', nullable=True),
        Column('region_code_system', 'VARCHAR', 'Code system of the region axis: kosis_sido or admin (reference.region_code_map), or table (kosis.region_codes)'),
        Column('bundled_provenance', 'VARCHAR', 'What the bundled offline file holds and where its figures come from', nullable=True),
        Column('source', 'VARCHAR', "kosis (a KOSIS table) or paper (the paper's printed figures in KOSIS form, never KOSIS data)", nullable=True),
        Column('series', 'VARCHAR', 'The concept several tables share (e.g. grdp_by_activity across base years)', nullable=True),
        Column('priority', 'INTEGER', 'Within a series, the lowest number covering a region-year is used', nullable=True),
        Column('base_year', 'VARCHAR', 'Price or classification base of the table (a change of base breaks a series)', nullable=True),
        Column('first_period', 'VARCHAR', 'First catalogued period', nullable=True),
        Column('final_period', 'VARCHAR', 'Last period of a discontinued table (NULL: still published)', nullable=True),
        Column('verification', 'VARCHAR', 'public-evidence, live-checked on DATE, or not KOSIS', nullable=True),
        Column('evidence', 'VARCHAR', 'Where each identifier and code was seen (repository and file), one per line', nullable=True),
        Column('source_label', 'VARCHAR', 'Where the numbers come from, in words (used by indicators and the report)', nullable=True),
        Column('region_level', 'VARCHAR', "The axis that holds the region (c1 .. c8; the SME ministry's tables: c2)", nullable=True, default="'c1'"),
        Column('definition', 'VARCHAR', "What the table's concept means where tables of one series differ (e.g. which firms are SMEs), in words", nullable=True),
    ),
    key=('id',),
)

PERIOD_UPDATES = WarehouseTable(
    'kosis', 'period_updates',
    "The service's date for each period of a table (getMeta NCD SEND_DE) when the pipeline last read it.",
    columns=(
        Column('catalog_id', 'VARCHAR', 'Catalog id (kosis.tables.id)'),
        Column('year', 'INTEGER', 'Year of the period'),
        Column('update_de', 'VARCHAR', 'SEND_DE as YYYYMMDD: a later date at the service makes the refresh re-read the period'),
        Column('recorded_at', 'TIMESTAMP', 'When the pipeline recorded this date'),
    ),
    key=('catalog_id', 'year'),
)

CODE_ROLES = WarehouseTable(
    'kosis', 'code_roles',
    'Which cells of a catalogued table an indicator reads, and as what: a cell plays a role when, on every level the role lists, its code or name is accepted.',
    columns=(
        Column('catalog_id', 'VARCHAR', 'Catalog id (kosis.tables.id)'),
        Column('role', 'VARCHAR', 'What an indicator reads it as, e.g. primary (industry share) or workers_sme'),
        Column('itm_id', 'VARCHAR', "The role's item as catalogued (* = any item, narrowed by level itm)"),
        Column('level', 'VARCHAR', 'Dimension: itm (the item) or c1 .. c8'),
        Column('code', 'VARCHAR', 'Accepted code, or accepted Korean name when match_by = name'),
        Column('match_by', 'VARCHAR', 'code or name (names where public evidence shows names but not codes)', allowed=('code', 'name')),
    ),
)

REGION_CODES = WarehouseTable(
    'kosis', 'region_codes',
    "A table's own region codes (region_code_system = table, e.g. the SME ministry's 15142C504 = 대구) mapped to the statistical sido; from the catalog's region_codes, built from getMeta's names.",
    columns=(
        Column('catalog_id', 'VARCHAR', 'Catalog id (kosis.tables.id)'),
        Column('code', 'VARCHAR', 'The region code as the table uses it on its region axis'),
        Column('region_code', 'VARCHAR', 'The statistical sido code it maps to (reference.regions)'),
    ),
)

ROLLBACKS = WarehouseTable(
    'kosis', 'rollbacks',
    'One row per rolled-back KOSIS snapshot (make rollback): its current vintages closed, the vintages it had closed current again.',
    columns=(
        Column('snapshot_sha256', 'VARCHAR', 'The rolled-back snapshot (kosis.snapshots, kept, as is its archived body)'),
        Column('rolled_back_at', 'TIMESTAMP', 'When (valid_to of the closed rows, UTC)'),
        Column('cells_closed', 'INTEGER', 'Current vintages of the snapshot closed'),
        Column('cells_reopened', 'INTEGER', 'Vintages the snapshot had closed that are current again'),
        Column('reason', 'VARCHAR', 'Why, as given to make rollback', nullable=True),
    ),
)

INDICATORS_CATALOG = WarehouseTable(
    'indicators', 'catalog',
    'One row per indicator table: unit, formula, sources and which source the current build used.',
    columns=(
        Column('indicator', 'VARCHAR', 'Indicator name'),
        Column('table_name', 'VARCHAR', 'Table that holds it, e.g. indicators.sme_concentration'),
        Column('unit', 'VARCHAR', 'Unit of its values'),
        Column('formula', 'VARCHAR', 'How it is computed'),
        Column('sources', 'VARCHAR', 'Tables it reads'),
        Column('description', 'VARCHAR', 'What it shows'),
        Column('source_used', 'VARCHAR', 'Which source the current build used (a KOSIS vintage or the paper table)', nullable=True),
    ),
    key=('indicator',),
)

SCHEMA_MIGRATIONS = WarehouseTable(
    'meta', 'schema_migrations',
    'Schema migrations applied to this warehouse (warehouse/migrations.py), one row per version.',
    columns=(
        Column('version', 'INTEGER', 'Migration version (ordered)'),
        Column('applied_at', 'TIMESTAMP', 'When it was applied to this file (UTC)'),
        Column('description', 'VARCHAR', 'What it changed, and the release that introduced it'),
    ),
    key=('version',),
)

# Only on DuckLake, created by the first publication (warehouse/io.py): a file warehouse publishes a copy instead.
PUBLICATIONS = WarehouseTable(
    'meta', 'publications',
    'DuckLake only: one row per publication, the lake snapshot analysts attach as the published warehouse (the latest row).',
    columns=(
        Column('snapshot_id', 'BIGINT', 'The published lake snapshot (ATTACH ... (SNAPSHOT_VERSION n))'),
        Column('published_at', 'TIMESTAMP', 'When it was published (UTC)'),
        Column('run_id', 'VARCHAR', 'Dagster run that published it (empty: published outside a run)', nullable=True),
    ),
)

# In the order a new warehouse creates them.
WAREHOUSE_TABLES: tuple[WarehouseTable, ...] = (
    CHECK_RESULTS, SOURCE_ISSUES, QUARANTINE, PAPER_CATALOG, SNAPSHOTS, KOSIS_TABLES, PERIOD_UPDATES, CODE_ROLES,
    INDICATORS_CATALOG, ROLLBACKS, REGION_CODES, KOSIS_CELL_ACCOUNTING,
)
WAREHOUSE_TABLE_BY_NAME: dict[str, WarehouseTable] = {t.qualified_name: t for t in (*WAREHOUSE_TABLES,
                                                                                      SCHEMA_MIGRATIONS, PUBLICATIONS)}
