"""Resources, built from the environment: the warehouse, the shipped files and the KOSIS OpenAPI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import dagster as dg

from assets.kosis_resource import KosisResource
from warehouse.io import SourceFiles, default_warehouse
from warehouse.tables import with_table_io_manager


def kosis_from_env() -> KosisResource:
    # EnvVar only where the variable is set: an unset EnvVar is an error, and no key means offline.
    kwargs: dict = {}
    if os.environ.get("KOSIS_API_KEY"):
        kwargs["api_key"] = dg.EnvVar("KOSIS_API_KEY")
    if os.environ.get("KOSIS_BASE_URL"):
        kwargs["base_url"] = dg.EnvVar("KOSIS_BASE_URL")
    return KosisResource(**kwargs)


def resources_from_env() -> dict:
    return with_table_io_manager({"warehouse": default_warehouse(), "source_files": SourceFiles(),
                                  "kosis": kosis_from_env()})


@contextmanager
def resolved_resources(defs: dg.Definitions, instance: dg.DagsterInstance | None = None
                       ) -> Iterator[SimpleNamespace]:
    """The code location's resources with every `dg.EnvVar` resolved, as Dagster resolves them for a run. Given
    the instance (else the one in $DAGSTER_HOME, if set): without one Dagster builds an ephemeral instance, 0.5 s."""
    home = os.environ.get("DAGSTER_HOME", "")
    if instance is None and home and Path(home).is_dir():
        instance = dg.DagsterInstance.get()
    with dg.build_resources(defs.resources, instance=instance) as built:
        yield SimpleNamespace(**{k: getattr(built, k) for k in defs.resources})
