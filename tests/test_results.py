"""What a caller gets back: types without Unset, the official SDK's names and shapes, presence kept
apart from null, readable reprs, and the raw response's accessors."""

from __future__ import annotations

import asyncio
import copy
import enum
import gc
import json
import pickle
import re
import subprocess
import sys
import typing
import weakref
from typing import Any

import pytest
import telnyx_messages
import telnyx_messages._api.models as generated_models
from telnyx_messages import APIResponse, AsyncTelnyx, Telnyx

from .support import API_KEY, MESSAGE_ID
from .support.contract import is_model
from .support.server import LoopbackServer, Reply, client_for
from .support.spec import CASES, OperationCase, message_example, normalised


def _reachable(hint: Any, seen: set[type]) -> None:
    for member in typing.get_args(hint) or (hint,):
        if typing.get_args(member):
            _reachable(member, seen)
        elif is_model(member) and member not in seen:
            seen.add(member)
            for field_hint in typing.get_type_hints(member).values():
                _reachable(field_hint, seen)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
def test_nothing_a_method_returns_mentions_unset(case: OperationCase) -> None:
    method = case.bound(Telnyx(api_key=API_KEY).messages)
    models: set[type] = set()
    _reachable(typing.get_type_hints(method)["return"], models)
    assert models
    for model in models:
        for name, hint in typing.get_type_hints(model).items():
            assert "Unset" not in str(hint), f"{model.__name__}.{name}: {hint}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
def test_what_a_method_returns_is_importable_from_the_package(case: OperationCase) -> None:
    result = typing.get_type_hints(case.bound(Telnyx(api_key=API_KEY).messages))["return"]
    assert getattr(telnyx_messages, result.__name__) is result
    assert result.__name__ in telnyx_messages.__all__ and result.__name__ in dir(telnyx_messages)


def test_the_package_imports_result_models_only_when_used() -> None:
    code = (
        "import sys, telnyx_messages;"
        "print(sorted(m for m in sys.modules if m.startswith('telnyx_messages._api.models.')));"
        "telnyx_messages.OutboundMessagePayload;"
        "print('telnyx_messages._api.models.outbound_message_payload' in sys.modules)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.split("\n")[:2] == ["[]", "True"]
    with pytest.raises(AttributeError, match="has no attribute 'OutboundMessagePayloadd'"):
        telnyx_messages.OutboundMessagePayloadd  # noqa: B018


def test_a_models_request_typeddict_is_built_on_first_use() -> None:
    """Reading a response builds no ...Param TypedDict (building one compiles its annotations); the
    first use of one builds it, in its module, with its wire names."""
    code = (
        "import sys, typing\n"
        "from telnyx_messages._api.models import OutboundMessagePayload\n"
        "module = sys.modules['telnyx_messages._api.models.outbound_message_payload']\n"
        "print('OutboundMessagePayloadParam' in vars(module))\n"
        "from telnyx_messages._api.models import OutboundMessagePayloadParam as P\n"
        "print(vars(module)['OutboundMessagePayloadParam'] is P, P.__module__ == module.__name__)\n"
        "print(P.__qualname__, P.__wire_names__, typing.is_typeddict(P), 'from_' in P.__optional_keys__)\n"
        "print(hasattr(module, 'NoSuchParam'))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.splitlines() == [
        "False",
        "True True",
        "OutboundMessagePayloadParam {'from_': 'from'} True True",
        "False",
    ]


def test_a_message_reads_as_in_the_official_sdk(server: LoopbackServer) -> None:
    example = message_example()
    server.reply(Reply(200, {"data": example}))
    with client_for(server) as client:
        message = client.messages.send(to="+13125550002", text="hi").data
    assert message is not None
    assert message.type == example["type"] and message.type in ("SMS", "MMS")
    assert message.id == example["id"] and isinstance(message.id, str)
    assert normalised(json.loads(json.dumps(message.to_dict(mode="json")))) == normalised(example)
    assert json.loads(message.to_json()) == json.loads(json.dumps(message.to_dict(mode="json")))
    assert message.cost is not None and message.cost.amount == example["cost"]["amount"]


def test_absent_and_null_both_read_none_and_go_back_as_they_came() -> None:
    example = message_example()
    example["completed_at"] = None  # a null the schema allows
    example["text"] = None  # a null the schema refuses
    del example["subject"]  # absent
    message = generated_models.OutboundMessagePayload.from_dict(example)
    assert message.completed_at is None and message.text is None and message.subject is None
    assert {"completed_at", "text"} <= message.model_fields_set and "subject" not in message.model_fields_set
    document = message.to_dict(mode="json")
    assert document["completed_at"] is None and document["text"] is None and "subject" not in document
    made = generated_models.OutboundMessagePayload(id="x", text=None)
    assert made.to_dict(mode="json") == {"id": "x"} and made.model_fields_set == {"id"}


class _Document(dict[str, Any]):
    """A decoded JSON object a weak reference can point at."""


def test_a_result_does_not_keep_its_document_alive() -> None:
    """What the document held is read at parse time: once the document is gone, absent and null
    fields still go back out as they came, and unknown fields are kept."""
    example = message_example()
    example["completed_at"] = None  # null
    del example["subject"]  # absent
    example["not_in_the_spec"] = "kept"
    document = _Document(example, cost=_Document(example["cost"]), to=[_Document(example["to"][0])])
    left = [weakref.ref(document), weakref.ref(document["cost"]), weakref.ref(document["to"][0])]
    message = generated_models.OutboundMessagePayload.from_dict(document)
    del document
    assert [ref() for ref in left] == [None, None, None]
    assert "completed_at" in message.model_fields_set and "subject" not in message.model_fields_set
    assert normalised(message.to_dict(mode="json")) == normalised(example)


def test_absent_names_reuses_the_last_answer_only_where_it_is_right() -> None:
    """The previous answer is kept for the next document, and given again only where that document
    lacks the same names: same count missing but other names, or an unknown name in a known one's
    place, get a new answer."""
    from telnyx_messages._api.types import absent_names

    names = frozenset(("a", "b", "c", "d"))
    last: list[frozenset[str]] = [frozenset()]

    def absent(document: dict[str, int]) -> frozenset[str]:
        return absent_names(document, names, names.issuperset(document), last)

    first = absent({"a": 1, "b": 2, "c": 3})
    assert first == {"d"} and last[0] is first
    assert absent({"c": 3, "b": 2, "a": 1}) is first  # the same names lacking: the same set
    assert absent({"a": 1, "b": 2, "d": 4}) == {"c"}  # as many lacking, other names
    assert absent({"a": 1, "b": 2, "d": 4, "x": 0}) == {"c"}  # an unknown name beside them
    assert absent({"a": 1, "b": 2, "x": 0}) == {"c", "d"}  # an unknown name where "c" was
    assert absent({"a": 1, "b": 2}) == {"c", "d"} and absent({}) == names
    assert absent({"a": 1, "b": 2, "c": 3, "d": 4}) == frozenset()


_HAVE_GC = 1 << 14  # Py_TPFLAGS_HAVE_GC: the type's objects are the garbage collector's to count and visit


def _collected_objects(root: object) -> int:
    """How many objects of the garbage collector's `root` reaches: each counts towards the next
    collection and may be visited by it. Classes and enum members, which outlive any one result,
    are left out."""
    seen: dict[int, object] = {}
    stack = [root]
    while stack:
        for referent in gc.get_referents(stack.pop()):
            if isinstance(referent, type | enum.Enum) or id(referent) in seen:
                continue
            seen[id(referent)] = referent
            stack.append(referent)
    return sum(1 for found in seen.values() if type(found).__flags__ & _HAVE_GC)


def test_a_result_keeps_no_more_objects_for_the_garbage_collector_than_its_document() -> None:
    """Per message of a group: no more objects the collector visits than the decoded document keeps
    (one model where it has a dict, one list where it has a list), so that a program holding results
    pays the collector what one holding the raw documents pays. Counted over 8 and 16 messages, the
    difference being per message, so that what all results share cancels out."""
    example = message_example()
    example["completed_at"] = None
    del example["subject"]

    def objects_per_message(keep: Any) -> float:
        small, large = ({"data": [dict(example, id=f"m{i}") for i in range(n)]} for n in (8, 16))
        small_text, large_text = json.dumps(small), json.dumps(large)
        counts = [_collected_objects([keep(json.loads(text))]) for text in (small_text, large_text)]
        return (counts[1] - counts[0]) / 8

    result = objects_per_message(generated_models.MessageRetrieveGroupMessagesResponse.from_dict)
    document = objects_per_message(lambda decoded: decoded)
    assert 0 < result <= document, (result, document)


def test_models_compare_by_value_and_match_like_the_dataclasses_they_replace() -> None:
    example = message_example()
    read = generated_models.OutboundMessagePayload.from_dict
    assert read(example) == read(message_example()) and read(example) is not read(example)
    assert read(example) != read({**example, "text": "other"})
    assert read(example) != read({**example, "not_in_the_spec": 1})  # unknown fields count
    cost = generated_models.OutboundMessagePayloadCost(amount="1", currency="USD")
    assert cost == generated_models.OutboundMessagePayloadCost(amount="1", currency="USD")
    assert cost != generated_models.OutboundMessagePayloadCostBreakdownRate(amount="1", currency="USD")
    assert cost != ("1", "USD")
    with pytest.raises(TypeError, match="unhashable"):
        hash(cost)
    match read(example):
        case generated_models.OutboundMessagePayload(cc, completed_at):  # by __match_args__
            assert cc == [] and completed_at is None
        case _:
            pytest.fail("a model matches by its fields")


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("completed_at", 1548267002, "TypeError: completed_at: unexpected int"),  # nullable date-time
        ("completed_at", "yesterday", "ValueError: Invalid isoformat string: 'yesterday'"),
        ("received_at", "yesterday", "ValueError: Invalid isoformat string: 'yesterday'"),  # not nullable
        ("cost", "0.0051 USD", "TypeError: cost: unexpected str"),  # nullable object
    ],
)
def test_a_value_of_the_wrong_type_fails_the_parse_nullable_or_not(
    server: LoopbackServer, field: str, value: object, complaint: str
) -> None:
    example = message_example()
    example[field] = value
    server.reply(Reply(200, {"data": [example]}))
    with client_for(server) as client, pytest.raises(telnyx_messages.APIResponseValidationError) as caught:
        client.messages.retrieve_group_messages(MESSAGE_ID)
    assert str(caught.value).endswith(f"does not parse: {complaint}")


def test_a_result_pickles_and_copies_with_what_its_document_held(server: LoopbackServer) -> None:
    example = message_example()
    del example["subject"]  # absent
    example["completed_at"] = None  # null
    example["not_in_the_spec"] = {"kept": True}
    server.reply(Reply(200, {"data": [example]}))
    with client_for(server) as client:
        group = client.messages.retrieve_group_messages(MESSAGE_ID)
    for copied in (pickle.loads(pickle.dumps(group)), copy.deepcopy(group)):
        assert copied == group and copied is not group
        (message,) = copied.data or []
        assert "completed_at" in message.model_fields_set and "subject" not in message.model_fields_set
        assert message.additional_properties["not_in_the_spec"] == {"kept": True}
        assert (
            copied.to_dict(mode="json") == group.to_dict(mode="json")
            and "subject" not in copied.to_dict(mode="json")["data"][0]
        )


def test_the_repr_of_a_group_shows_what_the_document_held(server: LoopbackServer) -> None:
    example = message_example()
    del example["subject"]
    server.reply(Reply(200, {"data": [example]}))
    with client_for(server) as client:
        text = repr(client.messages.retrieve_group_messages(MESSAGE_ID))
    assert text.startswith("MessageRetrieveGroupMessagesResponse(data=[OutboundMessagePayload(")
    assert "Unset" not in text and not re.search(r" at 0x[0-9a-f]+", text) and "additional_properties" not in text
    assert "subject=" not in text and f"type={example['type']!r}" in text
    assert "Type0" not in text and "Response200" not in text


def test_the_raw_response(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": message_example()}, {"x-request-id": "r9"}))
    with client_for(server) as client:
        raw = client.messages.with_raw_response.retrieve(MESSAGE_ID)
    assert isinstance(raw, APIResponse)
    assert (raw.status_code, raw.headers["x-request-id"], raw.http_request.method) == (200, "r9", "GET")
    assert raw.json()["data"]["id"] == raw.parse().data.id and json.loads(raw.text) == raw.json()  # type: ignore[union-attr]
    assert raw.is_closed
    assert repr(raw) == f"<APIResponse [200] GET /messages/{MESSAGE_ID}>"
    # Read-only, yet it copies and pickles (rebuilt, not set field by field), comparing by value.
    with pytest.raises(AttributeError, match="read-only"):
        raw.parsed = None  # type: ignore[misc]
    copied = copy.copy(raw)
    assert copied == raw and copied is not raw and copied.parsed is raw.parsed
    unpickled = pickle.loads(pickle.dumps(raw))
    assert unpickled.parse() == raw.parse() and unpickled.status_code == 200 and unpickled.json() == raw.json()


def test_the_async_raw_response_is_awaited(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": message_example()}))

    async def run() -> Any:
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            raw = await client.messages.with_raw_response.retrieve(MESSAGE_ID)
            return await raw.parse()

    assert asyncio.run(run()).data is not None
