"""Jobs: the whole pipeline, end to end."""

from __future__ import annotations

import dagster as dg

refresh_all = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.all(),
    description="Every asset: sources -> validated tables -> indicators -> published copy.",
)

ALL_JOBS = [refresh_all]
