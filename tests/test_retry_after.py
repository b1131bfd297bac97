"""The wait before a retry: a Retry-After the calendar refuses is no hint (the client waits as it would
without one); a 429 without Retry-After waits for the request limit's window to reset (x-ratelimit-reset)."""

from __future__ import annotations

import time

import pytest

from .support.client_kinds import ALL_CLIENTS, CLIENTS, OK_GROUP, call_as
from .support.server import LoopbackServer, Reply


@pytest.mark.parametrize(
    "retry_after",
    [
        "Mon, 30 Feb 2026 10:00:00 GMT",
        "Mon, 01 Jan 2026 25:00:00 GMT",
        "Mon, 01 Jan 10000 00:00:00 GMT",
        "Mon, 01 Jan 2026 00:00:00 +9999",
        "1 Jan 2000 00:00:00 +9999999",
        "1 Jan 20000000000 00:00:00 GMT",
    ],
)
@ALL_CLIENTS
@pytest.mark.usefixtures("quick_retry_waits")  # the wait chosen is read from the log, not waited out
def test_a_bad_retry_after_is_no_hint(
    client_kind: str, retry_after: str, server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.reply(Reply(429, {"errors": []}, {"Retry-After": retry_after}), OK_GROUP)
    assert call_as(client_kind, server.base_url, max_retries=1).data == []
    assert len(server.received) == 2
    # The client's own backoff before a first retry: half a second, less up to a quarter (jitter).
    (retrying,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying ")]
    seconds = float(retrying.removesuffix(" s").rsplit(" in ", 1)[1])
    assert 0.37 <= seconds <= 0.5, retrying


def _chosen_waits(caplog: pytest.LogCaptureFixture) -> list[float]:
    """The waits the client chose between attempts, as it logged them (unscaled by quick_retry_waits)."""
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying ")]
    return [float(line.removesuffix(" s").rsplit(" in ", 1)[1]) for line in lines]


# A 429 of Telnyx's request limit: error 10011, the x-ratelimit-* headers, and no Retry-After.
REQUEST_LIMIT = {"errors": [{"code": "10011", "title": "Too many requests"}]}


@ALL_CLIENTS
@pytest.mark.usefixtures("quick_retry_waits")
def test_a_request_limit_429_waits_for_the_window_to_reset(
    client_kind: str, server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    limits = {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "7"}
    server.reply(Reply(429, REQUEST_LIMIT, limits), Reply(429, REQUEST_LIMIT, limits), OK_GROUP)
    assert call_as(client_kind, server.base_url, max_retries=2).data == []
    assert len(server.received) == 3
    assert _chosen_waits(caplog) == [7.0, 7.0]  # the reset, not the doubling backoff


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"x-ratelimit-reset": "86400"}, 60.0),  # capped as Retry-After is
        ({"x-ratelimit-reset": "1.25"}, 1.25),
        ({"x-ratelimit-reset": "0"}, 0.0),
        ({"x-ratelimit-reset": "9", "Retry-After": "2"}, 2.0),  # the server's own hint comes first
        ({"x-ratelimit-reset": "9", "retry-after-ms": "300"}, 0.3),
    ],
)
@pytest.mark.usefixtures("quick_retry_waits")
def test_which_wait_a_429_with_a_window_reset_gets(
    headers: dict[str, str], wait: float, server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.reply(Reply(429, REQUEST_LIMIT, headers), OK_GROUP)
    assert call_as("sync", server.base_url, max_retries=1).data == []
    assert _chosen_waits(caplog) == [wait]


@pytest.mark.parametrize(
    ("status", "reset"),
    [(429, "soon"), (429, "-3"), (429, "1e3"), (429, "nan"), (429, ""), (503, "7"), (500, "7")],
)
@pytest.mark.usefixtures("quick_retry_waits")
def test_a_window_reset_that_is_no_hint_leaves_the_backoff(
    status: int, reset: str, server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A malformed x-ratelimit-reset is no hint; on a status other than 429 (the headers come with
    every answer) it says nothing of when to retry."""
    server.reply(Reply(status, REQUEST_LIMIT, {"x-ratelimit-reset": reset}), OK_GROUP)
    assert call_as("sync", server.base_url, max_retries=1).data == []
    (wait,) = _chosen_waits(caplog)
    assert 0.37 <= wait <= 0.5  # the first backoff: half a second, less up to a quarter


@CLIENTS
def test_the_window_reset_is_waited_for_real(client_kind: str, server: LoopbackServer) -> None:
    """Unscaled: the wait is the reset's second, not the half-second backoff."""
    server.reply(Reply(429, REQUEST_LIMIT, {"x-ratelimit-reset": "1"}), OK_GROUP)
    started = time.monotonic()
    assert call_as(client_kind, server.base_url, max_retries=1).data == []
    assert 0.95 <= time.monotonic() - started < 1.8 and len(server.received) == 2
