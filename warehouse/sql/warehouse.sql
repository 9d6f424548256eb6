-- The warehouse's schemas: the baseline a new warehouse starts from (every statement is idempotent). The tables
-- are generated from their definitions (schemas/warehouse_tables.py, schemas/kosis.py: warehouse/ddl.py) in their
-- latest layout, CREATE ... IF NOT EXISTS; changes to an existing table's layout are versioned migrations
-- (warehouse/migrations.py), recorded in meta.schema_migrations; views and their comments (views.sql) come after
-- them. Runs once per process and database file.

CREATE SCHEMA IF NOT EXISTS reference;
CREATE SCHEMA IF NOT EXISTS paper;
CREATE SCHEMA IF NOT EXISTS kosis;
CREATE SCHEMA IF NOT EXISTS indicators;
CREATE SCHEMA IF NOT EXISTS quality;
