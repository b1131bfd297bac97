"""End to end against Prism, the mock made from the spec: every operation, sync and async."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from telnyx_messages import AsyncTelnyx, NotFoundError, Telnyx, UnprocessableEntityError

from .conftest import SPEC_PATH
from .spec_cases import OperationCase, example_of, keyword_arguments, operations

SPEC = yaml.safe_load(SPEC_PATH.read_bytes())
CASES = operations(SPEC)
MESSAGE_ID = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"


def _arguments(case: OperationCase) -> tuple[list[str], dict[str, Any]]:
    document = example_of(SPEC, case.request_schema) if case.request_schema else None
    kwargs = keyword_arguments(case.module.Body, document) if document is not None else {}
    return [MESSAGE_ID for _ in case.module.PATH_PARAMETERS], kwargs


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
def test_operation_against_prism(case: OperationCase, prism: str) -> None:
    path_values, kwargs = _arguments(case)
    with Telnyx(api_key="any", base_url=prism) as client:
        result = getattr(client.messages, case.client_method)(*path_values, **kwargs)
    assert isinstance(result, case.module.Success)
    assert result.to_dict()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
async def test_operation_against_prism_async(case: OperationCase, prism: str) -> None:
    path_values, kwargs = _arguments(case)
    async with AsyncTelnyx(api_key="any", base_url=prism) as client:
        result = await getattr(client.messages, case.client_method)(*path_values, **kwargs)
    assert isinstance(result, case.module.Success)


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
