-- Merge one table's staged KOSIS records (kosis_staged, less the kosis_rejected) into kosis.observations,
-- keeping every vintage, in two set-based steps inside the caller's transaction:
--   1. close: a current row whose staged value differs gets valid_to = $now (a revision);
--   2. insert: every staged cell that now has no current row (a new cell, or one step 1 just closed).
-- An unchanged value adds nothing. Cells absent from this load are left alone: a partial fetch (one year) says
-- nothing about the rest. Each statement returns its row count: closed = revised, inserted = new + revised.

UPDATE kosis.observations AS o SET valid_to = $now
FROM (SELECT s.cell_key, s.value, s.value_raw FROM kosis_staged s ANTI JOIN kosis_rejected r ON r.rid = s.rowid) s
WHERE o.cell_key = s.cell_key AND o.valid_to IS NULL
  AND (o.value IS DISTINCT FROM s.value OR (o.value IS NULL AND o.value_raw IS DISTINCT FROM s.value_raw));

-- The staged columns are the observation row's (schemas/kosis.py: OBSERVATION_ROW) and three of staging's own.
INSERT INTO kosis.observations BY NAME
SELECT s.* EXCLUDE (tbl_nm, err, in_request), $now AS valid_from, NULL AS valid_to
FROM kosis_staged s
ANTI JOIN kosis_rejected r ON r.rid = s.rowid
ANTI JOIN (SELECT cell_key FROM kosis.observations WHERE valid_to IS NULL) c ON c.cell_key = s.cell_key;
