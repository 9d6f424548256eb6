"""The one time base of every timestamp the warehouse stores: UTC, as a naive TIMESTAMP.

DuckDB's now()::TIMESTAMP would give the session's local time (the TimeZone setting, which follows the machine's),
so no statement uses it: every writer passes utc_now() instead."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
