"""`make run`: materialize every asset in-process, publish, and print a summary (`python -m pipelines.run`). The
command lives in pipelines/cli.py (main_run)."""

from __future__ import annotations

import sys

from pipelines.cli import main_run as main

if __name__ == "__main__":
    sys.exit(main())
