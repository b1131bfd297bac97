"""Timeouts: a value that could only time out is refused when given; each attempt ends at its deadline
whatever the server does (dripped bytes, a hung connect, slow reads and writes), on every client and under trio."""

from __future__ import annotations

import asyncio
import importlib
import math
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import httpx2
import pytest
from telnyx_messages import (
    APITimeoutError,
    AsyncTelnyx,
    Telnyx,
)

from .support import API_KEY, MESSAGE_ID
from .support.client_kinds import ALL_CLIENTS, CLIENTS, OK_GROUP, call_as
from .support.raw_server import RawServer
from .support.server import LoopbackServer, Reply, client_for


def _drip() -> Iterator[bytes | float]:
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    for _ in range(200):
        yield b" "
        yield 0.1


def _drip_headers() -> Iterator[bytes | float]:
    for byte in b"HTTP/1.1 200 OK\r\nX-Padding: " + b"x" * 200:
        yield bytes([byte])
        yield 0.1


@pytest.mark.parametrize("script", [_drip, _drip_headers], ids=["the body", "the status line and headers"])
@ALL_CLIENTS
def test_a_server_dripping_a_byte_at_a_time_is_cut_off_at_the_timeout(
    client_kind: str, script: Callable[[], Iterator[bytes | float]]
) -> None:
    with RawServer(script) as server:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            call_as(client_kind, server.base_url, timeout=1.0)
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"a 1 s timeout took {elapsed:.1f} s"
    # httpx's error is chained, with the request it was about (as every httpx error has one).
    assert isinstance(caught.value.__cause__, httpx2.ReadTimeout)
    assert caught.value.__cause__.request is caught.value.request
    # The socket's read timeout (what was left of the attempt) or the deadline check between reads.
    where = f"GET 127.0.0.1:{server.base_url.rsplit(':', 1)[1]}"
    assert str(caught.value) in (
        f"Request timed out (ReadTimeout) for {where}: timed out",
        f"Request timed out (ReadTimeout) for {where}: the attempt took longer than its timeout",
    )


@CLIENTS
def test_a_per_read_timeout_shorter_than_the_attempt_still_bounds_each_read(
    client_kind: str, server: LoopbackServer
) -> None:
    server.default = Reply(200, {"data": []}, delay=2.0)
    started = time.monotonic()
    with pytest.raises(APITimeoutError) as caught:
        call_as(client_kind, server.base_url, timeout=httpx2.Timeout(5.0, read=0.3))
    assert time.monotonic() - started < 1.5
    where = f"GET 127.0.0.1:{server.base_url.rsplit(':', 1)[1]}"
    assert str(caught.value) in (
        f"Request timed out (ReadTimeout) for {where}: timed out",
        f"Request timed out (ReadTimeout) for {where}",
    )
    assert caught.value.request is not None and caught.value.request.url.path == f"/messages/group/{MESSAGE_ID}"


@CLIENTS
def test_no_timeout_for_some_phases_still_works(client_kind: str, server: LoopbackServer) -> None:
    server.default = OK_GROUP
    assert call_as(client_kind, server.base_url, timeout=httpx2.Timeout(None, read=2.0)).data == []
    assert call_as(client_kind, server.base_url, timeout=None).data == []


@CLIENTS
def test_a_connect_that_hangs_ends_at_the_connect_timeout(client_kind: str) -> None:
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)  # never accepts: its queue fills
    port = listener.getsockname()[1]
    queued = []
    for _ in range(3):
        waiting = socket.socket()
        waiting.setblocking(False)
        waiting.connect_ex(("127.0.0.1", port))  # in progress: it only fills the queue
        queued.append(waiting)
    try:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            call_as(client_kind, f"http://127.0.0.1:{port}", timeout=httpx2.Timeout(5.0, connect=0.3))
        assert time.monotonic() - started < 2.0
        assert str(caught.value).startswith(f"Request timed out (ConnectTimeout) for GET 127.0.0.1:{port}")
    finally:
        for waiting in queued:
            waiting.close()
        listener.close()


def test_async_telnyx_runs_under_trio_and_its_attempts_end_at_the_timeout(server: LoopbackServer) -> None:
    import anyio

    server.reply(Reply(503, b"", {"retry-after-ms": "50"}), OK_GROUP)

    async def main(dripping: RawServer) -> float:
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url, max_retries=1) as client:
            assert (await client.messages.retrieve_group_messages(MESSAGE_ID)).data == []  # after a retry
        async with AsyncTelnyx(api_key=API_KEY, base_url=dripping.base_url, max_retries=0, timeout=1.0) as client:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await client.messages.retrieve_group_messages(MESSAGE_ID)
            return time.monotonic() - started

    with RawServer(_drip_headers) as dripping:
        elapsed = anyio.run(main, dripping, backend="trio")
    assert 0.9 < elapsed < 2.5 and len(server.received) == 2


@CLIENTS
@pytest.mark.parametrize("library", ["httpx2", "httpx"])
def test_a_dripped_body_through_a_callers_http_client_ends_at_the_timeout(client_kind: str, library: str) -> None:
    """A caller's httpx2 or legacy httpx client has a plain transport: the deadline is checked between chunks."""
    module: Any = importlib.import_module(library)
    http_client = module.Client() if client_kind == "sync" else module.AsyncClient()
    with RawServer(_drip) as server:
        started = time.monotonic()
        with pytest.raises(
            APITimeoutError,
            match=r"^Request timed out \(ReadTimeout\) for GET 127\.0\.0\.1:\d+: "
            r"the attempt took longer than its timeout$",
        ) as caught:
            call_as(client_kind, server.base_url, timeout=1.0, http_client=http_client)
        assert time.monotonic() - started < 2.5
        assert isinstance(caught.value.__cause__, httpx2.ReadTimeout)
        assert caught.value.__cause__.request is caught.value.request


def test_each_write_is_bounded_by_what_is_left_of_the_attempt() -> None:
    """Unit: a request body larger than the socket buffers blocks in write, which no loopback test
    can make happen (the client sends at most 1 MB and Linux buffers more); a write with no timeout
    of its own gets what is left of the attempt."""
    import httpcore2
    from telnyx_messages import _deadline

    timeouts: list[float | None] = []

    class Recording(httpcore2.NetworkStream):
        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            timeouts.append(timeout)

    stream = _deadline._Stream(Recording())
    with _deadline.attempt_deadline(time.monotonic() + 60):
        stream.write(b"x", None)
        stream.write(b"x", 2.0)
    stream.write(b"x", 3.0)
    first, second, third = timeouts
    assert first is not None and 59 < first <= 60
    assert (second, third) == (2.0, 3.0)


def test_a_read_that_would_start_after_the_deadline_is_refused() -> None:
    """Unit: a deadline already passed is a timeout, not a negative socket timeout (a ValueError)."""
    import httpcore2
    from telnyx_messages import _deadline

    with _deadline.attempt_deadline(time.monotonic() - 0.001), pytest.raises(httpcore2.ReadTimeout) as caught:
        _deadline._bounded(5.0)
    assert str(caught.value) == "the attempt took longer than its timeout"  # what APITimeoutError says after its name
    with _deadline.attempt_deadline(time.monotonic() + 60):
        assert _deadline._bounded(5.0) == 5.0
        assert 59 < (_deadline._bounded(None) or 0) <= 60
    assert _deadline._bounded(5.0) == 5.0  # no attempt running: the read's own timeout


BAD_TIMEOUTS: list[Any] = [
    -1,
    0,
    0.0,
    math.nan,
    math.inf,
    True,
    "5",
    httpx2.Timeout(5.0, connect=-1),
    httpx2.Timeout(5.0, read=0),
    httpx2.Timeout(5.0, pool=math.nan),
    httpx.Timeout(5.0, read=-2),
]


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
def test_a_bad_timeout_is_refused_at_construction(client_class: type[Any], timeout: Any) -> None:
    with pytest.raises(ValueError, match="timeout") as caught:
        client_class(api_key=API_KEY, timeout=timeout)
    assert "seconds" in str(caught.value)


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
def test_a_bad_timeout_is_refused_per_call_before_sending(timeout: Any, server: LoopbackServer) -> None:
    with client_for(server) as client, pytest.raises(ValueError, match="timeout"):
        client.messages.retrieve(MESSAGE_ID, timeout=timeout)
    with client_for(server) as client, pytest.raises(ValueError, match="timeout"):
        client.with_options(timeout=timeout)

    async def call_async() -> None:
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as aclient:
            await aclient.messages.retrieve(MESSAGE_ID, timeout=timeout)

    with pytest.raises(ValueError, match="timeout"):
        asyncio.run(call_async())
    assert server.received == []


@pytest.mark.parametrize("timeout", [None, 0.5, 3, httpx2.Timeout(None), httpx2.Timeout(5.0, connect=None)])
def test_good_timeouts_are_kept(timeout: Any) -> None:
    client = Telnyx(api_key=API_KEY, timeout=timeout)
    assert client.timeout == timeout


def test_a_timeout_names_the_bad_part() -> None:
    with pytest.raises(ValueError, match=r"timeout's connect part must be None or a number of seconds > 0, got -1"):
        Telnyx(api_key=API_KEY, timeout=httpx2.Timeout(5.0, connect=-1))
    with pytest.raises(ValueError, match=r"got nan"):
        Telnyx(api_key=API_KEY, timeout=math.nan)
