"""`make rollback SNAPSHOT=<sha256 or unique prefix>`: undo a bad KOSIS load without `make clean`
(`python -m pipelines.rollback --snapshot ... [--reason ...]`). The command lives in pipelines/cli.py
(main_rollback, whose help says what it does and its exit codes)."""

from __future__ import annotations

import sys

from pipelines.cli import main_rollback as main

if __name__ == "__main__":
    sys.exit(main())
