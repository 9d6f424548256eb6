"""The documentation ships with the repository and describes the warehouse that is actually built."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import query

PROJECT = Path(__file__).resolve().parent.parent
CONTRACT = PROJECT / "docs" / "warehouse-contract.md"
CONTRACT_SCHEMAS = ("reference", "paper", "kosis", "indicators", "quality")

# Built from parts so that this file does not mention them itself.
OUTSIDE_THE_REPO = ("../" + "shared", "shared" + "/contract", "shared" + "/kosis")


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT, capture_output=True, check=True).stdout
        return [PROJECT / p for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every file but the usual byproducts
        skip = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "dagster_home", "test-artifacts"}
        return [p for p in PROJECT.rglob("*") if p.is_file() and not skip & set(p.relative_to(PROJECT).parts)
                and "warehouse/data" not in p.relative_to(PROJECT).as_posix()]


def test_no_tracked_file_points_outside_the_repository() -> None:
    offending = []
    files = tracked_files()
    assert any(p.name == "README.md" for p in files)
    for path in files:
        if not path.is_file():  # deleted in the working tree but still tracked
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for n, line in enumerate(text.splitlines(), start=1):
            if any(s in line for s in OUTSIDE_THE_REPO):
                offending.append(f"{path.relative_to(PROJECT)}:{n}: {line.strip()}")
    assert not offending, "use docs/warehouse-contract.md or docs/kosis-api.md instead:\n" + "\n".join(offending)


def test_the_docs_the_readme_points_to_exist() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    for doc in ("docs/warehouse-contract.md", "docs/kosis-api.md", "docs/data_dictionary.md"):
        assert doc in readme, doc
        assert (PROJECT / doc).is_file(), doc


def named_in_contract() -> set[str]:
    text = CONTRACT.read_text(encoding="utf-8")
    pattern = rf"`({'|'.join(CONTRACT_SCHEMAS)})\.([a-z_0-9]+)`"
    return {f"{schema}.{name}" for schema, name in re.findall(pattern, text)}


def test_the_contract_names_every_table_and_view_of_the_built_warehouse(baseline: Path) -> None:
    schemas = ", ".join(f"'{s}'" for s in CONTRACT_SCHEMAS)
    built = {f"{s}.{t}" for s, t in query(
        baseline,
        f"SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ({schemas}) "
        f"UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE schema_name IN ({schemas})")}
    assert len(built) >= 30
    named = named_in_contract()
    assert not built - named, f"add to docs/warehouse-contract.md: {sorted(built - named)}"
    assert not named - built, f"named in docs/warehouse-contract.md but not built: {sorted(named - built)}"
