"""Nothing lost: every record of every body is loaded or quarantined with a reason, and the counts per snapshot
are checked and recorded. Malformed bodies end as the project's own errors. Replays the regression corpus
tests/corpus/kosis_bodies/ through the load path (real DuckDB files) and, for the refused bodies, through the
real client against the loopback server."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from assets.kosis_body import MalformedBody
from assets.kosis_client import FULL_PARSE_MAX_BYTES, KosisClient, KosisError
from assets.source_files import SOURCES_DIR
from pipelines.definitions import build_assets
from pipelines.resources import KosisResource
from tests.conftest import materialize, query
from tests.kosis_loading import load_bodies, open_warehouse, record
from tests.kosis_server import KosisServer, make_generated_table

CORPUS = Path(__file__).parent / "corpus" / "kosis_bodies"
KEY = "conservation-key-1234"

# file -> what must become of it: ("malformed", text in the error) | ("no data", code) |
# (loaded, quarantined, reasons that must appear among the quarantined rows)
EXPECTED = {
    "top_level_object.json": ("malformed", "JSON object that is not a KOSIS error"),
    "deeply_nested.json": ("malformed", "nested too deeply"),
    "duplicate_keys.json": ("malformed", "duplicate key 'DT'"),
    "lone_surrogate.json": ("malformed", "lone surrogate"),
    "invalid_utf8.json": ("malformed", "neither UTF-8 nor CP949"),
    "html_page.json": ("malformed", "not valid JSON"),
    "array_of_scalars.json": ("malformed", "expected a JSON array of objects"),
    "err_only.json": ("no data", "30"),
    "err_among_records.json": (2, 1, ["the record carries a KOSIS err code"]),
    "periods.json": (2, 3, ["period outside the request", "malformed period"]),
    "values.json": (5, 7, ["DT is neither a well-formed finite number"]),
    "foreign_ids.json": (1, 4, ["ORG_ID differs from the requested 101", "TBL_ID differs from the requested DT_T",
                                "ITM_ID is not among the requested items"]),
    "lst_chn_de.json": (2, 1, ["LST_CHN_DE is neither YYYYMMDD nor YYYY-MM-DD"]),
    "non_string_values.json": (2, 2, ["DT is neither"]),
    "nan_literal.json": (0, 1, ["DT is neither"]),
    "unquoted_keys.json": (1, 0, []),
    "duplicate_cells.json": (0, 2, ["cell_key"]),
}


def test_the_corpus_is_covered() -> None:
    assert {p.name for p in CORPUS.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_body_is_loaded_or_quarantined_or_refused_with_a_typed_error(tmp_path: Path, name: str) -> None:
    expected = EXPECTED[name]
    con = open_warehouse(tmp_path / "w.duckdb")
    try:
        load = load_bodies(con, [(CORPUS / name).read_bytes()], tmp_path / "raw")
        if expected[0] == "malformed":
            (error,) = load.malformed
            assert type(error) is MalformedBody and expected[1] in str(error), str(error)
            return
        if expected[0] == "no data":  # an error body that is only an error: KOSIS's "no data", nothing to lose
            (snapshot,) = load.snapshots
            assert (snapshot.kosis_code, snapshot.n_records) == (expected[1], 0) and not load.errors
            return
        loaded, quarantined, reasons = expected
        (acc,) = load.accounting.values()
        assert (acc.n_loaded, acc.n_quarantined, acc.n_skipped) == (loaded, quarantined, 0), acc
        assert acc.n_records == loaded + quarantined
        assert len(load.quarantine) == quarantined
        for reason in reasons:
            assert any(reason in r for _, r in load.quarantine), (reason, load.quarantine)
        row = con.execute("SELECT n_records, n_loaded, n_quarantined FROM kosis.snapshots").fetchone()
        assert row == (loaded + quarantined, loaded, quarantined)
        # nothing non-finite, nothing ambiguous was stored
        assert con.execute("SELECT count(*) FROM kosis.observations WHERE NOT isfinite(value)").fetchone() == (0,)
    finally:
        con.close()


def test_values_are_stored_only_when_well_formed(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "w.duckdb")
    try:
        load_bodies(con, [(CORPUS / "values.json").read_bytes()], tmp_path / "raw")
        stored = dict(con.execute("SELECT value_raw, value FROM kosis.observations_current").fetchall())
        assert stored == {"1,234,567": 1234567.0, "1234.5": 1234.5, "-": None, "x": None, "": None}
        reasons = {json.loads(p)["value_raw"] for p, _ in con.execute(
            "SELECT payload::VARCHAR, reason FROM quality.quarantine").fetchall()}
        assert reasons == {"NaN", "Infinity", "-Infinity", "1e309", "9" * 5000, "1,2,3", "12,34"}
        lst = con.execute("SELECT DISTINCT lst_chn_de FROM kosis.observations_current ORDER BY 1").fetchall()
        assert ("20240101",) in lst
    finally:
        con.close()


def test_lst_chn_de_is_kept_as_received_in_both_forms(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "w.duckdb")
    try:
        load_bodies(con, [(CORPUS / "lst_chn_de.json").read_bytes()], tmp_path / "raw")
        got = sorted(r[0] for r in con.execute("SELECT lst_chn_de FROM kosis.observations_current").fetchall())
        assert got == ["2024-01-05", "20240105"]
    finally:
        con.close()


def test_unchanged_cells_count_as_loaded_on_a_second_load(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "w.duckdb")
    body = json.dumps([record(), record(C1="22"), record(PRD_DE="2017")]).encode()
    try:
        first = load_bodies(con, [body], tmp_path / "raw")
        second = load_bodies(con, [body], tmp_path / "raw")
        for load in (first, second):
            (acc,) = load.accounting.values()
            assert (acc.n_records, acc.n_loaded, acc.n_quarantined) == (3, 2, 1)
        assert con.execute("SELECT count(*) FROM kosis.observations").fetchone() == (2,)
    finally:
        con.close()


REFUSED = sorted(n for n, e in EXPECTED.items() if e[0] == "malformed")


@pytest.mark.parametrize("name", REFUSED)
def test_the_client_turns_a_refused_body_into_a_kosis_error(name: str) -> None:
    table = make_generated_table("DT_T", n_regions=2, n_classes=1, n_items=1, periods=["2019"])
    with KosisServer([table], api_key=KEY) as srv:
        srv.inject("raw", times=3, body=(CORPUS / name).read_bytes())
        with KosisClient(srv.base_url, KEY, max_retries=2, sleep=lambda s: None) as client:
            with pytest.raises(KosisError) as err:
                client.get_data("101", "DT_T", obj_levels=["ALL", "ALL"], itm_id="ALL", prd_se="Y", start="2019",
                                end="2019")
    assert "DT_T" in str(err.value) and EXPECTED[name][1] in str(err.value)


CATALOG = """
tables:
  - id: t
    org_id: "101"
    tbl_id: DT_T
    tbl_nm: test
    prd_se: Y
    first_period: "2019"
    obj_levels: ["ALL", "ALL"]
    itm_id: ALL
    unit: test
    verified: false
"""
SELECTION = dg.AssetSelection.assets(["reference", "region_code_map"],
                                     ["kosis", "catalog"], ["kosis", "t"])


def test_the_asset_quarantines_what_it_cannot_load_and_records_the_counts(tmp_path: Path) -> None:
    """Through Dagster and the loopback server: a body with a period outside the request, a malformed period,
    a foreign table, an err element and bad values; every record is loaded or quarantined with its reason."""
    body = json.dumps([record(C1="11"), record(C1="22"), record(PRD_DE="2015"), record(PRD_DE=" 2019", C1="21"),
                       record(TBL_ID="", C1="23"), {"err": "30", "errMsg": "x"}, record(DT="1,2,3", C1="24"),
                       record(DT="NaN", C1="25")], ensure_ascii=False).encode()
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    table = make_generated_table("DT_T", n_regions=2, n_classes=1, n_items=1, periods=["2019"])
    with KosisServer([table], api_key=KEY) as srv:
        srv.inject("raw", times=1, body=body)
        kosis = KosisResource(api_key=KEY, base_url=srv.base_url, max_retries=0)
        result = materialize(db, SOURCES_DIR, assets=build_assets(catalog), kosis=kosis, selection=SELECTION)
    assert result.success
    assert query(db, "SELECT n_records, n_loaded, n_quarantined, n_skipped FROM kosis.snapshots") == [(8, 2, 6, 0)]
    reasons = " | ".join(r for (r,) in query(db, "SELECT reason FROM quality.quarantine"))
    for text in ("period outside the request", "malformed period", "TBL_ID differs", "carries a KOSIS err",
                 "well-formed finite number"):
        assert text in reasons, (text, reasons)
    assert query(db, "SELECT count(*) FROM quality.quarantine") == [(6,)]
    assert query(db, "SELECT count(*) FROM kosis.observations_current") == [(2,)]


@pytest.mark.parametrize("fault", [None, "unquoted", "echo", "truncate"])
def test_a_large_body_is_counted_from_its_archived_copy(tmp_path: Path, fault: str | None) -> None:
    """Bodies of FULL_PARSE_MAX_BYTES or more reach the loader unparsed: DuckDB (or, for keys without quotes,
    the client's parser) reads the archived copy, and what it reads is what the snapshot says it received."""
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    table = make_generated_table("DT_T", n_regions=17, n_classes=30, n_items=2, periods=["2019"])
    cells = 17 * 30 * 2
    with KosisServer([table], api_key=KEY) as srv:
        if fault is not None:
            srv.inject(fault, times=1)
        kosis = KosisResource(api_key=KEY, base_url=srv.base_url, max_retries=1)
        result = materialize(db, SOURCES_DIR, assets=build_assets(catalog), kosis=kosis, selection=SELECTION)
    assert result.success
    ((n_records, n_loaded, n_quarantined, path),) = query(
        db, "SELECT n_records, n_loaded, n_quarantined, path FROM kosis.snapshots")
    body = Path(path).read_bytes()
    assert len(body) >= FULL_PARSE_MAX_BYTES and KEY.encode() not in body
    assert (n_records, n_loaded, n_quarantined) == (cells, cells, 0)
    assert query(db, "SELECT count(*) FROM kosis.observations_current") == [(cells,)]
