"""Webhook verification with keys the test makes."""

from __future__ import annotations

import base64
import json
import sys
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
    assert webhooks.verify(body, signed(key, body), key=public(key)) == EVENT
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", public(key))
    lower = {k.lower(): v for k, v in signed(key, body).items()}
    assert webhooks.verify(body.decode(), lower) == EVENT


def _strip(name: str) -> Any:
    return lambda b, h: (b, {k: v for k, v in h.items() if k.lower() != name})


def _with(name: str, value: str) -> Any:
    return lambda b, h: (b, {**h, name: value})


def _loosened(h: dict[str, str]) -> dict[str, str]:
    # The right signature with a character base64 does not have: a lenient decoder would skip it.
    signature = h["Telnyx-Signature-Ed25519"]
    return {**h, "Telnyx-Signature-Ed25519": signature[:10] + "*" + signature[10:]}


@pytest.mark.parametrize(
    ("tamper", "error", "message"),
    [
        (lambda b, h: (b + b" ", h), webhooks.InvalidSignatureError, "the signature does not match the payload"),
        (
            lambda b, h: (b, {**h, "Telnyx-Timestamp": str(int(h["Telnyx-Timestamp"]) + 1)}),
            webhooks.InvalidSignatureError,
            "the signature does not match the payload",
        ),
        (_strip("telnyx-timestamp"), webhooks.MissingHeaderError, "missing header telnyx-timestamp"),
        (_strip("telnyx-signature-ed25519"), webhooks.MissingHeaderError, "missing header telnyx-signature-ed25519"),
        (
            _with("Telnyx-Signature-Ed25519", "not base64!"),
            webhooks.MalformedWebhookError,
            "telnyx-signature-ed25519 is not valid base64",
        ),
        (lambda b, h: (b, _loosened(h)), webhooks.MalformedWebhookError, "is not valid base64"),
        (
            _with("Telnyx-Signature-Ed25519", "AAAA"),
            webhooks.MalformedWebhookError,
            "telnyx-signature-ed25519 must be 64 bytes, got 3",
        ),
        (
            _with("Telnyx-Timestamp", "yesterday"),
            webhooks.MalformedWebhookError,
            "telnyx-timestamp is not unix seconds: 'yesterday'",
        ),
        (
            _with("Telnyx-Timestamp", "9" * 13),
            webhooks.MalformedWebhookError,
            f"telnyx-timestamp is not unix seconds: '{'9' * 13}'",
        ),
        (_with("Telnyx-Timestamp", "9" * 12), webhooks.TimestampOutOfToleranceError, "s in the future"),
        (
            _with("Telnyx-Timestamp", "x" * 100),
            webhooks.MalformedWebhookError,
            f"telnyx-timestamp is not unix seconds: '{'x' * 40}'",
        ),
    ],
)
def test_tampering_is_caught_and_named(key: SigningKey, tamper: Any, error: type[Exception], message: str) -> None:
    body = json.dumps(EVENT).encode()
    bad_body, bad_headers = tamper(body, signed(key, body))
    with pytest.raises(error) as caught:
        webhooks.verify(bad_body, bad_headers, key=public(key))
    assert type(caught.value) is error
    assert message in str(caught.value)
    if error is webhooks.InvalidSignatureError:
        assert str(caught.value) == message


NOW = 1_800_000_000


@pytest.mark.parametrize(
    ("offset", "refusal"),
    [(-300, None), (300, None), (-301, "301 s old"), (301, "301 s in the future"), (-1000, "1000 s old")],
)
def test_the_tolerance_is_300_seconds_either_way(
    key: SigningKey, monkeypatch: pytest.MonkeyPatch, offset: int, refusal: str | None
) -> None:
    monkeypatch.setattr(time, "time", lambda: float(NOW))
    body = json.dumps(EVENT).encode()
    headers = signed(key, body, NOW + offset)
    for check in (
        lambda: webhooks.verify(body, headers, key=public(key)),
        lambda: webhooks.unwrap(body, headers, key=public(key)).to_dict(mode="json"),
    ):
        if refusal is None:
            assert check() == EVENT
        else:
            with pytest.raises(webhooks.TimestampOutOfToleranceError) as caught:
                check()
            assert str(caught.value) == f"the timestamp is {refusal}, beyond the 300 s tolerance"
    wider = webhooks.unwrap(body, headers, key=public(key), tolerance=1000)
    assert wider.to_dict(mode="json") == EVENT


def test_another_key_or_a_malformed_key_is_refused(key: SigningKey) -> None:
    body = json.dumps(EVENT).encode()
    with pytest.raises(webhooks.InvalidSignatureError):
        webhooks.verify(body, signed(key, body), key=public(SigningKey.generate()))
    with pytest.raises(webhooks.PublicKeyError, match="the base64 of 5 bytes, not of a 32-byte"):
        webhooks.verify(body, signed(key, body), key=base64.b64encode(b"short").decode())
    with pytest.raises(webhooks.PublicKeyError, match="TELNYX_PUBLIC_KEY"):
        webhooks.verify(body, signed(key, body))


def test_the_key_given_to_a_call_wins_over_the_clients(key: SigningKey) -> None:
    from telnyx_messages import Telnyx

    body = json.dumps(EVENT).encode()
    other = SigningKey.generate()
    client = Telnyx(api_key="KEY-webhooks-test", public_key=public(other))
    assert client.webhooks.unwrap(body, headers=signed(key, body), key=public(key)).to_dict(mode="json") == EVENT
    assert client.webhooks.unwrap(body, headers=signed(other, body)).to_dict(mode="json") == EVENT
    with pytest.raises(webhooks.InvalidSignatureError):
        client.webhooks.unwrap(body, headers=signed(key, body))


def test_the_errors_name_what_is_wrong(key: SigningKey, monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps(EVENT).encode()
    with pytest.raises(webhooks.PublicKeyError) as no_key:
        webhooks.verify(body, signed(key, body))
    assert str(no_key.value) == (
        "no public key to verify webhooks with: pass public_key= (or key= per call) or set TELNYX_PUBLIC_KEY"
    )
    with pytest.raises(webhooks.PublicKeyError) as bad_key:
        webhooks.verify(body, signed(key, body), key="not base64!")
    assert str(bad_key.value) == (
        "the public key given is not valid base64 (a key is 44 characters of A-Z a-z 0-9 + / ending in '=')"
    )
    not_json = b"{not json"
    with pytest.raises(webhooks.MalformedWebhookError) as verified:
        webhooks.verify(not_json, signed(key, not_json), key=public(key))
    assert str(verified.value).startswith("the payload is not JSON: Expecting property name")
    with pytest.raises(webhooks.MalformedWebhookError) as unsafe:
        webhooks.unsafe_unwrap(not_json)
    assert str(unsafe.value).startswith("the payload is not JSON: Expecting property name")
    listed_but_wrong = {"data": {"event_type": "message.finalized", "payload": "not an object"}}
    with pytest.raises(webhooks.MalformedWebhookError) as unparsed:
        webhooks.unsafe_unwrap(json.dumps(listed_but_wrong))
    try:
        webhooks.parse_event(listed_but_wrong)
    except Exception as exc:  # what parsing the listed event raises, named in the error
        assert str(unparsed.value) == f"the event does not parse: {type(exc).__name__}: {exc}"
    monkeypatch.setitem(sys.modules, "nacl.signing", None)
    with pytest.raises(webhooks.MissingDependencyError) as missing:
        webhooks.verify(body, signed(key, body), key=public(key))
    assert str(missing.value) == "verifying webhooks needs PyNaCl: pip install 'telnyx-messages[webhooks]'"


def test_unsafe_unwrap_reads_without_verifying() -> None:
    event = webhooks.unsafe_unwrap(json.dumps(EVENT))
    assert event.to_dict(mode="json") == EVENT and type(event).__name__ != "UnknownWebhookEvent"
    unknown = webhooks.unsafe_unwrap(b'{"data": {"event_type": "message.new_kind"}}')
    assert isinstance(unknown, webhooks.UnknownWebhookEvent) and unknown.event_type == "message.new_kind"


def test_the_refusal_says_which_way_a_timestamp_is_off(key: SigningKey, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: NOW + 0.5)
    body = json.dumps(EVENT).encode()
    with pytest.raises(webhooks.TimestampOutOfToleranceError) as caught:
        webhooks.verify(body, signed(key, body, NOW), key=public(key), tolerance=0)
    assert str(caught.value) == "the timestamp is 0 s old, beyond the 0 s tolerance"
    for bad in (-1, 1.5, True, "300"):
        with pytest.raises(ValueError, match="tolerance must be an int of seconds >= 0, got "):
            webhooks.verify(body, signed(key, body, NOW), key=public(key), tolerance=bad)  # type: ignore[arg-type]
