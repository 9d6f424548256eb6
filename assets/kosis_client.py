"""A robust client for the KOSIS OpenAPI (https://kosis.kr/openapi/): requests, retries, request splitting.

Plain Python over ``requests`` (no Dagster here). What it deals with:

* KOSIS reports errors as HTTP 200 with ``{"err": "NN", "errMsg": "..."}`` (sometimes wrapped in a list).
  10/11 (key) and 20/21 (parameters) fail at once; 30 is "no data" (an empty, successful result);
  31/41 (too many cells) make the client split the request, first by period, then by selection;
  40/42 (call limits), 50, HTTP 5xx, timeouts, resets and unparseable bodies are retried with
  exponential backoff and jitter, a bounded number of times.
* Every raw HTTP-200 body streams, masked, into a ``BodyWriter`` from ``archive()`` as it arrives (and is
  committed once whole), or is handed whole to ``on_body(body, redacted_url)``, before it is parsed: the caller
  archives exactly what KOSIS sent.
* A client that keeps no records (``keep_records=False``, the pipeline's) does not parse a data body of
  FULL_PARSE_MAX_BYTES or more: it tells a truncated transfer, an HTML page or another shape from the body's
  first and last bytes (and retries it), and leaves the records to the loader, which reads the archived copy.

Two concerns live beside it, each in its own module: keeping the API key out of every exception message, log
line, returned URL, repr and archived body (assets/kosis_masking.py), and reading a body: decoding, repairing
unquoted keys (``{ORG_ID:"101"}``), telling records from an error (assets/kosis_body.py).
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from assets.kosis_body import extract_error, inspect_edges, parse_body, records_of
from assets.kosis_masking import (
    KEY_PARAM,
    BodyWriter,
    StreamMasker,
    install_log_redaction,
    redact_text,
    redact_url,
    register_secret,
)

if TYPE_CHECKING:  # requests and urllib3 are imported where a call is made: an offline run never needs them
    import requests

__all__ = [
    "DATA_PATH",
    "DEFAULT_KOSIS_BASE_URL",
    "FULL_PARSE_MAX_BYTES",
    "META_PATH",
    "SEARCH_PATH",
    "FetchedBody",
    "KosisClient",
    "KosisError",
    "enumerate_periods",
]

DEFAULT_KOSIS_BASE_URL = "https://kosis.kr/openapi/"
DATA_PATH = "Param/statisticsParameterData.do"
DATA_METHOD = "getList"
META_PATH = "statisticsData.do"
SEARCH_PATH = "statisticsSearch.do"
MAX_OBJ_LEVELS = 8
_READ_CHUNK = 1 << 20

AUTH_CODES = frozenset({"10", "11"})
PARAM_CODES = frozenset({"20", "21"})
NO_DATA_CODE = "30"
TOO_LARGE_CODES = frozenset({"31", "41"})
RATE_LIMIT_CODES = frozenset({"40", "42"})
SERVER_CODES = frozenset({"50"})

KOSIS_CODE_MEANING = {
    "10": "API key missing",
    "11": "API key expired or invalid",
    "20": "required parameter missing",
    "21": "invalid parameter",
    "30": "no data",
    "31": "result too large (over 40,000 cells)",
    "40": "call-count limit reached",
    "41": "row-count limit reached",
    "42": "per-user restriction",
    "50": "KOSIS server error",
}

# Period-type labels KOSIS puts in PRD_SE (annual data come back as "A" although requested as "Y").
PRD_SE_LABELS = {"Y": "A"}

# Parameter names that a KOSIS errMsg may mention.
_PARAM_NAMES = (
    "orgId",
    "tblId",
    "itmId",
    "prdSe",
    "startPrdDe",
    "endPrdDe",
    "newEstPrdCnt",
    "prdInterval",
    "format",
    "jsonVD",
    "type",
    *(f"objL{i}" for i in range(1, MAX_OBJ_LEVELS + 1)),
)

# How getMeta PRD labels each periodicity.
PRD_SE_KOREAN = {"Y": ("년",), "H": ("반기",), "Q": ("분기",), "M": ("월",), "D": ("일",), "IR": ("부정기",),
                 "F": ("다년",)}


# --------------------------------------------------------------------------------------------------------
# Errors and results
# --------------------------------------------------------------------------------------------------------


class KosisError(Exception):
    """A KOSIS request that failed for good (after retries where retrying makes sense).

    Attributes: ``code`` (KOSIS err code, e.g. ``"11"``), ``http_status``, ``org_id``, ``tbl_id``,
    ``period_range`` (start, end), ``params`` (request parameters without the key), ``err_msg`` (KOSIS's
    errMsg). The message never contains the API key.
    """

    def __init__(
        self,
        reason: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        org_id: str | None = None,
        tbl_id: str | None = None,
        period_range: tuple[str | None, str | None] = (None, None),
        params: dict[str, str] | None = None,
        err_msg: str | None = None,
        hint: str | None = None,
        periods_label: str | None = None,
        what: str = "request",
    ) -> None:
        self.code = code
        self.http_status = http_status
        self.org_id = org_id
        self.tbl_id = tbl_id
        self.period_range = period_range
        self.params = dict(params or {})
        self.params.pop(KEY_PARAM, None)
        self.err_msg = err_msg
        self.hint = hint
        self.reason = reason

        if periods_label is None:
            start, end = period_range
            periods_label = f"periods {start or '?'}..{end or '?'}" if (start or end) else "periods n/a"
        if code is not None:
            status = f"KOSIS err {code}"
            meaning = KOSIS_CODE_MEANING.get(code)
            if meaning:
                status += f" ({meaning})"
            if err_msg:
                status += f' errMsg="{err_msg}"'
        elif http_status is not None:
            status = f"HTTP {http_status}"
        else:
            status = "no response"
        if org_id is None and tbl_id is None:  # a request about no table (statisticsSearch)
            message = f"KOSIS {what}: {status}"
        else:
            message = f"KOSIS {what} for table orgId={org_id} tblId={tbl_id}, {periods_label}: {status}"
        if reason:
            message += f": {reason}"
        if hint:
            message += f". {hint}"
        if self.params:
            shown = ", ".join(f"{k}={v}" for k, v in self.params.items())
            message += f". Request parameters: {shown}"
        super().__init__(redact_text(message))

    def __reduce__(self) -> tuple[Any, ...]:  # picklable (e.g. for multiprocess executors), attributes kept
        return (_restore_kosis_error, (self.args[0], dict(self.__dict__)))


def _restore_kosis_error(message: str, state: dict[str, Any]) -> KosisError:
    error = KosisError.__new__(KosisError)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


@dataclass(repr=False)
class FetchedBody:
    """One HTTP-200 response body of a data request, with its parsed records."""

    request_url: str
    body: bytes
    records: list[dict[str, str]]
    params: dict[str, str]
    no_data: bool = False
    kosis_code: str | None = None
    # Set from records; kept when a client built with keep_records=False drops them; None when such a client
    # handed a large body on unparsed (the loader counts its records when it reads the archived copy).
    n_records: int | None = -1
    n_masked: int = 0  # occurrences of the API key masked in the body (body and records are the masked ones)

    def __post_init__(self) -> None:
        if self.n_records is not None and self.n_records < 0:
            self.n_records = len(self.records)

    def __repr__(self) -> str:
        return (
            f"FetchedBody(request_url={self.request_url!r}, n_records={self.n_records}, "
            f"n_bytes={len(self.body)}, no_data={self.no_data}, kosis_code={self.kosis_code!r}, "
            f"n_masked={self.n_masked})"
        )


# A body at least this large, fetched by a client that keeps no records, is not parsed: it is told from its head
# and tail (the loader parses the archived copy with DuckDB and counts its records). Error bodies are small.
FULL_PARSE_MAX_BYTES = 64 * 1024
_EDGE = 4096


@dataclass
class _Body:
    """What the client keeps of a body: all of it when it parses it, else its edges (see FULL_PARSE_MAX_BYTES)."""

    size: int
    head: bytes
    tail: bytes
    whole: bytes | None
    n_masked: int


# --------------------------------------------------------------------------------------------------------
# Periods and selections
# --------------------------------------------------------------------------------------------------------


def enumerate_periods(prd_se: str, start: str, end: str) -> list[str] | None:
    """All periods from ``start`` to ``end`` inclusive, in KOSIS format, or None if not enumerable.

    Y: YYYY; H: YYYYHH (01/02); Q: YYYYQQ (01-04); M: YYYYMM; D: YYYYMMDD.
    """
    se = prd_se.upper()
    start, end = start.strip(), end.strip()
    if not (start.isdigit() and end.isdigit()):
        return None
    if se == "Y" and len(start) == len(end) == 4:
        return [str(y) for y in range(int(start), int(end) + 1)]
    per_year = {"H": 2, "Q": 4, "M": 12}.get(se)
    if per_year is not None and len(start) == len(end) == 6:
        y0, s0, y1, s1 = int(start[:4]), int(start[4:]), int(end[:4]), int(end[4:])
        if not (1 <= s0 <= per_year and 1 <= s1 <= per_year):
            return None
        first, last = y0 * per_year + s0 - 1, y1 * per_year + s1 - 1
        return [f"{i // per_year:04d}{i % per_year + 1:02d}" for i in range(first, last + 1)]
    if se == "D" and len(start) == len(end) == 8:
        try:
            d0 = date(int(start[:4]), int(start[4:6]), int(start[6:]))
            d1 = date(int(end[:4]), int(end[4:6]), int(end[6:]))
        except ValueError:
            return None
        return [(d0 + timedelta(days=i)).strftime("%Y%m%d") for i in range((d1 - d0).days + 1)]
    return None


def _split_codes(selection: str) -> list[str]:
    codes: list[str] = []
    for code in re.split(r"[+\s]", selection):
        if code and code not in codes:
            codes.append(code)
    return codes


def _halves(values: list[str]) -> tuple[list[str], list[str]]:
    mid = len(values) // 2
    return values[:mid], values[mid:]


# --------------------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _DataReq:
    org_id: str
    tbl_id: str
    obj_levels: tuple[str, ...]
    itm_id: str
    prd_se: str
    start: str | None
    end: str | None
    new_est: int | None

    def params(self) -> dict[str, str]:
        p = {"orgId": self.org_id, "tblId": self.tbl_id}
        for i, sel in enumerate(self.obj_levels, 1):
            p[f"objL{i}"] = sel
        p["itmId"] = self.itm_id
        p["prdSe"] = self.prd_se
        if self.new_est is not None:
            p["newEstPrdCnt"] = str(self.new_est)
        else:
            p["startPrdDe"] = self.start or ""
            p["endPrdDe"] = self.end or ""
        p["format"] = "json"
        p["jsonVD"] = "Y"
        return p


@dataclass(frozen=True)
class _Ctx:
    """What a request was about, for error messages."""

    org_id: str | None
    tbl_id: str | None
    period_range: tuple[str | None, str | None] = (None, None)
    periods_label: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    what: str = "request"


@dataclass
class _Raw:
    url: str
    body: bytes
    data: Any
    text: str
    code: str | None
    err_msg: str | None
    n_masked: int = 0
    parsed: bool = True  # False: a large body of a client that keeps no records, inspected but not parsed


@dataclass
class _Transient:
    reason: str
    code: str | None = None
    http_status: int | None = None
    rate_limited: bool = False
    retry_after: float | None = None


@dataclass
class _TableMeta:
    levels: list[list[str]]  # codes per classification level (index 0 = objL1)
    items: list[str]


class KosisClient:
    """KOSIS OpenAPI client with retries, backoff, request splitting and key redaction."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        total_timeout: float = 60.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        cell_limit: int = 40000,
        on_body: Callable[[bytes, str], None] | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        logger: logging.Logger | None = None,
        rng: random.Random | None = None,
        keep_records: bool = True,
        archive: Callable[[], BodyWriter] | None = None,
    ) -> None:
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._api_key = api_key or ""
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        # A deadline for the whole of one HTTP attempt (connect, headers and every read of the body): the read
        # timeout alone never fires on a server that sends one byte a second. Hitting it is a transient failure.
        self._total_timeout = float(total_timeout)
        self._max_retries = max(0, int(max_retries))
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._cell_limit = cell_limit
        self._on_body = on_body
        self._owns_session = session is None
        if session is None:
            import requests
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._rng = rng if rng is not None else random.Random()
        # False: a FetchedBody keeps neither body nor records, only their count, and a data body of
        # FULL_PARSE_MAX_BYTES or more is not even parsed (its count is None). For callers that read the archived
        # copy (on_body) instead, so a million-cell table is never held in memory twice nor decoded in Python.
        self._keep_records = keep_records
        # Opens a BodyWriter per HTTP-200 body: the body streams there as it arrives, before anything parses it.
        self._archive = archive
        self._meta_cache: dict[tuple[str, str], _TableMeta] = {}
        self._prd_cache: dict[tuple[str, str, str], list[str]] = {}
        register_secret(self._api_key)
        install_log_redaction()

    def __repr__(self) -> str:
        return f"KosisClient(base_url={self._base_url!r})"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> KosisClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        return self._base_url

    # ---------------------------------------------------------------------------------------------- public

    def get_data(
        self,
        org_id: str,
        tbl_id: str,
        *,
        obj_levels: list[str],
        itm_id: str,
        prd_se: str,
        start: str | None = None,
        end: str | None = None,
        new_est_prd_cnt: int | None = None,
    ) -> list[FetchedBody]:
        """Fetch the cells of a table; returns one FetchedBody per HTTP-200 response used.

        A request too large for KOSIS (err 31/41) is split (period range in halves, then the first
        splittable classification level, then items) and the parts are fetched recursively. Periods with
        no data come back as FetchedBody(no_data=True, records=[]). When neither a period range nor
        ``new_est_prd_cnt`` is given, the missing ends of the range come from getMeta PRD.
        """
        levels = [str(v).strip() for v in obj_levels]
        if not 1 <= len(levels) <= MAX_OBJ_LEVELS or not all(levels):
            raise ValueError(f"obj_levels must hold 1 to {MAX_OBJ_LEVELS} non-empty selections: {obj_levels!r}")
        if not itm_id or not prd_se:
            raise ValueError("itm_id and prd_se are required")
        if new_est_prd_cnt is not None:
            if start is not None or end is not None:
                raise ValueError("give either start/end or new_est_prd_cnt, not both")
            if int(new_est_prd_cnt) < 1:
                raise ValueError("new_est_prd_cnt must be >= 1")
            new_est_prd_cnt = int(new_est_prd_cnt)
        elif start is None or end is None:
            periods = self._available_periods(org_id, tbl_id, prd_se)
            if not periods:
                return []
            start = start if start is not None else periods[0]
            end = end if end is not None else periods[-1]
        req = _DataReq(str(org_id), str(tbl_id), tuple(levels), str(itm_id), str(prd_se), start, end, new_est_prd_cnt)
        out: list[FetchedBody] = []
        self._fetch(req, out)
        return out

    def get_meta(self, org_id: str, tbl_id: str, meta_type: str) -> list[dict[str, str]]:
        """getMeta of a table: ``TBL`` (name), ``PRD`` (periods), ``ITM`` (items and classification codes),
        ``CMMT`` (footnotes), ``NCD`` (per-period update dates). No data (err 30) is an empty list."""
        meta_type = meta_type.upper()
        params = {"type": meta_type, "orgId": str(org_id), "tblId": str(tbl_id), "format": "json", "jsonVD": "Y"}
        ctx = _Ctx(str(org_id), str(tbl_id), params=params, what=f"getMeta type={meta_type}")
        raw = self._call(META_PATH, "getMeta", params, ctx)
        if raw.code == NO_DATA_CODE:
            return []
        if raw.code is not None:
            hint = None
            if raw.code in PARAM_CODES:
                hint = f"check orgId={org_id}, tblId={tbl_id} and type={meta_type}"
            raise self._fatal_for_code(raw, ctx, hint=hint)
        return self._parse_records(raw, ctx)

    def search(self, query: str, *, result_count: int = 50, start_count: int = 1) -> list[dict[str, str]]:
        """statisticsSearch.do getList: the tables whose name or contents match ``query``, in the service's order
        (sort RANK, its default), ``result_count`` rows from page ``start_count``. Each row names ORG_ID, TBL_ID,
        TBL_NM, STRT_PRD_DE and END_PRD_DE, and STAT_DB_CNT, the number of matches in all. No match (err 30) is
        an empty list."""
        params = {"searchNm": query, "sort": "RANK", "startCount": str(start_count),
                  "resultCount": str(result_count), "format": "json", "jsonVD": "Y"}
        ctx = _Ctx(None, None, params=params, periods_label="periods n/a", what="statisticsSearch")
        raw = self._call(SEARCH_PATH, "getList", params, ctx)
        if raw.code == NO_DATA_CODE:
            return []
        if raw.code is not None:
            hint = f"check searchNm={query!r}" if raw.code in PARAM_CODES else None
            raise self._fatal_for_code(raw, ctx, hint=hint)
        return self._parse_records(raw, ctx)

    # -------------------------------------------------------------------------------------------- fetching

    def _ctx_for(self, req: _DataReq) -> _Ctx:
        if req.new_est is not None:
            label = f"latest {req.new_est} period(s) (newEstPrdCnt={req.new_est}, prdSe={req.prd_se})"
        else:
            label = f"periods {req.start}..{req.end} (prdSe={req.prd_se})"
        return _Ctx(req.org_id, req.tbl_id, (req.start, req.end), label, req.params(), DATA_METHOD)

    def _fetch(self, req: _DataReq, out: list[FetchedBody]) -> None:
        ctx = self._ctx_for(req)
        estimate = self._estimate_cells(req)
        if estimate is not None and estimate > self._cell_limit:
            parts = self._split(req)
            if parts:
                self._log.debug(
                    "KOSIS %s/%s: about %d cells > %d, splitting before asking",
                    req.org_id,
                    req.tbl_id,
                    estimate,
                    self._cell_limit,
                )
                for part in parts:
                    self._fetch(part, out)
                return

        raw = self._call(DATA_PATH, DATA_METHOD, req.params(), ctx)
        if raw.code == NO_DATA_CODE:
            out.append(FetchedBody(raw.url, raw.body, [], self._public_params(req.params()), True, raw.code,
                                   n_masked=raw.n_masked))
            return
        if raw.code in TOO_LARGE_CODES:
            # With the table's codes known, the parts of this request are sized before they are sent, so
            # no further call is wasted on a part that is bound to be too large.
            self._table_meta_or_none(req.org_id, req.tbl_id)
            parts = self._split(req)
            if not parts:
                raise self._error(
                    ctx,
                    "the result is too large and the request cannot be split further "
                    "(a single period and a single code per level)",
                    code=raw.code,
                    err_msg=raw.err_msg,
                )
            self._log.info(
                "KOSIS %s/%s %s: err %s (too many cells), splitting into %d requests",
                req.org_id,
                req.tbl_id,
                ctx.periods_label,
                raw.code,
                len(parts),
            )
            for part in parts:
                self._fetch(part, out)
            return
        if raw.code is not None:
            hint = self._diagnose(req, raw) if raw.code in PARAM_CODES else None
            raise self._fatal_for_code(raw, ctx, hint=hint)
        if not raw.parsed:
            out.append(FetchedBody(raw.url, b"", [], self._public_params(req.params()), False, None, None,
                                   n_masked=raw.n_masked))
            return
        records = self._parse_records(raw, ctx)
        if self._keep_records:
            out.append(FetchedBody(raw.url, raw.body, records, self._public_params(req.params()), False, None,
                                   n_masked=raw.n_masked))
        else:
            out.append(FetchedBody(raw.url, b"", [], self._public_params(req.params()), False, None, len(records),
                                   n_masked=raw.n_masked))

    def _parse_records(self, raw: _Raw, ctx: _Ctx) -> list[dict[str, str]]:
        try:
            return records_of(raw.data, raw.text)
        except ValueError as exc:
            reason = f"unexpected response: {exc}"
        raise self._error(ctx, reason)

    # ------------------------------------------------------------------------------------------- splitting

    def _split(self, req: _DataReq) -> list[_DataReq] | None:
        """Split a request in two: by period range, else by a level's codes, else by items."""
        if req.new_est is None and req.start and req.end:
            periods = self._periods_between(req)
            if periods and len(periods) > 1:
                first, second = _halves(periods)
                return [replace(req, start=first[0], end=first[-1]), replace(req, start=second[0], end=second[-1])]
        for index, selection in enumerate(req.obj_levels):
            codes = self._selection_codes(req, index + 1, selection)
            if codes and len(codes) > 1:
                first, second = _halves(codes)
                return [
                    replace(req, obj_levels=req.obj_levels[:index] + ("+".join(part),) + req.obj_levels[index + 1 :])
                    for part in (first, second)
                ]
        items = self._selection_codes(req, 0, req.itm_id)
        if items and len(items) > 1:
            return [replace(req, itm_id="+".join(part)) for part in _halves(items)]
        if req.new_est is not None and req.new_est > 1:
            # The selection cannot be split any further: turn "latest N" into an explicit period range.
            periods = self._available_periods(req.org_id, req.tbl_id, req.prd_se)[-req.new_est :]
            if len(periods) > 1:
                first, second = _halves(periods)
                return [
                    replace(req, new_est=None, start=first[0], end=first[-1]),
                    replace(req, new_est=None, start=second[0], end=second[-1]),
                ]
        return None

    def _periods_between(self, req: _DataReq) -> list[str] | None:
        assert req.start is not None and req.end is not None
        periods = enumerate_periods(req.prd_se, req.start, req.end)
        if periods is not None:
            return periods
        try:
            available = self._available_periods(req.org_id, req.tbl_id, req.prd_se)
        except KosisError as exc:
            self._log.info("KOSIS %s/%s: cannot list periods for splitting: %s", req.org_id, req.tbl_id, exc)
            return None
        return [p for p in available if len(p) == len(req.start) and req.start <= p <= req.end]

    def _selection_codes(self, req: _DataReq, level: int, selection: str) -> list[str] | None:
        """Codes of a selection (level 0 = items); ``ALL`` is expanded with getMeta ITM."""
        if selection.strip().upper() != "ALL":
            return _split_codes(selection)
        meta = self._table_meta_or_none(req.org_id, req.tbl_id)
        if meta is None:
            return None
        if level == 0:
            return list(meta.items)
        if level - 1 < len(meta.levels):
            return list(meta.levels[level - 1])
        return None

    def _estimate_cells(self, req: _DataReq) -> int | None:
        """Upper bound of the cells of a request, if the table's metadata is already known (no calls)."""
        meta = self._meta_cache.get((req.org_id, req.tbl_id))
        if meta is None:
            return None
        total = 1
        for index, selection in enumerate(req.obj_levels):
            if selection.upper() == "ALL":
                if index >= len(meta.levels):
                    return None
                total *= len(meta.levels[index])
            else:
                total *= len(_split_codes(selection))
        total *= len(meta.items) if req.itm_id.upper() == "ALL" else len(_split_codes(req.itm_id))
        if req.new_est is not None:
            return total * req.new_est
        if not (req.start and req.end):
            return None
        periods = enumerate_periods(req.prd_se, req.start, req.end)
        return None if periods is None else total * len(periods)

    # -------------------------------------------------------------------------------------------- metadata

    def _table_meta(self, org_id: str, tbl_id: str) -> _TableMeta:
        key = (org_id, tbl_id)
        if key not in self._meta_cache:
            records = self.get_meta(org_id, tbl_id, "ITM")
            by_level: dict[int, list[str]] = {}
            items: list[str] = []
            for rec in records:
                code = rec.get("ITM_ID", "")
                if not code:
                    continue
                if rec.get("OBJ_ID", "").upper() == "ITEM":
                    if code not in items:
                        items.append(code)
                    continue
                try:
                    sn = int(rec.get("OBJ_ID_SN", "") or 0)
                except ValueError:
                    continue
                codes = by_level.setdefault(sn, [])
                if code not in codes:
                    codes.append(code)
            # Levels ordered by OBJ_ID_SN (ranked, so numbering that starts at 0 or 2 still works).
            self._meta_cache[key] = _TableMeta([by_level[sn] for sn in sorted(by_level)], items)
        return self._meta_cache[key]

    def _table_meta_or_none(self, org_id: str, tbl_id: str) -> _TableMeta | None:
        try:
            return self._table_meta(org_id, tbl_id)
        except KosisError as exc:
            self._log.info("KOSIS %s/%s: getMeta ITM failed, cannot expand ALL: %s", org_id, tbl_id, exc)
            return None

    def _available_periods(self, org_id: str, tbl_id: str, prd_se: str) -> list[str]:
        """Periods of one periodicity from getMeta PRD. The service answers one row per periodicity with a
        Korean label and its first and last period (STRT_PRD_DE/END_PRD_DE, months dotted: 2008.01); rows
        naming single periods (PRD_DE) are read too."""
        key = (org_id, tbl_id, prd_se.upper())
        if key not in self._prd_cache:
            records = self.get_meta(org_id, tbl_id, "PRD")
            wanted = {prd_se.upper(), PRD_SE_LABELS.get(prd_se.upper(), prd_se.upper()),
                      *PRD_SE_KOREAN.get(prd_se.upper(), ())}
            matching = [r for r in records if str(r.get("PRD_SE", "")).upper() in wanted] or records
            periods = {str(r["PRD_DE"]) for r in matching if r.get("PRD_DE")}
            for r in matching:
                start, end = (str(r.get(k, "")).replace(".", "") for k in ("STRT_PRD_DE", "END_PRD_DE"))
                if start and end:
                    periods.update(enumerate_periods(prd_se.upper(), start, end) or [])
            self._prd_cache[key] = sorted(periods)
        return list(self._prd_cache[key])

    def _diagnose(self, req: _DataReq, raw: _Raw) -> str:
        """Best-effort: name the parameter behind an err 20/21."""
        notes: list[str] = []
        if raw.err_msg:
            named = [p for p in _PARAM_NAMES if re.search(rf"\b{p}\b", raw.err_msg, re.IGNORECASE)]
            if named:
                notes.append("parameter named by KOSIS: " + ", ".join(named))
        try:
            meta = self._table_meta(req.org_id, req.tbl_id)
        except KosisError as exc:
            notes.append(
                f"the table's metadata is not available either ({exc.code or exc.http_status}): "
                f"check orgId={req.org_id} and tblId={req.tbl_id}"
            )
            return "; ".join(notes)
        n_levels, sent = len(meta.levels), len(req.obj_levels)
        if sent > n_levels:
            notes.append(
                f"parameter objL{n_levels + 1}: the table has {n_levels} classification level(s) "
                f"but objL1..objL{sent} were sent"
            )
        elif sent < n_levels:
            notes.append(f"parameter objL{sent + 1} is missing: the table has {n_levels} classification levels")
        else:
            for index, selection in enumerate(req.obj_levels):
                if selection.upper() == "ALL":
                    continue
                unknown = [c for c in _split_codes(selection) if c not in meta.levels[index]]
                if unknown:
                    notes.append(f"parameter objL{index + 1}: unknown code(s) {'+'.join(unknown)}")
        if req.itm_id.upper() != "ALL":
            unknown = [c for c in _split_codes(req.itm_id) if c not in meta.items]
            if unknown:
                notes.append(f"parameter itmId: unknown item(s) {'+'.join(unknown)}")
        return "; ".join(notes)

    # ---------------------------------------------------------------------------------------------- HTTP

    def _public_params(self, params: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in params.items() if k.lower() != KEY_PARAM.lower()}

    def _scrub(self, text: str) -> str:
        return redact_text(text, self._api_key)

    def _error(
        self,
        ctx: _Ctx,
        reason: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        err_msg: str | None = None,
        hint: str | None = None,
    ) -> KosisError:
        return KosisError(
            self._scrub(reason),
            code=code,
            http_status=http_status,
            org_id=ctx.org_id,
            tbl_id=ctx.tbl_id,
            period_range=ctx.period_range,
            params={k: self._scrub(v) for k, v in self._public_params(ctx.params).items()},
            err_msg=self._scrub(err_msg) if err_msg else None,
            hint=self._scrub(hint) if hint else None,
            periods_label=ctx.periods_label,
            what=ctx.what,
        )

    def _fatal_for_code(self, raw: _Raw, ctx: _Ctx, *, hint: str | None = None) -> KosisError:
        code = raw.code
        if code in AUTH_CODES:
            reason = "the API key was missing" if code == "10" else "the API key was rejected (invalid or expired)"
            hint = "Check the KOSIS_API_KEY environment variable" + (f"; {hint}" if hint else "")
        elif code in PARAM_CODES:
            reason = ""  # the code's meaning is in the message already; the hint names the parameter
        else:
            reason = "unexpected KOSIS error code"
        return self._error(ctx, reason, code=code, err_msg=raw.err_msg, hint=hint or None)

    def _call(self, path: str, method: str, params: dict[str, str], ctx: _Ctx) -> _Raw:
        """One logical request with retries; returns the parsed body (possibly a KOSIS error code that
        is not retried here: 10, 11, 20, 21, 30, 31, 41 or unknown codes)."""
        import requests

        url = self._base_url + path
        full = {"method": method, KEY_PARAM: self._api_key, **params}
        prepared = requests.models.PreparedRequest()
        prepared.prepare_url(url, full)
        redacted = redact_url(prepared.url or url)
        attempt = 0
        while True:
            result = self._attempt(url, full, redacted, ctx)
            if isinstance(result, _Raw):
                return result
            attempt += 1
            if attempt > self._max_retries:
                raise self._error(
                    ctx,
                    f"gave up after {attempt} attempt(s) ({self._max_retries} retries); last failure: {result.reason}",
                    code=result.code,
                    http_status=result.http_status,
                )
            delay = self._backoff(attempt, result)
            self._log.info(
                "KOSIS %s: %s; retry %d/%d in %.2fs", redacted, result.reason, attempt, self._max_retries, delay
            )
            self._sleep(delay)

    def _backoff(self, attempt: int, failure: _Transient) -> float:
        cap = min(self._backoff_max, self._backoff_base * (2 ** (attempt - 1)))
        if failure.rate_limited:
            delay = cap / 2 + self._rng.uniform(0, cap / 2)  # call limits: always wait a while
        else:
            delay = self._rng.uniform(0, cap)  # full jitter
        if failure.retry_after is not None:
            delay = max(delay, min(failure.retry_after, self._backoff_max))
        return delay

    def _attempt(self, url: str, full: dict[str, str], redacted: str, ctx: _Ctx) -> _Raw | _Transient:
        import requests

        deadline = time.monotonic() + self._total_timeout
        failure: str | None = None
        try:
            resp = self._session.get(
                url,
                params=full,
                timeout=(min(self._connect_timeout, self._total_timeout), min(self._timeout, self._total_timeout)),
                stream=True,
            )
        except requests.Timeout as exc:
            return _Transient(f"timeout ({type(exc).__name__}: {self._scrub(str(exc))})")
        except (
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            return _Transient(f"connection error ({type(exc).__name__}: {self._scrub(str(exc))})")
        except requests.RequestException as exc:
            failure = f"request failed ({type(exc).__name__}: {self._scrub(str(exc))})"
        if failure is not None:  # raised outside the except block: no chained exception carries the URL
            raise self._error(ctx, failure)
        try:
            return self._answer(resp, redacted, ctx, deadline)
        finally:
            resp.close()

    def _read_body(self, resp: requests.Response, deadline: float, writer: BodyWriter | None,
                   keep_whole: bool) -> _Body | _Transient:
        """The body, read in chunks as they arrive, checking the total deadline before every read (and bounding
        each read by the time left, so one stalled read cannot overshoot it by the read timeout). Each chunk is
        masked and handed to ``writer`` as it arrives; the whole body is kept only if ``keep_whole`` or it is
        smaller than FULL_PARSE_MAX_BYTES, else only its first and last bytes."""
        import requests
        import urllib3

        raw = resp.raw
        read = getattr(raw, "read1", None) or raw.read  # read1: returns what has arrived, up to the size
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        masker = StreamMasker(self._api_key)
        parts: list[bytes] | None = []
        size, head, tail = 0, b"", b""

        def take(piece: bytes) -> None:
            nonlocal parts, size, head, tail
            if not piece:
                return
            if writer is not None:
                writer.write(piece)
            size += len(piece)
            if len(head) < _EDGE:
                head += piece[: _EDGE - len(head)]
            tail = (tail + piece)[-_EDGE:]
            if parts is not None:
                parts.append(piece)
                if not keep_whole and size >= FULL_PARSE_MAX_BYTES:
                    parts = None

        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return _Transient(f"total timeout: the response was not complete after {self._total_timeout:g}s "
                                  f"({size} bytes received)")
            try:
                if sock is not None:
                    sock.settimeout(max(0.01, min(self._timeout, remaining)))
                chunk = read(_READ_CHUNK)
            except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
                if time.monotonic() >= deadline:
                    return _Transient(f"total timeout: the response was not complete after {self._total_timeout:g}s")
                return _Transient(f"timeout ({type(exc).__name__}: {self._scrub(str(exc))})")
            except (urllib3.exceptions.HTTPError, OSError, requests.RequestException) as exc:
                return _Transient(f"connection error ({type(exc).__name__}: {self._scrub(str(exc))})")
            if not chunk:
                break
            take(masker.feed(chunk))  # outside the try: a failing archive write is not a network error
        take(masker.finish())
        return _Body(size, head, tail, None if parts is None else b"".join(parts), masker.count)

    def _answer(self, resp: requests.Response, redacted: str, ctx: _Ctx, deadline: float) -> _Raw | _Transient:
        status = resp.status_code
        if status >= 500 or status in (408, 429):
            return _Transient(
                f"HTTP {status}", http_status=status, rate_limited=status == 429, retry_after=_retry_after(resp)
            )
        if status != 200:
            raise self._error(ctx, f"unexpected HTTP status {status}", http_status=status)

        # The key is masked before anything sees the body: the archive, the parser, error messages.
        writer = self._archive() if self._archive is not None else None
        keep_whole = self._keep_records or self._on_body is not None or ctx.what != DATA_METHOD
        try:
            received = self._read_body(resp, deadline, writer, keep_whole)
        except BaseException:
            if writer is not None:
                writer.discard()
            raise
        if isinstance(received, _Transient):
            if writer is not None:
                writer.discard()
            return received
        if writer is not None:
            writer.commit(redacted)
        n_masked = received.n_masked
        if n_masked:
            self._log.warning("KOSIS %s: the response echoed the API key %d time(s); masked before archiving",
                              redacted, n_masked)
        body = received.whole
        if body is None:  # a large data body: told from its edges, parsed later from the archived copy
            problem = inspect_edges(received.head, received.tail)
            if problem is not None:
                return _Transient(f"unparseable body of {received.size} bytes (truncated?): {problem}")
            return _Raw(redacted, b"", None, "", None, None, n_masked, parsed=False)
        if self._on_body is not None:
            self._on_body(body, redacted)
        try:
            data, text = parse_body(body)
        except ValueError as exc:
            return _Transient(f"unparseable body of {len(body)} bytes (truncated?): {exc}")
        code, err_msg = extract_error(data)
        if code in RATE_LIMIT_CODES or code in SERVER_CODES:
            meaning = KOSIS_CODE_MEANING.get(code, "")
            return _Transient(f"KOSIS err {code} ({meaning})", code=code, rate_limited=code in RATE_LIMIT_CODES)
        return _Raw(redacted, body, data, text, code, err_msg, n_masked)


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
