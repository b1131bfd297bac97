"""The public key webhooks are verified with: one that is missing or not the base64 of a 32-byte
Ed25519 key is a configuration error (PublicKeyError), refused where the receiver is made (Webhooks,
require_verifier, client.webhooks, the example receiver) and by a call given one, before the request
is read; never a WebhookVerificationError, which a receiver answers with a 4xx."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time

import pytest
from nacl.signing import SigningKey
from telnyx_messages import AsyncTelnyx, Telnyx, TelnyxError, webhooks

from .support import ROOT

KEY = SigningKey.generate()
PUBLIC = base64.b64encode(bytes(KEY.verify_key)).decode()
BODY = json.dumps({"data": {"event_type": "message.teleported"}}).encode()
MISSING = "no public key to verify webhooks with: pass public_key= (or key= per call) or set TELNYX_PUBLIC_KEY"
NOT_BASE64 = "is not valid base64 (a key is 44 characters of A-Z a-z 0-9 + / ending in '=')"
RECEIVER = str(ROOT / "examples" / "webhook_receiver.py")


def signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = base64.b64encode(KEY.sign(stamp.encode() + b"|" + body).signature).decode()
    return {"telnyx-timestamp": stamp, "telnyx-signature-ed25519": signature}


# (key given, what the error says after "the public key given" / "TELNYX_PUBLIC_KEY")
MALFORMED = [
    ("not-base64!!", NOT_BASE64),
    (PUBLIC + "\n", NOT_BASE64),
    ("clé", NOT_BASE64),
    ("AAAAA", NOT_BASE64),
    (base64.b64encode(bytes(16)).decode(), "is the base64 of 16 bytes, not of a 32-byte Ed25519 key"),
    (base64.b64encode(bytes(33)).decode(), "is the base64 of 33 bytes, not of a 32-byte Ed25519 key"),
    (PUBLIC.encode().hex(), "is the base64 of 66 bytes, not of a 32-byte Ed25519 key"),
]
IDS = ["punctuation", "a newline", "non-ASCII", "bad length", "16 bytes", "33 bytes", "hex"]


def refused(make: object) -> webhooks.PublicKeyError:
    assert callable(make)
    with pytest.raises(webhooks.PublicKeyError) as caught:
        make()
    error = caught.value
    assert isinstance(error, TelnyxError) and isinstance(error, ValueError)
    assert not isinstance(error, webhooks.WebhookVerificationError)
    assert "\n" not in str(error)
    return error


def test_a_public_key_error_is_a_configuration_error_not_a_verification_error() -> None:
    assert issubclass(webhooks.PublicKeyError, TelnyxError) and issubclass(webhooks.PublicKeyError, ValueError)
    assert not issubclass(webhooks.PublicKeyError, webhooks.WebhookVerificationError)
    assert "PublicKeyError" in webhooks.__all__ and "PublicKeyError" in dir(webhooks)


@pytest.mark.parametrize(("key", "says"), MALFORMED, ids=IDS)
def test_a_malformed_key_is_refused_where_the_receiver_is_made(key: str, says: str) -> None:
    for make in (lambda: webhooks.Webhooks(key), lambda: webhooks.require_verifier(key)):
        error = refused(make)
        assert str(error) == f"the public key given {says}"
        assert key.strip() not in str(error)  # the key is never echoed


@pytest.mark.parametrize(("key", "says"), MALFORMED, ids=IDS)
def test_a_malformed_key_in_the_environment_is_refused_naming_the_variable(
    key: str, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", key)
    for make in (
        webhooks.Webhooks,
        lambda: webhooks.require_verifier(None),
        lambda: Telnyx(api_key="k").webhooks,
        lambda: AsyncTelnyx(api_key="k").webhooks,
    ):
        assert str(refused(make)) == f"TELNYX_PUBLIC_KEY {says}"


@pytest.mark.parametrize("empty", [None, ""], ids=["unset", "empty"])
def test_no_key_at_all_is_refused_saying_how_to_give_one(empty: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if empty is not None:
        monkeypatch.setenv("TELNYX_PUBLIC_KEY", empty)
    for make in (
        webhooks.Webhooks,
        lambda: webhooks.Webhooks(None),
        lambda: webhooks.Webhooks(""),
        lambda: webhooks.require_verifier(None),
        lambda: webhooks.require_verifier(""),
        lambda: Telnyx(api_key="k").webhooks,
        lambda: AsyncTelnyx(api_key="k").webhooks,
    ):
        assert str(refused(make)) == MISSING


def teleported(event: webhooks.WebhookEvent) -> bool:
    return isinstance(event, webhooks.UnknownWebhookEvent) and event.event_type == "message.teleported"


def test_a_good_key_is_taken_from_the_argument_or_else_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    webhooks.require_verifier(PUBLIC)
    webhooks.require_verifier()  # no key to check: PyNaCl only (a signer's own key)
    assert teleported(webhooks.Webhooks(PUBLIC).unwrap(BODY, signed(BODY)))
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", PUBLIC)
    webhooks.require_verifier(None)
    receiver = webhooks.Webhooks()
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", "not-base64!!")  # read where the receiver was made, not per request
    assert teleported(receiver.unwrap(BODY, signed(BODY)))
    given = webhooks.Webhooks(base64.b64encode(bytes(SigningKey.generate().verify_key)).decode())
    with pytest.raises(webhooks.InvalidSignatureError):  # the key given wins over the environment's
        given.unwrap(BODY, signed(BODY))


def test_a_bad_key_given_per_call_is_refused_before_the_request_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = webhooks.Webhooks(PUBLIC)
    for key, says in MALFORMED:
        for call in (webhooks.verify, webhooks.unwrap, receiver.unwrap):
            good = refused(lambda call=call, key=key: call(BODY, signed(BODY), key=key))
            assert str(good) == f"the public key given {says}"
            # Nor a header missing, nor a body that is not JSON: the key is checked first.
            assert str(refused(lambda call=call, key=key: call(b"not json", {}, key=key))) == str(good)
    assert str(refused(lambda: webhooks.unwrap(BODY, signed(BODY)))) == MISSING
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", "AAAA")
    assert str(refused(lambda: webhooks.unwrap(b"", {}))) == (
        "TELNYX_PUBLIC_KEY is the base64 of 3 bytes, not of a 32-byte Ed25519 key"
    )


def run_receiver(env_key: str | None) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name != "TELNYX_PUBLIC_KEY"}
    if env_key is not None:
        env["TELNYX_PUBLIC_KEY"] = env_key
    return subprocess.run(
        [sys.executable, RECEIVER, "--port", "0"], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.parametrize(
    ("env_key", "says"),
    [
        (None, MISSING),
        ("", MISSING),
        ("not-base64!!", f"TELNYX_PUBLIC_KEY {NOT_BASE64}"),
        (
            base64.b64encode(bytes(16)).decode(),
            "TELNYX_PUBLIC_KEY is the base64 of 16 bytes, not of a 32-byte Ed25519 key",
        ),
    ],
    ids=["unset", "empty", "not base64", "16 bytes"],
)
def test_the_receiver_example_refuses_to_start_without_a_good_key(env_key: str | None, says: str) -> None:
    result = run_receiver(env_key)  # returns: it never listens (a listening receiver would time out)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"error: cannot verify webhooks, not starting: {says}\n"


def test_without_pynacl_a_good_key_still_needs_pynacl_and_a_bad_key_is_named_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "nacl", None)
    monkeypatch.setitem(sys.modules, "nacl.signing", None)
    for make in (
        webhooks.require_verifier,
        lambda: webhooks.require_verifier(PUBLIC),
        lambda: webhooks.Webhooks(PUBLIC),
    ):
        with pytest.raises(webhooks.MissingDependencyError) as caught:
            make()
        assert str(caught.value) == "verifying webhooks needs PyNaCl: pip install 'telnyx-messages[webhooks]'"
    assert str(refused(lambda: webhooks.Webhooks("not-base64!!"))) == f"the public key given {NOT_BASE64}"
    assert str(refused(lambda: webhooks.require_verifier(None))) == MISSING
