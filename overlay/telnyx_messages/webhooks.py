"""Verify Telnyx webhooks (an Ed25519 signature over f"{timestamp}|{raw_body}") and read them into
the models of the spec's `webhooks:` (generated: telnyx_messages_api.webhooks).

    event = telnyx_messages.webhooks.unwrap(request.body, request.headers)   # a typed event
    document = telnyx_messages.webhooks.verify(request.body, request.headers)  # the dict

Needs PyNaCl (`pip install 'telnyx-messages[webhooks]'`); no cryptography is written here.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Mapping
from typing import Any

from telnyx_messages_api.webhooks import EVENT_TYPES, UnknownWebhookEvent, WebhookEvent, parse_event

from ._exceptions import MissingDependencyError, TelnyxError, escape_controls

__all__ = [
    "EVENT_TYPES",
    "InvalidSignatureError",
    "MalformedWebhookError",
    "MissingDependencyError",
    "MissingHeaderError",
    "TimestampOutOfToleranceError",
    "UnknownWebhookEvent",
    "WebhookEvent",
    "WebhookVerificationError",
    "Webhooks",
    "unsafe_unwrap",
    "unwrap",
    "verify",
]

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
_TIMESTAMP_DIGITS = 12  # unix seconds until the year 33658


class WebhookVerificationError(TelnyxError):
    """The webhook cannot be trusted."""


class MissingHeaderError(WebhookVerificationError):
    pass


class MalformedWebhookError(WebhookVerificationError):
    """A header, the key or the body is not in the form it must have."""


class TimestampOutOfToleranceError(WebhookVerificationError):
    pass


class InvalidSignatureError(WebhookVerificationError):
    pass


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise MissingHeaderError(f"missing header {name}")


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedWebhookError(f"{what} is not valid base64") from None


def verify(
    payload: bytes | str, headers: Mapping[str, str], public_key: str | None = None, tolerance: int = 300
) -> Any:
    """Check the signature and the timestamp; return the decoded event."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        raise ValueError(f"tolerance must be an int of seconds >= 0, got {tolerance!r}")
    try:
        from nacl.exceptions import BadSignatureError
        from nacl.signing import VerifyKey
    except ModuleNotFoundError:
        raise MissingDependencyError(
            "verifying webhooks needs PyNaCl: pip install 'telnyx-messages[webhooks]'"
        ) from None

    body = payload.encode() if isinstance(payload, str) else payload
    signature = _b64(_header(headers, SIGNATURE_HEADER), SIGNATURE_HEADER)
    timestamp = _header(headers, TIMESTAMP_HEADER)
    # Checked before any arithmetic: ASCII digits only (str.isdigit takes '²'), and few enough of
    # them that int() and the float arithmetic below cannot fail or overflow.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _TIMESTAMP_DIGITS):
        raise MalformedWebhookError(f"{TIMESTAMP_HEADER} is not unix seconds: {escape_controls(timestamp[:40])!r}")
    key_text = public_key if public_key is not None else os.environ.get("TELNYX_PUBLIC_KEY")
    if not key_text:
        raise WebhookVerificationError("No public key: pass public_key= or set TELNYX_PUBLIC_KEY.")
    key = _b64(key_text, "the public key")
    if len(key) != 32:
        raise MalformedWebhookError(f"the public key must be 32 bytes, got {len(key)}")
    if len(signature) != 64:
        raise MalformedWebhookError(f"{SIGNATURE_HEADER} must be 64 bytes, got {len(signature)}")
    age = time.time() - int(timestamp)
    if abs(age) > tolerance:
        when = f"{age:.0f} s old" if age > 0 else f"{-age:.0f} s in the future"
        raise TimestampOutOfToleranceError(f"the timestamp is {when}, beyond the {tolerance} s tolerance")
    try:
        VerifyKey(key).verify(timestamp.encode() + b"|" + body, signature)
    except BadSignatureError:
        raise InvalidSignatureError("the signature does not match the payload") from None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise MalformedWebhookError(f"the payload is not JSON: {exc}") from None


def _event(document: Any) -> WebhookEvent:
    try:
        return parse_event(document)
    except Exception as exc:  # a listed event type whose document is not the spec's
        raise MalformedWebhookError(
            f"the event does not parse: {type(exc).__name__}: {escape_controls(str(exc))}"
        ) from None


def unwrap(
    payload: bytes | str, headers: Mapping[str, str], *, public_key: str | None = None, tolerance: int = 300
) -> WebhookEvent:
    """Verify a delivered webhook and read it into its event's model (UnknownWebhookEvent for an
    event type the spec does not list)."""
    return _event(verify(payload, headers, public_key=public_key, tolerance=tolerance))


def unsafe_unwrap(payload: bytes | str) -> WebhookEvent:
    """Read a webhook into its event's model WITHOUT verifying it: for tests and replays only."""
    try:
        document = json.loads(payload)
    except ValueError as exc:
        raise MalformedWebhookError(f"the payload is not JSON: {exc}") from None
    return _event(document)


class Webhooks:
    """client.webhooks, as in the official SDK. Verification is CPU-only: the same on AsyncTelnyx."""

    def __init__(self, public_key: str | None) -> None:
        self._public_key = public_key

    def unwrap(self, payload: bytes | str, *, headers: Mapping[str, str], key: str | None = None) -> WebhookEvent:
        """Verify and read a webhook; the key from `key`, the client's public_key=, or TELNYX_PUBLIC_KEY."""
        return unwrap(payload, headers, public_key=key if key is not None else self._public_key)

    def unsafe_unwrap(self, payload: bytes | str) -> WebhookEvent:
        """Read a webhook without verifying it: for tests and replays only."""
        return unsafe_unwrap(payload)
