"""A message text over the parts the API takes (the spec's `parts` maximum) is refused before it is
sent, naming `text` and its parts; an operation without a `text`, or a spec without the maximum, has
no check."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from generate import text_parts_limits
from telnyx_messages import NOT_GIVEN, AsyncTelnyx, Telnyx
from telnyx_messages._api.types import CallOptions
from telnyx_messages._request_building import _plural, prepare

from .support.server import LoopbackServer, Reply, use_client
from .support.spec import CASES, SPEC, OperationCase, at, call_arguments, example_of, message_pointer, resolve

MAXIMUM = int(resolve(SPEC, at(SPEC, message_pointer(SPEC))["properties"]["parts"])["maximum"])


def _has_text(case: OperationCase) -> bool:
    return case.request_schema is not None and "text" in resolve(SPEC, case.request_schema).get("properties", {})


def _may_be_sms(case: OperationCase) -> bool:
    """Parts are an SMS's: a body with media_urls and no `type` (the group MMS) always makes an MMS."""
    properties = resolve(SPEC, case.request_schema).get("properties", {}) if case.request_schema else {}
    return "type" in properties or "media_urls" not in properties


TEXT_CASES = [case for case in CASES if _has_text(case) and _may_be_sms(case)]
MMS_CASES = [case for case in CASES if _has_text(case) and not _may_be_sms(case)]
MEDIA_CASES = [case for case in TEXT_CASES if any(w == "media_urls" for _, w in case.operation.body_parameters)]


def _argument(case: OperationCase, wire_name: str) -> str:
    (name,) = (name for name, wire in case.operation.body_parameters if wire == wire_name)
    return name


def _text_argument(case: OperationCase) -> str:
    return _argument(case, "text")


def test_some_operations_take_a_text() -> None:
    assert TEXT_CASES and MAXIMUM >= 1


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
def test_an_operation_carries_the_specs_parts_maximum_where_its_body_has_a_text(case: OperationCase) -> None:
    assert case.operation.max_text_parts == (MAXIMUM if _has_text(case) and _may_be_sms(case) else None)


def test_the_group_mms_has_no_parts_limit() -> None:
    assert MMS_CASES and all(case.operation.max_text_parts is None for case in MMS_CASES)


def _over_and_at(case: OperationCase, text: str) -> tuple[list[str], dict[str, Any]]:
    """The example's arguments made an SMS's: no media, `type` SMS where the operation takes one."""
    path_values, kwargs, _, _ = call_arguments(SPEC, case)
    wires = {wire: name for name, wire in case.operation.body_parameters}
    kwargs.pop(wires.get("media_urls", ""), None)
    if "type" in wires:
        kwargs[wires["type"]] = "SMS"
    return path_values, {**kwargs, _text_argument(case): text}


def _takes(case: OperationCase, wire_name: str) -> bool:
    return any(wire == wire_name for _, wire in case.operation.body_parameters)


MMS_CALLS = [(case, "media") for case in MEDIA_CASES] + [(case, "type") for case in TEXT_CASES if _takes(case, "type")]


@pytest.mark.parametrize(("case", "mms"), MMS_CALLS, ids=lambda v: v if isinstance(v, str) else v.operation_id)
def test_an_mms_text_is_sent_whole(case: OperationCase, mms: str, server: LoopbackServer) -> None:
    """Telnyx sends an MMS's text whole: a call with media_urls, or type MMS, is not counted in parts."""
    server.default = Reply(200, example_of(SPEC, case.response_schema))
    path_values, kwargs = _over_and_at(case, "x" * (153 * MAXIMUM + 1))
    if mms == "media":
        kwargs[_argument(case, "media_urls")] = ["https://example.com/a.png"]
    else:
        kwargs[_argument(case, "type")] = "MMS"
    with Telnyx(api_key="KEY_test", base_url=server.base_url) as client:
        case.bound(client.messages)(*path_values, **kwargs)
    (request,) = server.received
    assert len(request.json()["text"]) == 153 * MAXIMUM + 1


@pytest.mark.parametrize("case", TEXT_CASES, ids=lambda c: c.operation_id)
def test_a_gsm7_text_over_the_maximum_is_refused_and_one_at_it_is_sent(
    case: OperationCase, server: LoopbackServer
) -> None:
    server.default = Reply(200, example_of(SPEC, case.response_schema))
    name = case.method_path.split(".")[-1]
    over = 153 * MAXIMUM + 1
    path_values, kwargs = _over_and_at(case, "x" * over)
    expected = (
        f"{name}(): {_text_argument(case)} is {MAXIMUM + 1} parts ({over:,} GSM-7 characters); "
        f"the API takes at most {MAXIMUM}"
    )
    with Telnyx(api_key="KEY_test", base_url=server.base_url) as client:
        with pytest.raises(ValueError) as refused:
            case.bound(client.messages)(*path_values, **kwargs)
        assert str(refused.value) == expected
        assert server.received == []
        path_values, kwargs = _over_and_at(case, "x" * (over - 1))
        case.bound(client.messages)(*path_values, **kwargs)
    (request,) = server.received
    assert request.json()["text"] == "x" * (over - 1)


@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
def test_a_ucs2_text_is_counted_in_67_unit_parts(server: LoopbackServer, client_class: type[Telnyx]) -> None:
    server.default = Reply(200, example_of(SPEC, TEXT_CASES[0].response_schema))
    case = TEXT_CASES[0]
    text = "\u4e2d" * (67 * MAXIMUM) + "😀"  # the emoji's two units make one part more
    path_values, kwargs = _over_and_at(case, text)
    with pytest.raises(ValueError, match=rf"is {MAXIMUM + 1} parts \({67 * MAXIMUM + 1:,} UCS-2 characters\); the"):
        use_client(client_class, server.base_url, lambda m: case.bound(m)(*path_values, **kwargs))
    assert server.received == []
    path_values, kwargs = _over_and_at(case, text[:-1])
    use_client(client_class, server.base_url, lambda m: case.bound(m)(*path_values, **kwargs))
    assert server.received[0].json()["text"] == text[:-1]


def _without_parts_maximum(node: Any) -> Any:
    """A copy of the spec with every `parts` property's maximum left out."""
    if isinstance(node, dict):
        copied = {key: _without_parts_maximum(value) for key, value in node.items()}
        parts = copied.get("properties", {}).get("parts")
        if isinstance(parts, dict):
            parts.pop("maximum", None)
        return copied
    if isinstance(node, list):
        return [_without_parts_maximum(item) for item in node]
    return node


def test_the_generator_hands_each_text_operation_the_maximum_and_none_without_it() -> None:
    assert text_parts_limits(SPEC) == {case.operation_id: MAXIMUM for case in TEXT_CASES}
    assert text_parts_limits(_without_parts_maximum(SPEC)) == {}
    lowered = copy.deepcopy(SPEC)
    resolve(lowered, at(lowered, message_pointer(lowered))["properties"]["parts"])["maximum"] = 2
    assert set(text_parts_limits(lowered).values()) == {2}


def test_an_operation_without_a_maximum_sends_any_text() -> None:
    case = TEXT_CASES[0]
    operation = case.operation._replace(max_text_parts=None)
    with Telnyx(api_key="KEY_test") as client:
        method = case.bound(client.messages)
    _, kwargs, _, _ = call_arguments(SPEC, case)
    arguments: dict[str, object] = {name: NOT_GIVEN for name, _ in operation.body_parameters}
    arguments |= {name: NOT_GIVEN for name, _ in operation.query_parameters}
    arguments |= {parameter.argument: NOT_GIVEN for parameter in operation.header_parameters}
    arguments |= {**kwargs, _text_argument(case): "x" * 10_000}
    request = prepare(operation, method, arguments, CallOptions(), {})
    assert request.content is not None and b'"' + b"x" * 10_000 + b'"' in request.content


def test_a_count_in_a_refusal_is_singular_for_one_and_grouped_by_thousands() -> None:
    assert _plural(1, "part") == "1 part"
    assert _plural(2, "part") == "2 parts"
    assert _plural(0, "GSM-7 character") == "0 GSM-7 characters"
    assert _plural(1_530, "GSM-7 character") == "1,530 GSM-7 characters"
