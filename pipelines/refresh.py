"""`make refresh`: one refresh cycle, synchronously (`python -m pipelines.refresh [--all]`): new or revised KOSIS
periods only, then indicators and publication. The command lives in pipelines/cli.py (main_refresh)."""

from __future__ import annotations

import sys

from pipelines.cli import main_refresh as main

if __name__ == "__main__":
    sys.exit(main())
