"""Property-based fuzzing of KOSIS bodies (Hypothesis) through the path that loads them: the client's verdict on
a body (classify_body), archive, DuckDB staging, pandera validation, accounting and merge into a real DuckDB file.

Every body must end typed: refused as MalformedBody (the client turns it into a KosisError), an error body, or
records that are all either loaded or quarantined (received = loaded + quarantined, per snapshot). Never a
RecursionError, UnicodeError, AttributeError or a DuckDB exception; never a non-finite value stored.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.kosis_loading import load_bodies, open_warehouse, record

EXAMPLES = 200
MIN_BODIES = 5  # per example: 200 x at least 5 = at least 1,000 bodies per run

scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                   st.text(max_size=8), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2),
                                                                                             st.integers(), max_size=1))
numbers = st.one_of(
    st.integers(-10**7, 10**7).map(str), st.integers(0, 10**9).map(lambda n: f"{n:,}"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e309", "9" * 400, "1,2,3", "12,34", "1,234,567", " 12 ",
                     "△5", "-", "x", "", "...", "1.", ".5", "1,234.56", "0x10", "1_000"]),
)
FIELDS = {
    "ORG_ID": st.sampled_from(["101", "101", "101", "999", "", " 101"]),
    "TBL_ID": st.sampled_from(["DT_T", "DT_T", "DT_T", "", "DT_OTHER", "dt_t"]),
    "ITM_ID": st.sampled_from(["T1", "T2", "T1", "T9", "ALL", ""]),
    "C1": st.sampled_from(["11", "22", "00", "99", "", "11 "]),
    "C2": st.text(alphabet="ABC", max_size=2),
    "PRD_SE": st.sampled_from(["A", "A", "A", "Y", "M", ""]),
    "PRD_DE": st.one_of(st.sampled_from(["2019", "2020", "2019", "2018", " 2020", "20x0", "201901", "", "2020 "]),
                        st.text(max_size=6)),
    "DT": numbers,
    "LST_CHN_DE": st.sampled_from(["20240101", "2024-01-05", "2024/01/05", "", "x", "20240230"]),
    "C1_NM": st.text(max_size=4),
}
fields = st.fixed_dictionaries({}, optional={k: st.one_of(v, v, v, scalar) for k, v in FIELDS.items()})
records = st.builds(lambda base, extra, err: {**base, **extra, **({"err": err} if err is not None else {})},
                    fields, st.dictionaries(st.text(max_size=6), scalar, max_size=2),
                    st.one_of(st.none(), st.none(), st.none(), st.sampled_from(["30", "21", ""])))
good_records = st.builds(lambda c1, c2, prd, dt: record(C1=c1, C2=c2, PRD_DE=prd, DT=dt),
                         st.sampled_from(["11", "22", "00"]), st.text(alphabet="ABCD", min_size=1, max_size=2),
                         st.sampled_from(["2019", "2020"]), numbers)
arrays = st.lists(st.one_of(records, good_records, good_records), max_size=12)


@st.composite
def bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["array"] * 6 + ["object", "error", "mutated", "binary", "nested", "scalars"]))
    ascii_only = draw(st.booleans())
    if kind == "array":
        return json.dumps(draw(arrays), ensure_ascii=ascii_only).encode("utf-8")
    if kind == "object":
        return json.dumps(draw(st.one_of(records, good_records)), ensure_ascii=ascii_only).encode()
    if kind == "error":
        return json.dumps([{"err": draw(st.sampled_from(["30", "31", "11", "x"])), "errMsg": draw(st.text(max_size=5))}]
                          if draw(st.booleans()) else {"err": "30"}).encode()
    if kind == "nested":
        depth = draw(st.integers(1, 5000))
        return b'[{"DT":' + b"[" * depth + b"]" * depth + b"}]"
    if kind == "scalars":
        return json.dumps(draw(st.lists(scalar, max_size=4))).encode()
    if kind == "binary":
        return draw(st.binary(max_size=64))
    text = json.dumps(draw(arrays), ensure_ascii=True)
    mutation = draw(st.sampled_from(["truncate", "duplicate", "surrogate", "bad_utf8", "html", "unquote"]))
    if mutation == "truncate":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))].encode()
    if mutation == "duplicate":
        return text.replace('"DT": ', '"DT": "1", "DT": ', 1).encode()
    if mutation == "surrogate":
        return text.replace('"PRD_DE": "', '"PRD_DE": "\\ud800', 1).encode()
    if mutation == "bad_utf8":
        return text.encode()[:-2] + b"\xff" + text.encode()[-2:]
    if mutation == "html":
        return b"<html><body>" + text.encode()[:40] + b"</body></html>"
    return text.replace('"ORG_ID": ', "ORG_ID: ").encode()


def test_every_fuzzed_body_ends_typed_and_conserved(tmp_path: Path) -> None:
    con = open_warehouse(tmp_path / "w.duckdb")
    seen = {"bodies": 0, "malformed": 0, "records": 0, "loaded": 0, "quarantined": 0}

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(bodies(), min_size=MIN_BODIES, max_size=8))
    def check(batch: list[bytes]) -> None:
        load = load_bodies(con, batch, tmp_path / "raw")  # any untyped exception fails here
        seen["bodies"] += len(batch)
        seen["malformed"] += len(load.malformed)
        assert len(load.malformed) + len(load.errors) + len(load.snapshots) == len(batch)
        for snapshot in load.snapshots:
            acc = load.accounting[snapshot.sha256]
            assert acc.n_records == acc.n_loaded + acc.n_quarantined and acc.n_skipped == 0, acc
        unique = {s.sha256: s for s in load.snapshots}
        seen["records"] += sum(s.n_records for s in unique.values())
        seen["loaded"] += sum(a.n_loaded for a in load.accounting.values())
        seen["quarantined"] += sum(a.n_quarantined for a in load.accounting.values())
        assert len(load.quarantine) == sum(a.n_quarantined for a in load.accounting.values())
        assert all(reason for _, reason in load.quarantine)

    try:
        check()
        assert con.execute("SELECT count(*) FROM kosis.observations WHERE NOT isfinite(value)").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM kosis.observations WHERE org_id <> '101' OR tbl_id <> 'DT_T' "
                           "OR itm_id NOT IN ('T1', 'T2') OR year NOT IN (2019, 2020)").fetchone() == (0,)
    finally:
        con.close()
    assert seen["bodies"] >= EXAMPLES * MIN_BODIES >= 1000, seen
    assert seen["malformed"] and seen["loaded"] and seen["quarantined"], seen
    print("fuzz:", seen)
