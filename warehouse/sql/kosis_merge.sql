-- Merge one table's validated KOSIS records (registered as `incoming_frame`) into kosis.observations,
-- keeping every vintage: a new cell is inserted; a changed value closes the current row (valid_to)
-- and inserts the new one; an unchanged value adds nothing. Runs inside the caller's transaction.
-- Cells absent from this load are left alone: a partial fetch (one year) says nothing about the rest.

CREATE OR REPLACE TEMP TABLE incoming AS
SELECT concat_ws('|', org_id, tbl_id, itm_id, coalesce(c1, ''), coalesce(c2, ''), coalesce(c3, ''),
                 coalesce(c4, ''), coalesce(c5, ''), coalesce(c6, ''), coalesce(c7, ''), coalesce(c8, ''),
                 prd_se, prd_de) AS cell_key,
       *
FROM incoming_frame;

CREATE OR REPLACE TEMP TABLE merge_plan AS
SELECT i.cell_key,
       CASE WHEN o.cell_key IS NULL THEN 'new'
            WHEN o.value IS DISTINCT FROM i.value
                 OR (o.value IS NULL AND o.value_raw IS DISTINCT FROM i.value_raw) THEN 'revised'
            ELSE 'unchanged' END AS action
FROM incoming i
LEFT JOIN kosis.observations o ON o.cell_key = i.cell_key AND o.valid_to IS NULL;

UPDATE kosis.observations AS o SET valid_to = $now
FROM merge_plan p
WHERE p.action = 'revised' AND o.cell_key = p.cell_key AND o.valid_to IS NULL;

INSERT INTO kosis.observations BY NAME
SELECT i.cell_key, i.org_id, i.tbl_id, i.itm_id, i.c1, i.c2, i.c3, i.c4, i.c5, i.c6, i.c7, i.c8,
       i.c1_nm, i.c2_nm, i.itm_nm, i.prd_se, i.prd_de, i.year, i.value, i.value_raw, i.unit_nm, i.lst_chn_de,
       i.snapshot_sha256, $now AS valid_from, NULL AS valid_to
FROM incoming i
JOIN merge_plan p USING (cell_key)
WHERE p.action IN ('new', 'revised');

SELECT action, count(*) FROM merge_plan GROUP BY action;
