"""A client's configuration, and the checks of each option: made at construction and by
`with_options`, each refusing bad input with one line naming it, before anything is sent."""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

import httpx2

from ._calls import Timeout
from ._exceptions import TelnyxError
from ._legacy_httpx import as_httpx2_timeout

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "Config",
    "authorization",
    "check_max_response_bytes",
    "check_max_retries",
    "checked_timeout",
    "is_loopback",
    "resolve_base_url",
]

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"
DEFAULT_TIMEOUT = httpx2.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
# What a response body may decompress to before the client stops reading it (memory stays bounded).
DEFAULT_MAX_RESPONSE_BYTES = 32 << 20
USER_AGENT = "telnyx-messages-python"


class Config(NamedTuple):
    """What a client and its `with_options` copies hold. The key is not here: it lives only in the
    headers given to httpx, which masks it in every repr. (A tuple: a dataclass costs the import.)"""

    base_url: str
    timeout: Timeout
    max_retries: int
    default_query: Mapping[str, object]
    max_response_bytes: int


_IPV6_LOOPBACK = bytes(15) + b"\x01"


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1. Read with socket, which httpx2 has loaded: importing ipaddress
    would add milliseconds to every cold start."""
    if host == "localhost":
        return True
    try:
        return socket.inet_pton(socket.AF_INET, host)[0] == 127
    except OSError:
        pass
    try:
        return socket.inet_pton(socket.AF_INET6, host) == _IPV6_LOOPBACK
    except OSError:
        return False


def resolve_base_url(base_url: str | None, allow_insecure_http: bool) -> str:
    url = base_url or os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL
    if not isinstance(url, str):
        raise TypeError(f"base_url must be str, got {type(url).__name__}")
    url = url.rstrip("/")
    if not url.isascii() or not url.isprintable() or " " in url:
        raise ValueError(f"base_url must be a URL of printable ASCII, got {url!r}")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"base_url must be an http(s) URL, got {url!r}")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ValueError(f"base_url must not have a query or fragment (the path is appended to it), got {url!r}")
    try:
        parts.port  # noqa: B018  (raises on a port that is no number)
        httpx2.URL(url)
    except (ValueError, httpx2.InvalidURL) as exc:
        raise ValueError(f"base_url is not a valid URL: {exc}") from None
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise ValueError(
            f"base_url {url!r} is plain http to a non-loopback host: the API key would cross the network "
            "in clear text. Use https, or pass allow_insecure_http=True if you mean it."
        )
    return url


def authorization(api_key: str | None) -> str:
    """The Authorization header for a key, checked so that no later error (h11 refusing a newline,
    an encoder refusing a non-ASCII character) can quote it: messages here never hold the key."""
    key = api_key if api_key is not None else os.environ.get("TELNYX_API_KEY")
    if not key:
        raise TelnyxError("No API key: pass api_key= or set the TELNYX_API_KEY environment variable.")
    if not isinstance(key, str):
        raise TypeError(f"api_key must be str, got {type(key).__name__}")
    if key != key.strip():
        raise ValueError("api_key starts or ends with white space or a line break (read from a file? strip it)")
    if not key.isascii() or not key.isprintable():
        raise ValueError("api_key holds a character that is not printable ASCII; a Telnyx key never does")
    if key[:7].lower() == "bearer ":
        raise ValueError("api_key starts with 'Bearer ': pass the key alone (the client sends it as a Bearer token)")
    return f"Bearer {key}"


def checked_timeout(timeout: object) -> Timeout:
    """A timeout as httpx2 takes it: None (no limit), seconds, or an httpx2/httpx Timeout whose parts
    are each None or seconds; seconds are finite and above 0 (a call with 0, a negative number or NaN
    could only time out)."""
    converted = as_httpx2_timeout(timeout)
    if converted is None:
        return None
    if isinstance(converted, httpx2.Timeout):
        for part, seconds in converted.as_dict().items():
            if seconds is not None and not _is_seconds(seconds):
                raise ValueError(f"timeout's {part} part must be None or a number of seconds > 0, got {seconds!r}")
        return converted
    if not _is_seconds(converted):
        raise ValueError(f"timeout must be None, a number of seconds > 0 or an httpx2.Timeout, got {timeout!r}")
    return float(converted)


def _is_seconds(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def check_max_retries(max_retries: int) -> None:
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise ValueError(f"max_retries must be an int >= 0, got {max_retries!r}")


def check_max_response_bytes(max_response_bytes: int) -> None:
    if not isinstance(max_response_bytes, int) or max_response_bytes < 1:
        raise ValueError(f"max_response_bytes must be a positive int, got {max_response_bytes!r}")
