"""The official SDK's surface: each operation as a method, a raw response and a streaming response, on
the client and at client level, sync and async (on httpx2 and on the aiohttp client), against Prism;
streamed bodies held to the client's limits; the model API and the HTTP clients it exports."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import telnyx_messages
from telnyx_messages import (
    APIConnectionError,
    APITimeoutError,
    AsyncTelnyx,
    BodyConsumedError,
    DefaultAioHttpClient,
    DefaultAsyncHttpxClient,
    DefaultHttpxClient,
    NotFoundError,
    ResponseTooLargeError,
    StreamedAPIResponse,
    Telnyx,
)
from telnyx_messages._api import models as generated_models

from .support import API_KEY, MESSAGE_ID
from .support.raw_server import RawServer
from .support.server import LoopbackServer, Reply, client_for
from .support.spec import CASES, SPEC, OperationCase, call_arguments, message_example, normalised

GROUP = Reply(200, {"data": [message_example()]})


# --- every operation, every form, against Prism ------------------------------------------------


def _check_raw(case: OperationCase, response: Any, parsed: Any) -> None:
    assert response.is_closed is True
    assert response.status_code == 200 and response.retries_taken == 0
    assert isinstance(parsed, case.result_class)
    assert response.url.path.endswith(case.path.split("{")[0].rstrip("/")) or "{" in case.path
    assert response.elapsed > datetime.timedelta(0)
    assert response.request_id == response.headers.get("x-request-id")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
def test_every_form_of_every_operation_sync(case: OperationCase, prism: str) -> None:
    path_values, kwargs, _, _ = call_arguments(SPEC, case, MESSAGE_ID)
    with Telnyx(api_key="any", base_url=prism) as client:
        result = case.bound(client.messages)(*path_values, **kwargs)
        assert isinstance(result, case.result_class)
        for raw in (client.messages.with_raw_response, client.with_raw_response.messages):
            response = case.bound(raw)(*path_values, **kwargs)
            _check_raw(case, response, response.parse())
        for streaming in (client.messages.with_streaming_response, client.with_streaming_response.messages):
            with case.bound(streaming)(*path_values, **kwargs) as streamed:
                assert not streamed.is_closed and streamed.status_code == 200
                parsed = streamed.parse()
                assert isinstance(parsed, case.result_class)
                assert normalised(parsed.to_dict(mode="json")) == normalised(streamed.json())
            assert streamed.is_closed is True
        if path_values:
            with pytest.raises(ValueError, match=case.path_parameters[0]):
                case.bound(client.messages.with_raw_response)("", **kwargs)


@pytest.mark.parametrize("transport", ["httpx2", "aiohttp"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
async def test_every_form_of_every_operation_async(case: OperationCase, transport: str, prism: str) -> None:
    path_values, kwargs, _, _ = call_arguments(SPEC, case, MESSAGE_ID)
    http = DefaultAioHttpClient() if transport == "aiohttp" else DefaultAsyncHttpxClient()
    async with http, AsyncTelnyx(api_key="any", base_url=prism, http_client=http) as client:
        result = await case.bound(client.messages)(*path_values, **kwargs)
        assert isinstance(result, case.result_class)
        for raw in (client.messages.with_raw_response, client.with_raw_response.messages):
            response = await case.bound(raw)(*path_values, **kwargs)
            _check_raw(case, response, await response.parse())
        for streaming in (client.messages.with_streaming_response, client.with_streaming_response.messages):
            async with case.bound(streaming)(*path_values, **kwargs) as streamed:
                assert not streamed.is_closed
                assert isinstance(await streamed.parse(), case.result_class)
                chunks = [chunk async for chunk in streamed.iter_bytes()]  # from what parse() read
                assert b"".join(chunks) == await streamed.read()
            assert streamed.is_closed is True
        if path_values:
            with pytest.raises(ValueError, match=case.path_parameters[0]):
                await case.bound(client.messages.with_raw_response)("", **kwargs)


# --- streamed bodies ---------------------------------------------------------------------------


def test_a_streamed_response_gives_status_and_headers_before_the_body(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": [message_example()]}, {"x-request-id": "req-1"}))
    with client_for(server) as client:
        with client.messages.with_streaming_response.retrieve_group_messages(MESSAGE_ID) as response:
            assert isinstance(response, StreamedAPIResponse)
            assert response.status_code == 200 and response.request_id == "req-1" and not response.is_closed
            assert response.http_request.method == "GET" and response.retries_taken == 0
            group = response.parse()
            assert group._request_id == "req-1"
            assert response.parse() == group  # read once, parsed again from what was read
        assert response.is_closed
    assert group.data is not None and group.data[0].id == message_example()["id"]


def test_text_lines_and_chunks_read_the_same_body(server: LoopbackServer) -> None:
    body = "first line\r\nsecond, caf\u00e9\nthird\rlast".encode()
    server.default = Reply(200, body, {"Content-Type": "text/plain; charset=utf-8"})
    with client_for(server) as client:
        stream = client.messages.with_streaming_response.retrieve_group_messages
        with stream(MESSAGE_ID) as response:
            assert list(response.iter_lines()) == ["first line", "second, caf\u00e9", "third", "last"]
        with stream(MESSAGE_ID) as response:
            assert "".join(response.iter_text(chunk_size=3)) == body.decode()
        with stream(MESSAGE_ID) as response:
            chunks = list(response.iter_bytes(chunk_size=4))
            assert b"".join(chunks) == body and {len(c) for c in chunks[:-1]} == {4}
            with pytest.raises(BodyConsumedError):
                response.read()
        with stream(MESSAGE_ID) as response:
            assert response.text() == body.decode() and response.read() == body
            assert b"".join(response.iter_bytes()) == body  # after read(), from what was read


def test_lines_split_across_chunks_are_joined() -> None:
    """iter_lines of one body however it arrives: a character, a CRLF or a line split between chunks."""
    body = "ab\r\ncd\u00e9\n\nlast".encode()
    request = httpx2.Request("GET", "http://127.0.0.1/")
    for size in range(1, len(body) + 1):
        chunks = [body[i : i + size] for i in range(0, len(body), size)]
        streamed = StreamedAPIResponse(httpx2.Response(200, request=request), iter(chunks), lambda b: b)
        assert list(streamed.iter_lines()) == ["ab", "cd\u00e9", "", "last"], size


def test_a_streamed_call_is_retried_until_its_response_is_handed_out(server: LoopbackServer) -> None:
    server.reply(Reply(500, {"errors": []}), Reply(200, {"data": []}))
    with (
        client_for(server, max_retries=2) as client,
        client.messages.with_streaming_response.retrieve_group_messages(MESSAGE_ID) as response,
    ):
        assert response.retries_taken == 1 and response.parse().data == []
    assert len(server.received) == 2


def test_a_streamed_send_keeps_its_key_across_retries(server: LoopbackServer) -> None:
    ok = {"data": message_example()}
    server.reply(Reply(503, {"errors": []}), Reply(200, ok, {"Idempotent-Replayed": "true"}))
    with (
        client_for(server, max_retries=2) as client,
        client.messages.with_streaming_response.send(to="+13125550002", text="hi") as response,
    ):
        assert response.replayed and response.idempotency_key is not None
    keys = {r.headers.get("Idempotency-Key") for r in server.received}
    assert keys == {response.idempotency_key}


def test_a_status_error_is_raised_on_entering(server: LoopbackServer) -> None:
    server.default = Reply(404, {"errors": [{"code": "10005", "title": "Resource not found"}]})
    with (
        client_for(server) as client,
        pytest.raises(NotFoundError, match="Resource not found"),
        client.messages.with_streaming_response.retrieve(MESSAGE_ID),
    ):
        pytest.fail("entered a block for a 404")


@pytest.mark.parametrize("declared", [True, False], ids=["declared length", "compressed"])
def test_a_streamed_body_is_held_to_the_size_limit(server: LoopbackServer, declared: bool) -> None:
    body = b"x" * 10_000
    if declared:
        server.default = Reply(200, body)
    else:  # a length that is not what the body inflates to: known only while reading
        server.default = Reply(200, gzip.compress(body), {"Content-Encoding": "gzip"})
    with client_for(server, max_response_bytes=4096) as client:
        stream = client.messages.with_streaming_response.retrieve_group_messages
        if declared:  # refused before the block: its length says it is over
            with pytest.raises(ResponseTooLargeError), stream(MESSAGE_ID):
                pytest.fail("entered")
        else:
            with stream(MESSAGE_ID) as response, pytest.raises(ResponseTooLargeError):
                response.read()
            assert response.is_closed


def _slow_body() -> Iterator[bytes | float]:
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    for _ in range(100):
        yield b" "
        yield 0.1


@pytest.mark.parametrize("client_kind", ["sync", "async", "aiohttp"])
def test_a_streamed_body_is_held_to_the_deadline(client_kind: str) -> None:
    with RawServer(_slow_body) as server:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            if client_kind == "sync":
                with (
                    Telnyx(api_key=API_KEY, base_url=server.base_url, timeout=1.0, max_retries=0) as client,
                    client.messages.with_streaming_response.retrieve_group_messages(MESSAGE_ID) as response,
                ):
                    response.read()
            else:
                asyncio.run(_read_async(server.base_url, client_kind))
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"a 1 s timeout took {elapsed:.1f} s"
    assert caught.value.idempotency_key is None  # a GET holds none


async def _read_async(base_url: str, client_kind: str) -> None:
    http = DefaultAioHttpClient() if client_kind == "aiohttp" else DefaultAsyncHttpxClient()
    async with http:
        client = AsyncTelnyx(api_key=API_KEY, base_url=base_url, timeout=1.0, max_retries=0, http_client=http)
        async with client.messages.with_streaming_response.retrieve_group_messages(MESSAGE_ID) as response:
            await response.read()


def test_a_body_cut_off_while_streamed_is_a_connection_error(server: LoopbackServer) -> None:
    server.default = Reply(200, {"data": [message_example()]}, action="truncate")
    with (
        client_for(server, max_retries=3) as client,
        client.messages.with_streaming_response.send(to="+13125550002", text="hi") as response,
        pytest.raises(APIConnectionError) as caught,
    ):
        response.parse()
    # Not retried once the body was handed out; the error names the key to try again with.
    assert len(server.received) == 1
    assert caught.value.idempotency_key == server.received[0].headers["Idempotency-Key"]


# --- the model API -----------------------------------------------------------------------------


def test_to_dict_and_model_dump_take_the_official_options() -> None:
    example = message_example()
    example["completed_at"] = None
    example["unknown_field"] = {"kept": True}
    del example["subject"]
    message = generated_models.OutboundMessagePayload.from_dict(example)
    document = message.to_dict(mode="json")
    assert normalised(document) == normalised(example)
    python = message.to_dict()
    assert isinstance(python["received_at"], datetime.datetime) and python["unknown_field"] == {"kept": True}
    assert "completed_at" in python and "completed_at" not in message.to_dict(exclude_none=True)
    assert "from" in python and "from_" in message.to_dict(use_api_names=False)
    every = message.to_dict(exclude_unset=False)
    assert set(every) >= {wire for _, wire in type(message)._fields_} and every["subject"] is None
    assert json.loads(message.to_json()) == json.loads(json.dumps(document))
    assert message.to_json().startswith('{\n  "') and "\n" not in message.to_json(indent=None)
    dumped = message.model_dump()
    assert "from_" in dumped and "subject" in dumped and isinstance(dumped["received_at"], datetime.datetime)
    assert message.model_dump(by_alias=True, exclude_unset=True).keys() == python.keys()
    # Every field is dumped, None where unset: the document's fields as they are, any other (a later
    # spec's, unset here) as None.
    dumped_from = json.loads(message.model_dump_json())["from_"]
    written_from = json.loads(json.dumps(document["from"]))
    assert {name: dumped_from[name] for name in written_from} == written_from
    assert all(dumped_from[name] is None for name in dumped_from.keys() - written_from.keys())


def test_a_result_carries_the_request_id(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": [message_example()]}, {"x-request-id": "abc-123"}), GROUP)
    with client_for(server) as client:
        group = client.messages.retrieve_group_messages(MESSAGE_ID)
        assert group._request_id == "abc-123"
        assert group.data is not None and group.data[0]._request_id is None  # a model inside a result
        assert client.messages.retrieve_group_messages(MESSAGE_ID)._request_id is None  # none sent


def test_the_official_names_of_results_import() -> None:
    from telnyx_messages.types import (
        MessageCancelScheduledResponse,
        MessageSendWithAlphanumericSenderResponse,
        MessageWhatsappResponse,
    )

    api = telnyx_messages._client.Messages.__module__
    operations = __import__(api, fromlist=["OPERATIONS"]).OPERATIONS
    assert MessageWhatsappResponse.__name__ == operations["whatsapp"].result
    assert MessageCancelScheduledResponse.__name__ == operations["cancel_scheduled"].result
    assert MessageSendWithAlphanumericSenderResponse.__name__ == operations["send_with_alphanumeric_sender"].result
    assert telnyx_messages.MessageWhatsappResponse is MessageWhatsappResponse
    assert {"MessageWhatsappResponse", "NOT_GIVEN", "NotGiven", "DefaultAioHttpClient"} <= set(dir(telnyx_messages))


# --- the HTTP clients --------------------------------------------------------------------------


def test_the_default_http_clients_keep_the_clients_guarantees(server: LoopbackServer) -> None:
    server.default = Reply(307, b"", {"Location": "http://127.0.0.1:9/elsewhere"})
    with DefaultHttpxClient() as http:
        assert http.follow_redirects is False
        client = Telnyx(api_key=API_KEY, base_url=server.base_url, http_client=http, max_retries=0)
        with pytest.raises(telnyx_messages.APIStatusError):
            client.messages.retrieve(MESSAGE_ID)
    with DefaultHttpxClient(limits=httpx2.Limits(max_connections=3)) as http:
        assert http._transport._pool._max_connections == 3  # type: ignore[attr-defined]


def test_without_the_aiohttp_extra_the_error_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "httpx_aiohttp", None)
    monkeypatch.setitem(sys.modules, "httpx_aiohttp.httpx2", None)
    monkeypatch.delitem(sys.modules, "telnyx_messages._aiohttp", raising=False)
    with pytest.raises(telnyx_messages.MissingDependencyError, match=r"pip install 'telnyx-messages\[aiohttp\]'"):
        DefaultAioHttpClient()
    assert issubclass(telnyx_messages.MissingDependencyError, ImportError)


# --- what mutation testing asked for ----------------------------------------------------------------


def test_a_streamed_failure_is_in_the_hierarchy() -> None:
    from telnyx_messages import APIResponseValidationError
    from telnyx_messages._response import _streamed_failure

    request = httpx2.Request("GET", "https://api.telnyx.com/v2/messages/group/x")
    timed_out = _streamed_failure(TimeoutError(), request, "key-1")
    assert isinstance(timed_out, APITimeoutError)
    assert str(timed_out).endswith(": the attempt took longer than its timeout")
    assert timed_out.idempotency_key == "key-1"
    undecodable = _streamed_failure(httpx2.DecodingError("bad gzip", request=request), request, None)
    assert isinstance(undecodable, APIResponseValidationError) and "bad gzip" in str(undecodable)
    assert undecodable.idempotency_key is None
    other = ValueError("not ours")
    assert _streamed_failure(other, request, "key-1") is other
    assert not hasattr(other, "idempotency_key")


def test_retries_taken_counts_retries_and_waits(server: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    ok = Reply(200, {"data": message_example()})
    server.reply(Reply(409, {"errors": []}), Reply(500, {"errors": []}), ok, Reply(500, {"errors": []}), GROUP)
    with client_for(server, max_retries=2) as client:
        keyed = client.messages.with_raw_response.send(to="+13125550002", text="hi")
        assert keyed.retries_taken == 2  # one wait for the key in progress, one retry
    assert "(the same key in progress, wait 1, Idempotency-Key " in caplog.text

    async def on_async() -> int:
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as aclient:
            response = await aclient.messages.with_raw_response.retrieve_group_messages(MESSAGE_ID)
            return response.retries_taken

    assert asyncio.run(on_async()) == 1


def test_a_copy_has_its_own_response_forms(server: LoopbackServer) -> None:
    other = LoopbackServer()
    try:
        server.default = other.default = Reply(200, {"data": []})
        with client_for(server) as client:
            assert client.with_raw_response.messages is not None and client.with_streaming_response is not None
            copy = client.with_options(base_url=other.base_url)
            copy.with_raw_response.messages.retrieve_group_messages(MESSAGE_ID)
            with copy.with_streaming_response.messages.retrieve_group_messages(MESSAGE_ID) as response:
                response.read()
        assert len(other.received) == 2 and server.received == []
    finally:
        other.close()


def test_the_http_clients_keep_a_transport_given_and_make_theirs_otherwise() -> None:
    from telnyx_messages._deadline import _Backend

    given = httpx2.HTTPTransport()
    with DefaultHttpxClient(transport=given) as http:
        assert http._transport is given  # type: ignore[attr-defined]
    with DefaultHttpxClient() as http:
        assert isinstance(http._transport._pool._network_backend, _Backend)  # type: ignore[attr-defined]

    async def check_async() -> None:
        async with DefaultAsyncHttpxClient() as ahttp:
            assert ahttp.follow_redirects is False
        async with DefaultAioHttpClient() as aio:
            assert aio.follow_redirects is False
            assert type(aio._transport).__module__ == "telnyx_messages._aiohttp"  # type: ignore[attr-defined]
        mock = httpx2.MockTransport(lambda request: httpx2.Response(200))
        async with DefaultAioHttpClient(transport=mock) as aio:
            assert aio._transport is mock  # type: ignore[attr-defined]

    asyncio.run(check_async())


def test_aiohttps_errors_are_told_apart() -> None:
    import aiohttp
    from telnyx_messages._aiohttp import _refined

    def mapped(kind: type[httpx2.TransportError], cause: BaseException, text: str = "lost") -> httpx2.TransportError:
        error = kind(text)
        error.__cause__ = cause
        return _refined(error)

    original = httpx2.ConnectTimeout("connect")
    original.__cause__ = aiohttp.ConnectionTimeoutError("connect")
    assert _refined(original) is original  # already the right kind: kept as it is
    connect = mapped(httpx2.ConnectError, aiohttp.ConnectionTimeoutError("connect"))
    assert type(connect) is httpx2.ConnectTimeout
    read = mapped(httpx2.ConnectTimeout, aiohttp.SocketTimeoutError("read"))
    assert type(read) is httpx2.ReadTimeout and read.__cause__ is not None
    gone = aiohttp.ServerDisconnectedError()
    dropped = mapped(httpx2.ConnectTimeout, gone, text="")
    assert type(dropped) is httpx2.ReadError and dropped.__cause__ is gone and str(dropped) == "ServerDisconnectedError"
    same = httpx2.ReadError("payload")
    same.__cause__ = aiohttp.ClientPayloadError("payload")
    assert _refined(same) is same


def test_an_async_calls_error_carries_its_key(server: LoopbackServer) -> None:
    from telnyx_messages import BadRequestError

    server.default = Reply(400, {"errors": [{"code": "10002", "title": "Bad"}]})

    async def on_async() -> None:
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as aclient:
            await aclient.messages.with_raw_response.send(to="+13125550002", text="hi", idempotency_key="order-7")

    with pytest.raises(BadRequestError) as caught:
        asyncio.run(on_async())
    assert caught.value.idempotency_key == "order-7"
