"""The API's limits as the client meets them: a messaging profile's daily spend limit (429, error 40333)
is sent once and raised as SpendLimitError; the request limit's x-ratelimit-* headers are given parsed,
as RateLimit, by responses and status errors. (The wait a 429 gets: tests/test_retry_after.py.)"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import pickle
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest
import telnyx_messages
import telnyx_messages.types
from telnyx_messages import (
    APIStatusError,
    AsyncTelnyx,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SpendLimitError,
    Telnyx,
)
from telnyx_messages._exceptions import next_midnight_utc, spend_limit_reached, status_error
from telnyx_messages.cli import EXIT_API_ERROR
from telnyx_messages.types import RateLimit

from .support import API_KEY
from .support import MESSAGE_ID as GROUP_ID
from .support.client_kinds import ALL_CLIENTS, call_as
from .support.server import LoopbackServer, Reply, use_client
from .test_cli import run

SPEND_LIMIT = {
    "errors": [
        {
            "code": "40333",
            "title": "Messaging profile spend limit reached",
            "detail": "The profile's limit for today is spent",
        }
    ]
}
REQUEST_LIMIT = {"errors": [{"code": "10011", "title": "Too many requests"}]}
LIMITS = {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "7"}
OK_SEND = Reply(200, {"data": {"id": "40385f64-5717-4562-b3fc-2c963f66afa6"}}, LIMITS)
BOTH = pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx], ids=["sync", "async"])


def _midnights_around_now() -> set[datetime]:
    """The next 00:00 UTC as of now: two candidates when a test runs across midnight."""
    now = datetime.now(UTC)
    return {
        datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        for day in (now.date() + timedelta(days=1), (now + timedelta(minutes=1)).date() + timedelta(days=1))
    }


def _send(messages: Any) -> Any:
    return messages.send(to="+13125550002", text="hi")


def _raw_send(messages: Any) -> Any:
    return messages.with_raw_response.send(to="+13125550002", text="hi")


def _send_without_key(messages: Any) -> Any:
    return messages.send(to="+13125550002", text="hi", idempotency_key=None)


def _group(messages: Any) -> Any:
    return messages.retrieve_group_messages(GROUP_ID)


CALLS = pytest.mark.parametrize(
    "call",
    [_send, _raw_send, _send_without_key, _group],
    ids=["keyed-send", "raw-send", "unkeyed-send", "get"],
)


@BOTH
@CALLS
@pytest.mark.usefixtures("quick_retry_waits")
def test_a_spend_limit_429_is_sent_once_and_raises_spend_limit_error(
    client_class: type[Telnyx], call: Any, server: LoopbackServer
) -> None:
    server.default = Reply(429, SPEND_LIMIT, LIMITS)
    before = _midnights_around_now()
    with pytest.raises(SpendLimitError) as caught:
        use_client(client_class, server.base_url, call, max_retries=3)
    assert len(server.received) == 1
    error = caught.value
    assert isinstance(error, RateLimitError) and error.status_code == 429
    assert "the messaging profile's daily spend limit is reached" in str(error)
    assert "resets at 00:00 UTC" in str(error) and "not retried" in str(error)
    # The server's Date header is now: the limit resets at the next midnight UTC.
    assert error.resets_at in before | _midnights_around_now()
    assert f"{error.resets_at:%Y-%m-%d} 00:00 UTC" in str(error)
    assert error.rate_limit == RateLimit(limit=100, remaining=0, reset=7.0)


@ALL_CLIENTS
@pytest.mark.parametrize(
    "headers",
    [{}, {"Retry-After": "0"}, {"retry-after-ms": "0", **LIMITS}],
    ids=["no-hint", "retry-after", "retry-after-ms-and-limits"],
)
def test_a_spend_limit_429_is_not_retried_on_any_transport(
    client_kind: str, headers: dict[str, str], server: LoopbackServer
) -> None:
    """Not even when the server hints at a retry: the limit holds until midnight UTC."""
    server.default = Reply(429, SPEND_LIMIT, headers)
    with pytest.raises(SpendLimitError):
        call_as(client_kind, server.base_url, max_retries=3)
    assert len(server.received) == 1


def test_a_streamed_call_meets_the_spend_limit_once(server: LoopbackServer) -> None:
    server.default = Reply(429, SPEND_LIMIT, LIMITS)
    with (
        Telnyx(api_key=API_KEY, base_url=server.base_url, max_retries=3) as client,
        pytest.raises(SpendLimitError) as caught,
        client.messages.with_streaming_response.send(to="+13125550002", text="hi"),
    ):
        pass
    assert len(server.received) == 1
    assert caught.value.rate_limit == RateLimit(limit=100, remaining=0, reset=7.0)


@BOTH
@pytest.mark.parametrize("call", [_send, _send_without_key], ids=["keyed-send", "unkeyed-send"])
@pytest.mark.usefixtures("quick_retry_waits")
def test_a_request_limit_429_is_retried_and_raises_a_rate_limit_error_with_its_limits(
    client_class: type[Telnyx], call: Any, server: LoopbackServer
) -> None:
    """Retried with a key or without one: a 429 says the server took nothing."""
    server.default = Reply(429, REQUEST_LIMIT, LIMITS)
    with pytest.raises(RateLimitError) as caught:
        use_client(client_class, server.base_url, call, max_retries=2)
    assert len(server.received) == 3
    assert type(caught.value) is RateLimitError
    assert caught.value.rate_limit == RateLimit(limit=100, remaining=0, reset=7.0)
    assert "spend limit" not in str(caught.value)


@pytest.mark.parametrize(
    ("body", "spend_limit"),
    [
        (SPEND_LIMIT, True),
        ({"errors": [{"code": 40333, "title": "as a number"}]}, True),
        ({"errors": ["not an error object", {"code": "40333"}]}, True),  # the first error object
        ({"errors": [{"code": "10011"}, {"code": "40333"}]}, False),
        ({"errors": [{"code": "403330"}]}, False),
        ({"errors": []}, False),
        ({"code": "40333"}, False),
        (b"40333", False),
        (b"", False),
    ],
)
def test_which_429s_are_the_spend_limit(body: Any, spend_limit: bool) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = httpx2.Request("POST", "https://api.telnyx.com/v2/messages")
    assert spend_limit_reached(httpx2.Response(429, content=raw, request=request)) is spend_limit
    assert spend_limit_reached(httpx2.Response(403, content=raw, request=request)) is False
    error = status_error(httpx2.Response(429, content=raw, request=request))
    assert type(error) is (SpendLimitError if spend_limit else RateLimitError)


@pytest.mark.usefixtures("quick_retry_waits")
def test_a_spend_limit_after_request_limits_stops_the_retries(server: LoopbackServer) -> None:
    server.reply(Reply(429, REQUEST_LIMIT, LIMITS), Reply(429, SPEND_LIMIT), OK_SEND)
    with pytest.raises(SpendLimitError) as caught:
        use_client(Telnyx, server.base_url, _send, max_retries=5)
    assert len(server.received) == 2
    # The one key the call sent on both attempts: the error carries it, to send the message later.
    keys = {r.headers.get("Idempotency-Key") for r in server.received}
    assert len(keys) == 1 and None not in keys and caught.value.idempotency_key in keys


@pytest.mark.parametrize(
    ("date", "resets_at"),
    [
        ("Mon, 07 Dec 2026 13:45:00 GMT", datetime(2026, 12, 8, tzinfo=UTC)),
        ("Mon, 07 Dec 2026 00:00:00 GMT", datetime(2026, 12, 8, tzinfo=UTC)),
        ("Mon, 07 Dec 2026 23:59:59 -0000", datetime(2026, 12, 8, tzinfo=UTC)),
        ("Tue, 08 Dec 2026 00:30:00 +0100", datetime(2026, 12, 8, tzinfo=UTC)),  # 23:30 UTC the day before
        ("Mon, 07 Dec 2026 23:30:00 -0100", datetime(2026, 12, 9, tzinfo=UTC)),  # 00:30 UTC the day after
        ("Thu, 31 Dec 2026 12:00:00 GMT", datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_the_spend_limit_resets_at_the_midnight_utc_after_the_servers_date(date: str, resets_at: datetime) -> None:
    assert next_midnight_utc(date) == resets_at
    request = httpx2.Request("POST", "https://api.telnyx.com/v2/messages")
    error = status_error(httpx2.Response(429, json=SPEND_LIMIT, headers={"Date": date}, request=request))
    assert isinstance(error, SpendLimitError) and error.resets_at == resets_at
    assert f"resets at 00:00 UTC, {resets_at:%Y-%m-%d} 00:00 UTC" in str(error)


@pytest.mark.parametrize(
    ("date", "resets_at"),
    [
        ("Mon, 07 Dec 2026 13:45:00 GMT", datetime(2026, 12, 8, tzinfo=UTC)),  # already the 8th at UTC+14
        ("Mon, 07 Dec 2026 08:00:00 -0000", datetime(2026, 12, 8, tzinfo=UTC)),  # no zone: UTC, not local time
    ],
)
def test_the_spend_limit_reset_does_not_depend_on_the_local_time_zone(
    date: str, resets_at: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "LOCAL-14")  # POSIX: fourteen hours east of UTC, no zone database needed
    time.tzset()
    try:
        assert next_midnight_utc(date) == resets_at
    finally:
        monkeypatch.undo()
        time.tzset()


def test_which_error_class_a_status_gets() -> None:
    request = httpx2.Request("GET", "https://api.telnyx.com/v2/messages/group/x")

    def error(status: int, body: Any) -> APIStatusError:
        return status_error(httpx2.Response(status, json=body, request=request))

    assert type(error(429, SPEND_LIMIT)) is SpendLimitError
    assert type(error(429, REQUEST_LIMIT)) is RateLimitError
    assert str(error(429, REQUEST_LIMIT)) == "429 Too Many Requests: 10011 Too many requests"
    assert type(error(403, SPEND_LIMIT)) is PermissionDeniedError  # 40333 is the spend limit on a 429 only
    assert type(error(500, SPEND_LIMIT)) is InternalServerError
    assert type(error(501, {})) is InternalServerError and type(error(499, {})) is APIStatusError
    assert str(error(499, {})) == "499 Unknown Status: {}"  # a status with no reason phrase
    # The call's Idempotency-Key reaches the error's words where it explains the status (a 422).
    reused = {"errors": [{"code": "10015", "title": "Bad key"}, {"code": "20001", "title": "Invalid"}]}
    assert "refused the Idempotency-Key" in str(status_error(httpx2.Response(400, json=reused, request=request)))
    invalid = httpx2.Response(422, json={"errors": [{"code": "40001", "title": "Invalid"}]}, request=request)
    assert str(status_error(invalid, "key-1")) == (
        "422 Unprocessable Content: 40001 Invalid (Idempotency-Key key-1: the API also answers 422 when a key is "
        "reused with a different request)"
    )
    # Every error the body lists is in the message; the first one's code decides the class.
    both = error(429, {"errors": [*REQUEST_LIMIT["errors"], *SPEND_LIMIT["errors"]]})
    assert type(both) is RateLimitError
    assert str(both) == ("429 Too Many Requests: 10011 Too many requests; 40333 The profile's limit for today is spent")


@pytest.mark.parametrize(
    "date", [None, "", "yesterday", "Mon, 30 Feb 2026 10:00:00 GMT", "Fri, 31 Dec 9999 12:00:00 GMT"]
)
def test_without_a_date_the_calendar_takes_the_spend_limit_resets_at_the_next_midnight_from_now(
    date: str | None,
) -> None:
    before = _midnights_around_now()
    resets_at = next_midnight_utc(date)
    assert resets_at in before | _midnights_around_now()
    assert resets_at.tzinfo is UTC


def test_a_spend_limit_error_pickles_with_its_reset_and_limits() -> None:
    request = httpx2.Request("POST", "https://api.telnyx.com/v2/messages", headers={"Authorization": "Bearer x"})
    headers = {"Date": "Mon, 07 Dec 2026 13:45:00 GMT", **LIMITS}
    error = status_error(httpx2.Response(429, json=SPEND_LIMIT, headers=headers, request=request))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is SpendLimitError and str(copy) == str(error)
    assert copy.resets_at == datetime(2026, 12, 8, tzinfo=UTC)
    assert copy.rate_limit == RateLimit(limit=100, remaining=0, reset=7.0)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "3", "X-Request-ID": "r1"}, None),
        (LIMITS, RateLimit(100, 0, 7.0)),
        (
            {"X-RateLimit-Limit": "60", "X-RATELIMIT-REMAINING": "59", "x-RateLimit-Reset": "0.5"},
            RateLimit(60, 59, 0.5),
        ),
        ({"x-ratelimit-reset": "30"}, RateLimit(None, None, 30.0)),
        ({"x-ratelimit-remaining": "0"}, RateLimit(None, 0, None)),
        ({"x-ratelimit-limit": " 12 ", "x-ratelimit-reset": " 3. "}, RateLimit(12, None, 3.0)),
        ({"x-ratelimit-limit": "", "x-ratelimit-remaining": "", "x-ratelimit-reset": ""}, RateLimit(None, None, None)),
        (
            {"x-ratelimit-limit": "-1", "x-ratelimit-remaining": "+5", "x-ratelimit-reset": "-2"},
            RateLimit(None, None, None),
        ),
        (
            {"x-ratelimit-limit": "1.5", "x-ratelimit-remaining": "1e3", "x-ratelimit-reset": "1e3"},
            RateLimit(None, None, None),
        ),
        (
            {"x-ratelimit-limit": "1_000", "x-ratelimit-remaining": "0x10", "x-ratelimit-reset": "1_0"},
            RateLimit(None, None, None),
        ),
        (
            {"x-ratelimit-limit": "١٢", "x-ratelimit-remaining": "²", "x-ratelimit-reset": "٣"},
            RateLimit(None, None, None),
        ),
        ({"x-ratelimit-limit": "100;w=60", "x-ratelimit-reset": "nan"}, RateLimit(None, None, None)),
        ({"x-ratelimit-reset": "inf"}, RateLimit(None, None, None)),
        ({"x-ratelimit-reset": "9" * 400}, RateLimit(None, None, None)),  # beyond a float: no number of seconds
        ({"x-ratelimit-reset": "1.2.3"}, RateLimit(None, None, None)),
        ({"x-ratelimit-reset": ".25"}, RateLimit(None, None, 0.25)),
        ({"x-ratelimit-limit": "9" * 30}, RateLimit(int("9" * 30), None, None)),
    ],
)
def test_rate_limit_from_headers(headers: dict[str, str], expected: RateLimit | None) -> None:
    assert RateLimit.from_headers(headers) == expected
    # As a response has them: the values as bytes off the wire (UTF-8 here, for the non-ASCII digits).
    assert RateLimit.from_headers(httpx2.Headers(headers, encoding="utf-8")) == expected


def test_a_repeated_rate_limit_header_is_malformed() -> None:
    headers = httpx2.Headers([("x-ratelimit-remaining", "5"), ("x-ratelimit-remaining", "4")])
    assert RateLimit.from_headers(headers) == RateLimit(None, None, None)


def test_a_rate_limit_is_a_frozen_value() -> None:
    limit = RateLimit(limit=1, remaining=0, reset=2.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        limit.remaining = 5  # type: ignore[misc]
    assert limit == RateLimit(1, 0, 2.0) and hash(limit) == hash(RateLimit(1, 0, 2.0))
    assert pickle.loads(pickle.dumps(limit)) == limit


@BOTH
def test_a_raw_response_gives_the_rate_limit(client_class: type[Telnyx], server: LoopbackServer) -> None:
    server.reply(OK_SEND, Reply(200, {"data": {"id": "40385f64-5717-4562-b3fc-2c963f66afa6"}}))
    limited = use_client(client_class, server.base_url, _raw_send)
    unlimited = use_client(client_class, server.base_url, _raw_send)
    assert limited.rate_limit == RateLimit(limit=100, remaining=0, reset=7.0)
    assert unlimited.rate_limit is None


def test_a_streamed_response_gives_the_rate_limit(server: LoopbackServer) -> None:
    server.reply(OK_SEND)
    with (
        Telnyx(api_key=API_KEY, base_url=server.base_url) as client,
        client.messages.with_streaming_response.send(to="+13125550002", text="hi") as response,
    ):
        assert response.rate_limit == RateLimit(limit=100, remaining=0, reset=7.0)


def test_an_async_streamed_response_gives_the_rate_limit(server: LoopbackServer) -> None:
    server.reply(OK_SEND)

    async def stream() -> RateLimit | None:
        async with (
            AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client,
            client.messages.with_streaming_response.send(to="+13125550002", text="hi") as response,
        ):
            return response.rate_limit

    assert asyncio.run(stream()) == RateLimit(limit=100, remaining=0, reset=7.0)


def test_every_status_error_gives_the_rate_limit(server: LoopbackServer) -> None:
    server.default = Reply(404, {"errors": [{"code": "10005", "title": "Resource not found"}]}, LIMITS)
    with pytest.raises(NotFoundError) as caught:
        use_client(Telnyx, server.base_url, _group)
    assert caught.value.rate_limit == RateLimit(limit=100, remaining=0, reset=7.0)
    server.default = Reply(404, {"errors": []})
    with pytest.raises(APIStatusError) as caught:
        use_client(Telnyx, server.base_url, _group)
    assert caught.value.rate_limit is None


def test_spend_limit_error_and_rate_limit_are_public() -> None:
    assert telnyx_messages.SpendLimitError is SpendLimitError and "SpendLimitError" in telnyx_messages.__all__
    assert "RateLimit" in dir(telnyx_messages.types) and telnyx_messages.types.RateLimit is RateLimit
    assert issubclass(SpendLimitError, RateLimitError)


def test_the_cli_says_in_one_line_why_a_spend_limit_stops_it(server: LoopbackServer) -> None:
    server.default = Reply(429, SPEND_LIMIT)
    result = run("--api-key", API_KEY, "--base-url", server.base_url, "send", "--to", "+13125550002", "--text", "hi")
    assert result.returncode == EXIT_API_ERROR and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("telnyx-messages: SpendLimitError: 429 Too Many Requests: 40333 ")
    assert "the messaging profile's daily spend limit is reached; it resets at 00:00 UTC" in line
    assert len(server.received) == 1
