"""Jobs: the whole pipeline, and the derive-and-publish tail of a refresh."""

from __future__ import annotations

import dagster as dg

refresh_all = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.all(),
    description="Every asset: sources -> validated tables -> indicators -> published copy. Run it over every "
    "KOSIS year at once (the partition-range tags pipelines.refresh.all_years_tags gives).",
)

derive_and_publish = dg.define_asset_job(
    "derive_and_publish",
    selection=dg.AssetSelection.groups("indicators", "publish"),
    description="Rebuild every indicator and the paper's claims from what the warehouse holds, then publish.",
)

ALL_JOBS = [refresh_all, derive_and_publish]
