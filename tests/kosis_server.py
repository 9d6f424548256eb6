"""A KOSIS-compatible OpenAPI server for tests and benchmarks (stdlib only, loopback).

    table = make_generated_table("DT_BENCH", n_regions=18, n_classes=50, n_items=4, periods=years, seed=1)
    with KosisServer([table], api_key="test-key") as server:
        client = KosisClient(server.base_url, "test-key")
        ...
        server.inject("err", code=40)        # the next getList call answers {"err":"40",...}
        server.publish_period("DT_BENCH", "2024")
        server.revise("DT_BENCH", ("T01", ("11", "C001"), "2024"), "123", "20250102")

Endpoints (under ``/openapi/``): ``Param/statisticsParameterData.do?method=getList`` (data),
``statisticsData.do?method=getMeta&type=TBL|PRD|ITM|NCD|CMMT`` (metadata) and
``statisticsSearch.do?method=getList&searchNm=...`` (search by name), answering like the real service:
HTTP 200 with ``{"err":"NN","errMsg":"..."}`` for errors, every value a string.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import socket
import struct
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from json.encoder import encode_basestring
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

__all__ = [
    "DEFAULT_LST_CHN_DE",
    "FAULT_KINDS",
    "SIDO",
    "KosisServer",
    "KosisTable",
    "make_generated_table",
]

DEFAULT_LST_CHN_DE = "20240101"
PRD_SE_LABELS = {"Y": "A"}
FAULT_KINDS = frozenset({"err", "http", "slow", "truncate", "unquoted", "reset", "echo", "err_echo", "drip", "raw"})
ERR_CODES = frozenset({"10", "11", "20", "21", "30", "31", "40", "41", "42", "50"})
ERR_MESSAGES = {
    "10": "인증KEY값이 누락되었습니다.",
    "11": "유효하지않은 인증KEY입니다.",
    "20": "필수요청변수값이 누락되었습니다.",
    "21": "잘못된 요청 변수를 호출 하였습니다.",
    "30": "데이터가 존재하지 않습니다.",
    "31": "조회결과가 초과하였습니다. (40,000셀 이하로 조회하십시오.)",
    "40": "호출가능건수 제한.",
    "41": "호출가능 ROW수 제한.",
    "42": "사용자별 이용 제한.",
    "50": "서버오류.",
}
META_TYPES_WITHOUT_DATA = frozenset({"ORG", "UNIT", "SOURCE", "WGT", "OBJ", "CLS"})
# ORG_NM of statisticsSearch rows: 101 as the service names it since 2025 (rubatoyd/kosis-openapi-mcp
# tests/fixtures/search_edu.json); others blank unless a table says.
ORG_NAMES = {"101": "국가데이터처", "142": "중소벤처기업부"}
PRD_SE_KOREAN = {"Y": "년", "H": "반기", "Q": "분기", "M": "월", "D": "일", "IR": "부정기", "F": "다년"}


def _dashed(date: str) -> str:
    """YYYYMMDD -> YYYY-MM-DD, how the service writes LST_CHN_DE (other forms pass through)."""
    return f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) == 8 and date.isdigit() else date


def _dotted(prd: str) -> str:
    """202401 -> 2024.01, how getMeta PRD writes months, quarters and halves (years pass through)."""
    return f"{prd[:4]}.{prd[4:]}" if len(prd) > 4 and prd.isdigit() else prd

SIDO: list[tuple[str, str]] = [
    ("00", "전국"), ("11", "서울특별시"), ("21", "부산광역시"), ("22", "대구광역시"), ("23", "인천광역시"),
    ("24", "광주광역시"), ("25", "대전광역시"), ("26", "울산광역시"), ("29", "세종특별자치시"), ("31", "경기도"),
    ("32", "강원도"), ("33", "충청북도"), ("34", "충청남도"), ("35", "전라북도"), ("36", "전라남도"),
    ("37", "경상북도"), ("38", "경상남도"), ("39", "제주특별자치도"),
]  # fmt: skip

CellKey = tuple[str, tuple[str, ...], str]  # (itm_id, (c1, c2, ...), prd_de)
ValueFn = Callable[[str, tuple[str, ...], str], "str | None"]

_QUOTED_KEY_RE = re.compile(r'"([A-Za-z_][A-Za-z0-9_]*)":')


def _unquote_keys(text: str) -> str:
    """``{"ORG_ID":"101"}`` -> ``{ORG_ID:"101"}`` (how KOSIS answered without jsonVD=Y)."""
    return _QUOTED_KEY_RE.sub(r"\1:", text)


def _js(value: str) -> str:
    return encode_basestring(value)


# --------------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------------


@dataclass
class KosisTable:
    """A KOSIS statistical table served by :class:`KosisServer`.

    ``levels[i]`` lists the (code, name) pairs of classification level C{i+1}; ``level_names[i]`` is its
    C{i+1}_OBJ_NM. ``values`` maps (itm_id, (c1, ...), prd_de) to the DT text; a cell missing from
    ``values`` is asked of ``value_fn`` (lazy, for big generated tables); a cell neither knows is absent.
    ``lst_chn_de`` is one YYYYMMDD for all periods or a dict per period.
    """

    org_id: str
    tbl_id: str
    tbl_nm: str
    levels: list[list[tuple[str, str]]]
    level_names: list[str]
    items: list[tuple[str, str, str]]
    prd_se: str
    periods: list[str]
    values: dict[CellKey, str] = field(default_factory=dict)
    lst_chn_de: dict[str, str] | str = DEFAULT_LST_CHN_DE
    value_fn: ValueFn | None = None
    tbl_nm_eng: str = ""
    cell_lst_chn_de: dict[CellKey, str] = field(default_factory=dict)
    # English labels, keyed "c1:<code>" .. "c8:<code>", "itm:<item>", "unit:<unit>" and "obj:c1" .. (a level's
    # OBJ_NM): a row carries C{n}_NM_ENG, ITM_NM_ENG, UNIT_NM_ENG, C{n}_OBJ_NM_ENG only where one is given, as
    # real rows lack some (DT_1YL20921's have C1_NM_ENG and UNIT_NM_ENG, no ITM_NM_ENG). None: every *_ENG field
    # repeats the Korean name, a stand-in for tables whose English the tests do not care about.
    names_eng: dict[str, str] | None = None
    # getMeta type=CMMT rows (CMMT_NM, CMMT_DC, optionally OBJ_ID, OBJ_NM, ITM_ID, ITM_NM); none: err 30.
    comments: list[dict[str, str]] = field(default_factory=list)
    org_nm: str = ""

    def english(self, key: str, korean: str) -> str | None:
        """The English label under ``key`` (see names_eng), the Korean one as a stand-in, or None: not sent."""
        return korean if self.names_eng is None else self.names_eng.get(key)

    def __post_init__(self) -> None:
        if not 1 <= len(self.levels) <= 8:
            raise ValueError("a table has 1 to 8 classification levels")
        if len(self.level_names) != len(self.levels):
            raise ValueError("level_names must name every level")
        if not self.items:
            raise ValueError("a table needs at least one item")
        self.periods = sorted(dict.fromkeys(self.periods))
        if isinstance(self.lst_chn_de, str):
            self._default_lst = self.lst_chn_de
            self.lst_chn_de = {}
        else:
            self._default_lst = DEFAULT_LST_CHN_DE
            self.lst_chn_de = dict(self.lst_chn_de)

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def n_combinations(self) -> int:
        """Items x codes of every level x periods (the cells KOSIS counts against its limit)."""
        return len(self.items) * math.prod(len(level) for level in self.levels) * len(self.periods)

    def period_lst_chn_de(self, prd_de: str) -> str:
        return self.lst_chn_de.get(prd_de, self._default_lst)  # type: ignore[union-attr]

    def cell(self, itm_id: str, cs: tuple[str, ...], prd_de: str) -> str | None:
        value = self.values.get((itm_id, cs, prd_de))
        if value is None and self.value_fn is not None:
            value = self.value_fn(itm_id, cs, prd_de)
        return value

    def cell_lst(self, key: CellKey) -> str:
        """LST_CHN_DE of a cell as the service prints it (YYYY-MM-DD)."""
        return _dashed(self.cell_lst_chn_de.get(key) or self.period_lst_chn_de(key[2]))

    def iter_cells(self) -> Iterator[tuple[CellKey, str]]:
        """Every present cell as ((itm_id, cs, prd_de), DT)."""
        for prd in self.periods:
            for combo in itertools.product(*[[code for code, _ in level] for level in self.levels]):
                for itm_id, _, _ in self.items:
                    dt = self.cell(itm_id, combo, prd)
                    if dt is not None:
                        yield (itm_id, combo, prd), dt


def _mix(*numbers: int) -> int:
    """A small deterministic integer hash (for generated values)."""
    h = 0x9E3779B9
    for n in numbers:
        h = ((h ^ (n & 0xFFFFFFFF)) * 0x01000193) & 0xFFFFFFFF
        h ^= h >> 15
    h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
    return h ^ (h >> 12)


def _period_number(prd_de: str) -> int:
    return int(prd_de) if prd_de.isdigit() else zlib.crc32(prd_de.encode())


def make_generated_table(
    tbl_id: str,
    n_regions: int,
    n_classes: int,
    n_items: int,
    periods: Iterable[str],
    seed: int = 0,
    *,
    org_id: str = "101",
    prd_se: str = "Y",
    tbl_nm: str | None = None,
    lst_chn_de: dict[str, str] | str = DEFAULT_LST_CHN_DE,
) -> KosisTable:
    """A deterministic table of n_regions x n_classes (0 = a one-level table) x n_items x periods cells.

    Values come lazily from a formula (no dict of a million entries): plain numbers ("12345"), numbers
    with thousands separators ("1,234,567"), decimals ("123.45") and "-" for missing cells (about 2%, and
    Sejong "29" before 2012 as in real KOSIS tables). Regions use the KOSIS sido codes, then R018, R019...
    """
    regions = list(SIDO[:n_regions]) + [(f"R{i:03d}", f"지역{i:03d}") for i in range(len(SIDO), n_regions)]
    levels = [regions]
    level_names = ["시도별"]
    if n_classes > 0:
        levels.append([(f"C{i + 1:03d}", f"산업분류{i + 1:03d}") for i in range(n_classes)])
        level_names.append("산업별")
    units = ["백만원", "명", "개", "%"]
    items = [(f"T{i + 1:02d}", f"항목{i + 1:02d}", units[i % len(units)]) for i in range(n_items)]
    # Per (region, class) and per item and per period hash parts, so a cell costs a few integer operations.
    region_part = {code: _mix(seed, 1, i) for i, (code, _) in enumerate(regions)}
    class_part = {code: _mix(seed, 2, i) for i, (code, _) in enumerate(levels[1])} if n_classes > 0 else {}
    item_part = {code: _mix(seed, 3, i) for i, (code, _, _) in enumerate(items)}
    period_part: dict[str, int] = {}
    annual = prd_se.upper() == "Y"

    def value_fn(itm_id: str, cs: tuple[str, ...], prd_de: str) -> str | None:
        r = region_part.get(cs[0])
        i = item_part.get(itm_id)
        if r is None or i is None:
            return None
        if annual and cs[0] == "29" and prd_de < "2012":
            return "-"
        p = period_part.get(prd_de)
        if p is None:
            p = period_part[prd_de] = _mix(seed, 4, _period_number(prd_de))
        h = (r ^ (class_part.get(cs[1], 0) if len(cs) > 1 else 0) * 3 ^ i * 5 ^ p * 7) * 0x2C1B3C6D & 0xFFFFFFFF
        h ^= h >> 13
        if h % 50 == 0:
            return "-"
        v = h % 10_000_000
        kind = (h >> 8) & 3
        if kind == 0:
            return f"{v:,}"
        if kind == 1:
            return f"{v / 100:.2f}"
        return str(v)

    return KosisTable(
        org_id=org_id,
        tbl_id=tbl_id,
        tbl_nm=tbl_nm or f"생성된 표 {tbl_id}",
        levels=levels,
        level_names=level_names,
        items=items,
        prd_se=prd_se,
        periods=list(periods),
        lst_chn_de=lst_chn_de,
        value_fn=value_fn,
        tbl_nm_eng=f"Generated table {tbl_id}",
    )


# --------------------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Fault:
    kind: str
    remaining: int
    target: str
    kw: dict[str, Any]


class _KosisError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "KosisTestServer/1.0"
    timeout = 20  # idle keep-alive connections end after this many seconds

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle + delayed ACK cost 40 ms a request
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.server.kosis._handle(self)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    kosis: KosisServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out or are reset on purpose are part of the tests


class KosisServer:
    """A KOSIS OpenAPI look-alike on 127.0.0.1; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        tables: Iterable[KosisTable] = (),
        *,
        api_key: str = "test-key",
        cell_limit: int = 40000,
        host: str = "127.0.0.1",
        port: int = 0,
        cache_bodies: bool = False,
    ) -> None:
        self.api_key = api_key
        # Benchmarks: a body once rendered is served again from memory (the harness's JSON rendering is then
        # out of the measurement). Off by default: tests revise tables between calls.
        self.cache_bodies = cache_bodies
        self._body_cache: dict[tuple, str] = {}
        self.cell_limit = cell_limit
        self.host = host
        self._requested_port = port
        self.tables: dict[str, KosisTable] = {}
        self.requests_log: list[dict[str, str]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        for table in tables:
            self.add_table(table)

    # ------------------------------------------------------------------------------------------ lifecycle

    def start(self) -> KosisServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self._requested_port), _Handler)
        httpd.kosis = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="kosis-test-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> KosisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/openapi/"

    # ------------------------------------------------------------------------------------------ data setup

    def add_table(self, table: KosisTable) -> None:
        with self._lock:
            self.tables[table.tbl_id] = table

    def publish_period(
        self,
        tbl_id: str,
        prd_de: str,
        values: Mapping[tuple, str] | None = None,
        lst_chn_de: str | None = None,
    ) -> None:
        """Add a period. ``values`` maps (itm_id, cs) or (itm_id, cs, prd_de) to DT; without values the
        table's ``value_fn`` provides them, or deterministic filler values are stored for every cell."""
        with self._lock:
            table = self.tables[tbl_id]
            if values is not None:
                for key, dt in values.items():
                    itm_id, cs = key[0], tuple(key[1])
                    table.values[(itm_id, cs, prd_de)] = str(dt)
            elif table.value_fn is None:
                for combo in itertools.product(*[[code for code, _ in level] for level in table.levels]):
                    for itm_id, _, _ in table.items:
                        key = (itm_id, combo, prd_de)
                        table.values[key] = str(zlib.crc32(repr(key).encode()) % 1_000_000)
            if lst_chn_de is not None:
                table.lst_chn_de[prd_de] = lst_chn_de  # type: ignore[index]
            if prd_de not in table.periods:
                table.periods = sorted([*table.periods, prd_de])

    def revise(self, tbl_id: str, key: CellKey, new_dt: str, lst_chn_de: str) -> None:
        """Change one cell, (itm_id, (c1, ...), prd_de), and its LST_CHN_DE."""
        itm_id, cs, prd_de = key[0], tuple(key[1]), key[2]
        with self._lock:
            table = self.tables[tbl_id]
            table.values[(itm_id, cs, prd_de)] = str(new_dt)
            table.cell_lst_chn_de[(itm_id, cs, prd_de)] = lst_chn_de

    # --------------------------------------------------------------------------------------------- faults

    def inject(self, kind: str, times: int = 1, *, target: str = "data", **kw: Any) -> None:
        """Fault for the next ``times`` calls of ``target`` ("data" = getList, "meta" = getMeta, "search" =
        statisticsSearch, "any").

        kinds: ``err`` (code=10..50; as_list=True wraps it in a list), ``http`` (status=500/503,
        retry_after=None), ``slow`` (seconds=2.0, then a normal answer), ``truncate`` (half the body;
        lie_length=True declares the full Content-Length and closes), ``unquoted`` (keys without quotes),
        ``reset`` (connection closed without a response), ``echo`` (the normal answer, with the request
        echoed in it: the raw query string, URL-encoded key included, and the decoded key), ``err_echo``
        (code=11: an error whose errMsg quotes the request URL-encoded, with quote and quote_plus),
        ``drip`` (seconds=1.0: the normal answer, one byte every ``seconds``), ``raw`` (body=bytes: answer
        exactly these bytes with HTTP 200). Faults queue up in the order injected.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(FAULT_KINDS)}")
        if target not in ("data", "meta", "search", "any"):
            raise ValueError("target must be 'data', 'meta', 'search' or 'any'")
        if kind == "err":
            code = f"{int(kw.get('code', 50)):02d}"
            if code not in ERR_CODES:
                raise ValueError(f"unknown KOSIS error code {code}")
            kw["code"] = code
        if kind == "http":
            kw.setdefault("status", 503)
        if kind == "slow":
            kw.setdefault("seconds", 2.0)
        if kind == "err_echo":
            kw["code"] = f"{int(kw.get('code', 11)):02d}"
        if kind == "raw" and not isinstance(kw.get("body"), bytes | bytearray):
            raise ValueError("fault 'raw' needs body=bytes")
        with self._lock:
            self._faults.append(_Fault(kind, int(times), target, dict(kw)))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, target: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.target in (target, "any"):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @property
    def data_requests(self) -> list[dict[str, str]]:
        """The logged getList requests."""
        with self._lock:
            return [r for r in self.requests_log if r.get("method") == "getList"]

    # ----------------------------------------------------------------------------------------- requests

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        logged = {k: ("REDACTED" if k.lower() == "apikey" else v) for k, v in params.items()}
        with self._lock:
            self.requests_log.append(logged)

        route = split.path[len("/openapi/") :] if split.path.startswith("/openapi/") else None
        method = params.get("method", "")
        if route == "Param/statisticsParameterData.do" and method == "getList":
            target = "data"
        elif route == "statisticsData.do" and method == "getMeta":
            target = "meta"
        elif route == "statisticsData.do" and method == "getList":
            target = "userstats"
        elif route == "statisticsSearch.do":
            target = "search"
        elif route in ("Param/statisticsParameterData.do", "statisticsData.do"):
            target = "bad-method"
        else:
            self._send(h, 404, b"Not Found", "text/plain; charset=utf-8")
            return

        fault = self._take_fault(target) if target in ("data", "meta", "search") else None
        if fault is not None:
            if fault.kind == "reset":
                self._reset(h)
                return
            if fault.kind == "http":
                status = int(fault.kw["status"])
                headers = {}
                if fault.kw.get("retry_after") is not None:
                    headers["Retry-After"] = str(fault.kw["retry_after"])
                self._send(
                    h, status, f"HTTP {status} (injected)".encode(), "text/plain; charset=utf-8", headers=headers
                )
                return
            if fault.kind == "err":
                text = self._error_json(fault.kw["code"])
                if fault.kw.get("as_list"):
                    text = f"[{text}]"
                self._send(h, 200, text.encode())
                return
            if fault.kind == "slow":
                if self._stopping.wait(float(fault.kw["seconds"])):
                    return
            if fault.kind == "raw":
                self._send(h, 200, bytes(fault.kw["body"]))
                return
            if fault.kind == "err_echo":
                key = params.get("apiKey", "")
                msg = (f"{ERR_MESSAGES.get(fault.kw['code'], '오류')} request={split.query} "
                       f"key(quote)={quote(key, safe='')} key(quote_plus)={quote_plus(key)} key={key}")
                self._send(h, 200, json.dumps({"err": fault.kw["code"], "errMsg": msg}, ensure_ascii=False).encode())
                return

        try:
            if target == "data":
                text = self._data(params)
            elif target == "meta":
                text = self._meta(params)
            elif target == "search" and method == "getList":
                text = self._search(params)
            elif target == "userstats":
                self._check_key(params)
                raise _KosisError("20" if params.get("orgId") or params.get("tblId") else "21")
            else:
                raise _KosisError("21")
        except _KosisError as exc:
            text = self._error_json(exc.code)

        if params.get("jsonVD", "").upper() != "Y" or (fault is not None and fault.kind == "unquoted"):
            text = _unquote_keys(text)
        if fault is not None and fault.kind == "echo" and text.startswith("[{"):
            echo = {"REQUEST": h.path, "QUERY_KEY_PLUS": quote_plus(params.get("apiKey", "")),
                    "KEY": params.get("apiKey", "")}
            text = "[{" + json.dumps(echo, ensure_ascii=False)[1:-1] + "," + text[2:]
        body = text.encode("utf-8")
        if fault is not None and fault.kind == "drip":
            self._drip(h, body, float(fault.kw.get("seconds", 1.0)))
            return
        if fault is not None and fault.kind == "truncate":
            half = body[: len(body) // 2]
            if fault.kw.get("lie_length"):
                self._send(h, 200, half, declared_length=len(body), close=True)
            else:
                self._send(h, 200, half)
            return
        self._send(h, 200, body)

    @staticmethod
    def _error_json(code: str) -> str:
        return json.dumps({"err": code, "errMsg": ERR_MESSAGES.get(code, "오류")}, ensure_ascii=False)

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str = "application/json; charset=UTF-8",
        *,
        headers: Mapping[str, str] | None = None,
        declared_length: int | None = None,
        close: bool = False,
    ) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(body) if declared_length is None else declared_length))
            for name, value in (headers or {}).items():
                h.send_header(name, value)
            if close:
                h.send_header("Connection", "close")
                h.close_connection = True
            h.end_headers()
            h.wfile.write(body)
            h.wfile.flush()
        except OSError:
            h.close_connection = True

    def _drip(self, h: BaseHTTPRequestHandler, body: bytes, seconds: float) -> None:
        """Send the headers, then the body one byte every ``seconds`` (a server that never quite stalls)."""
        try:
            h.send_response(200)
            h.send_header("Content-Type", "application/json; charset=UTF-8")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.flush()
            for i in range(len(body)):
                h.wfile.write(body[i : i + 1])
                h.wfile.flush()
                if self._stopping.wait(seconds):
                    break
        except OSError:
            pass
        h.close_connection = True

    @staticmethod
    def _reset(h: BaseHTTPRequestHandler) -> None:
        """Close the connection without answering (RST thanks to SO_LINGER 0)."""
        try:
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        h.close_connection = True

    def _check_key(self, params: Mapping[str, str]) -> None:
        key = params.get("apiKey", "")
        if not key:
            raise _KosisError("10")
        if key != self.api_key:
            raise _KosisError("11")

    def _table(self, params: Mapping[str, str]) -> KosisTable:
        if not params.get("orgId") or not params.get("tblId"):
            raise _KosisError("20")
        with self._lock:
            table = self.tables.get(params["tblId"])
        if table is None or table.org_id != params["orgId"]:
            raise _KosisError("21")
        return table

    @staticmethod
    def _select(selection: str, codes: list[str]) -> list[str]:
        if selection.strip().upper() == "ALL":
            return list(codes)
        known = set(codes)
        wanted = dict.fromkeys(c for c in re.split(r"[+\s]", selection) if c)
        return [c for c in wanted if c in known]

    def _data(self, params: Mapping[str, str]) -> str:
        self._check_key(params)
        if not self.cache_bodies:
            return self._data_uncached(params)
        key = tuple(sorted((k, v) for k, v in params.items() if k != "apiKey"))
        if key not in self._body_cache:
            self._body_cache[key] = self._data_uncached(params)
        return self._body_cache[key]

    def _data_uncached(self, params: Mapping[str, str]) -> str:
        if any(not params.get(p) for p in ("orgId", "tblId", "objL1", "itmId", "prdSe")):
            raise _KosisError("20")
        table = self._table(params)
        sent = [params.get(f"objL{i}", "") for i in range(1, 9)]
        n_sent = max(i + 1 for i, sel in enumerate(sent) if sel)
        if not all(sent[:n_sent]):
            raise _KosisError("20")
        if n_sent > table.n_levels:
            raise _KosisError("21")
        if n_sent < table.n_levels:
            raise _KosisError("20")
        if params["prdSe"].upper() != table.prd_se.upper():
            raise _KosisError("30")

        with self._lock:
            level_sel = [self._select(sent[i], [code for code, _ in table.levels[i]]) for i in range(table.n_levels)]
            item_sel = self._select(params["itmId"], [code for code, _, _ in table.items])
            if params.get("newEstPrdCnt"):
                try:
                    n = int(params["newEstPrdCnt"])
                except ValueError:
                    raise _KosisError("21") from None
                if n < 1:
                    raise _KosisError("21")
                periods = table.periods[-n:]
            elif params.get("startPrdDe") and params.get("endPrdDe"):
                start, end = params["startPrdDe"], params["endPrdDe"]
                periods = [p for p in table.periods if start <= p <= end]
            else:
                raise _KosisError("20")

        n_cells = len(item_sel) * math.prod(len(s) for s in level_sel) * len(periods)
        if n_cells == 0:
            raise _KosisError("30")
        if n_cells > self.cell_limit:
            raise _KosisError("31")
        text, n_records = self._render(table, level_sel, item_sel, periods)
        if n_records == 0:
            raise _KosisError("30")
        return text

    def _search(self, params: Mapping[str, str]) -> str:
        """statisticsSearch getList: every table whose name or contents hold each word of searchNm, paged by
        resultCount and startCount (page number: resultCount=20&startCount=2 gives matches 21-40), in the rows'
        real shape (rubatoyd/kosis-openapi-mcp tests/fixtures/search_edu.json), STAT_DB_CNT the number of
        matches in all. The real service ranks by a full-text index; here the order is the tables'. No match is
        err 30, a guess: no saved response of a search without matches was found."""
        self._check_key(params)
        query = params.get("searchNm", "").strip()
        if not query:
            raise _KosisError("20")
        try:
            count = int(params.get("resultCount") or 20)
            page = int(params.get("startCount") or 1)
        except ValueError:
            raise _KosisError("21") from None
        with self._lock:
            tables = list(self.tables.values())
        found = []
        for table in tables:
            contents = " ".join([*table.level_names, *(n for level in table.levels for _, n in level),
                                 *(n for _, n, _ in table.items)])
            if all(word in table.tbl_nm or word in contents for word in query.split()):
                found.append((table, contents))
        shown = found[(page - 1) * count: page * count]
        if not shown:
            raise _KosisError("30")
        records = [{
            "ORG_ID": t.org_id, "ORG_NM": t.org_nm or ORG_NAMES.get(t.org_id, ""), "TBL_ID": t.tbl_id,
            "TBL_NM": t.tbl_nm, "STAT_ID": "", "STAT_NM": "", "VW_CD": "MT_ZTITLE", "MT_ATITLE": "",
            "FULL_PATH_ID": "", "CONTENTS": contents[:200],
            "STRT_PRD_DE": t.periods[0] if t.periods else "", "END_PRD_DE": t.periods[-1] if t.periods else "",
            "ITEM03": " ".join(c.get("CMMT_DC", "").strip() for c in t.comments), "REC_TBL_SE": "N",
            "TBL_VIEW_URL": "", "LINK_URL": f"http://kosis.kr/statHtml/statHtml.do?orgId={t.org_id}&tblId={t.tbl_id}",
            "STAT_DB_CNT": str(len(found)), "QUERY": query,
        } for t, contents in shown]
        return json.dumps(records, ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def _render(
        table: KosisTable, level_sel: list[list[str]], item_sel: list[str], periods: list[str]
    ) -> tuple[str, int]:
        """The records as JSON text, built from pre-escaped fragments (fast for 40,000 records), with the
        service's keys in the order real responses show them (a hash order, not a logical one):
        C1_OBJ_NM, DT, C1, PRD_SE, UNIT_NM_ENG, ITM_ID, TBL_ID, ITM_NM, TBL_NM, PRD_DE, LST_CHN_DE,
        C1_NM_ENG, C1_NM, UNIT_NM, ITM_NM_ENG, ORG_ID, C1_OBJ_NM_ENG (levels C2.. beside C1), and
        LST_CHN_DE written YYYY-MM-DD."""
        n_levels = len(level_sel)

        def eng(field: str, key: str, korean: str, comma_after: bool = True) -> str:
            english = table.english(key, korean)
            return "" if english is None else f'"{field}":{_js(english)}' + ("," if comma_after else "")

        obj_nm = "".join(f'"C{i + 1}_OBJ_NM":{_js(table.level_names[i])},' for i in range(n_levels))
        obj_eng = ",".join(frag for i in range(n_levels)
                           if (frag := eng(f"C{i + 1}_OBJ_NM_ENG", f"obj:c{i + 1}", table.level_names[i], False)))
        tbl_frag = f'"TBL_ID":{_js(table.tbl_id)},'
        tbl_nm_frag = f'"TBL_NM":{_js(table.tbl_nm)},'
        org_frag = f'"ORG_ID":{_js(table.org_id)},'
        org_tail = org_frag + obj_eng if obj_eng else org_frag[:-1]
        level_pairs = []
        for i, codes in enumerate(level_sel):
            names = dict(table.levels[i])
            n = i + 1
            level_pairs.append([(code, f'"C{n}":{_js(code)},',
                                 eng(f"C{n}_NM_ENG", f"c{n}:{code}", names[code]) + f'"C{n}_NM":{_js(names[code])},')
                                for code in codes])
        items = {code: (name, unit) for code, name, unit in table.items}
        item_frags = [
            (code, eng("UNIT_NM_ENG", f"unit:{items[code][1]}", items[code][1]) + f'"ITM_ID":{_js(code)},',
             f'"ITM_NM":{_js(items[code][0])},',
             f'"UNIT_NM":{_js(items[code][1])},' + eng("ITM_NM_ENG", f"itm:{code}", items[code][0]))
            for code in item_sel
        ]
        label = _js(PRD_SE_LABELS.get(table.prd_se.upper(), table.prd_se.upper()))
        values = table.values
        value_fn = table.value_fn
        cell_lst = table.cell_lst_chn_de
        parts: list[str] = []
        append = parts.append
        for prd in periods:
            prd_frag = f'"PRD_DE":{_js(prd)},'
            period_lst = _js(_dashed(table.period_lst_chn_de(prd)))
            for combo in itertools.product(*level_pairs):
                cs = tuple(code for code, _, _ in combo)
                codes_frag = "".join(frag for _, frag, _ in combo)
                names_frag = "".join(frag for _, _, frag in combo)
                for itm_id, item_a, item_b, item_c in item_frags:
                    key = (itm_id, cs, prd)
                    dt = values.get(key) if values else None
                    if dt is None:
                        if value_fn is None:
                            continue
                        dt = value_fn(itm_id, cs, prd)
                        if dt is None:
                            continue
                    lst = _js(_dashed(cell_lst[key])) if cell_lst and key in cell_lst else period_lst
                    append(f'{{{obj_nm}"DT":{_js(dt)},{codes_frag}"PRD_SE":{label},{item_a}{tbl_frag}{item_b}'
                           f'{tbl_nm_frag}{prd_frag}"LST_CHN_DE":{lst},{names_frag}{item_c}{org_tail}}}')
        return "[" + ",".join(parts) + "]", len(parts)

    def _meta(self, params: Mapping[str, str]) -> str:
        self._check_key(params)
        meta_type = params.get("type", "").upper()
        if not meta_type:
            raise _KosisError("20")
        table = self._table(params)
        if meta_type == "TBL":
            records: list[dict[str, str]] = [{"TBL_NM": table.tbl_nm, "TBL_NM_ENG": table.tbl_nm_eng}]
        elif meta_type == "PRD":
            # As the service answers: one row per periodicity, its Korean label and first/last period
            # (months dotted, 2008.01); no per-period date.
            label = PRD_SE_KOREAN.get(table.prd_se.upper(), table.prd_se)
            records = [{"PRD_SE": label, "STRT_PRD_DE": _dotted(table.periods[0]),
                        "END_PRD_DE": _dotted(table.periods[-1])}] if table.periods else []
        elif meta_type == "NCD":
            # Per period, the date KOSIS loaded it (SEND_DE): a revised period is reloaded, so its date moves.
            with self._lock:
                revised: dict[str, str] = {}
                for (_, _, prd), lst in table.cell_lst_chn_de.items():
                    revised[prd] = max(lst, revised.get(prd, ""))
                records = [{"ORG_NM": "국가데이터처", "TBL_NM": table.tbl_nm,
                            "PRD_SE": PRD_SE_KOREAN.get(table.prd_se.upper(), table.prd_se), "PRD_DE": p,
                            "SEND_DE": _dashed(max(table.period_lst_chn_de(p), revised.get(p, "")))}
                           for p in table.periods]
        elif meta_type == "ITM":
            records = []
            for i, level in enumerate(table.levels):
                for code, name in level:
                    record = {
                        "ORG_ID": table.org_id,
                        "TBL_ID": table.tbl_id,
                        "OBJ_ID": chr(ord("A") + i),
                        "OBJ_NM": table.level_names[i],
                        "ITM_ID": code,
                        "ITM_NM": name,
                        "UP_ITM_ID": "",
                        "OBJ_ID_SN": str(i + 1),
                        "UNIT_NM": "",
                    }
                    if table.names_eng is not None:  # English where given (meta_itm.json: OBJ_NM_ENG, ITM_NM_ENG)
                        for key, value in (("OBJ_NM_ENG", table.names_eng.get(f"obj:c{i + 1}")),
                                           ("ITM_NM_ENG", table.names_eng.get(f"c{i + 1}:{code}"))):
                            if value is not None:
                                record[key] = value
                    records.append(record)
            for code, name, unit in table.items:  # item rows carry a unit and no OBJ_ID_SN, as the service's
                record = {
                    "UNIT_ID": "",
                    "OBJ_NM_ENG": "Item code list",
                    "UNIT_NM": unit,
                    "ITM_NM_ENG": table.english(f"itm:{code}", name),
                    "ITM_ID": code,
                    "TBL_ID": table.tbl_id,
                    "OBJ_NM": "항목",
                    "UNIT_ENG_NM": table.english(f"unit:{unit}", unit),
                    "ITM_NM": name,
                    "ORG_ID": table.org_id,
                    "OBJ_ID": "ITEM",
                }
                records.append({k: v for k, v in record.items() if v is not None})
        elif meta_type == "CMMT":
            # As PublicDataReader's rendering of a real answer shows (WooilJeong/PublicDataReader
            # assets/docs/kosis/Kosis.md, DT_1B04006): one row per footnote line, CMMT_NM the kind (통계표),
            # CMMT_DC the text; OBJ_ID/OBJ_NM/ITM_ID/ITM_NM only on notes about a level or a code.
            records = [dict(c) for c in table.comments]
        elif meta_type in META_TYPES_WITHOUT_DATA:
            raise _KosisError("30")
        else:
            raise _KosisError("21")
        if not records:
            raise _KosisError("30")
        return json.dumps(records, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------------------------------------
# Command line: serve a generated table out of process (e.g. for benchmarks that should not share the GIL)
# --------------------------------------------------------------------------------------------------------


def revise_share(server: KosisServer, table: KosisTable, percent: float, lst_chn_de: str) -> int:
    """Changes `percent` % of a table's cells, spread evenly over items, regions, classes and periods (a
    multiplicative hash of the cell's position picks them), to a different number; returns how many."""
    import itertools

    cells = itertools.product((code for code, _, _ in table.items),
                              itertools.product(*[[code for code, _ in level] for level in table.levels]),
                              table.periods)
    revised = 0
    for i, (itm_id, cs, prd_de) in enumerate(cells):
        if (i * 2654435761) % 2**32 % 10000 < percent * 100:
            server.revise(table.tbl_id, (itm_id, cs, prd_de), str(1000 + i % 997), lst_chn_de)
            revised += 1
    return revised


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.kosis_server --regions 18 --classes 100 --items 5 --first 2001 --last 2111``

    Prints ``base_url=http://127.0.0.1:PORT/openapi/`` and serves until interrupted.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--tbl-id", default="DT_GENERATED")
    parser.add_argument("--regions", type=int, default=18)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--items", type=int, default=3)
    parser.add_argument("--first", type=int, default=2001, help="first year")
    parser.add_argument("--last", type=int, default=2020, help="last year")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--cell-limit", type=int, default=40000)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cache-bodies", action="store_true", help="serve a rendered body again from memory")
    parser.add_argument("--revise-percent", type=float, default=0.0,
                        help="change this share of the cells (every n-th, deterministic), dated --revised-on")
    parser.add_argument("--revised-on", default="2030-01-01", help="LST_CHN_DE of the revised cells")
    args = parser.parse_args(argv)
    table = make_generated_table(
        args.tbl_id,
        args.regions,
        args.classes,
        args.items,
        [str(y) for y in range(args.first, args.last + 1)],
        args.seed,
    )
    server = KosisServer([table], api_key=args.api_key, cell_limit=args.cell_limit, port=args.port,
                         cache_bodies=args.cache_bodies)
    if args.revise_percent > 0:
        revise_share(server, table, args.revise_percent, args.revised_on)
    server.start()
    print(f"base_url={server.base_url}", flush=True)
    print(f"cells={table.n_combinations}", file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
