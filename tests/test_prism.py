"""End to end against Prism: its mock, every operation sync and async; its proxy, checking real traffic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from telnyx_messages import (
    APIResponse,
    APIResponseValidationError,
    AsyncTelnyx,
    NotFoundError,
    Telnyx,
    UnprocessableEntityError,
)

from .support import MESSAGE_ID
from .support.server import LoopbackServer, Reply
from .support.spec import (
    CASES,
    SPEC,
    SPEC_PATH,
    OperationCase,
    absent,
    at,
    call_arguments,
    message_example,
    message_pointer,
    normalised,
    resolve,
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
def test_operation_against_prism(case: OperationCase, prism: str) -> None:
    path_values, kwargs, _, _ = call_arguments(SPEC, case, MESSAGE_ID)
    with Telnyx(api_key="any", base_url=prism) as client:
        result = case.bound(client.messages)(*path_values, **kwargs)
    assert isinstance(result, case.result_class)
    assert result.to_dict(mode="json")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
async def test_operation_against_prism_async(case: OperationCase, prism: str) -> None:
    path_values, kwargs, _, _ = call_arguments(SPEC, case, MESSAGE_ID)
    async with AsyncTelnyx(api_key="any", base_url=prism) as client:
        result = await case.bound(client.messages)(*path_values, **kwargs)
    assert isinstance(result, case.result_class)


def test_an_invalid_request_is_a_422_with_prisms_details(prism: str) -> None:
    # The client checks types and presence; the spec's url format is left to the server.
    with Telnyx(api_key="any", base_url=prism) as client, pytest.raises(UnprocessableEntityError) as caught:
        client.messages.send_with_alphanumeric_sender(
            from_="Acme", to="+13125550002", text="hi", messaging_profile_id=MESSAGE_ID, webhook_url="not a url"
        )
    error = caught.value
    assert error.status_code == 422
    # Prism reports what it found wrong in the sl-violations header.
    (violation,) = json.loads(error.headers["sl-violations"])
    assert violation["location"] == ["request", "body", "webhook_url"]
    assert violation["code"] == "format"


def test_prefer_code_404_is_not_found(prism: str) -> None:
    client = Telnyx(api_key="any", base_url=prism, default_headers={"Prefer": "code=404"})
    with client, pytest.raises(NotFoundError) as caught:
        client.messages.retrieve_group_messages(MESSAGE_ID)
    assert caught.value.status_code == 404


# --- prism proxy: the spec checked on real traffic between the client and a loopback server ----


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[str, LoopbackServer]]:
    from prism import running_prism

    upstream = LoopbackServer()
    with running_prism(SPEC_PATH, upstream=upstream.base_url) as base_url:
        upstream.received.clear()  # Prism's readiness probe
        yield base_url, upstream
    upstream.close()


def _violations(response: APIResponse[Any] | httpx2.Response) -> list[tuple[str, str]]:
    found = json.loads(response.headers.get("sl-violations", "[]"))
    return sorted((".".join(v["location"]), v.get("code", "")) for v in found)


def _through_proxy(proxied: tuple[str, LoopbackServer], body: Any, **headers: str) -> Any:
    base_url, upstream = proxied
    upstream.reply(Reply(200, body, headers))
    with Telnyx(api_key="any", base_url=base_url, max_retries=0) as client:
        return client.messages.with_raw_response.retrieve_group_messages(MESSAGE_ID)


def test_proxy_passes_the_spec_examples_without_violations(proxied: tuple[str, LoopbackServer]) -> None:
    message = message_example()
    response = _through_proxy(proxied, {"data": [message]})
    assert _violations(response) == []
    assert normalised(response.parse().to_dict(mode="json")) == normalised({"data": [message]})
    assert proxied[1].received[-1].path == f"/messages/group/{MESSAGE_ID}"


def test_proxy_reports_an_unknown_enum_value_and_the_client_keeps_it(proxied: tuple[str, LoopbackServer]) -> None:
    known = resolve(SPEC, at(SPEC, message_pointer(SPEC))["properties"]["type"])["enum"]
    unknown = absent(known, "RCS")  # a value the spec lacks
    message = {**message_example(), "type": unknown}
    response = _through_proxy(proxied, {"data": [message]})
    assert _violations(response) == [("response.body.data.0.type", "enum")]
    (parsed,) = response.parse().data
    assert (str(parsed.type), parsed.type.is_known) == (unknown, False)
    assert parsed.to_dict(mode="json")["type"] == unknown


def test_proxy_reports_wrong_types_and_the_client_raises_a_validation_error(
    proxied: tuple[str, LoopbackServer],
) -> None:
    message = {**message_example(), "id": 5, "parts": "three"}
    with pytest.raises(APIResponseValidationError) as caught:
        _through_proxy(proxied, {"data": [message]})
    assert _violations(caught.value.response) == [
        ("response.body.data.0.id", "type"),
        ("response.body.data.0.parts", "type"),
    ]


def test_proxy_reports_a_wrong_media_type_and_the_client_raises_a_validation_error(
    proxied: tuple[str, LoopbackServer],
) -> None:
    with pytest.raises(APIResponseValidationError) as caught:
        _through_proxy(proxied, b"<html>maintenance</html>", **{"Content-Type": "text/html"})
    assert ("response", "") in _violations(caught.value.response)
    assert "text/html" in caught.value.response.headers["sl-violations"]
