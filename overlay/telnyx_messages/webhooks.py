"""Verify Telnyx webhooks (an Ed25519 signature over f"{timestamp}|{raw_body}") and read them into
the models of the spec's `webhooks:` (generated: telnyx_messages._api.webhooks).

    event = telnyx_messages.webhooks.unwrap(request.body, request.headers)   # a typed event
    document = telnyx_messages.webhooks.verify(request.body, request.headers)  # the dict

`client.webhooks.unwrap` takes the same arguments (the official SDK's names: `headers`, `key`).
Headers may be any mapping, or what `http.server` hands a handler (`self.headers`).

Needs PyNaCl (`pip install 'telnyx-messages[webhooks]'`); no cryptography is written here. Without
it, MissingDependencyError (a configuration error, not a WebhookVerificationError) is raised where
a receiver is set up (Webhooks, or a client made with public_key=) or at the first verification.

The public key (key=, else TELNYX_PUBLIC_KEY) is the base64 of a raw 32-byte Ed25519 key; one that
is missing or not that is a PublicKeyError, also a configuration error: raised by Webhooks() and
Telnyx(public_key=) where they are made, and by verify/unwrap, for a key given per call, before
the request is read.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeAlias

from telnyx_messages._api.webhooks import EVENT_TYPES, UnknownWebhookEvent, WebhookEvent, parse_event

from ._exceptions import MissingDependencyError, TelnyxError, escape_controls

__all__ = [
    "EVENT_TYPES",
    "HeadersLike",
    "InvalidSignatureError",
    "MalformedWebhookError",
    "MissingDependencyError",
    "MissingHeaderError",
    "PublicKeyError",
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
PUBLIC_KEY_ENV = "TELNYX_PUBLIC_KEY"
_KEY_BYTES = 32  # a raw Ed25519 public key


class PublicKeyError(TelnyxError, ValueError):
    """The public key to verify webhooks with is missing, or not the base64 of a 32-byte Ed25519 key.
    A configuration error of the program (never a WebhookVerificationError: a receiver must not answer
    4xx to every webhook for it), raised where the key is given."""


class WebhookVerificationError(TelnyxError):
    """The webhook cannot be trusted."""


class MissingHeaderError(WebhookVerificationError):
    pass


class MalformedWebhookError(WebhookVerificationError):
    """A header or the body is not in the form it must have."""


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


def _public_key(key: str | None) -> bytes:
    """The raw key of `key`, else of TELNYX_PUBLIC_KEY; PublicKeyError naming what is wrong (never
    echoing the text given)."""
    text = key if key is not None else os.environ.get(PUBLIC_KEY_ENV)
    if not text:
        raise PublicKeyError(
            f"no public key to verify webhooks with: pass public_key= (or key= per call) or set {PUBLIC_KEY_ENV}"
        )
    where = PUBLIC_KEY_ENV if key is None else "the public key given"
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise PublicKeyError(
            f"{where} is not valid base64 (a key is 44 characters of A-Z a-z 0-9 + / ending in '=')"
        ) from None
    if len(raw) != _KEY_BYTES:
        raise PublicKeyError(f"{where} is the base64 of {len(raw)} bytes, not of a 32-byte Ed25519 key")
    return raw


class _NoKey:
    """require_verifier() called without a key."""


_NO_KEY = _NoKey()


def require_verifier(key: str | _NoKey | None = _NO_KEY) -> None:
    """Where a receiver is set up: PublicKeyError unless `key` (None: TELNYX_PUBLIC_KEY) is the
    base64 of a 32-byte Ed25519 key, then MissingDependencyError, naming the install command, when
    PyNaCl cannot be imported. Without an argument, PyNaCl only (a signer with a key of its own)."""
    if not isinstance(key, _NoKey):
        _public_key(key)
    try:
        import nacl.signing  # noqa: F401
    except ImportError:
        raise MissingDependencyError(f"verifying webhooks needs PyNaCl: {WEBHOOKS_INSTALL}") from None


def verify(payload: bytes | str, headers: HeadersLike, *, key: str | None = None, tolerance: int = 300) -> Any:
    """Check the signature and the timestamp; return the decoded event. The key from `key`, else
    TELNYX_PUBLIC_KEY: PublicKeyError, before the request is read, if it is missing or malformed."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
        raise ValueError(f"tolerance must be an int of seconds >= 0, got {tolerance!r}")
    key_bytes = _public_key(key)
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
    event type the spec does not list). The key from `key`, else TELNYX_PUBLIC_KEY (PublicKeyError
    if missing or malformed); `tolerance` is how old (or how far ahead) its timestamp may be, in
    seconds."""
    return _event(verify(payload, headers, key=key, tolerance=tolerance))


def unsafe_unwrap(payload: bytes | str) -> WebhookEvent:
    """Read a webhook into its event's model WITHOUT verifying it: for tests and replays only."""
    try:
        document = json.loads(payload)
    except ValueError as exc:
        raise MalformedWebhookError(f"the payload is not JSON: {exc}") from None
    return _event(document)


class Webhooks:
    """client.webhooks, as in the official SDK. Verification is CPU-only: the same on AsyncTelnyx.
    The key, `public_key` or else TELNYX_PUBLIC_KEY, is read and checked here: a receiver that
    cannot verify is refused where it is made (PublicKeyError, MissingDependencyError), not per
    request."""

    def __init__(self, public_key: str | None = None) -> None:
        require_verifier(public_key)
        self._public_key: str = public_key if public_key is not None else os.environ[PUBLIC_KEY_ENV]

    def unwrap(
        self, payload: bytes | str, headers: HeadersLike, *, key: str | None = None, tolerance: int = 300
    ) -> WebhookEvent:
        """Verify and read a webhook, as webhooks.unwrap; the key from `key`, else the one this
        receiver was made with."""
        return unwrap(payload, headers, key=key if key is not None else self._public_key, tolerance=tolerance)

    def unsafe_unwrap(self, payload: bytes | str) -> WebhookEvent:
        """Read a webhook without verifying it: for tests and replays only."""
        return unsafe_unwrap(payload)


def __dir__() -> list[str]:
    return list(__all__)
