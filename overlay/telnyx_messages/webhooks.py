"""Verify Telnyx webhooks (an Ed25519 signature over f"{timestamp}|{raw_body}") and read them into
the models of the spec's `webhooks:` (generated: telnyx_messages_api.webhooks).

    event = telnyx_messages.webhooks.unwrap(request.body, request.headers)   # a typed event
    document = telnyx_messages.webhooks.verify(request.body, request.headers)  # the dict

`client.webhooks.unwrap` takes the same arguments (the official SDK's names: `headers`, `key`).
Headers may be any mapping, or what `http.server` hands a handler (`self.headers`).

Needs PyNaCl (`pip install 'telnyx-messages[webhooks]'`); no cryptography is written here. Without
it, MissingDependencyError (a configuration error, not a WebhookVerificationError) is raised where
a receiver is set up with a key (Webhooks, or a client made with public_key=) or at the first
verification.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeAlias

from telnyx_messages_api.webhooks import EVENT_TYPES, UnknownWebhookEvent, WebhookEvent, parse_event

from ._exceptions import MissingDependencyError, TelnyxError, escape_controls

__all__ = [
    "EVENT_TYPES",
    "HeadersLike",
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
WEBHOOKS_INSTALL = "pip install 'telnyx-messages[webhooks]'"


class _HeaderItems(Protocol):
    """What http.server's `self.headers` (an email.message.Message) and most frameworks' header
    objects have: their (name, value) pairs."""

    def items(self) -> Iterable[tuple[str, Any]]: ...


# A webhook request's headers: a mapping, or any object with items() of (name, value).
HeadersLike: TypeAlias = Mapping[str, str] | _HeaderItems
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


def _header(headers: HeadersLike, name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise MissingHeaderError(f"missing header {name}")


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedWebhookError(f"{what} is not valid base64") from None


def require_verifier() -> None:
    """Raises MissingDependencyError, naming the install command, when PyNaCl cannot be imported."""
    try:
        import nacl.signing  # noqa: F401
    except ImportError:
        raise MissingDependencyError(f"verifying webhooks needs PyNaCl: {WEBHOOKS_INSTALL}") from None


def verify(payload: bytes | str, headers: HeadersLike, *, key: str | None = None, tolerance: int = 300) -> Any:
    """Check the signature and the timestamp; return the decoded event. The key from `key`, else
    TELNYX_PUBLIC_KEY."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        raise ValueError(f"tolerance must be an int of seconds >= 0, got {tolerance!r}")
    try:
        from nacl.exceptions import BadSignatureError
        from nacl.signing import VerifyKey
    except ImportError:
        raise MissingDependencyError(f"verifying webhooks needs PyNaCl: {WEBHOOKS_INSTALL}") from None

    body = payload.encode() if isinstance(payload, str) else payload
    signature = _b64(_header(headers, SIGNATURE_HEADER), SIGNATURE_HEADER)
    timestamp = _header(headers, TIMESTAMP_HEADER)
    # Checked before any arithmetic: ASCII digits only (str.isdigit takes '²'), and few enough of
    # them that int() and the float arithmetic below cannot fail or overflow.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _TIMESTAMP_DIGITS):
        raise MalformedWebhookError(f"{TIMESTAMP_HEADER} is not unix seconds: {escape_controls(timestamp[:40])!r}")
    key_text = key if key is not None else os.environ.get("TELNYX_PUBLIC_KEY")
    if not key_text:
        raise WebhookVerificationError(
            "No public key: pass key= (or the client's public_key=) or set TELNYX_PUBLIC_KEY."
        )
    key_bytes = _b64(key_text, "the public key")
    if len(key_bytes) != 32:
        raise MalformedWebhookError(f"the public key must be 32 bytes, got {len(key_bytes)}")
    if len(signature) != 64:
        raise MalformedWebhookError(f"{SIGNATURE_HEADER} must be 64 bytes, got {len(signature)}")
    age = time.time() - int(timestamp)
    if abs(age) > tolerance:
        when = f"{age:.0f} s old" if age > 0 else f"{-age:.0f} s in the future"
        raise TimestampOutOfToleranceError(f"the timestamp is {when}, beyond the {tolerance} s tolerance")
    try:
        VerifyKey(key_bytes).verify(timestamp.encode() + b"|" + body, signature)
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


def unwrap(payload: bytes | str, headers: HeadersLike, *, key: str | None = None, tolerance: int = 300) -> WebhookEvent:
    """Verify a delivered webhook and read it into its event's model (UnknownWebhookEvent for an
    event type the spec does not list). The key from `key`, else TELNYX_PUBLIC_KEY; `tolerance`
    is how old (or how far ahead) its timestamp may be, in seconds."""
    return _event(verify(payload, headers, key=key, tolerance=tolerance))


def unsafe_unwrap(payload: bytes | str) -> WebhookEvent:
    """Read a webhook into its event's model WITHOUT verifying it: for tests and replays only."""
    try:
        document = json.loads(payload)
    except ValueError as exc:
        raise MalformedWebhookError(f"the payload is not JSON: {exc}") from None
    return _event(document)


class Webhooks:
    """client.webhooks, as in the official SDK. Verification is CPU-only: the same on AsyncTelnyx."""

    def __init__(self, public_key: str | None = None) -> None:
        if public_key is not None or os.environ.get("TELNYX_PUBLIC_KEY"):
            require_verifier()  # a receiver set up to verify, that cannot: said here, not per request
        self._public_key = public_key

    def unwrap(
        self, payload: bytes | str, headers: HeadersLike, *, key: str | None = None, tolerance: int = 300
    ) -> WebhookEvent:
        """Verify and read a webhook, as webhooks.unwrap; the key from `key`, the client's
        public_key=, or TELNYX_PUBLIC_KEY."""
        return unwrap(payload, headers, key=key if key is not None else self._public_key, tolerance=tolerance)

    def unsafe_unwrap(self, payload: bytes | str) -> WebhookEvent:
        """Read a webhook without verifying it: for tests and replays only."""
        return unsafe_unwrap(payload)


def __dir__() -> list[str]:
    return list(__all__)
