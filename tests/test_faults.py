"""Fault injection: a real loopback server misbehaves on command; the client ends well, never sends twice.

Each fault happens once and the server then answers normally, so each row shows whether the client
tried again: a GET may; a message-creating POST with its Idempotency-Key (made for the call) may, as
the API's edge takes a key once; without a key (`idempotency_key=None`), only when the server
provably never took it.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import re
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telnyx_messages import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncTelnyx,
    DefaultAioHttpClient,
    InternalServerError,
    Telnyx,
    TelnyxError,
)

from .conftest import FAULT_TABLE
from .support import API_KEY
from .support import MESSAGE_ID as GROUP_ID
from .support.contract import drawn, inlined
from .support.server import LoopbackServer, Reply
from .support.spec import SPEC, case_of

# A message of the test's own (the spec's fields, none of its example's values): what is tested is how
# each fault ends, which holds whatever the spec says of a message, so these tests read no spec and
# are not run again under a later document (tests/support/collection.py).
MESSAGE = {
    "id": "40385f64-5717-4562-b3fc-2c963f66afa6",
    "record_type": "message",
    "direction": "outbound",
    "type": "SMS",
    "from": {"phone_number": "+18445550001"},
    "to": [{"phone_number": "+13125550002", "status": "queued"}],
    "text": "hi",
    "parts": 1,
}
OK = {
    "GET": Reply(200, {"data": [MESSAGE]}),
    "POST": Reply(200, {"data": MESSAGE}),
    "POST no key": Reply(200, {"data": MESSAGE}),
}
TIMEOUT = 0.5  # the attempt timeout of the fault that is about time ("slower than the timeout")
# Every other fault's attempt timeout: none of them waits for it, and on a loaded machine an answer
# can take over a second (an aiohttp POST took 1.4 s with 0.5 s here, and failed as a timeout).
ATTEMPT_TIMEOUT = 3.0
MAX_RETRIES = 2
TIME_BOUND = 6.0  # seconds for a whole call, retries and waits included


def _http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


@attrs.frozen
class Fault:
    name: str
    reply: Callable[[str], Reply] | None  # None: nothing listens at all
    get: type[Exception] | None  # None: the call succeeds (after a retry where attempts > 1)
    get_attempts: int
    post: type[Exception] | None  # a POST without an idempotency key
    post_attempts: int
    # A POST with its key: as a GET, unless given (the key makes it safe to retry, not every status
    # is worth retrying: 500, 502, 503 and 504 are, and 429).
    keyed: tuple[type[Exception] | None, int] | None = None
    # The least and most seconds the client waits before each retry, as the server's Retry-After
    # hints; None: the client's own backoff.
    hinted_wait: tuple[float, float] | None = None
    # Each attempt's timeout, where the fault is not about time: reading 10 MB on a busy machine.
    timeout: float = ATTEMPT_TIMEOUT

    def expected(self, kind: str) -> tuple[type[Exception] | None, int]:
        if kind == "GET":
            return self.get, self.get_attempts
        if kind == "POST":
            return self.keyed or (self.get, self.get_attempts)
        return self.post, self.post_attempts


def _fixed(reply: Reply) -> Callable[[str], Reply]:
    return lambda kind: reply


@functools.cache
def _ten_megabytes(kind: str) -> bytes:
    """OK[kind]'s body with 10 MB of padding, as JSON: encoded once per kind, not by each row's server."""
    return json.dumps({**OK[kind].body, "padding": "x" * 10_000_000}).encode()


FAULTS = [
    Fault("connection refused", None, APIConnectionError, 3, APIConnectionError, 3),
    Fault("reset before the response", _fixed(Reply(action="reset")), None, 2, APIConnectionError, 1),
    Fault("reset mid-body", lambda kind: attrs.evolve(OK[kind], action="truncate"), None, 2, APIConnectionError, 1),
    Fault(
        "slower than the timeout",
        lambda kind: attrs.evolve(OK[kind], delay=TIMEOUT * 3),
        None,
        2,
        APITimeoutError,
        1,
        timeout=TIMEOUT,
    ),
    Fault("500", _fixed(Reply(500, b"")), None, 2, InternalServerError, 1),
    Fault(
        "502 Retry-After: 0",
        _fixed(Reply(502, b"", {"Retry-After": "0"})),
        None,
        2,
        InternalServerError,
        1,
        hinted_wait=(0.0, 0.0),
    ),
    Fault(
        "503 Retry-After: 0",
        _fixed(Reply(503, b"", {"Retry-After": "0"})),
        None,
        2,
        InternalServerError,
        1,
        hinted_wait=(0.0, 0.0),
    ),
    Fault("503", _fixed(Reply(503, b"")), None, 2, InternalServerError, 1),
    Fault(
        "429 Retry-After: 1",
        _fixed(Reply(429, {"errors": []}, {"Retry-After": "1"})),
        None,
        2,
        None,
        2,
        hinted_wait=(1.0, 1.0),
    ),
    # An HTTP date has whole seconds: one second from now is up to a second away.
    Fault(
        "429 Retry-After: HTTP date",
        lambda kind: Reply(429, b"", {"Retry-After": _http_date(1)}),
        None,
        2,
        None,
        2,
        hinted_wait=(0.0, 1.0),
    ),
    Fault("520", _fixed(Reply(520, b"")), None, 2, InternalServerError, 1, keyed=(InternalServerError, 1)),
    Fault(
        "200 with HTML",
        _fixed(Reply(200, b"<html>oops</html>", {"Content-Type": "text/html"})),
        APIResponseValidationError,
        1,
        APIResponseValidationError,
        1,
    ),
    Fault(
        "200 with an empty body", _fixed(Reply(200, b"")), APIResponseValidationError, 1, APIResponseValidationError, 1
    ),
    Fault(
        "truncated JSON",
        lambda kind: Reply(200, OK[kind].payload()[:-7]),
        APIResponseValidationError,
        1,
        APIResponseValidationError,
        1,
    ),
    Fault(
        "invalid JSON",
        _fixed(Reply(200, b"{'data': nope}")),
        APIResponseValidationError,
        1,
        APIResponseValidationError,
        1,
    ),
    Fault(
        "JSON labelled text/plain",
        lambda kind: attrs.evolve(OK[kind], headers={"Content-Type": "text/plain"}),
        None,
        1,
        None,
        1,
    ),
    Fault(
        "10 MB body",
        lambda kind: Reply(200, _ten_megabytes(kind)),
        None,
        1,
        None,
        1,
        timeout=TIME_BOUND / 2,
    ),
    Fault(
        "redirect to another host",
        lambda kind: Reply(307, b"", {"Location": "{other}/messages"}),
        APIStatusError,
        1,
        APIStatusError,
        1,
    ),
]


def _call(messages: Any, kind: str) -> Any:
    if kind == "GET":
        return messages.retrieve_group_messages(GROUP_ID)
    if kind == "POST":
        return messages.send(to="+13125550002", text="hi")
    return messages.send(to="+13125550002", text="hi", idempotency_key=None)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """The one SSL context of the callers' clients below. They speak plain HTTP to the loopback server,
    but each would otherwise load the system's CA certificates into a context of its own: about 40 ms
    of CPU, most of a row's cost."""
    return ssl.create_default_context()


def _attempt(client_kind: str, base_url: str, kind: str, attempts: list[Any], timeout: float) -> Any:
    """One call through Telnyx or AsyncTelnyx, on an httpx2 client or (legacy-*) a legacy httpx one;
    `attempts` gets each request it puts on the wire."""
    import httpx

    library: Any = httpx if client_kind.startswith("legacy") else httpx2
    options: dict[str, Any] = {"api_key": API_KEY, "base_url": base_url, "max_retries": MAX_RETRIES}
    options["timeout"] = timeout
    verify = _ssl_context()
    if client_kind == "aiohttp":

        async def on_aiohttp() -> Any:
            async with DefaultAioHttpClient(verify=verify, event_hooks={"request": [record]}) as http:
                return await _call(AsyncTelnyx(**options, http_client=http).messages, kind)

        async def record(request: Any) -> None:
            attempts.append(request)

        return asyncio.run(on_aiohttp())
    if client_kind.endswith("sync") and not client_kind.endswith("async"):
        with library.Client(verify=verify, event_hooks={"request": [attempts.append]}) as http:
            return _call(Telnyx(**options, http_client=http).messages, kind)

    async def record(request: Any) -> None:
        attempts.append(request)

    async def run() -> Any:
        async with library.AsyncClient(verify=verify, event_hooks={"request": [record]}) as http:
            return await _call(AsyncTelnyx(**options, http_client=http).messages, kind)

    return asyncio.run(run())


RETRYING = re.compile(r"retrying .* in (\d+\.\d\d) s")


def _chosen_waits(caplog: pytest.LogCaptureFixture) -> list[float]:
    """The seconds the client chose to wait before each retry, as it logged them (unscaled)."""
    logged = [r.getMessage() for r in caplog.records if r.name == "telnyx_messages"]
    return [float(match[1]) for line in logged if (match := RETRYING.fullmatch(line))]


def _is_the_wait(fault: Fault, retry: int, seconds: float) -> bool:
    """Whether `seconds` (logged to 0.01 s) is the wait before retry number `retry` (from 0): the
    server's hint, else the backoff, from 3/4 of its step to the whole (the jitter)."""
    least, most = fault.hinted_wait or (0.75 * min(0.5 * 2**retry, 8.0), min(0.5 * 2**retry, 8.0))
    return least - 0.005 <= seconds <= most + 0.005


@pytest.fixture(scope="module")
def other_host() -> Iterator[LoopbackServer]:
    """The host a redirect points at, one for every row: it must never see a request."""
    other = LoopbackServer()
    yield other
    other.close()


# The client's waits are scaled down (quick_retry_waits): what is checked of them is the wait it
# chose, from its log; tests/test_retries.py waits out a backoff and a Retry-After for real.
@pytest.mark.usefixtures("quick_retry_waits")
@pytest.mark.parametrize("client_kind", ["sync", "async", "legacy-sync", "legacy-async", "aiohttp"])
@pytest.mark.parametrize("kind", ["GET", "POST", "POST no key"])
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_fault(
    fault: Fault,
    kind: str,
    client_kind: str,
    server: LoopbackServer,
    other_host: LoopbackServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    other = other_host
    if fault.reply is None:
        base_url = server.base_url
        server.close()
    else:
        reply = fault.reply(kind)
        location = reply.headers.get("Location")
        if location:
            reply = attrs.evolve(reply, headers={"Location": location.format(other=other.base_url)})
        server.reply(reply, OK[kind])
        base_url = server.base_url
    expected, expected_attempts = fault.expected(kind)
    outcome = "ok"
    started = time.monotonic()
    attempts: list[Any] = []
    try:
        result = _attempt(client_kind, base_url, kind, attempts, fault.timeout)
    except TelnyxError as exc:
        outcome = type(exc).__name__
        assert API_KEY not in f"{exc} {exc!r} {exc.__cause__!r}"
        assert expected is not None and isinstance(exc, expected), f"{fault.name}: {exc!r}"
    else:
        assert expected is None, f"{fault.name}: succeeded, expected {expected}"
        assert result.data
    elapsed = time.monotonic() - started
    if kind == "POST":
        # The edge takes a key once: what reached the server counts once per key, and every attempt
        # of the call sent the same key.
        keys = {request.headers.get("Idempotency-Key") for request in attempts}
        assert len(keys) == 1 and None not in keys
        accepted = len({r.headers.get("Idempotency-Key") for r in server.received if r.method == "POST"})
    else:
        accepted = server.accepted_messages() if kind == "POST no key" else 0
    FAULT_TABLE.append((fault.name, kind, client_kind, outcome, str(len(attempts)), str(accepted)))
    if client_kind == "aiohttp" and kind == "GET" and fault.reply is not None:
        # aiohttp itself sends a GET again when the connection drops before an answer (a GET is safe
        # to repeat), below httpx2's event hooks: what the server received counts the attempts.
        assert len(server.received) == expected_attempts
    else:
        assert len(attempts) == expected_attempts
    waits = _chosen_waits(caplog)
    assert len(waits) == len(attempts) - 1, waits
    assert all(_is_the_wait(fault, retry, seconds) for retry, seconds in enumerate(waits)), waits
    assert elapsed < TIME_BOUND
    assert accepted <= 1, "a message-creating POST was accepted twice"
    assert other.received == []


# --- fuzzed responses -------------------------------------------------------------------------

# What SendMessage answers ({"data": <a message>}): also a valid GetMessage answer, whose union
# parsing is read too. (hypothesis-jsonschema draws GetMessage's own oneOf schema slowly.)
RESPONSE_SCHEMA = case_of("SendMessage").response_schema


def _paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _paths(value, (*prefix, index))
    return found


MUTATIONS: dict[str, Callable[[Any], Any]] = {
    "wrong type: int": lambda value: 7,
    "wrong type: str": lambda value: "zzz-unknown",
    "wrong type: list": lambda value: [value],
    "wrong type: object": lambda value: {"nested": value},
    "null": lambda value: None,
    "deeper nesting": lambda value: [[{"x": [value]}]],
    "missing": lambda value: _MISSING,
}
_MISSING = object()


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Any, list[str]]:
    document = draw(from_schema_cached())
    applied = []
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(_paths(document)[1:] or [()]))
        if not path:
            break
        name = draw(st.sampled_from(sorted(MUTATIONS)))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        new = MUTATIONS[name](parent[path[-1]])
        if new is _MISSING and isinstance(parent, dict):
            del parent[path[-1]]
        elif new is not _MISSING:
            parent[path[-1]] = new
        applied.append(f"{name} at {'.'.join(map(str, path))}")
    return document, applied


_STRATEGY: list[Any] = []


def from_schema_cached() -> Any:
    if not _STRATEGY:
        _STRATEGY.append(drawn(inlined(SPEC, RESPONSE_SCHEMA, every=True)))
    return _STRATEGY[0]


def _read(document: Any) -> Any:
    """The client's own reading of a 200 with this body, as GetMessage and as SendMessage."""
    from telnyx_messages._client import _BaseClient

    response = httpx2.Response(200, content=json.dumps(document).encode(), request=httpx2.Request("GET", "http://t"))
    _BaseClient._parse(case_of("SendMessage").operation, response)
    return _BaseClient._parse(case_of("GetMessage").operation, response)


FUZZ = settings(max_examples=40)


@FUZZ
@given(mutated())
def test_a_fuzzed_response_parses_or_ends_in_the_hierarchy(case: tuple[Any, list[str]]) -> None:
    document, applied = case
    if not applied:  # valid per the spec: it always parses
        assert _read(document).to_dict(mode="json")
        return
    try:
        _read(document)
    except APIResponseValidationError as exc:
        assert str(exc), applied
    # Anything else (KeyError, TypeError, ...) escapes and fails the test, the mutations printed.


def test_the_fault_server_really_misbehaves(server: LoopbackServer) -> None:
    # The faults above are real: plain httpx sees each one too.
    server.reply(attrs.evolve(OK["GET"], action="truncate"), Reply(action="reset"))
    with httpx2.Client() as http:
        with pytest.raises(httpx2.RemoteProtocolError, match="complete message body"):
            http.get(server.base_url + "/x")
        with pytest.raises(httpx2.ReadError):
            http.get(server.base_url + "/x")
