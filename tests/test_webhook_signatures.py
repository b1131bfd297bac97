"""Webhook signatures: malformed timestamps, one unwrap signature for the module and the client, the
client's tolerance."""

from __future__ import annotations

import json
import time

import pytest
from telnyx_messages import (
    webhooks,
)


@pytest.mark.parametrize("timestamp", ["9" * 400, "9" * 5000, "²", "\uff11\uff12\uff13", "-5", ""])
def test_a_malformed_webhook_timestamp_is_a_malformed_webhook(timestamp: str) -> None:
    headers = {"telnyx-timestamp": timestamp, "telnyx-signature-ed25519": "A" * 88}
    with pytest.raises(webhooks.MalformedWebhookError):
        webhooks.verify(b"{}", headers, key="A" * 43 + "=")


def test_both_unwraps_take_the_same_arguments() -> None:
    import inspect

    module = inspect.signature(webhooks.unwrap)
    method = inspect.signature(webhooks.Webhooks("A" * 43 + "=").unwrap)
    assert list(module.parameters) == list(method.parameters) == ["payload", "headers", "key", "tolerance"]
    assert {name: p.kind for name, p in module.parameters.items()} == {
        name: p.kind for name, p in method.parameters.items()
    }


def test_client_webhooks_take_the_tolerance_and_default_to_300_seconds() -> None:
    import base64

    from nacl.signing import SigningKey

    key = SigningKey.generate()
    public = base64.b64encode(bytes(key.verify_key)).decode()
    body = json.dumps({"data": {"event_type": "message.teleported"}}).encode()

    def signed(age: int) -> dict[str, str]:
        when = str(int(time.time()) - age)
        signature = key.sign(when.encode() + b"|" + body).signature
        return {"telnyx-timestamp": when, "telnyx-signature-ed25519": base64.b64encode(signature).decode()}

    receiver = webhooks.Webhooks(public)
    with pytest.raises(webhooks.TimestampOutOfToleranceError):
        receiver.unwrap(body, signed(300))  # 300 s and a fraction old: past the default
    assert receiver.unwrap(body, signed(500), tolerance=1000) is not None
