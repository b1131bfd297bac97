"""A user's own legacy httpx client as http_client: used as given, with every guarantee of the
default httpx2 one (the fault matrix and the hostile servers run on it too: test_faults,
test_response_size, test_response_decoding, test_connections).
tests/test_legacy_httpx_versions.py runs this file again on each later httpx release in tools/legacy_httpx.py,
naming the release it expects in TELNYX_TESTS_LEGACY_HTTPX."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import time
import tomllib
from typing import Any

import httpx
import httpx2
import pytest
from telnyx_messages import APIConnectionError, AsyncTelnyx, ResponseTooLargeError, Telnyx

from .support import API_KEY, ROOT
from .support import MESSAGE_ID as GROUP_ID
from .support.server import LoopbackServer, Reply


def _telnyx(client_kind: str, server: LoopbackServer, http_client: Any, **options: Any) -> Any:
    client_class = Telnyx if client_kind == "sync" else AsyncTelnyx
    return client_class(api_key=API_KEY, base_url=server.base_url, http_client=http_client, **options)


def _run(client: Any, call: Any) -> Any:
    result = call(client.messages)
    return asyncio.run(result) if asyncio.iscoroutine(result) else result


def _legacy(client_kind: str, **options: Any) -> httpx.Client | httpx.AsyncClient:
    return httpx.Client(**options) if client_kind == "sync" else httpx.AsyncClient(**options)


CLIENTS = pytest.mark.parametrize("client_kind", ["sync", "async"])


def _dev_pin() -> str:
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    (pin,) = [entry.removeprefix("httpx==") for entry in dev if entry.startswith("httpx==")]
    return pin


def test_the_legacy_httpx_imported_is_the_release_under_test() -> None:
    # The dev venv's pin, or the later release a run of tests/test_legacy_httpx_versions.py put first on the path.
    assert httpx.__version__ == os.environ.get("TELNYX_TESTS_LEGACY_HTTPX", _dev_pin())


@CLIENTS
def test_a_legacy_client_sends_with_its_own_headers_and_params_and_is_left_open(
    client_kind: str, server: LoopbackServer
) -> None:
    server.reply(Reply(200, {"data": []}))
    http = _legacy(client_kind, headers={"X-Proxy-Tag": "mine"}, params={"tenant": "t1"})
    client = _telnyx(client_kind, server, http, timeout=httpx.Timeout(5.0, connect=1.0))
    assert client.timeout == httpx2.Timeout(5.0, connect=1.0)  # the legacy timeout, read as httpx2's
    result = _run(client, lambda m: m.retrieve_group_messages(GROUP_ID))
    assert result.data == []
    (received,) = server.received
    assert received.headers["X-Proxy-Tag"] == "mine"
    assert received.headers["Authorization"] == f"Bearer {API_KEY}"
    assert received.path == f"/messages/group/{GROUP_ID}?tenant=t1"
    assert not http.is_closed  # (an async one's connections belong to the loop that has ended)


@CLIENTS
def test_a_per_call_legacy_timeout_is_taken(client_kind: str, server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": []}, delay=1.5))
    client = _telnyx(client_kind, server, _legacy(client_kind), max_retries=0)
    started = time.monotonic()
    with pytest.raises(APIConnectionError, match="timed out"):
        _run(client, lambda m: m.retrieve_group_messages(GROUP_ID, timeout=httpx.Timeout(0.2)))
    assert time.monotonic() - started < 1.0  # the legacy client's own read stopped at the timeout


@CLIENTS
def test_a_post_through_a_legacy_client_sends_its_body_query_and_key(client_kind: str, server: LoopbackServer) -> None:
    server.default = Reply(200, {"data": {"id": "m-1"}})
    client = _telnyx(client_kind, server, _legacy(client_kind))
    raw = _run(client, lambda m: m.with_raw_response.send(to="+13125550002", text="hi", extra_query={"dry": "1"}))
    (received,) = server.received
    assert (received.path, received.json()) == ("/messages?dry=1", {"to": "+13125550002", "text": "hi"})
    assert received.headers["Idempotency-Key"] == raw.idempotency_key
    assert raw.http_response.extensions["reason_phrase"] == b"OK"  # the legacy response's extensions are kept


def test_a_legacy_error_becomes_the_httpx2_error_of_its_name_with_its_message_and_request() -> None:
    from telnyx_messages._legacy_httpx import _translated

    request = httpx2.Request("GET", "http://127.0.0.1/x")
    translated = _translated(httpx.ReadTimeout("read timed out"), request)
    assert type(translated) is httpx2.ReadTimeout and str(translated) == "read timed out"
    assert isinstance(translated, httpx2.ReadTimeout) and translated.request is request
    # A class of legacy httpx's own (none here): the nearest its twin has, RequestError at the furthest.
    nearest = _translated(type("Mine", (httpx.RemoteProtocolError,), {})("odd"), request)
    assert type(nearest) is httpx2.RemoteProtocolError
    other = ValueError("not httpx's")
    assert _translated(other, request) is other


@CLIENTS
def test_a_legacy_connection_error_is_the_hierarchys_with_the_httpx2_cause(client_kind: str) -> None:
    server = LoopbackServer()
    server.close()  # nothing listens
    client = _telnyx(client_kind, server, _legacy(client_kind), max_retries=0)
    with pytest.raises(APIConnectionError) as caught:
        _run(client, lambda m: m.retrieve_group_messages(GROUP_ID))
    assert isinstance(caught.value.__cause__, httpx2.ConnectError)
    assert caught.value.__cause__.request is caught.value.request
    assert isinstance(caught.value.__cause__.__cause__, httpx.ConnectError)  # the original, chained


@CLIENTS
def test_a_legacy_body_cut_short_is_the_hierarchys_with_the_httpx2_cause(
    client_kind: str, server: LoopbackServer
) -> None:
    server.default = Reply(200, {"data": [], "padding": "x" * 1000}, action="truncate")
    client = _telnyx(client_kind, server, _legacy(client_kind), max_retries=0)
    with pytest.raises(APIConnectionError) as caught:
        _run(client, lambda m: m.retrieve_group_messages(GROUP_ID))
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    assert caught.value.__cause__.request is caught.value.request
    assert caught.value.request is not None and caught.value.request.url.path == f"/messages/group/{GROUP_ID}"


@CLIENTS
def test_a_compressed_body_is_decoded_and_held_to_the_size_limit(client_kind: str, server: LoopbackServer) -> None:
    document = {"data": [], "padding": "x" * 10_000}
    body = gzip.compress(json.dumps(document).encode())
    server.default = Reply(200, body, headers={"Content-Encoding": "gzip"})
    client = _telnyx(client_kind, server, _legacy(client_kind))
    assert _run(client, lambda m: m.retrieve_group_messages(GROUP_ID)).data == []
    small = _telnyx(client_kind, server, _legacy(client_kind), max_response_bytes=4096, max_retries=0)
    with pytest.raises(ResponseTooLargeError, match=r"max_response_bytes \(4096\)"):
        _run(small, lambda m: m.retrieve_group_messages(GROUP_ID))


class _NotAClient:
    pass


@pytest.mark.parametrize(
    ("client_class", "given", "accepted"),
    [
        (Telnyx, _NotAClient(), "an httpx2.Client or an httpx.Client"),
        (Telnyx, httpx2.AsyncClient(), "an httpx2.Client or an httpx.Client"),
        (Telnyx, httpx.AsyncClient(), "an httpx2.Client or an httpx.Client"),
        (AsyncTelnyx, httpx2.Client(), "an httpx2.AsyncClient or an httpx.AsyncClient"),
        (AsyncTelnyx, httpx.Client(), "an httpx2.AsyncClient or an httpx.AsyncClient"),
    ],
    ids=["other", "httpx2-async-to-sync", "httpx-async-to-sync", "httpx2-sync-to-async", "httpx-sync-to-async"],
)
def test_an_http_client_of_another_type_is_refused_naming_the_accepted_ones(
    client_class: type[Telnyx] | type[AsyncTelnyx], given: Any, accepted: str
) -> None:
    with pytest.raises(TypeError) as caught:
        client_class(api_key=API_KEY, http_client=given)
    assert str(caught.value) == f"http_client must be {accepted}, got {type(given).__module__}.{type(given).__name__}"
