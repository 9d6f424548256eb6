"""Reading a KOSIS response body: what it holds, decided one way for the client, the loader and the inbox.

* ``parse_body`` decodes a body (UTF-8 or CP949) and parses its JSON, numbers kept as text and unquoted keys
  (``{ORG_ID:"101"}``) repaired; ``MalformedBody`` is what is not a KOSIS JSON body at all.
* ``classify_body`` says whether a data body is records or a KOSIS error (``{"err": "NN", "errMsg": "..."}``,
  possibly wrapped in a one-element list): ``extract_error`` and ``records_of`` are its two halves.
* ``inspect_edges`` tells a large body that is not parsed whole from its first and last bytes (an HTML page,
  another shape, a truncated transfer).

Pure functions over bytes: no network, no files, no Dagster.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "MalformedBody",
    "classify_body",
    "extract_error",
    "inspect_edges",
    "parse_body",
    "records_of",
]

# A JSON string literal, or an unquoted object key after "{" or ",".
_UNQUOTED_KEY_RE = re.compile(r'("(?:[^"\\]|\\.)*")|(?<=[{,])(\s*)([A-Za-z_$][\w$]*)(\s*:)')
# Values that are not strings (null, true, false, nested containers) need normalising to strings.
_NON_STRING_VALUE_RE = re.compile(r":\s*(?:null|true|false|[\[{])")


class MalformedBody(ValueError):
    """A body that is not a KOSIS JSON body: not UTF-8/CP949 text, not JSON (an HTML page, a truncated body),
    nested too deeply, duplicate keys in an object, a lone surrogate (``\\ud800``). The client retries such
    a body (it may be a truncated transfer) and then fails with a KosisError."""


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp949")
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"the body is neither UTF-8 nor CP949 text ({exc.reason} at byte {exc.start})") from None


def _quote_key(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return match.group(1)
    return f'{match.group(2)}"{match.group(3)}"{match.group(4)}'


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise MalformedBody(f"duplicate key {dup[:40]!r} in a JSON object")
    return obj


def _n_keys(data: Any) -> int:
    if isinstance(data, dict):
        return len(data)
    if isinstance(data, list):
        return sum(len(r) if isinstance(r, dict) else 0 for r in data)
    return 0


def _loads(text: str) -> Any:
    """json.loads with numbers kept as text, refusing what would break later: nesting too deep for Python,
    duplicate keys (which value would be "the" value?), lone surrogates (not encodable as UTF-8)."""
    try:
        data = json.loads(text, parse_int=str, parse_float=str, parse_constant=str)
        # Fast check: in a flat array of objects every '":' ends a key; fewer keys parsed than that means a
        # duplicate (or a '":' inside a string, or nesting): only then parse again, checking every object.
        if text.count('":') != _n_keys(data):
            data = json.loads(text, parse_int=str, parse_float=str, parse_constant=str,
                              object_pairs_hook=_no_duplicate_keys)
    except RecursionError:
        raise MalformedBody("JSON nested too deeply") from None
    if "\\ud" in text or "\\uD" in text:
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedBody("a lone surrogate (\\ud800-\\udfff) in a JSON string") from None
        except RecursionError:
            raise MalformedBody("JSON nested too deeply") from None
    return data


def parse_body(body: bytes) -> tuple[Any, str]:
    """Parse a KOSIS JSON body, repairing unquoted keys; returns (data, decoded text).

    Numbers stay text (as received). Raises ValueError when the body is not JSON even after repair
    (e.g. a truncated body).
    """
    text = _decode(body)
    try:
        return _loads(text), text
    except MalformedBody:
        raise
    except ValueError:
        pass
    repaired = _UNQUOTED_KEY_RE.sub(_quote_key, text)
    if repaired == text:
        raise MalformedBody("the body is not valid JSON")
    try:
        return _loads(repaired), repaired
    except MalformedBody:
        raise
    except ValueError:
        raise MalformedBody("the body is not valid JSON, even with its keys quoted") from None


def classify_body(body: bytes) -> tuple[list[dict[str, str]], str | None, str | None]:
    """What a data body holds, decided exactly as the client decides it: (records, err code, errMsg).

    An error body (an object with ``err``, or a one-element array holding one) gives no records and its
    code; anything else must be an array of objects. Raises MalformedBody (not JSON, ...) or ValueError
    (JSON of the wrong shape). Records that carry ``err`` beside others are returned as records: the
    loader quarantines them, so nothing is discarded as "no data"."""
    data, text = parse_body(body)
    code, err_msg = extract_error(data)
    if code is not None:
        return [], code, err_msg
    return records_of(data, text), None, None


def inspect_edges(head: bytes, tail: bytes) -> str | None:
    """None when a large body's first and last bytes look like a whole JSON array of objects, else why not (an
    HTML page, another shape, a truncated transfer that does not close its array): the client retries it."""
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    tail = tail.rstrip()
    if head.startswith(b"<"):
        return "an HTML page, not JSON"
    if not head.startswith(b"[") or not head[1:].lstrip().startswith(b"{"):
        return "not a JSON array of objects"
    if not tail.endswith(b"]") or not tail[:-1].rstrip().endswith(b"}"):
        return "truncated: the body does not close its array of records"
    return None


def _as_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def extract_error(data: Any) -> tuple[str | None, str | None]:
    """Return (err code, errMsg) when ``data`` is a KOSIS error object or a list holding one."""
    obj = data
    # Only when the err object is the whole body: an array with records beside it is data (the loader
    # quarantines the element that carries err), never "no data" with the other records discarded.
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict) and "err" in data[0]:
        obj = data[0]
    if isinstance(obj, dict) and "err" in obj:
        code = _as_str(obj.get("err")).strip()
        msg = _as_str(obj.get("errMsg", obj.get("errmsg", ""))).strip()
        return code or "?", msg or None
    return None, None


def records_of(data: Any, text: str) -> list[dict[str, str]]:
    """The records of a parsed body, every value a string. Raises ValueError for an unexpected shape."""
    if isinstance(data, dict):
        raise MalformedBody("a JSON object that is not a KOSIS error, where an array of records was expected")
    if not isinstance(data, list) or not set(map(type, data)) <= {dict}:
        raise MalformedBody(f"expected a JSON array of objects, got {type(data).__name__}")
    if _NON_STRING_VALUE_RE.search(text):
        return [{str(k): _as_str(v) for k, v in rec.items()} for rec in data]
    return data

