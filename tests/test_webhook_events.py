"""Typed webhooks: the spec's own webhook examples, signed with a key the test makes, unwrap into the
models of the spec's `webhooks:`; every refusal has its own error; the receiver example runs."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from nacl.signing import SigningKey
from telnyx_messages import AsyncTelnyx, Telnyx, types, webhooks
from telnyx_messages.types import InboundMessageEvent, OutboundMessageEvent

from .support import ROOT, typecheck
from .support.spec import SPEC, example_of
from .support.typecheck import Checked


def webhook_example(name: str) -> dict[str, Any]:
    """The example of what a webhook of the spec delivers, reached through its `webhooks:` entry."""
    schema = SPEC["webhooks"][name]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return dict(example_of(SPEC, schema))


KEY = SigningKey.generate()
PUBLIC = base64.b64encode(bytes(KEY.verify_key)).decode()


def signed(body: bytes, timestamp: int | None = None, key: SigningKey = KEY) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = base64.b64encode(key.sign(stamp.encode() + b"|" + body).signature).decode()
    return {"telnyx-timestamp": stamp, "telnyx-signature-ed25519": signature}


def test_every_event_type_of_the_spec_has_its_model() -> None:
    # These three at least (upstream may add more: each then has its model too).
    assert (
        webhooks.EVENT_TYPES.items()
        >= {
            "message.finalized": "OutboundMessageEvent",
            "message.received": "InboundMessageEvent",
            "message.sent": "OutboundMessageEvent",
        }.items()
    )
    for event_type, model in webhooks.EVENT_TYPES.items():
        assert event_type.startswith("message.") and hasattr(types, model), (event_type, model)


def test_the_inbound_example_unwraps_typed() -> None:
    example = webhook_example("inboundMessage")
    body = json.dumps(example).encode()
    event = webhooks.unwrap(body, signed(body), key=PUBLIC)
    assert isinstance(event, InboundMessageEvent)
    assert event.data is not None and event.data.payload is not None
    payload = event.data.payload
    assert payload.text == example["data"]["payload"]["text"]
    sender = example["data"]["payload"]["from"]["phone_number"]
    assert payload.from_ is not None and payload.from_.phone_number == sender
    assert payload.to is not None and payload.to[0].status == example["data"]["payload"]["to"][0]["status"]


def test_the_delivery_example_unwraps_typed_on_both_clients() -> None:
    example = webhook_example("deliveryUpdate")
    body = json.dumps(example).encode()
    for client in (Telnyx(api_key="k", public_key=PUBLIC), AsyncTelnyx(api_key="k", public_key=PUBLIC)):
        event = client.webhooks.unwrap(body, headers=signed(body))
        assert isinstance(event, OutboundMessageEvent)
        assert event.data is not None and event.data.payload is not None and event.data.payload.to
        assert event.data.payload.to[0].status == example["data"]["payload"]["to"][0]["status"]
        assert event.to_dict(mode="json")["data"]["id"] == example["data"]["id"]


def test_an_unknown_event_type_parses_and_keeps_the_document() -> None:
    document = {"data": {"event_type": "message.teleported", "payload": {"id": "x"}}}
    body = json.dumps(document).encode()
    event = webhooks.unwrap(body, signed(body), key=PUBLIC)
    assert isinstance(event, webhooks.UnknownWebhookEvent)
    from telnyx_messages.types import UnknownWebhookEvent

    assert UnknownWebhookEvent is webhooks.UnknownWebhookEvent
    assert (event.event_type, event.document) == ("message.teleported", document)
    assert isinstance(Telnyx(api_key="k", public_key=PUBLIC).webhooks.unsafe_unwrap(body), webhooks.UnknownWebhookEvent)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda body, headers: (body + b" ", headers), webhooks.InvalidSignatureError),
        (lambda body, headers: (body, signed(body, int(time.time()) - 3600)), webhooks.TimestampOutOfToleranceError),
        (lambda body, headers: (body, signed(body, int(time.time()) + 3600)), webhooks.TimestampOutOfToleranceError),
        (lambda body, headers: (body, {"telnyx-timestamp": headers["telnyx-timestamp"]}), webhooks.MissingHeaderError),
        (lambda body, headers: (body, signed(body, key=SigningKey.generate())), webhooks.InvalidSignatureError),
    ],
    ids=["tampered body", "an hour old", "an hour ahead", "missing signature", "another key"],
)
def test_each_refusal_has_its_error(change: Any, error: type[Exception]) -> None:
    body = json.dumps(webhook_example("deliveryUpdate")).encode()
    changed_body, headers = change(body, signed(body))
    with pytest.raises(error) as caught:
        webhooks.unwrap(changed_body, headers, key=PUBLIC)
    if error is webhooks.TimestampOutOfToleranceError:
        assert "s old" in str(caught.value) or "s in the future" in str(caught.value)


BLOCK_NACL = "raise ModuleNotFoundError(\"No module named 'nacl'\", name='nacl')\n"
WITHOUT_NACL = textwrap.dedent(
    f"""
    from telnyx_messages import webhooks

    headers = {{"telnyx-timestamp": "1", "telnyx-signature-ed25519": "x"}}
    try:
        webhooks.verify(b"{{}}", headers, key="{PUBLIC}")
    except webhooks.MissingDependencyError as error:
        print(error)
    """
)


def test_without_pynacl_the_error_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "nacl").mkdir()
    (tmp_path / "nacl" / "__init__.py").write_text(BLOCK_NACL)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", WITHOUT_NACL], capture_output=True, text=True, env=env)
    assert "pip install 'telnyx-messages[webhooks]'" in result.stdout, result.stderr


TYPED = textwrap.dedent(
    """
    from telnyx_messages import webhooks
    from telnyx_messages.types import InboundMessageEvent

    def text_of(body: bytes, headers: dict[str, str]) -> str | None:
        event = webhooks.unwrap(body, headers)
        if isinstance(event, InboundMessageEvent) and event.data is not None and event.data.payload is not None:
            payload = event.data.payload
            if isinstance(payload.to, list) and payload.to:  # (a later spec may allow a string too)
                print(payload.to[0].status)
            if payload.from_ is not None:
                print(payload.from_.phone_number)
            return payload.text
        return None
    """
)
EVENT_FIELDS = typecheck.program("webhook_event_fields", TYPED)


def test_event_fields_type_check(type_checked: Checked) -> None:
    assert type_checked.errors(EVENT_FIELDS) == [], type_checked.report(EVENT_FIELDS)


def test_without_pynacl_a_receiver_set_up_with_a_key_fails_where_it_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not issubclass(webhooks.MissingDependencyError, webhooks.WebhookVerificationError)
    monkeypatch.setitem(sys.modules, "nacl", None)
    monkeypatch.setitem(sys.modules, "nacl.signing", None)
    for make in (
        lambda: webhooks.Webhooks(PUBLIC),
        lambda: Telnyx(api_key="k", public_key=PUBLIC),
        lambda: AsyncTelnyx(api_key="k", public_key=PUBLIC),
    ):
        with pytest.raises(webhooks.MissingDependencyError, match=r"pip install 'telnyx-messages\[webhooks\]'"):
            make()
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", PUBLIC)
    with pytest.raises(webhooks.MissingDependencyError):
        webhooks.Webhooks()
    monkeypatch.delenv("TELNYX_PUBLIC_KEY")
    assert webhooks.unsafe_unwrap(b"{}") is not None  # nothing to verify: neither PyNaCl nor a key
    with pytest.raises(webhooks.PublicKeyError):  # the key is checked first: a receiver without one is refused
        Telnyx(api_key="k").webhooks  # noqa: B018


def test_the_receiver_example_without_pynacl_answers_500_and_says_why_once(tmp_path: Path) -> None:
    (tmp_path / "nacl").mkdir()
    (tmp_path / "nacl" / "__init__.py").write_text(BLOCK_NACL)
    env = {**os.environ, "TELNYX_PUBLIC_KEY": PUBLIC, "PYTHONPATH": str(tmp_path)}
    receiver = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "webhook_receiver.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert receiver.stdout is not None and receiver.stderr is not None
        url = receiver.stdout.readline().split()[-1]
        inbound = json.dumps(webhook_example("inboundMessage")).encode()
        with httpx2.Client() as http:
            statuses = [http.post(url, content=inbound, headers=signed(inbound)).status_code for _ in range(3)]
    finally:
        receiver.terminate()
        receiver.wait(10)
    log = receiver.stderr.read().splitlines()
    assert statuses == [500, 500, 500]
    assert len(log) == 1 and "pip install 'telnyx-messages[webhooks]'" in log[0], log


def test_the_receiver_example(tmp_path: Path) -> None:
    env = {**os.environ, "TELNYX_PUBLIC_KEY": PUBLIC}
    receiver = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "webhook_receiver.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert receiver.stdout is not None
        url = receiver.stdout.readline().split()[-1]
        inbound = json.dumps(webhook_example("inboundMessage")).encode()
        delivery = json.dumps(webhook_example("deliveryUpdate")).encode()
        unknown = json.dumps({"data": {"event_type": "message.teleported"}}).encode()
        with httpx2.Client() as http:
            statuses = [
                http.post(url, content=inbound, headers=signed(inbound)).status_code,
                http.post(url, content=delivery, headers=signed(delivery)).status_code,
                http.post(url, content=unknown, headers=signed(unknown)).status_code,
                http.post(url, content=inbound + b" ", headers=signed(inbound)).status_code,
                http.post(url, content=inbound, headers={"telnyx-timestamp": "1"}).status_code,
                http.post(url, content=inbound, headers=signed(inbound, int(time.time()) - 3600)).status_code,
                http.post(url, content=b"not json", headers=signed(b"not json")).status_code,
            ]
        assert statuses == [200, 200, 200, 401, 400, 401, 400]
        lines = [receiver.stdout.readline().strip() for _ in range(3)]
    finally:
        receiver.terminate()
        receiver.wait(10)
    payload = webhook_example("inboundMessage")["data"]["payload"]
    sender = payload["from"]["phone_number"]
    assert lines[0] == f"message.received id={payload['id']} from={sender} text={payload['text']!r}"
    assert lines[1].startswith(webhook_example("deliveryUpdate")["data"]["event_type"] + " id=")
    assert lines[2] == "unknown event 'message.teleported' (kept as delivered)"
