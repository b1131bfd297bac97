"""Every operation of the spec through the overlay, sync and async, against a loopback server."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from telnyx_messages import NOT_GIVEN, APIConnectionError, AsyncTelnyx, NotGiven, Telnyx

from .support import API_KEY, MESSAGE_ID
from .support.server import LoopbackServer, Reply, use_client
from .support.spec import CASES, SPEC, OperationCase, call_arguments, example_of, message_example, normalised


def _call_arguments(case: OperationCase) -> tuple[list[str], dict[str, Any], dict[str, Any] | None, str]:
    path_values, kwargs, document, query = call_arguments(SPEC, case)
    expected_path = case.path
    for (_, wire), value in zip(case.operation.path_parameters, path_values, strict=True):
        expected_path = expected_path.replace("{" + wire + "}", value)
    if query:
        expected_path += "?" + urlencode(query)
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
    assert isinstance(result, case.result_class)
    assert normalised(result.to_dict(mode="json")) == normalised(response)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
def test_operation_sync(case: OperationCase, server: LoopbackServer) -> None:
    response = example_of(SPEC, case.response_schema)
    server.reply(Reply(200, response))
    path_values, kwargs, document, path = _call_arguments(case)
    with Telnyx(api_key=API_KEY, base_url=server.base_url) as client:
        result = case.bound(client.messages)(*path_values, **kwargs)
    _check(case, server, result, document, path, response)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
async def test_operation_async(case: OperationCase, server: LoopbackServer) -> None:
    response = example_of(SPEC, case.response_schema)
    server.reply(Reply(200, response))
    path_values, kwargs, document, path = _call_arguments(case)
    async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
        result = await case.bound(client.messages)(*path_values, **kwargs)
    _check(case, server, result, document, path, response)


def test_spec_defaults_are_not_sent(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": message_example()}))
    with Telnyx(api_key=API_KEY, base_url=server.base_url) as client:
        client.messages.send_long_code(from_="+18445550001", to="+13125550002", text="hi", type="SMS")
    assert server.received[0].json() == {"from": "+18445550001", "to": "+13125550002", "text": "hi", "type": "SMS"}


def _card_at(index: Any) -> dict[str, Any]:
    """A WhatsApp interactive message with one card at this index (in every spec version since 2026-02)."""
    return {"interactive": {"action": {"cards": [{"card_index": index}]}}}


def _at_location(latitude: Any, longitude: Any) -> dict[str, Any]:
    """An RCS agent message with one suggestion: view the location at these coordinates."""
    lat_long = {"latitude": latitude, "longitude": longitude}
    return {"content_message": {"suggestions": [{"action": {"view_location_action": {"lat_long": lat_long}}}]}}


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m: m.send(text="hi"), TypeError, "missing 1 required keyword-only argument: 'to'"),
        (lambda m: m.send(to="+1", colour="red"), TypeError, "unexpected keyword argument 'colour'"),
        (lambda m: m.send(to="+1", type_="SMS"), TypeError, "unexpected keyword argument 'type_'"),
        (lambda m: m.send(to="+1", text=5), TypeError, "send(): text must be str, got int"),
        (lambda m: m.send(to=""), ValueError, "send(): to must not be empty"),
        (lambda m: m.rcs.generate_deeplink(""), ValueError, "generate_deeplink(): agent_id must not be empty"),
        (
            lambda m: m.rcs.generate_deeplink(".."),
            ValueError,
            "generate_deeplink(): agent_id must not be '..', which would send the request to another path",
        ),
        (lambda m: m.rcs.generate_deeplink("."), ValueError, "generate_deeplink(): agent_id must not be '.', which"),
        (lambda m: m.send_group_mms(from_="+1", to=[]), ValueError, "to must not be empty"),
        (lambda m: m.send_group_mms(from_="+1", to=()), ValueError, "to must not be empty"),
        (
            lambda m: m.send(to="+1", media_urls="http://x"),
            TypeError,
            "media_urls must be a list or tuple of str, got str",
        ),
        (
            lambda m: m.send(to="+1", media_urls=b"http://x"),
            TypeError,
            "media_urls must be a list or tuple of str, got bytes",
        ),
        (lambda m: m.send(to="+1", media_urls=("http://x", 1)), TypeError, "media_urls[1] must be str, got int"),
        (lambda m: m.send(to="+1", media_urls=["http://x", 1]), TypeError, "media_urls[1] must be str, got int"),
        (lambda m: m.send(to="+1", auto_detect="yes"), TypeError, "auto_detect must be bool"),
        (lambda m: m.send(to="+1", type="FAX"), ValueError, "send(): type must be one of 'SMS', 'MMS', got 'FAX'"),
        (lambda m: m.send(to="+1", type=5), TypeError, "send(): type must be one of 'SMS', 'MMS' or"),
        (
            lambda m: m.whatsapp(from_="+1", to="+2", whatsapp_message={"type": "text", "txt": {}}),
            TypeError,
            "whatsapp(): whatsapp_message has unknown keys ['txt']",
        ),
        (
            lambda m: m.whatsapp(from_="+1", to="+2", whatsapp_message={"type": "telepathy"}),
            ValueError,
            "whatsapp_message['type'] must be one of 'audio', ",
        ),
        (
            lambda m: m.whatsapp(from_="+1", to="+2", whatsapp_message={"image": {"caption": 5}}),
            TypeError,
            "whatsapp_message['image']['caption'] must be str, got int",
        ),
        (
            lambda m: m.rcs.send(agent_id="a", to="+2", messaging_profile_id="p", agent_message={"event": []}),
            TypeError,
            "agent_message['event'] must be a dict (RCSEventParam), got list",
        ),
        (
            lambda m: m.schedule(to="+1", send_at=__import__("datetime").datetime(2030, 1, 1)),
            ValueError,
            "send_at must be timezone-aware, got naive 2030-01-01T00:00:00",
        ),
        (lambda m: m.schedule(to="+1", send_at="tomorrow"), ValueError, "send_at must be an ISO 8601 date-time"),
        (
            lambda m: m.send(to="+1", send_at=5),
            TypeError,
            "send(): send_at must be a timezone-aware datetime or its ISO 8601 text or None, got int",
        ),
        (
            lambda m: m.send(to="+1", send_at="2030-01-01T00:00:00"),
            ValueError,
            "send(): send_at must be timezone-aware, got '2030-01-01T00:00:00' (no offset)",
        ),
        (
            lambda m: m.whatsapp(from_="+1", to="+2", whatsapp_message={"txt": {}, 5: 1}),
            TypeError,
            "whatsapp(): whatsapp_message has unknown keys ['txt', 5]; WhatsappMessageContentParam takes ['audio', ",
        ),
        (
            lambda m: m.rcs.send(
                agent_id="a",
                to="+2",
                messaging_profile_id="p",
                agent_message={"content_message": {"rich_card": {"carousel_card": {"card_contents": []}}}},
            ),
            TypeError,
            "send(): agent_message['content_message']['rich_card']['carousel_card'] is missing the required keys "
            "['card_width']",
        ),
        (
            lambda m: m.send_group_mms(from_="+1", to="+2"),
            TypeError,
            "send_group_mms(): to must be a list or tuple of str, got str",
        ),
        (
            lambda m: m.rcs.send(
                agent_id="a", to="+2", messaging_profile_id="p", agent_message=_at_location("1.5", 2.0)
            ),
            TypeError,
            "['view_location_action']['lat_long']['latitude'] must be float, got str",
        ),
        (
            lambda m: m.rcs.send(
                agent_id="a", to="+2", messaging_profile_id="p", agent_message=_at_location(1.5, True)
            ),
            TypeError,
            "['view_location_action']['lat_long']['longitude'] must be float, got bool",
        ),
        (
            lambda m: m.whatsapp(from_="+1", to="+2", whatsapp_message=_card_at("0")),
            TypeError,
            "whatsapp(): whatsapp_message['interactive']['action']['cards'][0]['card_index'] must be int, got str",
        ),
        (
            lambda m: m.whatsapp(from_="+1", to="+2", whatsapp_message=_card_at(False)),
            TypeError,
            "whatsapp_message['interactive']['action']['cards'][0]['card_index'] must be int, got bool",
        ),
        (lambda m: m.cancel_scheduled("nope"), ValueError, "cancel_scheduled(): id must be a UUID, got 'nope'"),
        (lambda m: m.cancel_scheduled(12), TypeError, "cancel_scheduled(): id must be str or UUID, got int"),
        (
            lambda m: m.send(to="+1", extra_headers={"X-A": "1\r\nX-B: 2"}),
            ValueError,
            "extra_headers: the value of X-A holds a line break or NUL",
        ),
        (lambda m: m.send(to="+1", extra_headers={"Authorization": "Bearer x"}), ValueError, "pass api_key="),
        (
            lambda m: m.send(to="+1", idempotency_key="k\n"),
            ValueError,
            "idempotency_key: the value of Idempotency-Key holds a line break or NUL",
        ),
        (lambda m: m.retrieve(MESSAGE_ID, extra_body={"a": 1}), ValueError, "sends no body"),
        (lambda m: m.send(to="+1", max_retries=-1), ValueError, "max_retries must be an int >= 0, got -1"),
        (
            lambda m: m.send(to="+1", media_urls=[f"https://x.example/{i:060}" for i in range(20_000)]),
            ValueError,
            "over the 1048576 the client sends; the largest argument is media_urls",
        ),
    ],
)
@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
def test_bad_input_is_refused_before_any_request(
    server: LoopbackServer, call: Any, error: type[Exception], message: str, client_class: type[Telnyx]
) -> None:
    with pytest.raises(error) as caught:
        use_client(client_class, server.base_url, call)
    assert message in str(caught.value)
    assert server.received == []


POSTS = [case for case in CASES if case.method == "POST"]


def _keyed(case: OperationCase) -> bool:
    """Whether the operation declares the Idempotency-Key header (natively, or by generation.yml)."""
    return any(p.argument == "idempotency_key" for p in case.operation.header_parameters)


# Each POST with each way of giving a key it takes: made for the call (not given), given, None.
POST_KEYS = [
    pytest.param(case, key, id=f"{case.operation_id}-{name}")
    for case in POSTS
    for key, name in (
        [(NOT_GIVEN, "made"), ("order-42", "given"), (None, "none")] if _keyed(case) else [(NOT_GIVEN, "no header")]
    )
]


@pytest.mark.parametrize(("case", "idempotency_key"), POST_KEYS)
def test_no_message_creating_post_is_replayed_unless_under_one_idempotency_key(
    case: OperationCase, idempotency_key: str | NotGiven | None, server: LoopbackServer
) -> None:
    """A reset after the request went out: the server may have taken it. Every POST of the spec,
    WhatsApp and RCS included, is sent once, or again only under the same Idempotency-Key: the
    caller's, or one made for the call where the spec declares the header and the caller gave none."""
    server.reply(Reply(action="reset"), Reply(200, example_of(SPEC, case.response_schema)))
    path_values, kwargs, _, _ = call_arguments(SPEC, case)
    keyed = _keyed(case)
    with Telnyx(api_key=API_KEY, base_url=server.base_url, max_retries=2) as client:
        call = case.bound(client.messages)
        arguments = {} if idempotency_key is NOT_GIVEN else {"idempotency_key": idempotency_key}
        if not keyed or idempotency_key is None:
            with pytest.raises(APIConnectionError) as caught:
                call(*path_values, **kwargs, **arguments)
            assert caught.value.idempotency_key is None
        else:
            result = case.bound(client.messages.with_raw_response)(*path_values, **kwargs, **arguments)
    sent = [r.headers.get("Idempotency-Key") for r in server.received]
    if not keyed or idempotency_key is None:
        assert sent == [None]
        return
    assert len(sent) == 2 and sent[0] == sent[1] == result.idempotency_key
    if idempotency_key == "order-42":
        assert sent[0] == "order-42"
    else:  # made for the call: a UUID4's text, which the spec's pattern allows
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", sent[0] or "")


@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
def test_none_for_a_nullable_argument_is_sent_as_null(server: LoopbackServer, client_class: type[Telnyx]) -> None:
    server.default = Reply(200, {"data": message_example()})
    use_client(client_class, server.base_url, lambda m: m.send(to="+13125550002", text="hi", send_at=None))
    assert server.received[0].json() == {"to": "+13125550002", "text": "hi", "send_at": None}
    with pytest.raises(TypeError, match="send\\(\\): text must be str, got NoneType"):
        use_client(client_class, server.base_url, lambda m: m.send(to="+13125550002", text=None))
    assert len(server.received) == 1


def test_a_dict_argument_is_sent_with_the_wire_names_of_its_keys(server: LoopbackServer) -> None:
    server.default = Reply(200, {"data": {}})
    fallback = {"from_": "+18445550001", "text": "x"}
    use_client(
        Telnyx,
        server.base_url,
        lambda m: m.rcs.send(agent_id="a", to="+2", messaging_profile_id="p", agent_message={}, mms_fallback=fallback),
    )
    assert server.received[0].json()["mms_fallback"] == {"from": "+18445550001", "text": "x"}


def test_a_plain_datetime_argument_names_what_it_got() -> None:
    import datetime

    from telnyx_messages._request_building import _encode, _Mismatch

    with pytest.raises(_Mismatch) as caught:
        _encode(5, datetime.datetime, "send_at")
    assert caught.value.message == "send_at must be a timezone-aware datetime, got int"


@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
def test_each_kind_of_argument_is_sent_as_the_api_reads_it(server: LoopbackServer, client_class: type[Telnyx]) -> None:
    import datetime
    import uuid

    from telnyx_messages.types import RCSStandaloneCardCardOrientation

    answers = {case.operation_id: Reply(200, example_of(SPEC, case.response_schema)) for case in CASES}
    server.reply(
        *(
            answers[o]
            for o in ["ScheduleMessage"] * 2 + ["GetMessage"] + ["GenerateRCSDeeplink"] * 2 + ["SendRCSMessage"]
        )
    )
    calls = [
        lambda m: m.schedule(to="+2", send_at="2030-01-01T09:30:00+01:00"),  # text: sent as written
        lambda m: m.schedule(to="+2", send_at=datetime.datetime(2030, 1, 1, 8, 30, tzinfo=datetime.UTC)),
        lambda m: m.retrieve(uuid.UUID(MESSAGE_ID)),
        lambda m: m.rcs.generate_deeplink("agent/1?x=#", phone_number="+15555550100", body="hi & bye"),
        lambda m: m.rcs.generate_deeplink("..."),  # dots, but no dot segment
        lambda m: m.rcs.send(
            agent_id="a",
            to="+2",
            messaging_profile_id="p",
            agent_message={
                **_at_location(1, -0.5),
                "content_message": {
                    **_at_location(1, -0.5)["content_message"],
                    "rich_card": {
                        "standalone_card": {
                            "card_orientation": RCSStandaloneCardCardOrientation.HORIZONTAL,
                            "thumbnail_image_alignment": "LEFT",
                            "card_content": {},
                        }
                    },
                },
            },
        ),
    ]
    for call in calls:
        use_client(client_class, server.base_url, call)
    schedule_text, schedule_datetime, retrieve, deeplink, dots, rcs = server.received
    assert schedule_text.json()["send_at"] == "2030-01-01T09:30:00+01:00"
    assert schedule_datetime.json()["send_at"] == "2030-01-01T08:30:00+00:00"
    assert retrieve.path == f"/messages/{MESSAGE_ID}"
    # A path parameter is one segment whatever it holds; query values are encoded.
    assert deeplink.path == "/messages/rcs/deeplinks/agent%2F1%3Fx%3D%23?phone_number=%2B15555550100&body=hi+%26+bye"
    assert dots.path == "/messages/rcs/deeplinks/..."
    sent = rcs.json()["agent_message"]["content_message"]
    assert sent["suggestions"][0]["action"]["view_location_action"]["lat_long"] == {"latitude": 1, "longitude": -0.5}
    assert sent["rich_card"]["standalone_card"]["card_orientation"] == "HORIZONTAL"


def test_a_type_the_client_cannot_check_is_named() -> None:
    """Unit: a hint no branch reads (a template's omission) fails loudly, naming it, rather than
    sending the value unchecked."""
    import typing

    from telnyx_messages._request_building import _encode

    unchecked = typing.TypeVar("unchecked")
    with pytest.raises(TypeError, match=r"^send_at: the client cannot check values of type ~unchecked$"):
        _encode("2030-01-01", unchecked, "send_at")
    # An Annotated hint other than IsoDateTime is such an omission too: its marks would go unread.
    other_text = typing.Annotated[str, "some other mark"]
    with pytest.raises(TypeError, match=r"^send_at: the client cannot check values of type typing.Annotated"):
        _encode("2030-01-01", other_text, "send_at")


@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
def test_a_body_is_compact_utf8_json_and_a_get_has_none(server: LoopbackServer, client_class: type[Telnyx]) -> None:
    server.default = Reply(200, {"data": message_example()})
    use_client(client_class, server.base_url, lambda m: m.send(to="+2", text="héllo ✓"))
    use_client(client_class, server.base_url, lambda m: m.retrieve(MESSAGE_ID))
    post, get = server.received
    assert post.body == '{"to":"+2","text":"héllo ✓"}'.encode()
    assert post.headers["Content-Type"] == "application/json"
    assert "Content-Length" not in get.headers and "Content-Type" not in get.headers and get.body == b""


@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
def test_a_body_of_exactly_the_limit_is_sent_and_one_byte_more_is_not(
    server: LoopbackServer, client_class: type[Telnyx]
) -> None:
    from telnyx_messages._request_building import MAX_BODY_BYTES

    server.default = Reply(200, {"data": message_example()})
    # A subject rather than a text: a text this long is refused first for its parts.
    frame = len(b'{"to":"+2","subject":""}')
    use_client(client_class, server.base_url, lambda m: m.send(to="+2", subject="x" * (MAX_BODY_BYTES - frame)))
    assert len(server.received[0].body) == MAX_BODY_BYTES
    with pytest.raises(ValueError, match=r"^send\(\): the request body is 1048577 bytes, over the 1048576 the client"):
        use_client(client_class, server.base_url, lambda m: m.send(to="+2", subject="x" * (MAX_BODY_BYTES - frame + 1)))
    assert len(server.received) == 1
