"""Shared fixtures: real DuckDB files in tmp dirs, real Dagster materializations on ephemeral instances."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from pipelines.definitions import ALL_ASSETS
from pipelines.refresh import prepare_full_run
from pipelines.resources import KosisResource
from schemas.kosis import CATALOG_PATH, load_catalog
from schemas.registry import SOURCES_DIR
from warehouse.io import SourceFiles, WarehouseResource

# Tables compared to decide "the warehouse is unchanged": everything an analyst reads except the
# logs that record each run (quality.check_results, quality.quarantine).
COMPARED_SCHEMAS = ("reference", "paper", "kosis", "indicators")
COMPARED_EXTRA = ("quality.source_issues",)
# Columns that record when something was looked at, and so change with every run by design.
VOLATILE = {"kosis.tables": "EXCLUDE (last_checked_at)"}
BUILD_SPECIFIC = {"kosis.snapshots": "EXCLUDE (fetched_at, path)", "kosis.observations": "EXCLUDE (valid_from)"}


def materialize(db_path: Path, sources_root: Path, selection=None, assets=None, kosis: KosisResource | None = None,
                instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    """Like `make run`: registers every KOSIS year the sources have, then one run over all of them."""
    instance = instance or dg.DagsterInstance.ephemeral()
    kosis = kosis or KosisResource()
    warehouse = WarehouseResource(database=str(db_path), lock_timeout_s=5)
    source_files = SourceFiles(root=str(sources_root))
    tables = load_catalog(kosis_catalog_of(assets)) if assets else kosis.catalog()
    tags = prepare_full_run(instance, tables, kosis, source_files.root, warehouse)
    return dg.materialize(
        assets or ALL_ASSETS,
        selection=selection,
        instance=instance,
        resources={"warehouse": warehouse, "source_files": source_files, "kosis": kosis},
        tags=tags,
        raise_on_error=False,
    )


def kosis_catalog_of(assets) -> Path:
    """The catalog a list of assets was built from (its kosis/catalog asset records the path)."""
    for asset in assets:
        for key in asset.keys:
            if key == dg.AssetKey(["kosis", "catalog"]):
                return Path(asset.specs_by_key[key].metadata["catalog_path"])
    return CATALOG_PATH


def snapshot(db_path: Path, across_builds: bool = False) -> dict[str, list[tuple]]:
    """Every row of every compared table, sorted, so two warehouses can be compared with ==.
    across_builds: also leave out when and where a build ran (to compare two separate warehouses)."""
    volatile = {**VOLATILE, **(BUILD_SPECIFIC if across_builds else {})}
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = [f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN "
            f"({', '.join(repr(s) for s in COMPARED_SCHEMAS)}) ORDER BY 1, 2").fetchall()]
        return {t: sorted(con.execute(f"SELECT * {volatile.get(t, '')} FROM {t}").fetchall(), key=repr)
                for t in tables + list(COMPARED_EXTRA)}
    finally:
        con.close()


def query(db_path: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def grdp_catalog(roles: dict[str, str], first_period: str = "2010") -> str:
    """A catalog with one live GRDP table whose C2 codes map to sectors as `roles` says."""
    table = {"id": "grdp_by_activity", "org_id": "101", "tbl_id": "DT_1C81", "tbl_nm": "GRDP", "prd_se": "Y",
             "first_period": first_period, "obj_levels": ["ALL", "ALL"], "itm_id": "ALL", "unit": "million won",
             "used_by": ["industrial_structure"],
             "verified": False,
             "code_roles": [{"itm_id": "T1", "level": "c2", "code": c, "role": r} for c, r in roles.items()]}
    return yaml.safe_dump({"tables": [table]}, allow_unicode=True)


@pytest.fixture
def sources_copy(tmp_path: Path) -> Path:
    root = tmp_path / "sources"
    shutil.copytree(SOURCES_DIR, root)
    return root


@pytest.fixture(scope="session")
def baseline(tmp_path_factory) -> Path:
    """A warehouse built once from the bundled files; tests copy it instead of rebuilding it."""
    root = tmp_path_factory.mktemp("baseline")
    db = root / "warehouse.duckdb"
    result = materialize(db, SOURCES_DIR)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return db


@pytest.fixture
def baseline_copy(baseline: Path, tmp_path: Path) -> Path:
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(baseline, db)
    return db
