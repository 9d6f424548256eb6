"""Jobs: the sources no KOSIS table feeds, and the derive-and-publish tail of a refresh. A whole build (make run) is
these around one run per KOSIS table and range of years (pipelines/planner.py: execute_whole_build): each KOSIS table
has its own year partitions, and one Dagster job cannot span assets partitioned differently."""

from __future__ import annotations

import dagster as dg

build_sources = dg.define_asset_job(
    "build_sources",
    selection=dg.AssetSelection.groups("reference", "paper") | dg.AssetSelection.assets(["kosis", "catalog"]),
    description="The reference tables, the paper's tables and the KOSIS catalog: what every KOSIS load and indicator "
    "reads. make run runs it first, then the KOSIS tables, then derive_and_publish.",
)

derive_and_publish = dg.define_asset_job(
    "derive_and_publish",
    selection=dg.AssetSelection.groups("indicators", "publish"),
    description="Rebuild every indicator and the paper's claims from what the warehouse holds, then publish.",
)

ALL_JOBS = [build_sources, derive_and_publish]
