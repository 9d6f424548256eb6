"""The DuckLake backend against a real PostgreSQL (tests/postgres.py): the catalog in PostgreSQL, Parquet files in
a directory. Every command runs as a user runs it (`make run`, `make refresh`) with WAREHOUSE_URL and
WAREHOUSE_DATA_PATH set.

- `make run` on the lake gives the same contract (schemas, tables, columns, rows) as on the DuckDB file;
- two processes (two machines: each its own local folder and Dagster home) loading different KOSIS tables at
  the same time both land;
- a reader attached to the published snapshot during a refresh sees the old or the new state, never a mix, and
  never blocks the writer.

The lake is built once per module and cloned per test (PostgreSQL `CREATE DATABASE ... TEMPLATE`, the data files
copied, the clone's data_path pointed at the copy).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import Built, make, snapshot_of
from tests.postgres import PostgresCluster
from tests.test_refresh import kosis_record
from warehouse.backend import load_lake_extensions
from warehouse.io import WarehouseResource

PROJECT_DIR = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.xdist_group("postgres")

CONTRACT_SCHEMAS = ("reference", "paper", "kosis", "indicators", "quality")


@dataclass(frozen=True)
class Lake:
    """A lake (catalog database `dbname`, data files under `files`) and one machine's local folder `root`
    (root/data: WAREHOUSE_PATH's folder with raw archive, inbox and reports; root/home: DAGSTER_HOME)."""

    cluster: PostgresCluster
    dbname: str
    files: Path
    root: Path

    @property
    def env(self) -> dict[str, str]:
        return {"WAREHOUSE_URL": self.cluster.lake_url(self.dbname), "WAREHOUSE_DATA_PATH": f"{self.files}/"}

    def resource(self, root: Path | None = None) -> WarehouseResource:
        return WarehouseResource(database=str((root or self.root) / "data" / "warehouse.duckdb"),
                                 url=self.env["WAREHOUSE_URL"], data_path=self.env["WAREHOUSE_DATA_PATH"])

    def clone(self, dbname: str, root: Path) -> Lake:
        """A copy of this lake under a new catalog database and data directory, and of its local folder."""
        self.cluster.create_database(dbname, template=self.dbname)
        files = root / "lake-files"
        shutil.copytree(self.files, files)
        self.cluster.execute("UPDATE ducklake_metadata SET value = %s WHERE key = 'data_path'", [f"{files}/"],
                             dbname=dbname)
        for part in ("data", "home"):
            shutil.copytree(self.root / part, root / part)
        return Lake(self.cluster, dbname, files, root)


@pytest.fixture(scope="module")
def lake_build(postgres: PostgresCluster, tmp_path_factory) -> Iterator[tuple[Lake, str]]:
    """`make run` on a new lake, once per module: (the lake, what make run printed). Read only."""
    root = tmp_path_factory.mktemp("lake-build")
    lake = Lake(postgres, postgres.create_database("lake_build"), root / "lake-files", root)
    proc = make("run", root, env=lake.env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    yield lake, proc.stdout


def contract(con: duckdb.DuckDBPyConnection) -> dict:
    """The SQL contract of a warehouse: every table and view of the five schemas with its columns and types,
    and every row (the compared tables as tests/conftest.py compares two builds; the two logs without run ids
    and times)."""
    shape = con.execute("""
        SELECT schema_name, table_name, list(column_name || ' ' || data_type ORDER BY column_index)
        FROM duckdb_columns() WHERE database_name = current_database() AND schema_name IN ?
        GROUP BY ALL ORDER BY ALL""", [list(CONTRACT_SCHEMAS)]).fetchall()
    rows = snapshot_of(con, across_builds=True)
    rows["kosis.observations_current"] = sorted(con.execute(
        "SELECT * EXCLUDE (valid_from) FROM kosis.observations_current").fetchall(), key=repr)
    rows["kosis.role_values"] = sorted(con.execute("SELECT * FROM kosis.role_values").fetchall(), key=repr)
    rows["quality.check_results"] = sorted(con.execute(
        "SELECT asset, check_name, severity, passed, n_failures FROM quality.check_results").fetchall(), key=repr)
    rows["quality.quarantine"] = sorted(con.execute(
        "SELECT source, payload, reason, asset FROM quality.quarantine").fetchall(), key=repr)
    return {"shape": shape, "rows": rows}


def test_make_run_on_ducklake_gives_the_same_contract_as_on_the_file(lake_build, built_template: Built) -> None:
    lake, stdout = lake_build
    assert "Dagster run" in stdout and "SUCCESS" in stdout
    assert "Published (query this one): DuckLake" in stdout and "SNAPSHOT_VERSION" in stdout
    file_con = duckdb.connect(str(built_template.published), read_only=True)
    try:
        on_file = contract(file_con)
    finally:
        file_con.close()
    with lake.resource().published_connection() as con:
        on_lake = contract(con)
        # nothing of the lake lives in the local folder: no DuckDB file was written
        assert not (lake.root / "data" / "warehouse.duckdb").exists()
        assert not (lake.root / "data" / "published.duckdb").exists()
    assert on_lake["shape"] == on_file["shape"]
    assert set(on_lake["rows"]) == set(on_file["rows"])
    for table in on_file["rows"]:
        assert on_lake["rows"][table] == on_file["rows"][table], table
    assert len(on_lake["rows"]["kosis.observations"]) > 0 and len(on_lake["rows"]["indicators.paper_claims"]) == 20
    # the data files are Parquet under WAREHOUSE_DATA_PATH, the catalog in PostgreSQL
    assert list(lake.files.rglob("*.parquet"))


def _drop(root: Path, name: str, records: list[dict]) -> None:
    inbox = root / "data" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")


def grdp_2011() -> list[dict]:
    """Daegu 2011 of DT_1C81 (GRDP by activity) as a user downloads it from KOSIS."""
    dt = {("Z10", "총부가가치(기초가격)"): "1,000", ("A", "농림어업"): "4", ("B", "광업"): "10", ("C", "제조업"): "191",
          ("S", "서비스업"): "795"}
    return [kosis_record("DT_1C81", "22", "대구광역시", [(code, name)], "T1", "명목", "백만원", "2011", value,
                         "2012-09-01") for (code, name), value in dt.items()]


def population_2012() -> list[dict]:
    """Sido populations of 2012 from DT_1B040A3 (resident registration) as a user downloads them from KOSIS."""
    regions = [("00", "전국", "50948272"), ("11", "서울특별시", "10195318"), ("27", "대구광역시", "2505644")]
    return [kosis_record("DT_1B040A3", code, name, [], "T20", "총인구수", "명", "2012", value, "2013-01-15")
            for code, name, value in regions]


def _refresh(lake: Lake, root: Path) -> subprocess.Popen:
    """`make refresh` on one machine (its own local folder and Dagster home) against the shared lake."""
    import os

    from tests.conftest import PROJECT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("KOSIS_", "WAREHOUSE_", "DAGSTER_"))}
    env.update(WAREHOUSE_PATH=str(root / "data" / "warehouse.duckdb"), DAGSTER_HOME=str(root / "home"),
               DAGSTER_LOG_LEVEL="WARNING", **lake.env)
    return subprocess.Popen(["make", "-s", "refresh"], cwd=PROJECT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_machines_loading_different_kosis_tables_at_once_both_land(lake_build, tmp_path: Path) -> None:
    lake = lake_build[0].clone("lake_writers", tmp_path / "a")
    machine_b = tmp_path / "b"
    shutil.copytree(lake.root / "data", machine_b / "data")
    shutil.copytree(lake.root / "home", machine_b / "home")
    _drop(lake.root, "grdp_2011.json", grdp_2011())   # machine A: GRDP (DT_1C81)
    _drop(machine_b, "population_2012.json", population_2012())  # machine B: population (DT_1B040A3)
    with lake.resource().published_connection() as con:
        before = con.execute("SELECT count(*) FROM kosis.observations").fetchone()[0]

    procs = [_refresh(lake, lake.root), _refresh(lake, machine_b)]
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out[-3000:] + err[-3000:]
    out_a, out_b = outputs[0][0], outputs[1][0]
    retries = [err.count("write conflict with another writer") for _, err in outputs]
    print(f"write conflicts retried: machine A {retries[0]}, machine B {retries[1]}")  # for the record (-s)
    assert "grdp_by_activity_earlier_base (KOSIS 101/DT_1C81): new periods [2011]" in out_a
    assert "population_by_sido (KOSIS 101/DT_1B040A3): new periods [2012]" in out_b

    with lake.resource().published_connection() as con:
        # both loads landed: their snapshots, every cell of each, nothing lost
        assert sorted(r[0] for r in con.execute(
            "SELECT request FROM kosis.snapshots WHERE origin = 'inbox'").fetchall()) == [
            "inbox:grdp_2011.json", "inbox:population_2012.json"]
        assert con.execute("SELECT count(*) FROM kosis.observations_current WHERE tbl_id = 'DT_1C81' "
                           "AND year = 2011").fetchone()[0] == 5
        assert con.execute("SELECT count(*) FROM kosis.observations_current WHERE tbl_id = 'DT_1B040A3' "
                           "AND year = 2012").fetchone()[0] == 3
        assert con.execute("SELECT count(*) FROM kosis.observations").fetchone()[0] == before + 8
        # and the indicators published last were derived from both
        assert con.execute("SELECT share_pct FROM indicators.industrial_structure WHERE year = 2011 "
                           "AND sector = 'tertiary'").fetchall() == [(79.5,)]
        assert con.execute("SELECT region_code, population, city_rank FROM indicators.population WHERE year = 2012 "
                           "ORDER BY region_code").fetchall() == [("00", 50948272, None), ("11", 10195318, 1),
                                                                  ("22", 2505644, 2)]


def test_a_reader_of_the_published_snapshot_sees_old_or_new_never_a_mix(lake_build, tmp_path: Path) -> None:
    lake = lake_build[0].clone("lake_reader", tmp_path)
    _drop(lake.root, "grdp_2011.json", grdp_2011())
    state_sql = ("SELECT (SELECT count(*) FROM kosis.observations_current WHERE tbl_id = 'DT_1C81' AND year = 2011), "
                 "(SELECT count(*) FROM indicators.industrial_structure WHERE year = 2011)")
    warehouse = lake.resource()
    with warehouse.published_connection() as con:
        old = con.execute(state_sql).fetchone()
    assert old == (0, 0)

    seen: list[tuple] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            with warehouse.published_connection() as con:
                seen.append(con.execute(state_sql).fetchone())

    held = warehouse.published_connection()  # an analyst's session left open through the whole refresh
    held_con = held.__enter__()
    reader = threading.Thread(target=read)
    reader.start()
    try:
        proc = _refresh(lake, lake.root)
        out, err = proc.communicate(timeout=600)
    finally:
        stop.set()
        reader.join()
    try:
        assert proc.returncode == 0, out[-3000:] + err[-3000:]  # the open session did not block the writer
        assert held_con.execute(state_sql).fetchone() == old  # it still reads the snapshot it attached at
    finally:
        held.__exit__(None, None, None)
    with warehouse.published_connection() as con:
        new = con.execute(state_sql).fetchone()
    assert new[0] == 5 and new[1] > 0
    assert len(seen) >= 5, seen
    assert set(seen) <= {old, new}, f"a reader saw a state that is neither the old nor the new one: {set(seen)}"
    assert seen[0] == old


def test_the_readme_examples_run_against_the_lake(lake_build) -> None:
    """The README's attach block, its time-travel example and its vintage block, run as written (with this
    lake's connection string, its published snapshot and a time the lake existed; the vintage block needs none)."""
    lake, _ = lake_build
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running on more than one machine", 1)[1].split("\n## ", 1)[0]
    snapshot, _ = lake.resource().last_publication()
    block = re.search(r"```sql\n(.*?)```", section, re.S).group(1)
    block = block.replace("dbname=lake host=db.example port=5432 user=analyst", lake.cluster.libpq(lake.dbname))
    con = duckdb.connect()
    try:
        load_lake_extensions(con)
        results = []
        for statement in duckdb.extract_statements(block):
            query = statement.query.replace("SNAPSHOT_VERSION 94", f"SNAPSHOT_VERSION {snapshot}")
            results.append(con.execute(query).fetchall())
        assert results[1] == [(snapshot,)]  # the published snapshot, as the README says to look it up
        assert len(results[-1]) == 20  # the claims
        now = con.execute("SELECT now()::TIMESTAMP").fetchone()[0]
        examples = [" ".join(s.split()) for s in re.findall(r"`(SELECT [^`]+)`", section, re.S)]
        time_travel = next(e for e in examples if "AT (TIMESTAMP" in e)
        assert con.execute(time_travel.replace("TIMESTAMP '2026-11-01 00:00'", f"TIMESTAMP '{now}'")).fetchall()
        vintages = next(b for b in re.findall(r"```sql\n(.*?)```", section, re.S) if "valid_from <=" in b)
        assert con.execute(vintages).fetchall()
    finally:
        con.close()
