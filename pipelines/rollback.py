"""`make rollback SNAPSHOT=<sha256 or unique prefix>`: undo a bad KOSIS load without `make clean`.

The current vintages the snapshot created are closed and, cell by cell, the vintage that load had closed is
current again (one transaction, recorded in kosis.rollbacks; kosis.snapshots and the raw archive are kept),
then the indicators are rebuilt and the copy published as `make refresh` does (the derive_and_publish job).

Exit codes: 0 done; 1 the rebuild failed (the rollback itself is committed; `make refresh` carries the
publication forward); 2 nothing was done (unknown or ambiguous snapshot, no warehouse, locked warehouse).
"""

from __future__ import annotations

import argparse
import sys

import dagster as dg

from pipelines.refresh import (
    EXIT_CANNOT_START,
    derive_and_publish,
    resolved_resources,
    run_command,
)
from warehouse.rollback import SnapshotNotFoundError, resolve_snapshot, rollback_snapshot


def run_rollback(instance: dg.DagsterInstance, defs: dg.Definitions, given: str, reason: str) -> tuple[int, list[str]]:
    with resolved_resources(defs) as res:
        warehouse = res.warehouse
        if not warehouse.exists():
            return EXIT_CANNOT_START, [f"FAILED: no warehouse at {warehouse.location}: nothing to roll back"]
        with warehouse.get_connection() as con:
            try:
                sha, _ = resolve_snapshot(con, given)
            except SnapshotNotFoundError as exc:
                return EXIT_CANNOT_START, [f"FAILED: {exc}; nothing was changed"]
            done = rollback_snapshot(con, sha, reason)
        lines = [f"Rolled back KOSIS snapshot {sha} ({done.catalog_id}, years "
                 f"{', '.join(map(str, done.years)) or 'none current'}): {done.cells_closed} cells closed, "
                 f"{done.cells_reopened} earlier vintages current again (recorded in kosis.rollbacks; the snapshot "
                 f"and its archived body are kept)"]
        if not done.cells_closed:
            lines.append("  nothing of this snapshot was current (already rolled back, or superseded by a later "
                         "load)")
        return derive_and_publish(instance, defs, warehouse, lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", required=True,
                        help="sha256 of the snapshot (kosis.snapshots), or a unique prefix")
    parser.add_argument("--reason", default="make rollback", help="why (recorded in kosis.rollbacks)")
    args = parser.parse_args(argv)
    from pipelines.definitions import defs

    return run_command(lambda instance: run_rollback(instance, defs, args.snapshot, args.reason))


if __name__ == "__main__":
    sys.exit(main())
