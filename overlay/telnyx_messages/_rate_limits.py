"""The API's request-limit headers, parsed: `RateLimit`, given by `APIResponse.rate_limit` and
`APIStatusError.rate_limit` (telnyx_messages.types.RateLimit).

Telnyx's API-fundamentals page on rate limiting names three response headers: `x-ratelimit-limit`,
`x-ratelimit-remaining` and `x-ratelimit-reset` (seconds until the window resets). Imported only
when a rate limit is read: building a dataclass costs a program's import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx2

from ._retries import RATE_LIMIT_RESET, header_seconds

__all__ = ["RateLimit"]

RATE_LIMIT_LIMIT = "x-ratelimit-limit"
RATE_LIMIT_REMAINING = "x-ratelimit-remaining"


def _count(value: str | None) -> int | None:
    """A count of requests: ASCII digits (spaces around allowed); anything else is None."""
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() else None


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The request limit a response reports: how many requests its window allows (`limit`), how many
    are left in it (`remaining`), and the seconds until it resets (`reset`). A field whose header is
    missing or malformed is None."""

    limit: int | None
    remaining: int | None
    reset: float | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit | None:
        """The x-ratelimit-* headers (names in any case) parsed; None when none is present. Never raises
        for a malformed value: that field is None."""
        if not isinstance(headers, httpx2.Headers):  # a plain mapping: its names in any case
            headers = {name.lower(): value for name, value in headers.items()}
        limit, remaining, reset = (
            headers.get(RATE_LIMIT_LIMIT),
            headers.get(RATE_LIMIT_REMAINING),
            headers.get(RATE_LIMIT_RESET),
        )
        if limit is None and remaining is None and reset is None:
            return None
        return cls(limit=_count(limit), remaining=_count(remaining), reset=header_seconds(reset))
