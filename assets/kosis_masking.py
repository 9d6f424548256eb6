"""Keeping the KOSIS API key out of everything the pipeline writes or shows.

The key travels as the ``apiKey`` query parameter of every KOSIS request. This module removes or masks it:

* ``redact_url`` drops the parameter from a URL; ``redact_text`` strips ``apiKey=...`` from any text and masks a
  known key in every encoding (raw, ``quote``/``quote_plus`` in either hex case, JSON escapes).
* ``mask_secret`` masks the key in a whole body, ``StreamMasker`` in a body that arrives in chunks: a server that
  echoes the request in its answer must not get the key archived.
* ``BodyWriter`` is where the client streams each HTTP-200 body (already masked); ``MaskingWriter`` masks it once
  more on its way to another BodyWriter (the raw archive).
* ``register_secret`` and ``install_log_redaction``: every key a client holds is masked in third-party log records
  too (urllib3 logs request URLs at DEBUG level).

Plain Python, no network and no Dagster: the client (assets/kosis_client.py) and the KOSIS assets use it.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Protocol
from urllib.parse import unquote_plus, urlsplit, urlunsplit

__all__ = [
    "KEY_PARAM",
    "MASK",
    "BodyWriter",
    "MaskingWriter",
    "StreamMasker",
    "install_log_redaction",
    "mask_secret",
    "redact_text",
    "redact_url",
    "register_secret",
]

# The query parameter that carries the API key in every KOSIS request.
KEY_PARAM = "apiKey"

_KEY_VALUE = r"[^&#\s'\"<>]*"
_REDACT_PATTERNS = (
    (re.compile(r"\?apikey=" + _KEY_VALUE + r"&", re.IGNORECASE), "?"),
    (re.compile(r"\?apikey=" + _KEY_VALUE, re.IGNORECASE), ""),
    (re.compile(r"&apikey=" + _KEY_VALUE, re.IGNORECASE), ""),
    (re.compile(r"(?<![\w&?])apikey=" + _KEY_VALUE + r"&?", re.IGNORECASE), ""),
    (re.compile(r"(['\"]apikey['\"]\s*:\s*)(['\"])[^'\"]*\2", re.IGNORECASE), r"\1\2***\2"),
)


def redact_url(url: str) -> str:
    """Return ``url`` with the ``apiKey`` query parameter removed entirely (other parameters untouched)."""
    parts = urlsplit(url)
    if parts.query:
        kept = [
            piece
            for piece in parts.query.split("&")
            if piece and unquote_plus(piece.split("=", 1)[0]).strip().lower() != KEY_PARAM.lower()
        ]
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), parts.fragment))
    return redact_text(url)


def redact_text(text: str, secret: str | None = None) -> str:
    """Remove ``apiKey=...`` from any URL-like fragment in ``text`` and mask ``secret`` wherever it occurs,
    in any of its encodings (raw, ``quote``/``quote_plus`` with upper- or lower-case hex, JSON escapes)."""
    for pattern, repl in _REDACT_PATTERNS:
        text = pattern.sub(repl, text)
    for known in ([secret] if secret else []) + sorted(_SECRETS):
        if len(known) >= 4:
            text = _secret_pattern(known).sub("***", text)
    return text


MASK = b"***"
# Keys registered by every KosisClient (register_secret), so that the log filter masks them in third-party log
# records too.
_SECRETS: set[str] = set()


def register_secret(secret: str) -> None:
    """Mask ``secret`` from now on wherever redact_text runs without being told the key (the log filter).
    Keys shorter than 4 characters are not registered (they would match ordinary data)."""
    if len(secret) >= 4:
        _SECRETS.add(secret)


def _char_alternatives(char: str) -> list[str]:
    """Every way ``char`` may be written in a URL, a form body or a JSON string."""
    raw = char.encode("utf-8")
    hexed = "".join(f"%{b:02x}" for b in raw)
    alternatives = [re.escape(char), "(?i:" + re.escape(hexed) + ")"]
    if char == " ":
        alternatives.append(r"\+")
    if char == "/":
        alternatives.append(r"\\/")  # JSON may escape a slash as \/
    if ord(char) < 0x10000:
        alternatives.append("(?i:" + re.escape(f"\\u{ord(char):04x}") + ")")
    return alternatives


@functools.lru_cache(maxsize=32)
def _secret_pattern(secret: str) -> re.Pattern[str]:
    """A regex matching ``secret`` with each character written raw, percent-encoded (any hex case), as ``+``
    for a space, or JSON-escaped: covers ``quote``, ``quote_plus`` and mixtures of them."""
    return re.compile("".join("(?:" + "|".join(_char_alternatives(c)) + ")" for c in secret))


@functools.lru_cache(maxsize=32)
def _secret_pattern_bytes(secret: str) -> re.Pattern[bytes]:
    return re.compile(_secret_pattern(secret).pattern.encode("utf-8"))


def mask_secret(body: bytes, secret: str | None) -> tuple[bytes, int]:
    """``body`` with every encoding of ``secret`` replaced by ``***`` and the number of replacements.

    Used on every response body before it is archived or parsed: a server that echoes the request (the key
    included) in a 200 body must not get the key stored. Keys shorter than 4 characters are not masked (they
    would match ordinary data). The whole body as one chunk of a StreamMasker (one implementation for both)."""
    masker = StreamMasker(secret)
    masked = masker.feed(body) + masker.finish()
    return masked, masker.count


@functools.lru_cache(maxsize=32)
def _literal_anchor(secret: str) -> bytes | None:
    """The longest run of ASCII letters and digits in ``secret`` (4 or more), which quote, quote_plus and JSON
    all leave as is: a body without it cannot hold the key in any of those encodings."""
    runs = re.findall(r"[A-Za-z0-9]{4,}", secret)
    return max(runs, key=len).encode("ascii") if runs else None


def _max_match_bytes(secret: str) -> int:
    """The longest any encoding of ``secret`` that _secret_pattern matches can be, in bytes (%XX per UTF-8 byte,
    or \\uXXXX)."""
    return sum(max(3 * len(c.encode("utf-8")), 6) for c in secret)


class StreamMasker:
    """mask_secret over a body that arrives in chunks. ``feed`` returns the bytes that are final (masked) and holds
    back the last few, where an encoding of the key may have begun; ``finish`` returns the rest. The fast path
    is the same as mask_secret's: without the key's literal anchor in sight, nothing is searched."""

    def __init__(self, secret: str | None) -> None:
        self._secret = secret if secret and len(secret) >= 4 else None
        self._anchor = _literal_anchor(self._secret) if self._secret else None
        self._hold = _max_match_bytes(self._secret) if self._secret else 0
        self._pending = b""
        self.count = 0

    def _mask(self, data: bytes) -> bytes:
        if self._secret is None or (self._anchor is not None and self._anchor not in data):
            return data
        data, n = _secret_pattern_bytes(self._secret).subn(MASK, data)
        self.count += n
        return data

    def feed(self, chunk: bytes) -> bytes:
        if self._secret is None:
            return chunk
        data = self._mask(self._pending + chunk)
        cut = max(0, len(data) - self._hold)
        self._pending = data[cut:]
        return data[:cut]

    def finish(self) -> bytes:
        data, self._pending = self._mask(self._pending), b""
        return data


class BodyWriter(Protocol):
    """Where one HTTP-200 body streams as it arrives (already masked). ``commit`` once it is whole (the body is
    kept even if it turns out to be an error or not JSON: it is what the service sent); ``discard`` when the
    transfer failed (a short read, a timeout), so no partial body is ever kept as a response."""

    def write(self, chunk: bytes) -> None: ...

    def commit(self, redacted_url: str) -> None: ...

    def discard(self) -> None: ...


class MaskingWriter:
    """A BodyWriter that masks the key once more before passing the stream on (a last line of defence for an
    archive whose caller holds the key)."""

    def __init__(self, inner: BodyWriter, secret: str | None) -> None:
        self._inner = inner
        self._masker = StreamMasker(secret)

    def write(self, chunk: bytes) -> None:
        self._inner.write(self._masker.feed(chunk))

    def commit(self, redacted_url: str) -> None:
        self._inner.write(self._masker.finish())
        self._inner.commit(redacted_url)

    def discard(self) -> None:
        self._inner.discard()


class _RedactingFilter(logging.Filter):
    """Strips API keys from third-party log records (urllib3 logs request URLs at DEBUG level)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is not ours to fix
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


_URLLIB3_FILTER = _RedactingFilter()


def install_log_redaction() -> None:
    """Add the redacting filter to the loggers of urllib3 and requests (once: it is idempotent)."""
    for name in ("urllib3.connectionpool", "urllib3.util.retry", "requests"):
        logger = logging.getLogger(name)
        if _URLLIB3_FILTER not in logger.filters:
            logger.addFilter(_URLLIB3_FILTER)
