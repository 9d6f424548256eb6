"""The KOSIS OpenAPI as a Dagster resource: settings only; `pipelines/resources.py` builds it from the environment."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
from pydantic import Field

from assets.kosis_client import DEFAULT_KOSIS_BASE_URL, KosisClient
from assets.kosis_masking import BodyWriter
from assets.source_files import CATALOG_PATH, load_catalog
from schemas.kosis import KosisTable


class KosisResource(dg.ConfigurableResource):
    """KOSIS OpenAPI settings. With no API key the KOSIS assets replay the bundled snapshots offline.

    The key is passed as `dg.EnvVar("KOSIS_API_KEY")`, so Dagster shows the variable's name, never its
    value, in the UI and the event log; the client removes it from every URL, log line and error."""

    api_key: str | None = Field(default=None, description="KOSIS API key (env KOSIS_API_KEY); none: offline")
    base_url: str = Field(default=DEFAULT_KOSIS_BASE_URL, description="env KOSIS_BASE_URL")
    catalog_path: str = Field(default=str(CATALOG_PATH))
    timeout_s: float = 30.0
    connect_timeout_s: float = 5.0
    total_timeout_s: float = Field(default=60.0, description="Deadline of one HTTP attempt (connect + all reads); "
                                   "hitting it is a transient failure, retried up to max_retries")
    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    cell_limit: int = 40_000

    @property
    def offline(self) -> bool:
        return not self.api_key

    def catalog(self) -> tuple[KosisTable, ...]:
        return load_catalog(self.catalog_path)

    def client(self, archive: Callable[[], BodyWriter] | None = None, logger=None) -> KosisClient:
        """A client that keeps no records: data bodies stream to ``archive`` and large ones are not parsed."""
        if self.offline:
            raise RuntimeError("no KOSIS_API_KEY: the KOSIS assets replay bundled snapshots instead")
        return KosisClient(
            self.base_url, self.api_key, timeout=self.timeout_s, connect_timeout=self.connect_timeout_s,
            total_timeout=self.total_timeout_s, max_retries=self.max_retries, backoff_base=self.backoff_base_s,
            backoff_max=self.backoff_max_s,
            cell_limit=self.cell_limit, archive=archive, logger=logger, keep_records=False,
        )
