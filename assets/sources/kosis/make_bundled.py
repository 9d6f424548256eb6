"""Writes the paper's KOSIS-sourced tables (1 and 2) in KOSIS getList form, for offline replay.

Run once by hand (`.venv/bin/python assets/sources/kosis/make_bundled.py`); the output is committed.
The files have the form of a getList response (a JSON array of flat string records), so the offline
replay goes through the same archive, parse, validation and merge as live data. They are the paper's
printed figures, not KOSIS data, and say so in their identity: ORG_ID `PAPER` (no KOSIS organisation),
TBL_ID `KIM2013_T1`/`KIM2013_T2` (no KOSIS table), placeholder codes, and no LST_CHN_DE (they have no
KOSIS vintage).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAPER = HERE.parent / "paper"
KO_NAMES = {row["region_code"]: row["name_ko"] for row in csv.DictReader(open(HERE.parent / "reference" / "regions.csv",
                                                                               encoding="utf-8"))}
ORG_ID = "PAPER"  # not a KOSIS organisation id: these are the paper's figures


def record(tbl_id: str, tbl_nm: str, c1: str, c2: str, c2_nm: str, itm_id: str, itm_nm: str, year: str,
           dt: str) -> dict[str, str]:
    return {
        "ORG_ID": ORG_ID, "TBL_ID": tbl_id, "TBL_NM": tbl_nm,
        "C1": c1, "C1_NM": KO_NAMES[c1], "C1_OBJ_NM": "시도별",
        "C2": c2, "C2_NM": c2_nm, "C2_OBJ_NM": "paper grouping (placeholder codes)",
        "ITM_ID": itm_id, "ITM_NM": itm_nm, "UNIT_NM": "%",
        "PRD_SE": "A", "PRD_DE": year, "DT": dt,
    }


def grdp() -> list[dict[str, str]]:
    name = "Paper Table 1 in KOSIS form: industrial structure by GRDP (not fetched from KOSIS)"
    out = []
    for row in csv.DictReader(open(PAPER / "table_1_grdp_structure.csv", encoding="utf-8")):
        for code, column in (("TOTAL", None), ("PRIMARY", "primary_pct"), ("SECONDARY", "secondary_pct"),
                             ("TERTIARY", "tertiary_pct")):
            dt = "100.0" if column is None else row[column]
            out.append(record("KIM2013_T1", name, row["region_code"], code, code.lower(), "PAPER_SHARE",
                              "share of GRDP as printed in the paper", row["year"], dt))
    return out


def sme() -> list[dict[str, str]]:
    name = "Paper Table 2 in KOSIS form: SMEs' share in manufacturing (not fetched from KOSIS)"
    out = []
    for row in csv.DictReader(open(PAPER / "table_2_sme_share_manufacturing.csv", encoding="utf-8")):
        for itm_id, itm_nm, column in (("PAPER_FIRMS", "SME share of firms as printed", "sme_firm_pct"),
                                       ("PAPER_WORKERS", "SME share of workers as printed", "sme_worker_pct")):
            out.append(record("KIM2013_T2", name, row["region_code"], "TOTAL", "all sizes", itm_id, itm_nm,
                              row["year"], "100.0"))
            out.append(record("KIM2013_T2", name, row["region_code"], "SME", "under 300 employees", itm_id, itm_nm,
                              row["year"], row[column]))
    return out


if __name__ == "__main__":
    for name, records in (("paper_table_1_grdp_structure", grdp()), ("paper_table_2_sme_share", sme())):
        path = HERE / "bundled" / f"{name}.json"
        path.write_text(json.dumps(records, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
        print(f"{path}: {len(records)} records")
