"""telnyx_messages._response_forms: the raw-response and streaming-response forms made from the
plain methods: what they return, send and show (signature, types, docstring), on both clients."""

from __future__ import annotations

import asyncio
import inspect
import typing
import warnings
from typing import Any

import pytest
from telnyx_messages import AsyncTelnyx, Telnyx
from telnyx_messages._response_forms import RAW_DOC, STREAMED_DOC, _unsuspended

from .support import MESSAGE_ID
from .support.server import LoopbackServer, Reply, async_client_for, client_for

OK = Reply(200, {"data": {"id": MESSAGE_ID}}, headers={"x-request-id": "r1"})


def _unwrapped(hint: Any) -> list[str]:
    """A return type's generics, outermost first, down to the first that is not generic."""
    names = []
    while typing.get_origin(hint) is not None:
        names.append(typing.get_origin(hint).__name__)
        (hint,) = typing.get_args(hint)
    return [*names, hint]


def test_the_raw_form_sends_the_plain_methods_request_and_returns_the_response(server: LoopbackServer) -> None:
    server.reply(OK)
    server.reply(OK)
    with client_for(server) as client:
        parsed = client.messages.retrieve(MESSAGE_ID)
        raw = client.messages.with_raw_response.retrieve(MESSAGE_ID, extra_headers={"X-Form": "raw"})
    assert raw.status_code == 200 and raw.headers["x-request-id"] == "r1"
    assert raw.parsed == parsed and type(raw.parsed) is type(parsed)
    first, second = server.received
    assert (first.method, first.path) == (second.method, second.path) == ("GET", f"/messages/{MESSAGE_ID}")
    assert "X-Form" not in first.headers and second.headers["X-Form"] == "raw"  # keyword arguments reach it


def test_a_form_checks_the_arguments_as_the_plain_method_does(server: LoopbackServer) -> None:
    with client_for(server) as client:
        for method in (client.messages.retrieve, client.messages.with_raw_response.retrieve):
            with pytest.raises(TypeError, match=r"^retrieve\(\): ") as raised:
                method(5)  # type: ignore[arg-type]
            assert "id" in str(raised.value)
        streamed = client.messages.with_streaming_response.retrieve(5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"^retrieve\(\): "), streamed:
            pass
    assert server.received == []


def test_the_streaming_form_sends_when_entered_and_reads_inside_the_block(server: LoopbackServer) -> None:
    server.reply(OK)
    with client_for(server) as client:
        context = client.messages.with_streaming_response.retrieve(MESSAGE_ID, extra_headers={"X-Form": "streamed"})
        assert server.received == []
        with context as response:
            assert response.status_code == 200 and response.headers["x-request-id"] == "r1"
            assert response.parse().data is not None and response.parse().data.id == MESSAGE_ID
    (received,) = server.received
    assert received.headers["X-Form"] == "streamed"


async def test_the_async_raw_form_is_a_coroutine_function_returning_the_response(server: LoopbackServer) -> None:
    server.reply(OK)
    async with async_client_for(server) as client:
        method = client.messages.with_raw_response.retrieve
        assert inspect.iscoroutinefunction(method)
        raw = await method(MESSAGE_ID, extra_headers={"X-Form": "raw"})
    assert raw.status_code == 200 and raw.parsed.data is not None and raw.parsed.data.id == MESSAGE_ID
    assert server.received[0].headers["X-Form"] == "raw"


async def test_the_async_streaming_form_is_no_coroutine_and_sends_when_entered(server: LoopbackServer) -> None:
    server.reply(OK)
    async with async_client_for(server) as client:
        method = client.messages.with_streaming_response.retrieve
        assert not inspect.iscoroutinefunction(method)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no coroutine left unawaited
            context = method(MESSAGE_ID, extra_headers={"X-Form": "streamed"})
        assert server.received == []
        async with context as response:
            assert response.status_code == 200
            parsed = await response.parse()
    assert parsed.data is not None and parsed.data.id == MESSAGE_ID
    (received,) = server.received
    assert received.headers["X-Form"] == "streamed"


@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
def test_each_form_shows_the_plain_signature_its_return_type_and_docstring(client_class: type[Any]) -> None:
    client = client_class(api_key="KEY-x", base_url="http://127.0.0.1:9")
    prefix = "Async" if client_class is AsyncTelnyx else ""
    plain = client.messages.rcs.send
    forms = {
        client.messages.rcs.with_raw_response.send: (f"{prefix}APIResponse", RAW_DOC),
        client.messages.with_streaming_response.rcs.send: (f"{prefix}StreamedAPIResponse", STREAMED_DOC),
    }
    plain_hints = typing.get_type_hints(plain)
    plain_signature = inspect.signature(plain)
    for form, (returned, doc) in forms.items():
        assert form.__name__ == "send" and form.__qualname__ == plain.__qualname__
        hints = typing.get_type_hints(form)
        assert {**hints, "return": None} == {**plain_hints, "return": None}
        context = (
            ["AbstractAsyncContextManager" if prefix else "AbstractContextManager"] if "Streamed" in returned else []
        )
        assert _unwrapped(hints["return"]) == [*context, returned, plain_hints["return"]]
        signature = inspect.signature(form)
        assert list(signature.parameters.values()) == list(plain_signature.parameters.values())
        assert signature.return_annotation.endswith(
            f"{returned}[{plain.__annotations__['return']}]" + "]" * len(context)
        )
        assert inspect.getdoc(form) == f"{inspect.getdoc(plain)}\n\n{doc}"


def test_a_form_made_twice_uses_a_resource_of_its_own_on_the_same_client(server: LoopbackServer) -> None:
    server.reply(OK)
    with client_for(server) as client:
        form = client.messages.with_raw_response.retrieve
        assert form is client.messages.with_raw_response.retrieve
        assert client.with_options(max_retries=0).messages.with_raw_response.retrieve is not form
        form(MESSAGE_ID)
    assert len(server.received) == 1


def test_a_coroutine_that_suspends_is_refused_and_closed() -> None:
    async def suspends() -> int:
        await asyncio.sleep(0)
        return 1

    async def finishes() -> int:
        return 2

    coroutine = suspends()
    with pytest.raises(RuntimeError, match=r"^a streaming call suspended before returning its context$"):
        _unsuspended(coroutine)
    assert coroutine.cr_frame is None  # closed: no "never awaited" warning, no frame kept
    assert _unsuspended(finishes()) == 2
