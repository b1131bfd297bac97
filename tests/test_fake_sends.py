"""What the fake makes of a send, held to the spec: what the API sets (when it was received, its
direction, no errors yet), the request's own choices (its type), the spec example's empties where the
answer's objects have them (a recipient's, a medium's: not yet known), and the spec's example where a
required field is given by nothing else. Where today's spec cannot tell a rule apart, a copy of it
changed in one place can."""

from __future__ import annotations

import copy
import datetime
import time
from typing import Any

import httpx2
import pytest
from telnyx_messages.testing import ACCOUNT_MPS, SENDER_MPS, FakeClock, FakeTelnyx, FakeTelnyxError
from telnyx_messages.testing._fake import _copied as copied
from telnyx_messages.testing._fake import _empties as left_empty
from telnyx_messages.testing._spec import Spec

from .support.spec import JSON_BODY, absent, at, message_pointer, resolve, where_is

URL = "https://api.telnyx.com/v2"
AUTHORIZED = {"Authorization": "Bearer k"}
BODY = {"to": "+13125550002", "from": "+18445550001", "text": "Hi"}


def _send(fake: FakeTelnyx, body: dict[str, Any]) -> dict[str, Any]:
    with httpx2.Client(transport=fake.transport(), base_url=URL) as http:
        answer = http.post("/messages", json=body, headers=AUTHORIZED)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def _changed() -> tuple[dict[str, Any], dict[str, Any]]:
    """A copy of the spec, and its message schema (what SendMessage answers as data), to change."""
    document = copy.deepcopy(FakeTelnyx().spec.document)
    return document, resolve(document, at(document, message_pointer(document)))


def _fake_on(document: dict[str, Any]) -> FakeTelnyx:
    fake = FakeTelnyx()
    fake.spec = Spec(document)
    return fake


def _empties(value: Any) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is None or v == [] or v == {}} if isinstance(value, dict) else {}


def test_a_sent_message_was_received_now_and_has_no_errors_yet() -> None:
    fake = FakeTelnyx()
    message = resolve(fake.spec.document, at(fake.spec.document, message_pointer(fake.spec.document)))
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    data = _send(fake, BODY)
    after = datetime.datetime.now(datetime.UTC)
    if "received_at" in message["properties"]:
        assert before <= datetime.datetime.fromisoformat(data["received_at"]) <= after
    if "errors" in message["properties"]:
        assert data["errors"] == []


def test_errors_are_none_yet_whatever_the_example_shows() -> None:
    document, message = _changed()
    message.setdefault("properties", {})["errors"] = {"type": "array", "items": {"type": "object"}}
    message["example"] = {**message.get("example", {}), "errors": [{"code": "40001"}]}
    assert _send(_fake_on(document), BODY)["errors"] == []


@pytest.mark.parametrize(
    ("enum", "expected"),
    [(None, "outbound"), (["inbound", "outbound"], "outbound"), (["inbound", "sideways"], "inbound")],
)
def test_a_sent_message_is_outbound_or_else_the_first_direction_the_spec_takes(
    enum: list[str] | None, expected: str
) -> None:
    document, message = _changed()
    message["properties"]["direction"] = {"type": "string"} | ({"enum": enum} if enum else {})
    assert _send(_fake_on(document), BODY)["direction"] == expected


def _request_properties(document: dict[str, Any]) -> dict[str, Any]:
    """The properties of the body POST /messages takes (its own, and those of what it is composed of)."""
    body = resolve(document, document["paths"]["/messages"]["post"]["requestBody"])
    schema = resolve(document, body["content"]["application/json"]["schema"])
    properties: dict[str, Any] = {}
    for part in [schema, *(resolve(document, s) for s in schema.get("allOf", []))]:
        properties |= part.get("properties", {})
    return properties


def test_the_type_the_request_chose_is_the_messages() -> None:
    fake = FakeTelnyx()
    document = fake.spec.document
    message = resolve(document, at(document, message_pointer(document)))
    # The types a message may have that this request may ask for (a later spec's message types
    # include RCS and WHATSAPP, which other operations send).
    asked = resolve(document, _request_properties(document)["type"]).get("enum") or []
    kinds = [kind for kind in resolve(document, message["properties"]["type"]).get("enum") or [] if kind in asked]
    assert kinds
    for kind in kinds:
        assert _send(fake, {**BODY, "type": kind})["type"] == kind


def test_a_medium_holds_its_url_and_what_the_examples_medium_leaves_empty() -> None:
    fake = FakeTelnyx()
    message = at(fake.spec.document, message_pointer(fake.spec.document))
    shown = fake.spec.example(message).get("media") or [{}]
    urls = ["https://example.com/a.png", "https://example.com/b.png"]
    data = _send(fake, {**BODY, "media_urls": urls})
    assert data["media"] == [{**_empties(shown[0]), "url": url} for url in urls]


@pytest.mark.parametrize("shown", [None, []], ids=["no media", "empty media"])
def test_a_medium_is_its_url_alone_where_the_example_shows_no_medium(shown: list[Any] | None) -> None:
    document, message = _changed()
    example = {name: value for name, value in FakeTelnyx().spec.example(message).items() if name != "media"}
    message["example"] = example if shown is None else {**example, "media": shown}
    urls = ["https://example.com/a.png", "https://example.com/b.png"]
    assert _send(_fake_on(document), {**BODY, "media_urls": urls})["media"] == [{"url": url} for url in urls]


def test_a_recipient_and_the_sender_hold_what_the_example_leaves_empty_and_no_other_of_its_values() -> None:
    document, message = _changed()
    example = copy.deepcopy(FakeTelnyx().spec.example(message))
    empty = absent([*example["to"][0], *example["from"]], "carrier")
    example["to"][0] |= {empty: None, "shown": "illustration"}
    example["from"] |= {empty: None, "shown": "illustration"}
    message["example"] = example
    data = _send(_fake_on(document), BODY)
    assert [to[empty] for to in data["to"]] == [None] and data["from"][empty] is None
    assert all("shown" not in part for part in [*data["to"], data["from"]])


@pytest.mark.parametrize(("enum", "expected"), [(["sending", "sent"], "sending"), (None, "queued")])
def test_a_recipients_status_is_queued_or_else_the_first_the_spec_takes(enum: list[str] | None, expected: str) -> None:
    document, message = _changed()
    recipient = resolve(document, resolve(document, message["properties"]["to"])["items"])
    recipient["properties"]["status"] = {"type": "string"} | ({"enum": enum} if enum else {})
    assert [to["status"] for to in _send(_fake_on(document), BODY)["to"]] == [expected]


def test_a_required_field_nothing_else_gives_is_the_specs_example() -> None:
    document, message = _changed()
    wanted = absent(message["properties"], "region")
    message["properties"][wanted] = {"type": "string"}
    message["example"] = {**message.get("example", {}), wanted: "us-east", "text": "an illustration"}
    message["required"] = [*message.get("required", []), wanted, "text"]
    data = _send(_fake_on(document), BODY)
    assert data[wanted] == message["example"][wanted] and data["text"] == BODY["text"]


def test_the_fakes_error_names_what_it_made() -> None:
    document, message = _changed()
    message["properties"]["id"]["maxLength"] = 1  # a UUID never fits
    with pytest.raises(FakeTelnyxError, match=r"made a message the spec refuses"):
        _send(_fake_on(document), BODY)
    document, message = _changed()
    envelope = resolve(document, at(document, where_is(document, "SendMessage", "responses", "200", *JSON_BODY)))
    wanted = absent(envelope["properties"], "meta")
    envelope["properties"][wanted] = {"type": "object"}
    envelope["required"] = [*envelope.get("required", []), wanted]
    with pytest.raises(FakeTelnyxError, match=r"made a response the spec refuses"):
        _send(_fake_on(document), BODY)


def test_received_at_is_utc_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Etc/GMT-9")
    time.tzset()
    try:
        before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        data = _send(FakeTelnyx(), BODY)
        assert before <= datetime.datetime.fromisoformat(data["received_at"]) <= datetime.datetime.now(datetime.UTC)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_field_typed_by_a_list_or_untyped_or_listing_untyped_items_is_taken_as_sent() -> None:
    document, message = _changed()
    to = resolve(document, message["properties"]["to"])
    message["properties"]["to"] = {**to, "type": ["array", "null"]}
    message["properties"]["subject"] = {"description": "untyped"}
    data = _send(_fake_on(document), {**BODY, "subject": "Re"})
    assert [item["phone_number"] for item in data["to"]] == [BODY["to"]] and data["subject"] == "Re"
    document, message = _changed()
    listed = absent(message["properties"], "labels")
    message["properties"][listed] = {"type": "array"}
    assert _send(_fake_on(document), {**BODY, listed: "urgent"})[listed] == ["urgent"]


def test_what_the_schema_fixes_is_the_messages_whatever_the_example_shows() -> None:
    document, message = _changed()
    names = [absent(message["properties"], name) for name in ("fixed_const", "fixed_default", "fixed_enum", "open")]
    const, default, only, open_ = names
    message["properties"] |= {
        const: {"const": "C"},
        default: {"type": "string", "default": "D"},
        only: {"type": "string", "enum": ["E"]},
        open_: {"type": "string", "enum": ["x", "y"]},
    }
    message["example"] = {**message.get("example", {}), **{name: "shown" for name in names}}
    data = _send(_fake_on(document), BODY)
    assert (data[const], data[default], data[only]) == ("C", "D", "E") and open_ not in data


def test_a_recipient_without_an_example_holds_its_number_and_status() -> None:
    document, message = _changed()
    message["example"] = {}
    assert _send(_fake_on(document), BODY)["to"] == [{"phone_number": BODY["to"], "status": "queued"}]


def test_a_keyed_request_is_answered_with_the_specs_success_status_and_a_keyed_cancel_cancels() -> None:
    fake = FakeTelnyx()
    with httpx2.Client(transport=fake.transport(), base_url=URL) as http:
        keyed = {**AUTHORIZED, "Idempotency-Key": "order-42"}
        body = {**BODY, "send_at": "2030-01-01T00:00:00Z"}
        first = http.post("/messages/schedule", json=body, headers=keyed)
        again = http.post("/messages/schedule", json=body, headers=keyed)
        cancelled = http.delete(
            f"/messages/{first.json()['data']['id']}", headers={**AUTHORIZED, "Idempotency-Key": "c-1"}
        )
    assert (first.status_code, again.status_code, cancelled.status_code) == (200, 200, 200), cancelled.text
    assert again.json() == first.json()
    assert cancelled.json().get("data", cancelled.json())["id"] == first.json()["data"]["id"]


def test_a_message_schema_without_a_type_gets_none() -> None:
    document, message = _changed()
    del message["properties"]["type"]
    assert "type" not in _send(_fake_on(document), BODY)


# --- which queues a send waits in (on a FakeClock) --------------------------------------------------

START = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)
SHORT_CODE = "12345"  # a short code sends 1,000 a second: the account's queue for the type holds a burst


def _waits(fake: FakeTelnyx, path: str, body: dict[str, Any], count: int = 3) -> list[float]:
    with httpx2.Client(transport=fake.transport(), base_url=URL) as http:
        for _ in range(count):
            answer = http.post(path, json=body, headers=AUTHORIZED)
            assert answer.status_code == 200, answer.text
    return fake.waits


def test_a_send_waits_in_the_account_queue_of_the_type_the_request_chose() -> None:
    fake = FakeTelnyx(clock=FakeClock(START))
    mms = ACCOUNT_MPS["MMS"]  # an MMS without media: its type is the request's, not guessed from media_urls
    assert _waits(fake, "/messages", {**BODY, "from": SHORT_CODE, "type": "MMS"}) == [0.0, 1 / mms, 2 / mms]


@pytest.mark.parametrize(
    ("media", "kind"), [({"media_urls": ["https://example.com/a.png"]}, "MMS"), ({}, "SMS")], ids=["MMS", "SMS"]
)
def test_without_a_type_in_the_message_media_urls_make_a_send_wait_as_an_mms(media: dict[str, Any], kind: str) -> None:
    document, message = _changed()
    del message["properties"]["type"]
    fake = FakeTelnyx(clock=FakeClock(START))
    fake.spec = Spec(document)
    rate = ACCOUNT_MPS[kind]
    assert _waits(fake, "/messages", {**BODY, "from": SHORT_CODE, **media}) == [0.0, 1 / rate, 2 / rate]


def test_a_group_message_from_a_us_long_code_waits_at_the_rate_for_its_first_recipient() -> None:
    fake = FakeTelnyx(clock=FakeClock(START))
    body = {"from": "+13125550001", "to": ["+13125550002", "+442071234567"], "text": "Hi"}
    rate = SENDER_MPS["us_long_code"]  # a +1 number to a +1 number (the first recipient), below the account's
    assert _waits(fake, "/messages/group_mms", body, 2) == [0.0, 1 / rate]


def test_a_wait_the_message_schema_requires_is_kept_when_the_message_is_read_back() -> None:
    document, message = _changed()
    message["required"] = [*(message.get("required") or []), "wait_seconds"]
    fake = FakeTelnyx(clock=FakeClock(START))
    fake.spec = Spec(document)
    sent = _send(fake, BODY)
    with httpx2.Client(transport=fake.transport(), base_url=URL) as http:
        read = http.get(f"/messages/{sent['id']}", headers=AUTHORIZED)
    assert read.status_code == 200 and read.json()["data"]["wait_seconds"] == sent["wait_seconds"] == 0.0


def test_a_group_message_with_no_recipient_waits_at_the_long_code_rate() -> None:
    fake = FakeTelnyx(clock=FakeClock(START))
    rate = SENDER_MPS["long_code"]  # no destination to make it a US one
    assert _waits(fake, "/messages/group_mms", {"from": "+13125550001", "to": [], "text": "Hi"}, 2) == [0.0, 1 / rate]


def test_what_an_example_leaves_empty_is_null_an_empty_list_or_object_and_nothing_else() -> None:
    shown = {
        "none": None,
        "list": [],
        "object": {},
        "listed": ["x"],
        "held": {"a": 1},
        "zero": 0,
        "blank": "",
        "no": False,
    }
    empties = left_empty(shown)
    assert empties == {"none": None, "list": [], "object": {}}
    assert empties["list"] is not shown["list"] and empties["object"] is not shown["object"]  # new ones


def test_received_at_is_the_clocks_time_to_the_millisecond() -> None:
    start = datetime.datetime(2026, 12, 7, 13, 0, 5, 999_999, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    fake = FakeTelnyx(clock=FakeClock(start))
    data = _send(fake, BODY)
    message = resolve(fake.spec.document, at(fake.spec.document, message_pointer(fake.spec.document)))
    if "received_at" in message["properties"]:
        assert data["received_at"] == "2026-12-07T11:00:05.999Z"  # UTC, cut (not rounded) to milliseconds


def test_the_example_and_fresh_message_of_a_message_schema_are_made_once() -> None:
    fake = FakeTelnyx()
    message = resolve(fake.spec.document, at(fake.spec.document, message_pointer(fake.spec.document)))
    made: list[Any] = []
    example = fake.spec.example

    def counted(schema: Any) -> Any:
        if isinstance(schema, dict) and schema.get("properties") == message["properties"]:
            made.append(schema)
        return example(schema)

    fake.spec.example = counted  # type: ignore[method-assign]
    _send(fake, BODY)
    first = len(made)
    _send(fake, BODY)
    _send(fake, BODY)
    assert first > 0 and len(made) == first  # the later sends read what the first made


def test_a_copy_of_a_template_shares_no_object_or_list_with_it() -> None:
    template = {"to": [{"phone_number": None, "carrier": ""}], "media": [], "cost": {"amount": None}, "n": 1}
    made = copied(template)
    assert made == template
    assert made is not template and made["to"] is not template["to"] and made["to"][0] is not template["to"][0]
    assert made["media"] is not template["media"] and made["cost"] is not template["cost"]
    made["to"][0]["carrier"] = "changed"
    assert template["to"][0]["carrier"] == ""


def test_a_send_does_not_change_what_the_next_starts_from() -> None:
    fake = FakeTelnyx()
    first = _send(fake, {**BODY, "subject": "first", "webhook_url": "https://example.com/hook"})
    second = _send(fake, BODY)
    assert first["subject"] == "first" and second.get("subject") != "first"
    assert first["webhook_url"] == "https://example.com/hook" and second.get("webhook_url") != first["webhook_url"]


def test_what_an_operation_answers_is_read_off_the_spec_once() -> None:
    fake = FakeTelnyx()
    operation, _ = fake.spec.route("POST", "/v2/messages")
    read = fake._answer_of(operation)
    assert fake._answer_of(operation) is read and read.operation is operation
    assert read.schema is fake._response_schema(operation) and read.enveloped
    assert read.message is not None and "id" in read.message["properties"]


def test_a_send_by_an_operation_the_client_has_no_model_for_is_kept_as_its_document() -> None:
    document, _ = _changed()
    post = document["paths"]["/messages"]["post"]
    post["operationId"] = absent(
        [
            operation["operationId"]
            for path in document["paths"].values()
            for operation in path.values()
            if isinstance(operation, dict) and "operationId" in operation
        ],
        "SendMessageLater",
    )
    fake = FakeTelnyx()
    fake.spec = Spec(document)
    data = _send(fake, BODY)
    (kept,) = fake.sent
    assert isinstance(kept, dict) and kept["id"] == data["id"] and kept["to"] == data["to"]
    assert fake._models == {post["operationId"]: None}


def test_what_a_send_keeps_in_sent_is_the_clients_model_of_the_message_it_answered() -> None:
    from telnyx_messages._api import models

    fake = FakeTelnyx()
    data = _send(fake, BODY)
    (kept,) = fake.sent
    assert kept == models.MessageSendResponse.from_dict({"data": data}).data
    assert kept.id == data["id"]
