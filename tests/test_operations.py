"""Every operation of the spec through the overlay, sync and async, against a loopback server."""

from __future__ import annotations

from typing import Any

import pytest
from telnyx_messages import AsyncTelnyx, Telnyx

from .support import API_KEY
from .support.server import LoopbackServer, Reply
from .support.spec import CASES, SPEC, OperationCase, call_arguments, example_of, message_example, normalised


def _call_arguments(case: OperationCase) -> tuple[list[str], dict[str, Any], dict[str, Any] | None, str]:
    path_values, kwargs, document = call_arguments(SPEC, case)
    expected_path = case.path
    for name, value in zip(case.module.PATH_PARAMETERS, path_values, strict=True):
        expected_path = expected_path.replace("{" + name + "}", value)
    return path_values, kwargs, document, expected_path


def _check(case: OperationCase, server: LoopbackServer, result: Any, document: Any, path: str, response: Any) -> None:
    (request,) = server.received
    assert (request.method, request.path) == (case.method, path)
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    if document is None:
        assert request.body == b""
    else:
        # Exactly the fields given: the spec's defaults are left to the server.
        assert normalised(request.json()) == normalised(document)
    assert isinstance(result, case.module.Success)
    assert normalised(result.to_dict()) == normalised(response)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
def test_operation_sync(case: OperationCase, server: LoopbackServer) -> None:
    response = example_of(SPEC, case.response_schema)
    server.reply(Reply(200, response))
    path_values, kwargs, document, path = _call_arguments(case)
    with Telnyx(api_key=API_KEY, base_url=server.base_url) as client:
        result = getattr(client.messages, case.client_method)(*path_values, **kwargs)
    _check(case, server, result, document, path, response)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
async def test_operation_async(case: OperationCase, server: LoopbackServer) -> None:
    response = example_of(SPEC, case.response_schema)
    server.reply(Reply(200, response))
    path_values, kwargs, document, path = _call_arguments(case)
    async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
        result = await getattr(client.messages, case.client_method)(*path_values, **kwargs)
    _check(case, server, result, document, path, response)


def test_spec_defaults_are_not_sent(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": message_example()}))
    with Telnyx(api_key=API_KEY, base_url=server.base_url) as client:
        client.messages.send_long_code(from_="+18445550001", to="+13125550002", text="hi", type_="SMS")
    assert server.received[0].json() == {"from": "+18445550001", "to": "+13125550002", "text": "hi", "type": "SMS"}


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m: m.send(text="hi"), TypeError, "send() missing required keyword arguments: to"),
        (lambda m: m.send(to="+1", colour="red"), TypeError, "unexpected keyword arguments: colour"),
        (lambda m: m.send(to="+1", text=5), TypeError, "send(): text must be str, got int"),
        (lambda m: m.send(to=""), ValueError, "send(): to must not be empty"),
        (lambda m: m.send_group_mms(from_="+1", to=[]), ValueError, "to must not be empty"),
        (lambda m: m.send(to="+1", media_urls="http://x"), TypeError, "media_urls must be a list of str"),
        (lambda m: m.send(to="+1", auto_detect="yes"), TypeError, "auto_detect must be bool"),
        (
            lambda m: m.send_with_alphanumeric_sender(from_="Acme", to="+1", text="x", messaging_profile_id="nope"),
            ValueError,
            "messaging_profile_id must be a UUID",
        ),
        (lambda m: m.schedule(to="+1", send_at=__import__("datetime").datetime(2030, 1, 1)), ValueError, "timezone"),
        (lambda m: m.cancel_scheduled(12), ValueError, "id must be a UUID, got 12"),
        (
            lambda m: m.send(to="+1", media_urls=[f"https://x.example/{i:060}" for i in range(20_000)]),
            ValueError,
            "over the 1048576 the client sends; the largest argument is media_urls",
        ),
    ],
)
def test_bad_input_is_refused_before_any_request(
    server: LoopbackServer, call: Any, error: type[Exception], message: str
) -> None:
    with Telnyx(api_key=API_KEY, base_url=server.base_url) as client, pytest.raises(error) as caught:
        call(client.messages)
    assert message in str(caught.value)
    assert server.received == []
