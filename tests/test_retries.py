"""Retries: safe by default, never a doubled message, against a real loopback server."""

from __future__ import annotations

import email.utils
import logging
import re
import time
from typing import Any

import httpx2
import pytest
from telnyx_messages import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncTelnyx,
    ConflictError,
    InternalServerError,
    RateLimitError,
    Telnyx,
    _retries,
)

from .support import API_KEY
from .support import MESSAGE_ID as GROUP_ID
from .support.server import LoopbackServer, Reply, client_for, use_client

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
        send(client, idempotency_key=None)
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


def test_a_post_read_timeout_is_not_replayed_without_a_key(server: LoopbackServer) -> None:
    server.default = Reply(200, {"data": {}}, delay=0.5)
    with client_for(server, timeout=0.1) as client, pytest.raises(APITimeoutError) as caught:
        send(client, idempotency_key=None)
    time.sleep(0.5)
    assert len(server.received) == 1
    assert caught.value.idempotency_key is None


def test_a_keyed_post_is_retried_after_a_read_timeout_with_the_same_key(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": {}}, delay=0.5), OK_SEND)
    with client_for(server, timeout=0.2) as client:
        raw = client.messages.with_raw_response.send(to="+13125550002", text="hi")
    keys = [r.headers.get("Idempotency-Key") for r in server.received]
    assert len(keys) == 2 and keys[0] == keys[1] == raw.idempotency_key is not None


def test_a_get_read_timeout_is_retried(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": []}, delay=0.5), OK_GROUP)
    with client_for(server, timeout=0.2) as client:
        assert client.messages.retrieve_group_messages(GROUP_ID).data == []
    assert len(server.received) == 2


def test_a_post_reset_before_the_response_is_not_replayed_without_a_key(server: LoopbackServer) -> None:
    server.default = Reply(action="reset")
    with client_for(server) as client, pytest.raises(APIConnectionError):
        send(client, idempotency_key=None)
    assert len(server.received) == 1


def test_a_keyed_post_that_keeps_failing_raises_with_its_key(
    server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="telnyx_messages")
    server.default = Reply(action="reset")
    with client_for(server, max_retries=1) as client, pytest.raises(APIConnectionError) as caught:
        send(client, idempotency_key="order-42")
    assert caught.value.idempotency_key == "order-42"
    assert [r.headers.get("Idempotency-Key") for r in server.received] == ["order-42", "order-42"]
    assert "(retry 1, Idempotency-Key order-42)" in caplog.text


@pytest.mark.parametrize(
    ("status", "attempts"),
    [(429, 2), (500, 2), (502, 2), (503, 2), (504, 2), (501, 1), (520, 1), (408, 1), (400, 1), (404, 1), (422, 1)],
)
def test_which_statuses_a_keyed_post_retries(server: LoopbackServer, status: int, attempts: int) -> None:
    server.reply(Reply(status, {"errors": []}, QUICK), OK_SEND)
    with client_for(server, max_retries=1) as client:
        try:
            send(client)
        except APIStatusError as error:
            assert error.status_code == status and error.idempotency_key is not None
    assert len(server.received) == attempts
    assert len({r.headers.get("Idempotency-Key") for r in server.received}) == 1


def test_a_409_to_a_keyed_post_is_waited_out_without_counting_as_a_retry(server: LoopbackServer) -> None:
    in_progress = Reply(409, {"errors": [{"code": "10017", "title": "in progress"}]}, QUICK)
    server.reply(in_progress, in_progress, in_progress, OK_SEND)
    with client_for(server, max_retries=0) as client:
        assert send(client).data.id == "40385f64-5717-4562-b3fc-2c963f66afa6"
    assert len(server.received) == 4
    server.received.clear()
    server.default = in_progress  # never done: the waits are bounded
    with client_for(server, max_retries=0) as client, pytest.raises(ConflictError) as caught:
        send(client)
    assert len(server.received) == 1 + _retries.MAX_IN_PROGRESS_WAITS
    assert caught.value.idempotency_key == server.received[0].headers["Idempotency-Key"]
    server.received.clear()
    with client_for(server, max_retries=3) as client, pytest.raises(ConflictError):  # without a key: as a 4xx
        send(client, idempotency_key=None)
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
    assert isinstance(caught.value.__cause__, httpx2.ConnectError)
    assert caplog.text.count("retrying POST /messages") == 2


async def test_async_retries_the_same_way(server: LoopbackServer) -> None:
    server.reply(Reply(503, b"", QUICK), OK_GROUP)
    async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
        assert (await client.messages.retrieve_group_messages(GROUP_ID)).data == []
        server.default = Reply(503, b"", QUICK)
        with pytest.raises(InternalServerError):
            await client.messages.send(to="+1", text="x", idempotency_key=None)
    assert len(server.received) == 3


def test_retry_after_header_forms() -> None:
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (_retries.retry_after(httpx2.Headers({"Retry-After": future})) or 0) <= 30
    assert _retries.retry_after(httpx2.Headers({"Retry-After": "2"})) == 2
    assert _retries.retry_after(httpx2.Headers({"retry-after-ms": "250", "Retry-After": "9"})) == 0.25
    assert _retries.retry_after(httpx2.Headers({"Retry-After": "3600"})) == _retries.MAX_RETRY_AFTER
    assert _retries.retry_after(httpx2.Headers({"Retry-After": "soon"})) is None
    assert _retries.retry_after(httpx2.Headers({})) is None


def test_backoff_grows_is_capped_and_jittered() -> None:
    delays = [_retries.backoff(n) for n in range(8)]
    assert all(0.75 * min(0.5 * 2**n, 8) <= d <= min(0.5 * 2**n, 8) for n, d in enumerate(delays))
    assert max(delays) <= _retries.MAX_DELAY
    assert len({_retries.backoff(3) for _ in range(20)}) > 1


# --- the same on both clients: per-call options, what is retried, the server's hint -------------

BOTH = pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx], ids=["sync", "async"])


@BOTH
def test_a_per_call_timeout_bounds_each_attempt(client_class: type[Telnyx], server: LoopbackServer) -> None:
    server.default = Reply(200, {"data": []}, delay=2.0)
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        use_client(
            client_class, server.base_url, lambda m: m.retrieve_group_messages(GROUP_ID, timeout=0.3), max_retries=0
        )
    assert time.monotonic() - started < 1.2 and len(server.received) == 1


@BOTH
def test_per_call_max_retries_overrides_the_clients(client_class: type[Telnyx], server: LoopbackServer) -> None:
    server.reply(Reply(503, b"", QUICK), Reply(503, b"", QUICK), OK_GROUP)
    more = use_client(
        client_class, server.base_url, lambda m: m.retrieve_group_messages(GROUP_ID, max_retries=2), max_retries=0
    )
    assert more.data == [] and len(server.received) == 3
    server.reply(Reply(503, b"", QUICK), OK_GROUP)
    with pytest.raises(InternalServerError):
        use_client(client_class, server.base_url, lambda m: m.retrieve_group_messages(GROUP_ID, max_retries=0))
    assert len(server.received) == 4


@BOTH
def test_an_idempotency_key_is_sent_on_every_attempt(client_class: type[Telnyx], server: LoopbackServer) -> None:
    server.reply(Reply(500, b"", QUICK), OK_SEND)
    use_client(client_class, server.base_url, lambda m: m.send(to="+13125550002", text="hi", idempotency_key="k-1"))
    assert [r.headers.get("Idempotency-Key") for r in server.received] == ["k-1", "k-1"]


@BOTH
@pytest.mark.parametrize(("status", "attempts"), [(408, 2), (409, 2), (400, 1), (404, 1), (500, 2), (520, 2)])
def test_which_statuses_a_get_retries(
    client_class: type[Telnyx], server: LoopbackServer, status: int, attempts: int
) -> None:
    server.reply(Reply(status, {"errors": []}, QUICK), OK_GROUP)
    try:
        use_client(client_class, server.base_url, lambda m: m.retrieve_group_messages(GROUP_ID), max_retries=1)
    except Exception:
        assert attempts == 1
    assert len(server.received) == attempts


@BOTH
def test_the_servers_retry_after_is_waited_rather_than_the_backoff(
    client_class: type[Telnyx], server: LoopbackServer
) -> None:
    server.reply(Reply(429, {"errors": []}, {"Retry-After": "1"}), OK_GROUP)
    started = time.monotonic()
    use_client(client_class, server.base_url, lambda m: m.retrieve_group_messages(GROUP_ID))
    assert 0.95 <= time.monotonic() - started < 1.8 and len(server.received) == 2


@BOTH
def test_a_trailing_slash_on_the_base_url_makes_no_double_slash(
    client_class: type[Telnyx], server: LoopbackServer
) -> None:
    server.default = OK_GROUP
    use_client(client_class, server.base_url + "/v2/", lambda m: m.retrieve_group_messages(GROUP_ID))
    assert server.received[0].path == f"/v2/messages/group/{GROUP_ID}"


@pytest.mark.parametrize(
    "exc",
    [
        httpx2.ConnectError("refused"),
        httpx2.ConnectTimeout("slow"),
        httpx2.PoolTimeout("full"),
        httpx2.UnsupportedProtocol("x"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_failures_before_sending_retry_even_a_message_post(exc: httpx2.TransportError) -> None:
    policy = _retries.RetryPolicy(max_retries=2, replayable=False)
    assert policy.after_exception(exc, 0) is not None and policy.after_exception(exc, 2) is None
    for sent in (httpx2.ReadTimeout("read"), httpx2.RemoteProtocolError("reset"), httpx2.WriteError("broken")):
        assert policy.after_exception(sent, 0) is None
        assert _retries.RetryPolicy(max_retries=2, replayable=True).after_exception(sent, 0) is not None


def test_the_retry_after_hint_is_read_bounded_and_falls_back() -> None:
    def hint(**headers: str) -> float | None:
        return _retries.retry_after(httpx2.Headers({k.replace("_", "-"): v for k, v in headers.items()}))

    assert hint(retry_after_ms="soon", retry_after="2") == 2.0  # a bad ms hint falls back to Retry-After
    assert hint(retry_after_ms="1500") == 1.5
    assert hint(retry_after="100000") == 60.0 and hint(retry_after_ms="61000") == 60.0  # capped at 60 s
    assert hint(retry_after="-5") == 0.0 and hint(retry_after="nan") is None and hint(retry_after="") is None


@BOTH
def test_each_attempt_and_retry_is_logged_with_what_came_back_and_how_long_it_took(
    client_class: type[Telnyx], server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="telnyx_messages")
    server.reply(Reply(503, b"", {"retry-after-ms": "250"}, delay=0.2), OK_GROUP)
    use_client(client_class, server.base_url, lambda m: m.retrieve_group_messages(GROUP_ID), max_retries=1)
    path = f"/messages/group/{GROUP_ID}"
    lines = [r.getMessage() for r in caplog.records if r.name == "telnyx_messages"]
    first, retrying, second = lines
    took = re.fullmatch(rf"GET {path} -> 503 in (\d+) ms", first)
    assert took is not None and 190 <= int(took[1]) < 2000, first
    assert retrying == f"retrying GET {path} (retry 1) in 0.25 s"
    assert re.fullmatch(rf"GET {path} -> 200 in \d+ ms", second), second


def test_a_transport_failure_is_logged_by_its_name(caplog: pytest.LogCaptureFixture) -> None:
    from prism import free_port

    caplog.set_level(logging.INFO, logger="telnyx_messages")
    with pytest.raises(APIConnectionError):
        use_client(
            Telnyx, f"http://127.0.0.1:{free_port()}", lambda m: m.retrieve_group_messages(GROUP_ID), max_retries=0
        )
    (line,) = [r.getMessage() for r in caplog.records if r.name == "telnyx_messages"]
    assert re.fullmatch(rf"GET /messages/group/{GROUP_ID} -> ConnectError in \d+ ms", line), line


@pytest.mark.parametrize("max_retries", [True, "2", 2.0, -1])
def test_max_retries_must_be_an_int_of_at_least_zero(max_retries: Any) -> None:
    with pytest.raises(ValueError) as caught:
        Telnyx(api_key=API_KEY, max_retries=max_retries)
    assert str(caught.value) == f"max_retries must be an int >= 0, got {max_retries!r}"


@BOTH
def test_each_wait_for_a_key_in_progress_counts_in_retries_taken_and_is_logged_by_its_number(
    client_class: type[Telnyx], server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Waits for a key in progress (409) are not held to max_retries, but a raw response counts them
    among the retries it took, and each is logged as the wait it is, with the key."""
    caplog.set_level(logging.INFO, logger="telnyx_messages")
    in_progress = Reply(409, {"errors": [{"code": "10017", "title": "in progress"}]}, QUICK)
    server.reply(in_progress, in_progress, OK_SEND)
    raw = use_client(
        client_class,
        server.base_url,
        lambda m: m.with_raw_response.send(to="+13125550002", text="hi", idempotency_key="order-9"),
        max_retries=0,
    )
    assert raw.retries_taken == 2 and raw.parsed.data.id == "40385f64-5717-4562-b3fc-2c963f66afa6"
    waits = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying ")]
    assert [re.sub(r" in [0-9.]+ s$", "", line) for line in waits] == [
        f"retrying POST /messages (the same key in progress, wait {n}, Idempotency-Key order-9)" for n in (1, 2)
    ]
    assert [r.headers["Idempotency-Key"] for r in server.received] == ["order-9"] * 3
