"""Tests of the KOSIS client (assets.kosis_client) and of the body reading and key masking it uses
(assets.kosis_body, assets.kosis_masking), against tests.kosis_server (real HTTP on loopback, no mocks)."""

from __future__ import annotations

import json
import logging
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.kosis_body import classify_body, parse_body
from assets.kosis_client import FULL_PARSE_MAX_BYTES, FetchedBody, KosisClient, KosisError, enumerate_periods
from assets.kosis_masking import StreamMasker, _secret_pattern_bytes, mask_secret, redact_url
from tests.kosis_server import KosisServer, KosisTable, make_generated_table
from warehouse.kosis_load import INCOMING_PREFIX, ArchiveWriter, RawArchive

KEY = "test-key-5f3a9c"
ORG = "101"
SMALL = "DT_SMALL"
ONE_LEVEL = "DT_ONE"
BIG = "DT_BIG"
YEARS = ["2019", "2020", "2021"]


def no_sleep(seconds: float) -> None:
    pass


def small_table() -> KosisTable:
    regions = [("00", "전국"), ("11", "서울특별시"), ("22", "대구광역시")]
    sectors = [("A", "농림어업"), ("B", "광업·제조업")]
    items = [("T1", "명목", "백만원"), ("T2", "실질", "백만원")]
    values = {}
    for n, (prd, (r, _), (c, _), (i, _, _)) in enumerate(
        (p, r, c, i) for p in YEARS for r in regions for c in sectors for i in items
    ):
        values[(i, (r, c), prd)] = f"{n * 1000 + 7:,}" if n % 5 else "-"
    return KosisTable(
        org_id=ORG,
        tbl_id=SMALL,
        tbl_nm="경제활동별 지역내총생산",
        levels=[regions, sectors],
        level_names=["시도별", "경제활동별"],
        items=items,
        prd_se="Y",
        periods=list(YEARS),
        values=values,
        lst_chn_de={"2019": "20210105", "2020": "20220105", "2021": "20231220"},
    )


def one_level_table() -> KosisTable:
    regions = [("11", "서울특별시"), ("21", "부산광역시")]
    values = {("T01", (r,), p): "1,234" for r, _ in regions for p in ("2020", "2021")}
    return KosisTable(
        ORG, ONE_LEVEL, "시도별 인구", [regions], ["행정구역별"], [("T01", "인구", "명")], "Y", ["2020", "2021"], values
    )


# 18 regions x 30 classes x 4 items x 30 years = 64,800 cells: more than one request can carry.
BIG_TABLE = make_generated_table(BIG, 18, 30, 4, [str(y) for y in range(1991, 2021)], seed=7)


@pytest.fixture
def server() -> Iterator[KosisServer]:
    with KosisServer([small_table(), one_level_table(), BIG_TABLE], api_key=KEY) as srv:
        yield srv


def make_client(srv: KosisServer, **kw) -> KosisClient:
    kw.setdefault("sleep", no_sleep)
    kw.setdefault("timeout", 5.0)
    return KosisClient(srv.base_url, kw.pop("api_key", KEY), **kw)


def fetch_small(client: KosisClient, **kw) -> list[FetchedBody]:
    args = {"obj_levels": ["ALL", "ALL"], "itm_id": "ALL", "prd_se": "Y", "start": "2019", "end": "2021"}
    args.update(kw)
    return client.get_data(ORG, SMALL, **args)


def cells(bodies: list[FetchedBody]) -> list[tuple[str, ...]]:
    return [
        (r["ITM_ID"], r["C1"], r.get("C2", ""), r["PRD_DE"], r["DT"], r["LST_CHN_DE"])
        for b in bodies
        for r in b.records
    ]


def expected_cells(table: KosisTable) -> list[tuple[str, ...]]:
    return [
        (k[0], k[1][0], k[1][1] if len(k[1]) > 1 else "", k[2], dt, table.cell_lst(k)) for k, dt in table.iter_cells()
    ]


# ------------------------------------------------------------------------------------------ plain fetches


def test_plain_fetch_returns_every_cell_in_kosis_form(server: KosisServer) -> None:
    with make_client(server) as client:
        bodies = fetch_small(client)
    assert len(bodies) == 1
    body = bodies[0]
    assert not body.no_data and body.kosis_code is None
    assert sorted(cells(bodies)) == sorted(expected_cells(small_table()))
    assert len(body.records) == 3 * 3 * 2 * 2
    first = body.records[0]
    # The key order of real responses (a hash order; public captures of DT_1B040A3 and DT_1PE201).
    assert list(first) == [
        "C1_OBJ_NM", "C2_OBJ_NM", "DT", "C1", "C2", "PRD_SE", "UNIT_NM_ENG", "ITM_ID", "TBL_ID", "ITM_NM",
        "TBL_NM", "PRD_DE", "LST_CHN_DE", "C1_NM_ENG", "C1_NM", "C2_NM_ENG", "C2_NM", "UNIT_NM", "ITM_NM_ENG",
        "ORG_ID", "C1_OBJ_NM_ENG", "C2_OBJ_NM_ENG",
    ]  # fmt: skip
    assert all(isinstance(v, str) for r in body.records for v in r.values())
    assert {r["PRD_SE"] for r in body.records} == {"A"}
    assert {r["C1_OBJ_NM"] for r in body.records} == {"시도별"}
    seoul = [r for r in body.records if r["C1"] == "11"]
    assert {r["C1_NM"] for r in seoul} == {"서울특별시"}
    assert {r["LST_CHN_DE"] for r in body.records if r["PRD_DE"] == "2021"} == {"2023-12-20"}
    assert any("," in r["DT"] for r in body.records) and any(r["DT"] == "-" for r in body.records)
    # the key is neither in the returned URL nor the params; the server saw it
    assert KEY not in body.request_url and "apiKey" not in body.request_url
    assert "apiKey" not in body.params and body.params["tblId"] == SMALL
    assert body.body.startswith(b"[{")
    logged = server.data_requests[-1]
    assert logged["apiKey"] == "REDACTED" and logged["objL1"] == "ALL" and logged["jsonVD"] == "Y"


def test_one_level_table_has_no_c2_keys_and_selection_lists(server: KosisServer) -> None:
    with make_client(server) as client:
        bodies = client.get_data(ORG, ONE_LEVEL, obj_levels=["11+"], itm_id="T01", prd_se="Y", start="2020", end="2021")
    records = bodies[0].records
    assert len(records) == 2
    assert all("C2" not in r and "C2_NM" not in r for r in records)
    assert {r["C1"] for r in records} == {"11"}


def test_selection_subset_and_new_est_prd_cnt(server: KosisServer) -> None:
    with make_client(server) as client:
        bodies = fetch_small(client, obj_levels=["11+22", "B"], itm_id="T2", start=None, end=None, new_est_prd_cnt=2)
    got = cells(bodies)
    assert {(c[1], c[2], c[0]) for c in got} == {("11", "B", "T2"), ("22", "B", "T2")}
    assert {c[3] for c in got} == {"2020", "2021"}
    assert server.data_requests[-1]["newEstPrdCnt"] == "2"


def test_open_period_range_is_resolved_with_getmeta_prd(server: KosisServer) -> None:
    with make_client(server) as client:
        bodies = fetch_small(client, start=None, end=None)
    assert len(cells(bodies)) == 36
    last = server.data_requests[-1]
    assert (last["startPrdDe"], last["endPrdDe"]) == ("2019", "2021")


def test_get_meta_tbl_prd_itm(server: KosisServer) -> None:
    with make_client(server) as client:
        assert client.get_meta(ORG, SMALL, "TBL")[0]["TBL_NM"] == "경제활동별 지역내총생산"
        # As the service answers PRD: one row per periodicity, a Korean label, first and last period.
        assert client.get_meta(ORG, SMALL, "PRD") == [{"PRD_SE": "년", "STRT_PRD_DE": YEARS[0],
                                                       "END_PRD_DE": YEARS[-1]}]
        ncd = client.get_meta(ORG, SMALL, "NCD")  # SEND_DE per period
        assert [r["PRD_DE"] for r in ncd] == YEARS and all(len(r["SEND_DE"]) == 10 for r in ncd)
        itm = client.get_meta(ORG, SMALL, "ITM")
    levels = {(r["OBJ_ID_SN"], r["ITM_ID"]) for r in itm if r["OBJ_ID"] != "ITEM"}
    assert levels == {("1", "00"), ("1", "11"), ("1", "22"), ("2", "A"), ("2", "B")}
    items = [r for r in itm if r["OBJ_ID"] == "ITEM"]
    assert [r["ITM_ID"] for r in items] == ["T1", "T2"]
    assert all("OBJ_ID_SN" not in r and "UNIT_ENG_NM" in r for r in items)  # item rows differ, as the service's


def test_publish_period_and_revise_are_served(server: KosisServer) -> None:
    server.publish_period(SMALL, "2022", {("T1", ("11", "A")): "99"}, lst_chn_de="20240301")
    server.revise(SMALL, ("T2", ("22", "B"), "2020"), "5,555", "20240315")
    with make_client(server) as client:
        new = cells(fetch_small(client, start="2022", end="2022"))
        assert new == [("T1", "11", "A", "2022", "99", "2024-03-01")]  # LST_CHN_DE as the service writes it
        revised = cells(fetch_small(client, obj_levels=["22", "B"], itm_id="T2", start="2020", end="2020"))
        assert revised == [("T2", "22", "B", "2020", "5,555", "2024-03-15")]
        assert client.get_meta(ORG, SMALL, "PRD")[-1]["END_PRD_DE"] == "2022"
        send_de = {r["PRD_DE"]: r["SEND_DE"] for r in client.get_meta(ORG, SMALL, "NCD")}
        assert send_de["2020"] == "2024-03-15" and send_de["2022"] == "2024-03-01"  # a revision moves the date


# ------------------------------------------------------------------------------------------- splitting


def test_table_over_40000_cells_arrives_complete_in_split_calls(server: KosisServer) -> None:
    assert BIG_TABLE.n_combinations == 64_800 > 40_000
    with make_client(server) as client:
        bodies = client.get_data(
            ORG, BIG, obj_levels=["ALL", "ALL"], itm_id="ALL", prd_se="Y", start="1991", end="2020"
        )
    got = cells(bodies)
    keys = [c[:4] for c in got]
    assert len(keys) == len(set(keys)) == BIG_TABLE.n_combinations  # complete, no duplicates
    assert sorted(got) == sorted(expected_cells(BIG_TABLE))
    assert len(bodies) >= 2 and all(len(b.records) <= 40_000 for b in bodies)
    assert server.data_requests[0].get("startPrdDe") == "1991"  # asked whole first, then split


def test_single_period_too_large_is_split_by_selection(server: KosisServer) -> None:
    server.cell_limit = 50  # one period of DT_SMALL has 12 cells; of DT_BIG 2,160
    with make_client(server, cell_limit=50) as client:
        bodies = client.get_data(
            ORG, BIG, obj_levels=["ALL", "ALL"], itm_id="ALL", prd_se="Y", start="2020", end="2020"
        )
    got = cells(bodies)
    assert len(got) == len({c[:4] for c in got}) == 18 * 30 * 4
    assert all(len(b.records) <= 50 for b in bodies)
    # ALL was expanded with getMeta ITM and halved: down to single regions, then halves of the classes
    assert any(r.get("method") == "getMeta" and r.get("type") == "ITM" for r in server.requests_log)
    sent = server.data_requests[1:]
    assert {r["objL1"] for r in sent} == {code for code, _ in BIG_TABLE.levels[0]}
    assert all("+" in r["objL2"] for r in sent)


def test_new_est_prd_cnt_too_large_splits_the_selection(server: KosisServer) -> None:
    server.cell_limit = 10
    with make_client(server) as client:
        bodies = fetch_small(client, start=None, end=None, new_est_prd_cnt=2)
    got = cells(bodies)
    assert len(got) == len(set(got)) == 24
    assert all("newEstPrdCnt" in r for r in server.data_requests)  # never turned into a period range


def test_unsplittable_request_fails_with_code_31(server: KosisServer) -> None:
    server.cell_limit = 0
    with make_client(server) as client, pytest.raises(KosisError) as info:
        fetch_small(client, obj_levels=["11", "A"], itm_id="T1", start="2020", end="2020")
    assert info.value.code == "31"
    assert SMALL in str(info.value)


def test_enumerate_periods() -> None:
    assert enumerate_periods("Y", "2019", "2021") == ["2019", "2020", "2021"]
    assert enumerate_periods("H", "202002", "202102") == ["202002", "202101", "202102"]
    assert enumerate_periods("Q", "202003", "202102") == ["202003", "202004", "202101", "202102"]
    assert enumerate_periods("M", "202011", "202102") == ["202011", "202012", "202101", "202102"]
    assert enumerate_periods("D", "20240228", "20240301") == ["20240228", "20240229", "20240301"]
    assert enumerate_periods("IR", "2019", "2020") is None


# ----------------------------------------------------------------------------------------------- faults

FAULTS = [
    pytest.param("err", {"code": 40}, id="err40"),
    pytest.param("err", {"code": 42}, id="err42"),
    pytest.param("err", {"code": 50}, id="err50"),
    pytest.param("err", {"code": 50, "as_list": True}, id="err50-in-list"),
    pytest.param("http", {"status": 500}, id="http500"),
    pytest.param("http", {"status": 503, "retry_after": 1}, id="http503"),
    pytest.param("slow", {"seconds": 1.5}, id="slow"),
    pytest.param("truncate", {}, id="truncate"),
    pytest.param("truncate", {"lie_length": True}, id="truncate-short-read"),
    pytest.param("reset", {}, id="reset"),
]


@pytest.mark.parametrize(("kind", "kw"), FAULTS)
def test_transient_faults_are_retried_and_recovered(server: KosisServer, kind: str, kw: dict) -> None:
    sleeps: list[float] = []
    bodies_seen: list[bytes] = []
    server.inject(kind, times=2, **kw)
    with make_client(
        server, sleep=sleeps.append, timeout=0.4, backoff_max=2.0, on_body=lambda body, url: bodies_seen.append(body)
    ) as client:
        bodies = fetch_small(client)
    assert sorted(cells(bodies)) == sorted(expected_cells(small_table()))
    assert len(server.data_requests) == 3
    assert len(sleeps) == 2 and all(0 <= s <= 2.0 for s in sleeps)
    if kind == "http" and kw.get("retry_after"):
        assert all(s >= 1 for s in sleeps)
    if kind == "err" or (kind == "truncate" and not kw):  # complete HTTP 200 bodies, archived although
        assert len(bodies_seen) == 3  # they are not data
    else:  # no HTTP 200 body was received (status 5xx, timeout, reset, short read)
        assert len(bodies_seen) == 1


LARGE_BODY_FAULTS = [
    pytest.param("err", {"code": 50}, id="err50"),
    pytest.param("truncate", {}, id="truncate"),
    pytest.param("truncate", {"lie_length": True}, id="truncate-short-read"),
    pytest.param("raw", {"body": b"<!DOCTYPE html><html>" + b"<p>maintenance</p>" * 5000 + b"</html>"}, id="html"),
    pytest.param("raw", {"body": b'{"rows": [' + b'{"DT": "1"},' * 8000 + b'{"DT": "1"}]}'}, id="object"),
    pytest.param("reset", {}, id="reset"),
]


@pytest.mark.parametrize(("kind", "kw"), LARGE_BODY_FAULTS)
def test_large_bodies_are_archived_unparsed_and_faults_still_retried(server: KosisServer, kind: str, kw: dict,
                                                                      tmp_path: Path) -> None:
    """A client that keeps no records (the pipeline's) tells a large body from its head, tail and length: a
    truncated transfer, an HTML page or another shape is retried; the good body is handed on unparsed, its
    records counted later from the archived copy (None here), and that copy holds every cell."""
    sleeps: list[float] = []
    raw = RawArchive(tmp_path / "raw")
    server.inject(kind, times=1, **kw)
    with make_client(server, sleep=sleeps.append, timeout=0.4, keep_records=False, archive=raw.writer) as client:
        (fetched,) = client.get_data(ORG, BIG, obj_levels=["ALL", "ALL"], itm_id="ALL", prd_se="Y", start="2020",
                                     end="2020")
    assert len(sleeps) == 1 and len(server.data_requests) == 2
    assert fetched.n_records is None and fetched.records == []
    body = raw.committed[fetched.request_url][1].read_bytes()
    assert len(body) >= FULL_PARSE_MAX_BYTES
    records, code, _ = classify_body(body)
    assert code is None and len(records) == 18 * 30 * 4
    # complete HTTP 200 bodies are archived although they are not data; a short read or a reset never is
    complete_200 = 2 if kind in ("err", "raw") or (kind == "truncate" and not kw) else 1
    assert len(list((tmp_path / "raw").glob("*/*.json"))) == complete_200
    assert not list((tmp_path / "raw").glob(".incoming-*"))


def test_small_bodies_are_parsed_and_counted_by_a_client_that_keeps_no_records(server: KosisServer) -> None:
    with make_client(server, keep_records=False) as client:
        bodies = fetch_small(client)
    assert sum(b.n_records for b in bodies) == len(expected_cells(small_table()))


def test_unquoted_keys_are_repaired_without_retry(server: KosisServer) -> None:
    server.inject("unquoted")
    seen: list[bytes] = []
    with make_client(server, on_body=lambda body, url: seen.append(body)) as client:
        bodies = fetch_small(client)
    assert seen[0].startswith(b"[{C1_OBJ_NM:")
    assert bodies[0].body == seen[0]
    assert sorted(cells(bodies)) == sorted(expected_cells(small_table()))
    assert len(server.data_requests) == 1


def test_parse_body_repairs_keys_but_not_string_contents() -> None:
    data, _ = parse_body('[{ORG_ID:"101", DT : "1,234",NOTE:"서울,b:c {x:y}"}]'.encode())
    assert data == [{"ORG_ID": "101", "DT": "1,234", "NOTE": "서울,b:c {x:y}"}]
    assert parse_body(b'{"err":30,"errMsg":"x"}')[0] == {"err": "30", "errMsg": "x"}  # numbers stay text
    with pytest.raises(ValueError):
        parse_body(b'[{"ORG_ID":"101","DT":"1')


def test_persistently_truncated_body_gives_up_naming_table_and_periods(server: KosisServer) -> None:
    server.inject("truncate", times=10)
    with make_client(server, max_retries=2) as client, pytest.raises(KosisError) as info:
        fetch_small(client)
    msg = str(info.value)
    assert SMALL in msg and "2019" in msg and "2021" in msg and "truncated" in msg
    assert len(server.data_requests) == 3


def test_persistent_503_beyond_max_retries(server: KosisServer) -> None:
    server.inject("http", times=100, status=503)
    with make_client(server, max_retries=3) as client, pytest.raises(KosisError) as info:
        fetch_small(client)
    err = info.value
    assert err.http_status == 503 and err.code is None
    assert err.org_id == ORG and err.tbl_id == SMALL and err.period_range == ("2019", "2021")
    msg = str(err)
    assert f"tblId={SMALL}" in msg and f"orgId={ORG}" in msg
    assert "2019..2021" in msg and "HTTP 503" in msg
    assert KEY not in msg and KEY not in repr(err)
    assert len(server.data_requests) == 4  # 1 try + 3 retries
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == msg and copy.http_status == 503 and copy.period_range == ("2019", "2021")


def test_connection_refused_is_retried_then_fails(server: KosisServer) -> None:
    base = server.base_url
    server.stop()
    with KosisClient(base, KEY, sleep=no_sleep, max_retries=2, connect_timeout=0.5) as client:
        with pytest.raises(KosisError) as info:
            client.get_data(ORG, SMALL, obj_levels=["ALL", "ALL"], itm_id="ALL", prd_se="Y", start="2019", end="2021")
    assert "connection error" in str(info.value) and KEY not in str(info.value)


# ------------------------------------------------------------------------------- errors that fail at once


@pytest.mark.parametrize(("api_key", "code"), [("wrong-key-0a1b2c", "11"), ("", "10")])
def test_key_errors_fail_at_once_without_leaking_the_key(server: KosisServer, api_key: str, code: str) -> None:
    sleeps: list[float] = []
    with make_client(server, api_key=api_key, sleep=sleeps.append) as client, pytest.raises(KosisError) as info:
        fetch_small(client)
    err = info.value
    assert err.code == code
    assert "KOSIS_API_KEY" in str(err)
    assert SMALL in str(err)
    if api_key:
        assert api_key not in str(err) and api_key not in repr(err) and api_key not in repr(client)
    assert "apiKey" not in err.params
    assert sleeps == [] and len(server.data_requests) == 1


def test_injected_key_error_is_not_retried(server: KosisServer) -> None:
    server.inject("err", code=11)
    with make_client(server) as client, pytest.raises(KosisError) as info:
        fetch_small(client)
    assert info.value.code == "11" and KEY not in str(info.value)
    assert len(server.data_requests) == 1


def test_too_many_levels_is_err_21_naming_table_and_parameter(server: KosisServer) -> None:
    with make_client(server) as client, pytest.raises(KosisError) as info:
        fetch_small(client, obj_levels=["ALL", "ALL", "ALL"])
    msg = str(info.value)
    assert info.value.code == "21"
    assert f"tblId={SMALL}" in msg and "err 21" in msg and "objL3" in msg
    assert KEY not in msg
    assert len(server.data_requests) == 1


def test_too_few_levels_is_err_20_naming_the_missing_parameter(server: KosisServer) -> None:
    with make_client(server) as client, pytest.raises(KosisError) as info:
        fetch_small(client, obj_levels=["ALL"])
    msg = str(info.value)
    assert info.value.code == "20" and "err 20" in msg and "objL2" in msg and SMALL in msg


def test_unknown_table_fails_naming_the_table(server: KosisServer) -> None:
    with make_client(server) as client, pytest.raises(KosisError) as info:
        client.get_data(ORG, "DT_NOPE", obj_levels=["ALL"], itm_id="ALL", prd_se="Y", start="2020", end="2020")
    assert info.value.code in ("20", "21")
    assert "DT_NOPE" in str(info.value)


def test_http_404_fails_at_once(server: KosisServer) -> None:
    with KosisClient(server.base_url + "nowhere/", KEY, sleep=no_sleep) as client, pytest.raises(KosisError) as info:
        client.get_meta(ORG, SMALL, "TBL")
    assert info.value.http_status == 404
    assert len(server.requests_log) == 1


# ------------------------------------------------------------------------------------------------ no data


def test_period_without_data_is_an_empty_no_data_result(server: KosisServer) -> None:
    with make_client(server) as client:
        bodies = fetch_small(client, start="1990", end="1995")
    assert len(bodies) == 1
    assert bodies[0].no_data and bodies[0].records == [] and bodies[0].kosis_code == "30"


def test_prd_se_the_table_does_not_have_is_no_data(server: KosisServer) -> None:
    with make_client(server) as client:
        bodies = fetch_small(client, prd_se="Q", start="201901", end="201904")
    assert [b.no_data for b in bodies] == [True]


def test_injected_err_30_is_no_data(server: KosisServer) -> None:
    server.inject("err", code=30)
    with make_client(server) as client:
        assert fetch_small(client)[0].no_data


# -------------------------------------------------------------------------------- on_body and redaction


def test_on_body_gets_every_raw_body_before_parsing(server: KosisServer) -> None:
    seen: list[tuple[bytes, str]] = []

    def archive(body: bytes, url: str) -> None:
        seen.append((body, url))

    server.inject("truncate")
    with make_client(server, on_body=archive) as client:
        bodies = client.get_data(
            ORG, BIG, obj_levels=["ALL", "ALL"], itm_id="ALL", prd_se="Y", start="1991", end="2020"
        )
    # the truncated body could never be parsed: it reached the archive before any parsing
    with pytest.raises(ValueError):
        parse_body(seen[0][0])
    served_200 = len(server.requests_log)  # every response in this run was an HTTP 200
    assert len(seen) == served_200
    assert {b.body for b in bodies} <= {body for body, _ in seen}
    assert all(KEY not in url and "apiKey" not in url and url.startswith(server.base_url) for _, url in seen)


def test_on_body_failure_propagates(server: KosisServer) -> None:
    def archive(body: bytes, url: str) -> None:
        raise OSError("disk full")

    with make_client(server, on_body=archive) as client, pytest.raises(OSError, match="disk full"):
        fetch_small(client)


def test_an_archive_write_failure_propagates_and_leaves_no_partial_file(server: KosisServer,
                                                                        tmp_path: Path) -> None:
    class Full(ArchiveWriter):
        def write(self, chunk: bytes) -> None:
            raise OSError("disk full")

    with make_client(server, archive=lambda: Full(tmp_path), keep_records=False) as client, \
            pytest.raises(OSError, match="disk full"):
        fetch_small(client)
    assert list(tmp_path.iterdir()) == []


def test_a_partial_body_of_a_process_that_died_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / f"{INCOMING_PREFIX}{int(dead.stdout)}-abc"
    arriving = tmp_path / f"{INCOMING_PREFIX}{os.getpid()}-def"
    for path in (orphan, arriving):
        path.write_bytes(b'[{"ORG_ID": "1')
    RawArchive(tmp_path)
    assert not orphan.exists() and arriving.exists()


@settings(max_examples=200, deadline=None)
@given(prefix=st.binary(max_size=300), suffix=st.binary(max_size=300), n_keys=st.integers(0, 3),
       encoding=st.sampled_from(["raw", "quote", "quote_plus", "json"]), cuts=st.lists(st.integers(1, 400), max_size=8))
def test_masking_a_stream_in_any_chunks_equals_masking_the_whole_body(prefix: bytes, suffix: bytes, n_keys: int,
                                                                       encoding: str, cuts: list[int]) -> None:
    secret = "k3y/with space+and=SIGNS"
    written = {"raw": secret, "quote": quote(secret, safe=""), "quote_plus": quote_plus(secret),
               "json": json.dumps(secret)[1:-1].replace("/", "\\/")}[encoding].encode()
    body = prefix + (written + b"," + suffix) * n_keys + suffix
    masker, out, start = StreamMasker(secret), [], 0
    for cut in sorted(cuts):
        out.append(masker.feed(body[start:cut]))
        start = max(start, cut)
    out.append(masker.feed(body[start:]))
    out.append(masker.finish())
    whole, n_whole = _secret_pattern_bytes(secret).subn(b"***", body)  # the pattern over the whole body at once
    assert b"".join(out) == whole == mask_secret(body, secret)[0]
    assert masker.count == n_whole == mask_secret(body, secret)[1] >= n_keys


def test_logs_never_contain_the_key(server: KosisServer, caplog: pytest.LogCaptureFixture) -> None:
    server.inject("http", times=1, status=500)
    server.inject("reset", times=1)
    with caplog.at_level(logging.DEBUG):
        with make_client(server) as client:
            fetch_small(client)
    assert "retry 1/5" in caplog.text and "retry 2/5" in caplog.text
    assert KEY not in caplog.text
    assert any(r.name.startswith("urllib3") for r in caplog.records)  # its DEBUG lines were checked too


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://kosis.kr/openapi/x.do?apiKey=SECRET&orgId=101", "https://kosis.kr/openapi/x.do?orgId=101"),
        (
            "https://kosis.kr/openapi/x.do?method=getList&apiKey=SECRET&orgId=101&objL1=11%2B21%2B",
            "https://kosis.kr/openapi/x.do?method=getList&orgId=101&objL1=11%2B21%2B",
        ),
        ("https://kosis.kr/openapi/x.do?orgId=101&apikey=SECRET", "https://kosis.kr/openapi/x.do?orgId=101"),
        ("https://kosis.kr/openapi/x.do?apiKey=SECRET", "https://kosis.kr/openapi/x.do"),
        ("https://kosis.kr/openapi/x.do?apiKey=&orgId=1", "https://kosis.kr/openapi/x.do?orgId=1"),
        ("https://kosis.kr/openapi/x.do?orgId=101", "https://kosis.kr/openapi/x.do?orgId=101"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert "SECRET" not in redact_url(url)


