"""`make clean` keeps what a user put in (the inbox) or cannot rebuild offline (the raw archive);
`make clean-all` removes everything. Run for real on a copy of the Makefile with a fake data tree."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.inbox import ensure_inbox, readme_text

PROJECT = Path(__file__).resolve().parent.parent

KEPT = ("warehouse/data/inbox/grdp_2012.json", "warehouse/data/inbox/README.txt",
        "warehouse/data/raw/ab/ab12.json", "warehouse/data/raw/cd/cd34.json")
REMOVED = ("warehouse/data/warehouse.duckdb", "warehouse/data/warehouse.duckdb.wal", "warehouse/data/published.duckdb",
           "warehouse/data/reports/index.html", "dagster_home/dagster.yaml", "dagster_home/history/runs.db")
UNTOUCHED = ("assets/sources/paper/table_1_grdp_structure.csv", "README.md", ".venv/bin/python")


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    root = tmp_path / "clone"
    root.mkdir()
    shutil.copy(PROJECT / "Makefile", root / "Makefile")
    for rel in KEPT + REMOVED + UNTOUCHED:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel, encoding="utf-8")
    return root


def make(root: Path, target: str) -> None:
    proc = subprocess.run(["make", "--no-print-directory", target], cwd=root, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_make_clean_keeps_the_inbox_and_the_raw_archive(clone: Path) -> None:
    make(clone, "clean")
    for rel in KEPT + UNTOUCHED:
        assert (clone / rel).read_text(encoding="utf-8") == rel, rel
    for rel in REMOVED:
        assert not (clone / rel).exists(), rel
    assert sorted(p.name for p in (clone / "warehouse" / "data").iterdir()) == ["inbox", "raw"]
    assert not (clone / "dagster_home").exists()
    make(clone, "clean")  # nothing left to remove: still fine


def test_make_clean_all_removes_everything_built_or_dropped(clone: Path) -> None:
    make(clone, "clean-all")
    assert not (clone / "warehouse" / "data").exists()
    assert not (clone / "dagster_home").exists()
    for rel in UNTOUCHED:
        assert (clone / rel).exists(), rel


def test_make_clean_without_any_data_is_fine(tmp_path: Path) -> None:
    shutil.copy(PROJECT / "Makefile", tmp_path / "Makefile")
    make(tmp_path, "clean")
    make(tmp_path, "clean-all")


def test_the_inbox_readme_is_written_once_and_user_files_are_left_alone(tmp_path: Path) -> None:
    inbox = ensure_inbox(tmp_path / "warehouse.duckdb")
    assert inbox == tmp_path / "inbox"
    (inbox / "mine.json").write_text("[]", encoding="utf-8")
    (inbox / "README.txt").write_text("outdated", encoding="utf-8")
    ensure_inbox(tmp_path / "warehouse.duckdb")
    assert (inbox / "README.txt").read_text(encoding="utf-8") == readme_text()
    assert (inbox / "mine.json").read_text(encoding="utf-8") == "[]"
