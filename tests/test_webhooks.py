"""Webhook verification with keys the test makes."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from nacl.signing import SigningKey
from telnyx_messages import webhooks

EVENT = {"data": {"event_type": "message.finalized", "payload": {"id": "40385f64-5717-4562-b3fc-2c963f66afa6"}}}


def signed(key: SigningKey, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = key.sign(ts.encode() + b"|" + body).signature
    return {"Telnyx-Signature-Ed25519": base64.b64encode(signature).decode(), "Telnyx-Timestamp": ts}


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate()


def public(key: SigningKey) -> str:
    return base64.b64encode(bytes(key.verify_key)).decode()


def test_a_good_webhook_returns_the_event(key: SigningKey, monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps(EVENT).encode()
    assert webhooks.verify(body, signed(key, body), public_key=public(key)) == EVENT
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", public(key))
    lower = {k.lower(): v for k, v in signed(key, body).items()}
    assert webhooks.verify(body.decode(), lower) == EVENT


@pytest.mark.parametrize(
    ("tamper", "error"),
    [
        (lambda b, h: (b + b" ", h), webhooks.InvalidSignatureError),
        (
            lambda b, h: (b, {**h, "Telnyx-Timestamp": str(int(h["Telnyx-Timestamp"]) + 1)}),
            webhooks.InvalidSignatureError,
        ),
        (lambda b, h: (b, {k: v for k, v in h.items() if k != "Telnyx-Timestamp"}), webhooks.MissingHeaderError),
        (lambda b, h: (b, {k: v for k, v in h.items() if "Signature" not in k}), webhooks.MissingHeaderError),
        (lambda b, h: (b, {**h, "Telnyx-Signature-Ed25519": "not base64!"}), webhooks.MalformedWebhookError),
        (lambda b, h: (b, {**h, "Telnyx-Signature-Ed25519": "AAAA"}), webhooks.MalformedWebhookError),
        (lambda b, h: (b, {**h, "Telnyx-Timestamp": "yesterday"}), webhooks.MalformedWebhookError),
    ],
)
def test_tampering_is_caught(key: SigningKey, tamper: Any, error: type[Exception]) -> None:
    body = json.dumps(EVENT).encode()
    bad_body, bad_headers = tamper(body, signed(key, body))
    with pytest.raises(error):
        webhooks.verify(bad_body, bad_headers, public_key=public(key))


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_beyond_the_tolerance_either_way_is_refused(key: SigningKey, offset: int) -> None:
    body = json.dumps(EVENT).encode()
    headers = signed(key, body, int(time.time()) + offset)
    with pytest.raises(webhooks.TimestampOutOfToleranceError):
        webhooks.verify(body, headers, public_key=public(key))
    assert webhooks.verify(body, headers, public_key=public(key), tolerance=400) == EVENT


def test_another_key_or_a_malformed_key_is_refused(key: SigningKey) -> None:
    body = json.dumps(EVENT).encode()
    with pytest.raises(webhooks.InvalidSignatureError):
        webhooks.verify(body, signed(key, body), public_key=public(SigningKey.generate()))
    with pytest.raises(webhooks.MalformedWebhookError, match="32 bytes"):
        webhooks.verify(body, signed(key, body), public_key=base64.b64encode(b"short").decode())
    with pytest.raises(webhooks.WebhookVerificationError, match="TELNYX_PUBLIC_KEY"):
        webhooks.verify(body, signed(key, body))
