"""The code location loads, and every asset explains itself in the UI."""

from __future__ import annotations

import dagster as dg

from pipelines.definitions import defs
from pipelines.planner import phases
from schemas.registry import PAPER_TABLES

EXPECTED_GROUPS = {"sources", "paper", "reference", "indicators", "publish"}


def test_definitions_load() -> None:
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    every_asset = {k for a in graph.assets_defs for k in a.keys}
    # a whole build: the sources job, the KOSIS tables (each with its own year partitions), the derived tail
    first, kosis, last = phases(graph, dg.AssetSelection.all())
    assert set(first) | set(kosis) | set(last) == every_asset
    assert len(first) + len(kosis) + len(last) == len(every_asset)
    assert set(defs.resolve_job_def("build_sources").asset_layer.executable_asset_keys) <= set(first)
    assert dg.AssetKey(["indicators", "industrial_structure"]) in last and dg.AssetKey("published_warehouse") in last
    assert {graph.get(k).partitions_def.name for k in kosis} == {f"kosis_year__{k.path[1]}" for k in kosis}
    tail = set(defs.resolve_job_def("derive_and_publish").asset_layer.executable_asset_keys)
    assert tail == {k for k in every_asset if graph.get(k).group_name in ("indicators", "publish")}
    assert dg.AssetKey("published_warehouse") in tail and dg.AssetKey(["indicators", "paper_claims"]) in tail


def test_every_asset_has_description_group_kinds_and_owner() -> None:
    graph = defs.resolve_asset_graph()
    groups = set()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description and len(node.description) > 30, key
        assert node.owners, key
        assert node.kinds, key
        groups.add(node.group_name)
    assert EXPECTED_GROUPS <= groups


def test_one_factory_builds_the_nine_paper_tables_with_blocking_checks() -> None:
    graph = defs.resolve_asset_graph()
    for spec in PAPER_TABLES:
        table = dg.AssetKey(["paper", spec.name])
        assert graph.get(table).parent_keys == set()  # read, validated and written in one step: no hand-over
        checks = graph.get_check_keys_for_assets({table})
        assert {c.name for c in checks} == {"structure", "source_consistency"}
        assert all(graph.get_check_spec(c).blocking == (c.name == "structure") for c in checks)
        assert graph.get(table).metadata["dagster/column_schema"].columns


def test_lineage_runs_from_printed_table_to_indicator_to_claims() -> None:
    graph = defs.resolve_asset_graph()
    upstream = graph.get_ancestor_asset_keys(dg.AssetKey(["indicators", "paper_claims"]))
    assert dg.AssetKey(["paper", "st_budget_2011"]) in upstream
    assert dg.AssetKey(["indicators", "st_budget_dependence"]) in upstream


def test_the_committed_data_dictionary_is_current() -> None:
    from pathlib import Path

    from schemas.dictionary import render

    committed = (Path(__file__).resolve().parent.parent / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert committed == render(), "regenerate: .venv/bin/python -m schemas.dictionary > docs/data_dictionary.md"


# Counts, in a fresh interpreter (so no module is already imported), every call of the catalog reader and of the
# asset factories while `pipelines.definitions` is imported: the profiler sees calls made at module import too.
COUNT_IMPORT_CALLS = """
import json, sys
from collections import Counter
watched = {"load_catalog", "build_assets", "build_definitions", "build_kosis_assets", "build_indicator_assets",
           "build_file_table_assets", "build_claim_assets", "build_published_warehouse", "build_kosis_sensor",
           "build_monthly_refresh"}
calls = Counter()
def profile(frame, event, arg):
    if event == "call" and frame.f_code.co_name in watched and frame.f_code.co_filename.startswith(sys.argv[1]):
        calls[frame.f_code.co_name] += 1
sys.setprofile(profile)
import pipelines.definitions
sys.setprofile(None)
print(json.dumps(calls))
"""


def test_importing_the_definitions_reads_the_catalog_once_and_builds_each_asset_factory_once() -> None:
    import json
    import subprocess
    import sys
    from pathlib import Path

    project = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", COUNT_IMPORT_CALLS, str(project)], cwd=project, capture_output=True,
                          text=True, timeout=120, check=True)
    calls = json.loads(proc.stdout.strip().splitlines()[-1])
    assert calls == {"load_catalog": 1, "build_assets": 1, "build_definitions": 1, "build_kosis_assets": 1,
                     "build_indicator_assets": 1, "build_file_table_assets": 1, "build_claim_assets": 1,
                     "build_published_warehouse": 1, "build_kosis_sensor": 1, "build_monthly_refresh": 1}, calls
