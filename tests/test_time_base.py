"""One time base: every timestamp the warehouse stores is UTC, whatever the machine's time zone (a session in
Seoul, UTC+9, must not write local time into quality.* beside UTC elsewhere)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd

from warehouse.clock import utc_now
from warehouse.io import quarantine_rows
from warehouse.migrations import ensure_schema
from warehouse.tables import CheckRow, record_checks

ROOT = Path(__file__).resolve().parent.parent


def test_quality_rows_are_stamped_in_utc_in_a_session_in_seoul(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        ensure_schema(con)
        con.execute("SET TimeZone = 'Asia/Seoul'")
        assert con.execute("SELECT now()::TIMESTAMP - ?", [utc_now()]).fetchone()[0] > timedelta(hours=8)
        record_checks(con, (CheckRow("schema", "ERROR", True, 0),), run_id="r1", asset="indicators/x")
        quarantine_rows(con, source="test", rows=pd.DataFrame({"a": [1], "reason": ["a reason"]}), run_id="r1",
                        asset="kosis/x")
        stamped = [con.execute("SELECT evaluated_at FROM quality.check_results").fetchone()[0],
                   con.execute("SELECT quarantined_at FROM quality.quarantine").fetchone()[0]]
    finally:
        con.close()
    for moment in stamped:  # UTC: nowhere near the 9 hours of the session's local time
        assert abs(moment - utc_now()) < timedelta(hours=1), moment


def test_no_statement_takes_the_time_from_the_session() -> None:
    pattern = re.compile(r"\b(now\(\)|current_timestamp|get_current_timestamp\(\)|localtimestamp)", re.IGNORECASE)
    found = [f"{p.relative_to(ROOT)}:{i}" for package in ("warehouse", "assets", "pipelines")
             for p in sorted((ROOT / package).rglob("*")) if p.suffix in (".py", ".sql")
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line) and "utc_now()" not in line and not line.lstrip().startswith(("#", "--"))
             and p.name != "clock.py"]
    assert found == []
