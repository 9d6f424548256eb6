"""The KOSIS inbox (`warehouse/data/inbox/`): `make run` and `make refresh` create it with a README.txt saying
what to drop there (`make inbox` alone: `python -m pipelines.inbox`)."""

from __future__ import annotations

from pathlib import Path

from warehouse.io import warehouse_path

# How often the sensor `kosis_new_periods` looks (pipelines/sensors.py uses this constant).
KOSIS_SENSOR_INTERVAL_S = 6 * 3600

README_NAME = "README.txt"


def inbox_path(working: Path | str | None = None) -> Path:
    """The inbox sits beside the working warehouse (warehouse/data/inbox/, or beside WAREHOUSE_PATH)."""
    return Path(working or warehouse_path()).parent / "inbox"


def _interval() -> str:
    hours, rest = divmod(KOSIS_SENSOR_INTERVAL_S, 3600)
    return f"{hours} hours" if not rest else f"{KOSIS_SENSOR_INTERVAL_S // 60} minutes"


def readme_text() -> str:
    return f"""\
KOSIS inbox
===========

Drop KOSIS data files here to load them without an API key (offline mode: KOSIS_API_KEY not set).

What may be dropped
  *.json files in the KOSIS OpenAPI getList format (Param/statisticsParameterData.do with format=json),
  i.e. a JSON array of records such as
    {{"ORG_ID": "101", "TBL_ID": "DT_1C81", "C1": "22", "C2": "A", "ITM_ID": "T1", "PRD_SE": "A",
     "PRD_DE": "2012", "DT": "1234", "UNIT_NM": "...", "LST_CHN_DE": "20130601", ...}}
  Only records of a KOSIS table listed in assets/sources/kosis/catalog.yaml (same ORG_ID and TBL_ID) are
  read; files that are not *.json (like this README) are ignored. A *.json file that cannot be read as
  getList records (not JSON, truncated, an error body) or that holds no record of a catalogued table is
  moved to rejected/ beside a <name>.reason.txt saying why, and named on the console by make refresh and in
  the sensor's log; it never blocks other files.
  KOSIS portal downloads (the CSV or XLSX of kosis.kr's 다운로드) go through make inbox-import FILE=... TBL=...
  [ORG=101], which checks that every label places and copies the file into portal/<ORG_ID>_<TBL_ID>/.
  A year with a newer LST_CHN_DE than the warehouse has is loaded as a revision; for each year, the newest file (by
  modification time) wins. The files are copied into the raw archive (warehouse/data/raw/) when loaded.
  Rows that fail validation go to quality.quarantine; the rest load.

When it is looked at
  The Dagster sensor kosis_new_periods looks every {_interval()} while the daemon runs (make daemon or
  make ui). To look now and load what is new, run:

      make refresh

`make clean` keeps this folder and the raw archive; `make clean-all` removes them too.
"""


def ensure_inbox(working: Path | str | None = None) -> Path:
    """Creates the inbox and (re)writes its README.txt when missing or outdated; never touches other files."""
    inbox = inbox_path(working)
    inbox.mkdir(parents=True, exist_ok=True)
    readme = inbox / README_NAME
    text = readme_text()
    if not readme.exists() or readme.read_text(encoding="utf-8") != text:
        readme.write_text(text, encoding="utf-8")
    return inbox


REJECTED_DIR = "rejected"


def screen_inbox(inbox: Path, tables) -> list[tuple[str, str]]:
    """Moves every *.json file of the inbox that cannot be loaded to inbox/rejected/ with a reason file, so a
    bad file is reported once by name and never blocks a refresh (a poison pill). Returns (file, reason)."""
    from assets.kosis_body import classify_body  # a parse, the client's own
    from assets.kosis_client import KosisError

    if not inbox.is_dir():
        return []
    catalogued = {(t.org_id, t.tbl_id) for t in tables if t.is_kosis}
    rejected = []
    for path in sorted(inbox.glob("*.json")):
        try:
            records, code, err_msg = classify_body(path.read_bytes())
            if code is not None:
                reason = f"a KOSIS error body (err {code}: {err_msg}), not data"
            elif not records:
                reason = "no records (an empty array)"
            else:
                found = {(str(r.get("ORG_ID", "")), str(r.get("TBL_ID", ""))) for r in records if isinstance(r, dict)}
                reason = "" if found & catalogued else (
                    f"its records belong to no catalogued KOSIS table ({', '.join(sorted('/'.join(f) for f in found))}"
                    f"; catalogued: {', '.join(sorted('/'.join(c) for c in catalogued))})")
        except (ValueError, KosisError, OSError) as exc:
            reason = f"not readable as KOSIS getList JSON: {exc}"
        if reason:
            rejected.append(_reject(inbox, path, reason))
    return rejected + screen_portal(inbox, tables)


def _reject(inbox: Path, path: Path, reason: str) -> tuple[str, str]:
    target = inbox / REJECTED_DIR
    target.mkdir(exist_ok=True)
    path.replace(target / path.name)
    (target / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
    return str(path.relative_to(inbox)), reason


def screen_portal(inbox: Path, tables) -> list[tuple[str, str]]:
    """The portal downloads of inbox/portal/<ORG_ID>_<TBL_ID>/ that cannot be placed (a folder naming no catalogued
    table, a label matching no code), moved to rejected/ with the reason like a bad JSON file."""
    from assets.kosis_portal import (
        PORTAL_DIR,
        PORTAL_SUFFIXES,
        PortalFileError,
        parse_portal,
        portal_dir_name,
        read_region_code_map,
    )

    root = inbox / PORTAL_DIR
    if not root.is_dir():
        return []
    by_dir = {portal_dir_name(t): t for t in tables if t.is_kosis}
    region_map = read_region_code_map()
    rejected = []
    for path in sorted(p for p in root.glob("*/*") if p.suffix.lower() in PORTAL_SUFFIXES):
        table = by_dir.get(path.parent.name)
        if table is None:
            reason = (f"its folder {path.parent.name} names no catalogued KOSIS table (folders are <ORG_ID>_<TBL_ID>: "
                      f"{', '.join(sorted(by_dir))}); use make inbox-import FILE=... TBL=... ORG=...")
        else:
            try:
                parse_portal(path.read_bytes(), table, region_map)
                continue
            except PortalFileError as exc:
                reason = f"a KOSIS portal file that cannot be placed: {exc}"
        rejected.append(_reject(inbox, path, reason))
    return rejected


if __name__ == "__main__":
    ensure_inbox()  # silent: the summary of make run names the inbox; a failed run's first line is FAILED
