"""Retries: safe by default, never a doubled message, against a real loopback server."""

from __future__ import annotations

import email.utils
import logging
import time
from typing import Any

import httpx
import pytest
from telnyx_messages import (
    APIConnectionError,
    APITimeoutError,
    AsyncTelnyx,
    InternalServerError,
    RateLimitError,
    Telnyx,
    _retries,
)

from .support import API_KEY
from .support import MESSAGE_ID as GROUP_ID
from .support.server import LoopbackServer, Reply, client_for

QUICK = {"retry-after-ms": "5"}
OK_GROUP = Reply(200, {"data": []})
OK_SEND = Reply(200, {"data": {"id": "40385f64-5717-4562-b3fc-2c963f66afa6"}})


def send(client: Telnyx, **kwargs: Any) -> Any:
    return client.messages.send(to="+13125550002", text="hi", **kwargs)


def test_get_is_retried_after_5xx(server: LoopbackServer) -> None:
    server.reply(Reply(503, b"", QUICK), Reply(500, b"", QUICK), OK_GROUP)
    with client_for(server) as client:
        assert client.messages.retrieve_group_messages(GROUP_ID).data == []
    assert len(server.received) == 3


def test_retries_stop_at_the_configured_count(server: LoopbackServer) -> None:
    server.default = Reply(503, b"", QUICK)
    with client_for(server, max_retries=3) as client, pytest.raises(InternalServerError):
        client.messages.retrieve_group_messages(GROUP_ID)
    assert len(server.received) == 4
    server.received.clear()
    with client_for(server, max_retries=3) as client, pytest.raises(InternalServerError):
        client.messages.retrieve_group_messages(GROUP_ID, max_retries=0)
    assert len(server.received) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408, 409])
def test_a_message_post_is_not_replayed_after_an_ambiguous_failure(server: LoopbackServer, status: int) -> None:
    server.default = Reply(status, b"", QUICK)
    with client_for(server) as client, pytest.raises(Exception) as caught:
        send(client)
    assert getattr(caught.value, "status_code", None) == status
    assert len(server.received) == 1


def test_a_message_post_is_retried_after_429(server: LoopbackServer) -> None:
    server.reply(Reply(429, {"errors": []}, {"Retry-After": "0"}), OK_SEND)
    with client_for(server) as client:
        send(client)
    assert len(server.received) == 2


def test_429_gives_up_with_rate_limit_error(server: LoopbackServer) -> None:
    server.default = Reply(429, {"errors": [{"code": "10011", "title": "Too many requests"}]}, QUICK)
    with client_for(server, max_retries=1) as client, pytest.raises(RateLimitError):
        send(client)
    assert len(server.received) == 2


def test_an_idempotency_key_makes_a_post_replayable_with_the_same_key(server: LoopbackServer) -> None:
    server.reply(Reply(503, b"", QUICK), Reply(502, b"", QUICK), OK_SEND)
    with client_for(server) as client:
        send(client, idempotency_key="order-42")
    assert [r.headers.get("Idempotency-Key") for r in server.received] == ["order-42"] * 3
    assert len({r.body for r in server.received}) == 1


def test_a_post_read_timeout_is_not_replayed(server: LoopbackServer) -> None:
    server.default = Reply(200, {"data": {}}, delay=0.5)
    with client_for(server, timeout=0.1) as client, pytest.raises(APITimeoutError):
        send(client)
    time.sleep(0.5)
    assert len(server.received) == 1


def test_a_get_read_timeout_is_retried(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": []}, delay=0.5), OK_GROUP)
    with client_for(server, timeout=0.2) as client:
        assert client.messages.retrieve_group_messages(GROUP_ID).data == []
    assert len(server.received) == 2


def test_a_post_reset_before_the_response_is_not_replayed(server: LoopbackServer) -> None:
    server.default = Reply(action="reset")
    with client_for(server) as client, pytest.raises(APIConnectionError):
        send(client)
    assert len(server.received) == 1


def test_a_post_whose_connection_was_refused_is_retried(caplog: pytest.LogCaptureFixture) -> None:
    from prism import free_port

    caplog.set_level(logging.INFO, logger="telnyx_messages")
    _retries_initial = _retries.INITIAL_DELAY
    _retries.INITIAL_DELAY = 0.01
    try:
        client = Telnyx(api_key=API_KEY, base_url=f"http://127.0.0.1:{free_port()}", max_retries=2)
        with client, pytest.raises(APIConnectionError) as caught:
            send(client)
    finally:
        _retries.INITIAL_DELAY = _retries_initial
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert caplog.text.count("retrying POST /messages") == 2


async def test_async_retries_the_same_way(server: LoopbackServer) -> None:
    server.reply(Reply(503, b"", QUICK), OK_GROUP)
    async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
        assert (await client.messages.retrieve_group_messages(GROUP_ID)).data == []
        server.default = Reply(503, b"", QUICK)
        with pytest.raises(InternalServerError):
            await client.messages.send(to="+1", text="x")
    assert len(server.received) == 3


def test_retry_after_header_forms() -> None:
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (_retries.retry_after(httpx.Headers({"Retry-After": future})) or 0) <= 30
    assert _retries.retry_after(httpx.Headers({"Retry-After": "2"})) == 2
    assert _retries.retry_after(httpx.Headers({"retry-after-ms": "250", "Retry-After": "9"})) == 0.25
    assert _retries.retry_after(httpx.Headers({"Retry-After": "3600"})) == _retries.MAX_RETRY_AFTER
    assert _retries.retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert _retries.retry_after(httpx.Headers({})) is None


def test_backoff_grows_is_capped_and_jittered() -> None:
    delays = [_retries.backoff(n) for n in range(8)]
    assert all(0.75 * min(0.5 * 2**n, 8) <= d <= min(0.5 * 2**n, 8) for n, d in enumerate(delays))
    assert max(delays) <= _retries.MAX_DELAY
    assert len({_retries.backoff(3) for _ in range(20)}) > 1
