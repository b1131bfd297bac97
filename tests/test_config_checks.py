"""telnyx_messages._config, function by function: which hosts are loopback, the base URL and API key
checks and their one-line messages, the timeout, max_retries and max_response_bytes checks. (The
clients' use of them: test_base_url.py, test_api_keys.py, test_timeouts.py.)"""

from __future__ import annotations

import math
import re

import httpx2
import pytest
from telnyx_messages import TelnyxError
from telnyx_messages._config import (
    DEFAULT_BASE_URL,
    authorization,
    check_max_response_bytes,
    check_max_retries,
    checked_timeout,
    is_loopback,
    resolve_base_url,
)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.example", False),
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("126.0.0.1", False),
        ("128.0.0.1", False),
        ("10.127.0.1", False),
        ("::1", True),
        ("::2", False),
        ("1::", False),
        ("::ffff:127.0.0.1", False),  # an IPv4-mapped address: not ::1
        ("example.com", False),
        ("", False),
    ],
)
def test_a_host_is_loopback_when_localhost_in_127_slash_8_or_ipv6_1(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_base_url_is_the_argument_else_the_environments_else_the_apis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELNYX_BASE_URL", raising=False)
    assert resolve_base_url(None, False) == DEFAULT_BASE_URL == "https://api.telnyx.com/v2"
    monkeypatch.setenv("TELNYX_BASE_URL", "https://env.example/v9/")
    assert resolve_base_url(None, False) == "https://env.example/v9"
    assert resolve_base_url("https://arg.example/v1//", False) == "https://arg.example/v1"
    assert resolve_base_url("", False) == "https://env.example/v9"  # empty: not given


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://h.example/v2", "base_url must be an http(s) URL, got 'ftp://h.example/v2'"),
        ("https:///v2", "base_url must be an http(s) URL, got 'https:///v2'"),
        ("https://h.example/v2?", "base_url must not have a query or fragment (the path is appended to it), got "),
        ("https://h.example/v2#", "base_url must not have a query or fragment (the path is appended to it), got "),
        ("https://h.example/a?b", "base_url must not have a query or fragment (the path is appended to it), got "),
        ("https://h.example/a#b", "base_url must not have a query or fragment (the path is appended to it), got "),
        ("https://h.example:x/v2", "base_url is not a valid URL: "),
        ("https://h.example/\x7f", "base_url must be a URL of printable ASCII, got 'https://h.example/\\x7f'"),
        ("https://h.example/ v", "base_url must be a URL of printable ASCII, got 'https://h.example/ v'"),
        ("https://h.example/é", "base_url must be a URL of printable ASCII, got 'https://h.example/é'"),
        (
            "http://h.example/v2",
            "base_url 'http://h.example/v2' is plain http to a non-loopback host: the API key would cross the "
            "network in clear text. Use https, or pass allow_insecure_http=True if you mean it.",
        ),
    ],
)
def test_a_base_url_the_client_cannot_use_is_refused_in_one_line(url: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        resolve_base_url(url, False)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_plain_http_goes_to_a_loopback_host_or_when_allowed() -> None:
    assert resolve_base_url("http://127.0.0.1:4010", False) == "http://127.0.0.1:4010"
    assert resolve_base_url("http://localhost/v2", False) == "http://localhost/v2"
    assert resolve_base_url("http://[::1]:4010/", False) == "http://[::1]:4010"
    assert resolve_base_url("http://h.example/v2", True) == "http://h.example/v2"
    assert resolve_base_url("HTTPS://h.example/v2", False) == "HTTPS://h.example/v2"


def test_a_base_url_that_is_no_text_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"^base_url must be str, got bytes$"):
        resolve_base_url(b"https://h.example", False)  # type: ignore[arg-type]


def test_the_authorization_is_the_key_as_a_bearer_token_else_the_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELNYX_API_KEY", "KEY-env")
    assert authorization("KEY-arg") == "Bearer KEY-arg"
    assert authorization(None) == "Bearer KEY-env"
    monkeypatch.delenv("TELNYX_API_KEY")
    with pytest.raises(TelnyxError) as missing:
        authorization(None)
    assert str(missing.value) == "No API key: pass api_key= or set the TELNYX_API_KEY environment variable."
    with pytest.raises(TelnyxError):
        authorization("")  # given, but empty: no key either


@pytest.mark.parametrize(
    ("key", "error", "message"),
    [
        (5, TypeError, "api_key must be str, got int"),
        (" KEY", ValueError, "api_key starts or ends with white space or a line break (read from a file? strip it)"),
        ("KEY\n", ValueError, "api_key starts or ends with white space or a line break (read from a file? strip it)"),
        ("KE\x01Y", ValueError, "api_key holds a character that is not printable ASCII; a Telnyx key never does"),
        ("KEé", ValueError, "api_key holds a character that is not printable ASCII; a Telnyx key never does"),
        (
            "bEaReR KEY",
            ValueError,
            "api_key starts with 'Bearer ': pass the key alone (the client sends it as a Bearer token)",
        ),
    ],
)
def test_a_key_that_cannot_be_sent_is_refused_without_quoting_it(key: object, error: type, message: str) -> None:
    with pytest.raises(error) as refused:
        authorization(key)  # type: ignore[arg-type]
    assert str(refused.value) == message


def test_a_key_that_merely_starts_like_bearer_is_a_key() -> None:
    assert authorization("BearerKEY") == "Bearer BearerKEY"
    assert authorization("Beare KEY") == "Bearer Beare KEY"


def test_a_timeout_is_none_positive_seconds_or_a_timeout_of_such_parts() -> None:
    assert checked_timeout(None) is None
    assert checked_timeout(3) == 3.0 and isinstance(checked_timeout(3), float)
    assert checked_timeout(0.25) == 0.25
    parts = httpx2.Timeout(5.0, connect=None)
    assert checked_timeout(parts) is parts


@pytest.mark.parametrize("seconds", [0, -1, 0.0, math.nan, math.inf, True, "5"])
def test_a_timeout_that_could_only_time_out_is_refused_naming_it(seconds: object) -> None:
    message = f"timeout must be None, a number of seconds > 0 or an httpx2.Timeout, got {seconds!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        checked_timeout(seconds)


@pytest.mark.parametrize("seconds", [0, -2.5, math.nan, math.inf])
def test_a_timeout_part_that_could_only_time_out_is_refused_naming_the_part(seconds: float) -> None:
    message = f"timeout's read part must be None or a number of seconds > 0, got {seconds!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        checked_timeout(httpx2.Timeout(5.0, read=seconds))


def test_max_retries_is_an_int_from_zero() -> None:
    check_max_retries(0)
    check_max_retries(7)
    for bad in (-1, True, 1.0, None):
        with pytest.raises(ValueError, match=rf"^max_retries must be an int >= 0, got {re.escape(repr(bad))}$"):
            check_max_retries(bad)  # type: ignore[arg-type]


def test_max_response_bytes_is_a_positive_int() -> None:
    check_max_response_bytes(1)
    check_max_response_bytes(1 << 30)
    for bad in (0, -1, 1.5, None):
        message = rf"^max_response_bytes must be a positive int, got {re.escape(repr(bad))}$"
        with pytest.raises(ValueError, match=message):
            check_max_response_bytes(bad)  # type: ignore[arg-type]
