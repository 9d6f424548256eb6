"""The API key, in every encoding, never reaches an error, a log line, an archived body or the warehouse.

Keys with ``+ / =`` and a space: URL-encoded they read ``%2B %2F %3D`` and ``+`` (quote_plus), so masking the
raw key alone would leave them in anything that quotes the request. Real loopback HTTP, real DuckDB files.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from urllib.parse import quote, quote_plus

import dagster as dg
import pytest

from assets.kosis_client import KosisClient, KosisError
from assets.kosis_masking import mask_secret, redact_text
from assets.source_files import SOURCES_DIR
from pipelines.definitions import build_assets
from pipelines.resources import KosisResource
from tests.conftest import materialize, query
from tests.kosis_server import KosisServer, make_generated_table

KEYS = ["ab+cd/ef==", "Zx9+/Qw=Rt+/Yu==", "key with space+/=9"]
YEARS = ["2018", "2019"]


def encodings(key: str) -> set[str]:
    """Every way the key may be written: raw, quote (with and without '/' safe), quote_plus, lower-case hex."""
    forms = {key, quote(key, safe=""), quote(key), quote_plus(key), quote_plus(key, safe="/"),
             json.dumps(key)[1:-1], key.replace("/", "\\/")}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in forms}  # lower-case hex
    return {f for f in forms if f}


def assert_no_key(text: str | bytes, key: str, where: str = "") -> None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    for form in encodings(key):
        assert form not in text, (where, form)


def table():
    return make_generated_table("DT_SEC", n_regions=3, n_classes=2, n_items=1, periods=YEARS, seed=2)


@pytest.mark.parametrize("key", KEYS)
def test_mask_secret_covers_every_encoding(key: str) -> None:
    for form in encodings(key):
        body = f'[{{"X":"before {form} after"}}]'.encode()
        masked, n = mask_secret(body, key)
        assert n == 1 and b"***" in masked, form
        assert_no_key(masked, key, form)
        assert_no_key(redact_text(body.decode(), key), key, form)
    assert mask_secret(b'[{"DT":"1,234"}]', key) == (b'[{"DT":"1,234"}]', 0)


@pytest.mark.parametrize("key", KEYS)
def test_an_echoed_request_is_masked_before_on_body_and_parsing(key: str, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    bodies: list[bytes] = []
    with KosisServer([table()], api_key=key) as srv:
        srv.inject("echo")
        with KosisClient(srv.base_url, key, on_body=lambda body, url: bodies.append(body)) as client:
            (fetched,) = client.get_data("101", "DT_SEC", obj_levels=["ALL", "ALL"], itm_id="ALL", prd_se="Y",
                                         start="2018", end="2019")
    assert fetched.n_masked >= 3  # the query string (URL-encoded), quote_plus, the decoded key
    assert b"***" in bodies[0] and bodies[0] == fetched.body
    assert_no_key(bodies[0], key, "on_body")
    assert_no_key(json.dumps(fetched.records, ensure_ascii=False), key, "records")
    assert_no_key(repr(fetched), key, "repr")
    assert_no_key(caplog.text, key, "log")


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("code", ["11", "21"])
def test_an_error_message_quoting_the_encoded_key_is_redacted(key: str, code: str, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with KosisServer([table()], api_key=key) as srv:
        srv.inject("err_echo", code=code)
        with KosisClient(srv.base_url, key, sleep=lambda s: None) as client, pytest.raises(KosisError) as err:
            client.get_data("101", "DT_SEC", obj_levels=["ALL", "ALL"], itm_id="ALL", prd_se="Y", start="2018",
                            end="2019")
    assert err.value.code == code
    assert "***" in str(err.value)
    for text in (str(err.value), repr(err.value), err.value.err_msg or "", str(err.value.params), caplog.text):
        assert_no_key(text, key)


@pytest.mark.parametrize("key", KEYS[:2])
def test_connection_errors_and_urllib3_logs_do_not_show_the_encoded_key(key: str, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with KosisServer([table()], api_key=key) as srv:
        dead = srv.base_url
    with KosisClient(dead, key, max_retries=1, sleep=lambda s: None, connect_timeout=0.5) as client:
        with pytest.raises(KosisError) as err:
            client.get_meta("101", "DT_SEC", "PRD")
    assert_no_key(str(err.value), key)
    assert_no_key(caplog.text, key)


CATALOG = """
tables:
  - id: sec
    org_id: "101"
    tbl_id: DT_SEC
    tbl_nm: generated
    prd_se: Y
    first_period: "2018"
    obj_levels: ["ALL", "ALL"]
    itm_id: ALL
    unit: test
    verified: false
"""


SELECTION = dg.AssetSelection.assets(["reference", "region_code_map"],
                                     ["kosis", "catalog"], ["kosis", "sec"])


def test_an_echoing_server_gets_no_key_into_the_archive_or_the_warehouse(tmp_path: Path) -> None:
    key = KEYS[1]
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG, encoding="utf-8")
    db = tmp_path / "data" / "w.duckdb"
    with KosisServer([table()], api_key=key) as srv:
        srv.inject("echo")
        kosis = KosisResource(api_key=key, base_url=srv.base_url, timeout_s=5, max_retries=1, backoff_base_s=0.01,
                              backoff_max_s=0.02)
        result = materialize(db, SOURCES_DIR, assets=build_assets(catalog), kosis=kosis,
                             selection=SELECTION)
    assert result.success
    (row,) = query(db, "SELECT masked, n_records FROM kosis.snapshots")
    assert row[0] >= 3 and row[1] == 3 * 2 * len(YEARS)
    archived = list((tmp_path / "data" / "raw").rglob("*.json"))
    assert archived
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert_no_key(path.read_bytes(), key, str(path))
