-- Merge one table's staged KOSIS records (kosis_staged, less the rejected_rows) into kosis.observations,
-- keeping every vintage: a new cell is inserted; a changed value closes the current row (valid_to)
-- and inserts the new one; an unchanged value adds nothing. Runs inside the caller's transaction.
-- Cells absent from this load are left alone: a partial fetch (one year) says nothing about the rest.

CREATE OR REPLACE TEMP TABLE merge_plan AS
SELECT s.rowid AS rid,
       CASE WHEN o.cell_key IS NULL THEN 'new'
            WHEN o.value IS DISTINCT FROM s.value
                 OR (o.value IS NULL AND o.value_raw IS DISTINCT FROM s.value_raw) THEN 'revised'
            ELSE 'unchanged' END AS action
FROM kosis_staged s
LEFT JOIN kosis.observations o ON o.cell_key = s.cell_key AND o.valid_to IS NULL
ANTI JOIN rejected_rows r ON r.rid = s.rowid;

UPDATE kosis.observations AS o SET valid_to = $now
FROM merge_plan p JOIN kosis_staged s ON s.rowid = p.rid
WHERE p.action = 'revised' AND o.cell_key = s.cell_key AND o.valid_to IS NULL;

INSERT INTO kosis.observations BY NAME
SELECT s.cell_key, s.org_id, s.tbl_id, s.itm_id, s.c1, s.c2, s.c3, s.c4, s.c5, s.c6, s.c7, s.c8,
       s.c1_nm, s.c2_nm, s.c3_nm, s.itm_nm, s.prd_se, s.prd_de, s.year, s.value, s.value_raw, s.unit_nm, s.lst_chn_de,
       s.snapshot_sha256, $now AS valid_from, NULL AS valid_to
FROM kosis_staged s
SEMI JOIN (SELECT rid FROM merge_plan WHERE action IN ('new', 'revised')) p ON p.rid = s.rowid;

SELECT action, count(*) FROM merge_plan GROUP BY action;
