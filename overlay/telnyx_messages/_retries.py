"""When to try a request again, and after how long: decisions only, no I/O, for both clients.

A doubled SMS costs money and reaches a real person twice. A message-creating POST with an
Idempotency-Key (the default where the spec declares the header) is answered by the API's edge at
most once per key: it is retried after any failure, a timeout or a dropped connection at any point,
500/502/503/504 and 429, and a 409 (the first attempt with that key still in progress) is waited
out without counting as a retry. Without a key, it is retried only after failures that prove the
server never took it (the connection was never made, a 429).

A 429 waits for the server's hint: `Retry-After`/`retry-after-ms`, else `x-ratelimit-reset` (the
seconds until the request limit's window resets, which Telnyx sends with its 429 code 10011), capped
at MAX_RETRY_AFTER. A 429 with code 40333 (the messaging profile's daily spend limit, reset at
00:00 UTC) is never retried.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from typing import NamedTuple

import httpx2

from ._exceptions import spend_limit_reached

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
RATE_LIMIT_RESET = "x-ratelimit-reset"

# The request never reached the server: safe to send again whatever it was.
_NEVER_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.UnsupportedProtocol)
_RETRYABLE_STATUSES = frozenset({408, 409, 429})
# What a keyed POST is retried after: the edge answers a retry with the same key from what it stored.
_KEYED_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# A 409 to a keyed request: its first attempt is still being handled. Waited out with the backoff,
# at most this many times in a call (about 40 s in all), apart from max_retries.
MAX_IN_PROGRESS_WAITS = 8


class RetryPolicy(NamedTuple):
    """One call's retry rules, made once per call: a tuple, cheaper to make than a frozen dataclass."""

    max_retries: int
    # True when sending the request twice has the effect of sending it once (a GET, a DELETE).
    replayable: bool
    # The Idempotency-Key the request carries (where the spec declares the header): the edge takes
    # a request with it once.
    idempotency_key: str | None = None

    @property
    def keyed(self) -> bool:
        return self.idempotency_key is not None

    def after_exception(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if attempt >= self.max_retries or not isinstance(exc, httpx2.TransportError):
            return None
        if isinstance(exc, _NEVER_SENT) or self.replayable or self.keyed:
            return backoff(attempt)
        return None

    def after_response(self, response: httpx2.Response, attempt: int) -> float | None:
        status = response.status_code
        if attempt >= self.max_retries:
            return None
        if self.keyed:
            retried = status in _KEYED_RETRYABLE_STATUSES
        else:
            retried = status == 429 or (self.replayable and (status in _RETRYABLE_STATUSES or status >= 500))
        if not retried or spend_limit_reached(response):  # waiting for the spend limit's reset is no retry
            return None
        return _hinted_or_backoff(response, attempt)

    def in_progress(self, response: httpx2.Response) -> bool:
        """A 409 to a keyed request: the same key's first attempt is still being handled."""
        return self.keyed and response.status_code == 409

    def after_in_progress(self, response: httpx2.Response, waited: int) -> float | None:
        """Seconds to wait before asking again, or None once the call has waited its most."""
        return None if waited >= MAX_IN_PROGRESS_WAITS else _hinted_or_backoff(response, waited)


def _hinted_or_backoff(response: httpx2.Response, attempt: int) -> float:
    hinted = retry_after(response.headers)
    if hinted is None and response.status_code == 429:
        hinted = rate_limit_reset(response.headers)
    return hinted if hinted is not None else backoff(attempt)


def backoff(attempt: int) -> float:
    """Exponential, capped, with jitter so that clients that failed together do not retry together."""
    delay: float = min(INITIAL_DELAY * 2**attempt, MAX_DELAY)
    return delay * (1 - 0.25 * random.random())


def retry_after(headers: httpx2.Headers) -> float | None:
    """The server's hint, from `retry-after-ms` or `Retry-After` (seconds or an HTTP date), if sane."""
    seconds: float | None = None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            seconds = float(ms) / 1000
        except ValueError:
            seconds = None
    if seconds is None and (value := headers.get("retry-after")) is not None:
        try:
            seconds = float(value)
        except ValueError:
            seconds = _seconds_until(value)
    if seconds is None or seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def rate_limit_reset(headers: httpx2.Headers) -> float | None:
    """The seconds until the request limit's window resets (`x-ratelimit-reset`), capped as a hint is."""
    seconds = header_seconds(headers.get(RATE_LIMIT_RESET))
    return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


def header_seconds(value: str | None) -> float | None:
    """A header's count of seconds: ASCII digits with at most one decimal point (spaces around
    allowed); anything else (a sign, an exponent, a date, NaN, a value too large for a float) is None."""
    if value is None:
        return None
    value = value.strip()
    if not (value.isascii() and value.replace(".", "", 1).isdigit()):
        return None
    seconds = float(value)
    return seconds if math.isfinite(seconds) else None  # digits beyond a float's range read as inf


def _seconds_until(value: str) -> float | None:
    """An HTTP date as seconds from now; None for one the calendar refuses (30 February, hour 25,
    year 10000, an offset of +9999): a bad hint is treated as no hint."""
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
    except (ValueError, OverflowError, TypeError):
        return None
