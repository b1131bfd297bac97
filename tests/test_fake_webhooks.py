"""The fake's webhooks, held to the spec's `webhooks:`: the message as the fake answers it, an event
the spec lists in any shape it may take, and the fake's error naming the webhook it could not make."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx2
import pytest
from telnyx_messages.testing import FakeTelnyx, FakeTelnyxError
from telnyx_messages.testing._spec import Spec

from .support.spec import absent

URL = "https://api.telnyx.com/v2"
AUTHORIZED = {"Authorization": "Bearer k"}
SEND = {"to": "+13125550002", "from_": "+18445550001", "text": "Hello"}


def _payload(body: bytes) -> Any:
    return json.loads(body)["data"]["payload"]


def _outbound_event_types(fake: FakeTelnyx) -> list[str]:
    """The event types whose payload takes the message as the fake answers it."""
    return [t for t in ("message.sent", "message.finalized") if _has_event(fake.spec, t)]


def _has_event(spec: Spec, event_type: str) -> bool:
    for item in (spec.document.get("webhooks") or {}).values():
        for operation in item.values():
            schema = spec.resolve(operation["requestBody"]["content"]["application/json"]["schema"])
            data = spec.resolve(schema["properties"]["data"])
            if event_type in spec.resolve(data["properties"]["event_type"]).get("enum", []):
                return True
    return False


def test_a_delivery_update_carries_the_message_as_the_fake_answers_it() -> None:
    fake = FakeTelnyx()
    sent = fake.client().messages.send(**SEND).data
    assert sent is not None
    with httpx2.Client(transport=fake.transport(), base_url=URL) as http:
        answered = http.get(f"/messages/{sent.id}", headers=AUTHORIZED).json()["data"]
    types = _outbound_event_types(fake)
    assert types
    for event_type in types:
        for message in (sent, sent.id):  # the model (its date-times as the wire has them), or its id
            body, _ = fake.webhook(event_type, message)
            assert _payload(body) == answered


def _with_webhook(fake: FakeTelnyx, data: dict[str, Any], **event: Any) -> tuple[FakeTelnyx, str]:
    document = copy.deepcopy(fake.spec.document)
    webhooks = document.setdefault("webhooks", {})
    name = absent(webhooks, "oddEvent")
    schema = {"type": "object", "properties": {"data": data, **event}}
    webhooks[name] = {"post": {"requestBody": {"content": {"application/json": {"schema": schema}}}}}
    # first in the list: the lookup meets it before the spec's own events
    document["webhooks"] = {name: webhooks.pop(name), **webhooks}
    changed = FakeTelnyx()
    changed.spec = Spec(document)
    changed._messages = fake._messages
    return changed, name


def test_an_event_without_a_payload_schema_carries_the_message_and_an_untyped_event_is_passed_over() -> None:
    fake = FakeTelnyx()
    sent = fake.client().messages.send(**SEND).data
    assert sent is not None
    untyped, _ = _with_webhook(fake, {"type": "object", "properties": {"event_type": {"type": "string"}}})
    assert _payload(untyped.webhook(_outbound_event_types(fake)[0], sent.id)[0])["id"] == sent.id
    wanted = absent(["message.sent", "message.finalized", "message.received"], "message.odd")
    bare, _ = _with_webhook(fake, {"type": "object", "properties": {"event_type": {"enum": [wanted]}}})
    assert _payload(bare.webhook(wanted, sent.id)[0])["id"] == sent.id


def test_a_webhook_its_spec_refuses_is_the_fakes_error_naming_it() -> None:
    fake = FakeTelnyx()
    sent = fake.client().messages.send(**SEND).data
    assert sent is not None
    wanted = absent(["message.sent", "message.finalized", "message.received"], "message.odd")
    data = {"type": "object", "properties": {"event_type": {"enum": [wanted]}}}
    refusing, name = _with_webhook(fake, data, meta={"type": "integer", "example": "not a number"})
    with pytest.raises(FakeTelnyxError, match=rf"made a webhook {name} the spec refuses"):
        refusing.webhook(wanted, sent.id)


def test_a_payload_takes_each_field_of_the_message_its_schema_takes_and_only_those() -> None:
    fake = FakeTelnyx()
    sent = fake.client().messages.send(**SEND).data
    assert sent is not None
    wanted = absent(["message.sent", "message.finalized", "message.received"], "message.odd")
    payload = {"type": "object", "properties": {"text": {"type": "integer"}, "id": {"type": "string"}}}
    data = {"type": "object", "properties": {"event_type": {"enum": [wanted]}, "payload": payload}}
    odd, _ = _with_webhook(fake, data)
    assert _payload(odd.webhook(wanted, sent.id)[0]) == {"id": sent.id}  # text refused, the rest not its
