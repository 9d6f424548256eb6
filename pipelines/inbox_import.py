"""`make inbox-import FILE=... TBL=DT_... [ORG=101]`: a KOSIS portal download (CSV or XLSX) placed for loading.

Every label of the file is placed first (assets/kosis_portal.py: regions through the reference tables, items
through the catalog entry's item_names, periods from the headers). A file with a label that places nowhere is
rejected with the reason and every such label, and nothing is written (exit 2). Otherwise the file is copied,
byte for byte, into the inbox under portal/<ORG_ID>_<TBL_ID>/, where `make refresh` (or the sensor) loads it:
archived as received, so its sha256 is the snapshot's (origin inbox-portal), and `make rollback` takes it.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

from assets.kosis_portal import (
    PORTAL_DIR,
    PORTAL_SUFFIXES,
    PortalFileError,
    parse_portal,
    portal_dir_name,
    read_region_code_map,
)
from assets.source_files import CATALOG_PATH, load_catalog
from pipelines.inbox import ensure_inbox

EXIT_REJECTED = 2


def import_file(source: Path, org_id: str, tbl_id: str, inbox: Path) -> tuple[int, list[str]]:
    if not source.is_file():
        return EXIT_REJECTED, [f"REJECTED {source}: no such file; nothing was written"]
    if source.suffix.lower() not in PORTAL_SUFFIXES:
        return EXIT_REJECTED, [f"REJECTED {source}: a portal download is .csv or .xlsx, not {source.suffix or 'none'}"
                               f"; nothing was written"]
    tables = {(t.org_id, t.tbl_id): t for t in load_catalog(CATALOG_PATH) if t.is_kosis}
    table = tables.get((org_id, tbl_id))
    if table is None:
        return EXIT_REJECTED, [f"REJECTED {source}: {org_id}/{tbl_id} is not a catalogued KOSIS table (catalogued: "
                               f"{', '.join(sorted('/'.join(k) for k in tables))}); nothing was written"]
    body = source.read_bytes()
    try:
        read = parse_portal(body, table, read_region_code_map())
    except PortalFileError as exc:
        lines = [f"REJECTED {source.name} for {org_id}/{tbl_id}: {exc.reason}; nothing was written"]
        if exc.unplaced:
            lines.append(f"  labels not placed ({len(exc.unplaced)}): {', '.join(exc.unplaced)}")
        return EXIT_REJECTED, lines
    target = inbox / PORTAL_DIR / portal_dir_name(table) / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    items = sorted({(r["ITM_ID"], r["ITM_NM"]) for r in read.records})
    regions = {r[f"{table.region_level.upper()}"] for r in read.records}
    lines = [f"Imported {source.name} for {table.id} (KOSIS {org_id}/{tbl_id}): {len(read.records)} records, "
             f"{read.layout} layout, {read.encoding}; years {', '.join(map(str, read.years))}; "
             f"items {', '.join(f'{i} {n}' for i, n in items)}; {len(regions)} regions",
             f"  sha256 {hashlib.sha256(body).hexdigest()} (its snapshot id: {read.sha256[:12]})",
             f"  placed as {target}; run make refresh to load it"]
    if read.skipped_items:
        lines.append(f"  not loaded, items the catalog entry does not request: {', '.join(read.skipped_items)}")
    return 0, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", required=True, type=Path)
    parser.add_argument("--tbl", required=True)
    parser.add_argument("--org", default="101")
    args = parser.parse_args(argv)
    code, lines = import_file(args.file, args.org, args.tbl, ensure_inbox())
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
