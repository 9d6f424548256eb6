"""Failures a user meets, through the README's commands as a user runs them (`make` in a subprocess with
WAREHOUSE_PATH and DAGSTER_HOME of their own): a locked warehouse, a bad cell in a shipped file, bad inbox
files; and `make export`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import Built, query
from tests.test_live_cli import PROJECT, make


@pytest.fixture
def user(built_copy: Built) -> Path:
    """A copy of the session's offline `make run` (tests/conftest.py: built_template): data/ and home/."""
    return built_copy.root


# WAREHOUSE_LOCK_TIMEOUT_S of the commands that meet a locked warehouse: short, so the test does not sit out
# 2 x 10 s (tests.conftest.make's default); the waiting and the message are the same.
LOCK_TIMEOUT_S = 4


def test_a_locked_warehouse_is_waited_for_once_then_the_holder_is_named(user: Path) -> None:
    db = user / "data" / "warehouse.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; con = duckdb.connect({str(db)!r}); "
                               "print('open', flush=True); time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        for target in ("refresh", "run"):
            started = time.monotonic()
            proc = make(target, user, key=None, env={"WAREHOUSE_LOCK_TIMEOUT_S": str(LOCK_TIMEOUT_S)})
            elapsed = time.monotonic() - started
            assert proc.returncode != 0
            lines = proc.stdout.strip().splitlines()
            assert elapsed < LOCK_TIMEOUT_S + 15, (target, elapsed)
            assert f"waiting for the lock held by PID {holder.pid}" in proc.stdout, proc.stdout
            assert lines[-1].startswith("FAILED") and f"PID {holder.pid}" in lines[-1], lines[-1]
            assert "close that session" in lines[-1] and "published.duckdb" in lines[-1]
            assert proc.stdout.count("waiting for the lock") == 1  # one wait per command, not per step
            assert "Traceback" not in proc.stdout + proc.stderr
    finally:
        holder.kill()
        holder.wait()


def test_bad_and_foreign_inbox_files_are_named_and_moved_aside_never_blocking(user: Path) -> None:
    inbox = user / "data" / "inbox"
    (inbox / "truncated.json").write_text('[{"ORG_ID": "101", "TBL_ID": "DT_1C81", "DT": "1', encoding="utf-8")
    (inbox / "foreign.json").write_text(json.dumps([{"ORG_ID": "101", "TBL_ID": "DT_9Z99", "C1": "22",
                                                     "ITM_ID": "T1", "PRD_SE": "A", "PRD_DE": "2012", "DT": "1"}]),
                                        encoding="utf-8")
    proc = make("refresh", user, key=None)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the rest of the refresh goes on
    assert "REJECTED inbox file truncated.json: not readable as KOSIS getList JSON" in proc.stdout
    assert "REJECTED inbox file foreign.json: its records belong to no catalogued KOSIS table (101/DT_9Z99" in (
        proc.stdout)
    rejected = inbox / "rejected"
    assert sorted(p.name for p in rejected.iterdir()) == ["foreign.json", "foreign.json.reason.txt",
                                                          "truncated.json", "truncated.json.reason.txt"]
    assert not (inbox / "truncated.json").exists()
    again = make("refresh", user, key=None)  # moved aside: never reported or tried again
    assert again.returncode == 0 and "REJECTED" not in again.stdout and "Nothing new" in again.stdout


def test_make_export_writes_every_published_table_as_csv_and_parquet(user: Path) -> None:
    proc = make("export", user, key=None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = user / "data" / "exports"
    published = user / "data" / "published.duckdb"
    names = [r[0] for r in query(published, "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                                            "WHERE schema_name IN ('reference', 'paper', 'kosis', 'indicators', "
                                            "'quality')")]
    assert len(names) > 20
    con = duckdb.connect()
    for name in names:
        n = query(published, f"SELECT count(*) FROM {name}")[0][0]
        assert con.execute(f"SELECT count(*) FROM read_parquet('{out / (name + '.parquet')}')").fetchone()[0] == n
        assert con.execute(f"SELECT count(*) FROM read_csv('{out / (name + '.csv')}')").fetchone()[0] == n or n == 0
    assert not list(out.glob("*.tmp")), "no temporary file is left behind"


def exported_columns(published: Path) -> dict[str, list[tuple[str, str, str]]]:
    """Every exported table and view -> its (column, DuckDB type, comment) in order."""
    columns: dict[str, list[tuple[str, str, str]]] = {}
    for table, column, dtype, comment in query(
            published, "SELECT schema_name || '.' || table_name, column_name, data_type, comment FROM duckdb_columns() "
                       "WHERE schema_name IN ('reference', 'paper', 'kosis', 'indicators', 'quality') "
                       "ORDER BY schema_name, table_name, column_index"):
        columns.setdefault(table, []).append((column, dtype, comment))
    return columns


def test_make_export_csv_has_a_bom_and_reads_back_korean_exactly(user: Path) -> None:
    import csv

    import pandas as pd

    assert make("export", user, key=None).returncode == 0
    out = user / "data" / "exports"
    published = user / "data" / "published.duckdb"
    for path in out.glob("*.csv"):
        assert path.read_bytes()[:3] == b"\xef\xbb\xbf", path.name
    expected = query(published, "SELECT region_code, name_ko FROM reference.regions ORDER BY region_code")
    assert ("22", "대구광역시") in expected
    with (out / "reference.regions.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[0] == "region_code"  # the mark is not part of the first header
    assert sorted((r["region_code"], r["name_ko"]) for r in rows) == expected
    frame = pd.read_csv(out / "reference.regions.csv", dtype=str)
    assert frame.columns[0] == "region_code"
    assert sorted(zip(frame["region_code"], frame["name_ko"], strict=True)) == expected
    assert sorted(p.name for p in out.glob("*.parquet")) == sorted(p.name[:-4] + ".parquet" for p in out.glob("*.csv"))
    assert duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{out / 'reference.regions.parquet'}') "
                                    "WHERE name_ko = '대구광역시'").fetchone()[0] == 1


def test_make_export_writes_a_workbook_per_schema_with_a_dictionary_of_every_column(user: Path) -> None:
    import openpyxl

    assert make("export", user, key=None).returncode == 0
    out = user / "data" / "exports"
    columns = exported_columns(user / "data" / "published.duckdb")
    for schema in ("reference", "paper", "kosis", "indicators", "quality"):
        book = openpyxl.load_workbook(out / f"{schema}.xlsx", read_only=True)
        tables = {t: c for t, c in columns.items() if t.startswith(schema + ".")}
        assert book.sheetnames[0] == "dictionary"
        assert all(len(name) <= 31 for name in book.sheetnames)
        assert len({n.lower() for n in book.sheetnames}) == len(book.sheetnames)
        dictionary = list(book["dictionary"].iter_rows(values_only=True))
        assert dictionary[0][:6] == ("table", "sheet", "column", "type", "unit", "comment")
        listed = [(r[0], r[2], r[3], r[5]) for r in dictionary[1:]]
        assert listed == [(t, c, d, comment) for t, cols in tables.items() for c, d, comment in cols]
        sheet_of = {r[0]: r[1] for r in dictionary[1:]}
        assert set(sheet_of.values()) == set(book.sheetnames[1:])
        for table, cols in tables.items():  # every sheet starts with the table's columns
            header = next(book[sheet_of[table]].iter_rows(max_row=1, values_only=True))
            assert list(header) == [c for c, _, _ in cols], table
        book.close()
    book = openpyxl.load_workbook(out / "reference.xlsx", read_only=True)
    regions = [r for r in book["regions"].iter_rows(values_only=True)]
    assert ("22", "Daegu", "대구광역시") in [r[:3] for r in regions]  # text codes stay text, Korean exact
    indicators = list(openpyxl.load_workbook(out / "indicators.xlsx", read_only=True)["dictionary"].iter_rows(
        values_only=True))
    assert ("indicators.sme_concentration", "sme_worker_pct", "% of manufacturing employment") in [
        (r[0], r[2], r[4]) for r in indicators]


def test_make_export_datapackage_is_valid_frictionless_and_the_manifest_names_the_publication(user: Path) -> None:
    from datetime import UTC, datetime
    from importlib.metadata import version

    from frictionless import Package, validate

    published = user / "data" / "published.duckdb"
    proc = make("export", user, key=None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = user / "data" / "exports"
    report = validate(out / "datapackage.json")
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])[:20]
    columns = exported_columns(published)
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in package["resources"]] == list(columns)
    for resource in package["resources"]:
        assert (resource["format"], resource["encoding"], resource["path"]) == ("csv", "utf-8-sig",
                                                                                resource["name"] + ".csv")
        assert [(f["name"], f["description"][:len(c[2])]) for f in resource["schema"]["fields"]
                for c in [next(c for c in columns[resource["name"]] if c[0] == f["name"])]] == [
            (c, comment) for c, _, comment in columns[resource["name"]]]
    by_name = {r["name"]: r for r in package["resources"]}
    assert by_name["reference.regions"]["schema"]["primaryKey"] == ["region_code"]
    assert {f["name"]: f["type"] for f in by_name["kosis.observations"]["schema"]["fields"]}["valid_from"] == (
        "datetime")
    assert package["licenses"][0]["name"] == "KOSIS-terms"
    assert any("Kim (2013)" in s["title"] for s in package["sources"])
    kosis = next(s for s in package["sources"] if s.get("path") == "https://kosis.kr")
    assert kosis["kosisTablesCatalogued"] and "101/DT_1C91" in kosis["kosisTablesCatalogued"]

    # frictionless reads the data, not only the descriptor: a text in an integer column is reported
    broken = out / "reference.regions.csv"
    broken.write_bytes(broken.read_bytes().replace(b",1949,", b",nineteen,", 1))
    bad = Package(out / "datapackage.json").get_resource("reference.regions").validate()
    assert not bad.valid and "type-error" in {e.type for e in bad.tasks[0].errors}

    manifest = (out / "MANIFEST.txt").read_text(encoding="utf-8")
    fields = dict(line.split(": ", 1) for line in manifest.split("\n\n")[0].splitlines())
    assert fields["package"] == f"regional-innovation-kr {version('regional-innovation-kr')}"
    mtime = datetime.fromtimestamp(published.stat().st_mtime, UTC).replace(tzinfo=None)
    assert fields["published_at"] == mtime.isoformat(timespec="seconds") + "Z"
    assert fields["publication"].startswith("file published.duckdb")
    exported_at = datetime.fromisoformat(fields["exported_at"].removesuffix("Z"))
    assert exported_at >= mtime.replace(microsecond=0)
    assert "byte-order mark" in fields["csv"]
    table = manifest.split("file\trows\tsha256\n")[1].splitlines()
    listed = {line.split("\t")[0]: line.split("\t")[1:] for line in table}
    on_disk = {p.name for p in out.iterdir()} - {"MANIFEST.txt"}
    assert set(listed) == on_disk
    for name, (_, sha) in listed.items():
        if name != "reference.regions.csv":  # broken above
            assert hashlib.sha256((out / name).read_bytes()).hexdigest() == sha, name
    n_sme = query(published, "SELECT count(*) FROM indicators.sme_concentration")[0][0]
    assert listed["indicators.sme_concentration.csv"][0] == str(n_sme)
    assert listed["datapackage.json"][0] == "-"


def test_a_bad_cell_in_a_shipped_file_is_named_with_file_line_column_and_value(tmp_path: Path) -> None:
    """`make run` in a clone whose Table 2 has a letter in a number (8O.9 for 80.9)."""
    repo = tmp_path / "repo"
    files = subprocess.run(["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True).stdout
    for rel in files.split():
        if (PROJECT / rel).is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT / rel, repo / rel)
    os.symlink(PROJECT / ".venv", repo / ".venv")
    csv = repo / "assets" / "sources" / "paper" / "table_2_sme_share_manufacturing.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    line_no = next(i for i, line in enumerate(lines, start=1) if line.startswith("22,"))  # Daegu's row
    column = lines[0].split(",").index("sme_worker_pct")
    cells = lines[line_no - 1].split(",")
    cells[column] = cells[column].replace("0", "O", 1) if "0" in cells[column] else cells[column] + "x"
    bad = cells[column]
    lines[line_no - 1] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOSIS_", "WAREHOUSE_", "DAGSTER_"))}
    env.update(WAREHOUSE_PATH=str(tmp_path / "data" / "warehouse.duckdb"), DAGSTER_HOME=str(tmp_path / "home"))
    proc = subprocess.run(["make", "-s", "run"], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    out = proc.stdout.strip().splitlines()
    assert out[0].startswith("FAILED") and out[-1].startswith("FAILED")
    where = f"table_2_sme_share_manufacturing.csv line {line_no}, column sme_worker_pct, value '{bad}'"
    assert where in out[0], out[0]
    assert "Nothing was published" in proc.stdout and "Paper claims" not in proc.stdout  # no old summary as new
    reasons = query(tmp_path / "data" / "warehouse.duckdb", "SELECT reason FROM quality.quarantine")
    assert any(where in r[0] for r in reasons), reasons


def test_a_run_left_started_by_a_killed_command_is_failed_by_the_next_command(user: Path) -> None:
    import signal

    import dagster as dg

    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOSIS_", "WAREHOUSE_", "DAGSTER_"))}
    env.update(WAREHOUSE_PATH=str(user / "data" / "warehouse.duckdb"), DAGSTER_HOME=str(user / "home"))
    victim = subprocess.Popen([str(PROJECT / ".venv" / "bin" / "python"), "-m", "pipelines.run"], cwd=PROJECT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = None
    with dg.DagsterInstance.from_config(str(user / "home")) as instance:
        deadline = time.monotonic() + 120
        while started is None and time.monotonic() < deadline and victim.poll() is None:
            runs = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
            started = runs[0].run_id if runs else None
            time.sleep(0.1)
        assert started, "the run never started"
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        assert instance.get_run_by_id(started).status == dg.DagsterRunStatus.STARTED  # wedged, as it was
    proc = make("refresh", user, key=None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "marked 1 run(s) left STARTED by a killed command as failed" in proc.stdout
    with dg.DagsterInstance.from_config(str(user / "home")) as instance:
        assert instance.get_run_by_id(started).status == dg.DagsterRunStatus.FAILURE


def test_an_inbox_file_with_a_bad_cell_loads_the_rest_and_says_what_was_kept_out(user: Path) -> None:
    from tests.test_refresh import kosis_record

    dt = {("Z10", "총부가가치(기초가격)"): "1,000", ("A", "농림어업"): "4", ("B", "광업"): "1O", ("C", "제조업"): "191",
          ("S", "서비스업"): "795"}  # 1O: a letter O for a zero
    records = [kosis_record("DT_1C81", "22", "대구광역시", [(code, name)], "T1", "명목", "백만원", "2011", value,
                            "2012-09-01") for (code, name), value in dt.items()]
    (user / "data" / "inbox" / "grdp_2011.json").write_text(json.dumps(records, ensure_ascii=False))
    proc = make("refresh", user, key=None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("QUARANTINED"))
    assert line.startswith("QUARANTINED 1 rows of kosis:101/DT_1C81") and "industrial_structure" in line, line
    reason = query(user / "data" / "warehouse.duckdb", "SELECT reason, payload->>'value_raw' FROM quality.quarantine "
                                                      "WHERE source = 'kosis:101/DT_1C81'")
    assert reason[0][1] == "1O"


def test_a_dagster_run_waits_for_a_locked_warehouse_once_not_once_per_step(user: Path) -> None:
    """Under the daemon or the UI, a run also checks the lock once, before any step, and fails naming the
    holder: the steps do not each wait again."""
    import dagster as dg

    from assets.source_files import SOURCES_DIR
    from pipelines.definitions import defs
    from pipelines.resources import KosisResource
    from warehouse.io import SourceFiles, WarehouseResource
    from warehouse.tables import with_table_io_manager

    db = user / "data" / "warehouse.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; con = duckdb.connect({str(db)!r}); "
                               "print('open', flush=True); time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        started = time.monotonic()
        result = dg.materialize(  # the eight indicator steps, as the automation sensor would launch them
            defs.assets, selection=dg.AssetSelection.groups("indicators"), instance=dg.DagsterInstance.ephemeral(),
            resources=with_table_io_manager({"warehouse": WarehouseResource(database=str(db), lock_timeout_s=5),
                                             "source_files": SourceFiles(root=str(SOURCES_DIR)),
                                             "kosis": KosisResource()}),
            raise_on_error=False)
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert not result.success
    assert elapsed < 5 + 15, elapsed  # one wait of 5 s, not 5 s for each of eight steps
    errors = " ".join(e.event_specific_data.error.to_string() for e in result.all_events
                      if getattr(e.event_specific_data, "error", None) is not None)
    assert "RESOURCE_INIT_FAILURE" in {e.event_type_value for e in result.all_events}  # before any step ran
    assert f"locked by PID {holder.pid}" in errors and "close that session" in errors
