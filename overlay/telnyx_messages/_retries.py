"""When to try a request again, and after how long: decisions only, no I/O, for both clients.

A message-creating POST is replayed only after failures that prove the server never accepted it
(the connection was never made, a 429), unless the caller gave an idempotency key: a doubled SMS
costs money and reaches a real person twice.
"""

from __future__ import annotations

import email.utils
import random
import time
from typing import NamedTuple

import httpx2

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0

# The request never reached the server: safe to send again whatever it was.
_NEVER_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.UnsupportedProtocol)
_RETRYABLE_STATUSES = frozenset({408, 409, 429})


class RetryPolicy(NamedTuple):
    """One call's retry rules, made once per call: a tuple, cheaper to make than a frozen dataclass."""

    max_retries: int
    # True when sending the request twice has the effect of sending it once.
    replayable: bool

    def after_exception(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if attempt >= self.max_retries or not isinstance(exc, httpx2.TransportError):
            return None
        if isinstance(exc, _NEVER_SENT) or self.replayable:
            return backoff(attempt)
        return None

    def after_response(self, response: httpx2.Response, attempt: int) -> float | None:
        status = response.status_code
        if attempt >= self.max_retries or not (status in _RETRYABLE_STATUSES or status >= 500):
            return None
        if status != 429 and not self.replayable:
            return None
        hinted = retry_after(response.headers)
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


def _seconds_until(value: str) -> float | None:
    """An HTTP date as seconds from now; None for one the calendar refuses (30 February, hour 25,
    year 10000, an offset of +9999): a bad hint is treated as no hint."""
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
    except (ValueError, OverflowError, TypeError):
        return None
