"""telnyx_messages.testing: the fake accepts every operation of the spec as the API does, refuses what
the API refuses, keeps idempotency keys as the edge does, fails on demand without waiting, signs
webhooks the receiver verifies; and the README's "Testing your code" tests pass under pytest."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from telnyx_messages import (
    APIConnectionError,
    APITimeoutError,
    AsyncTelnyx,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    Telnyx,
    UnprocessableEntityError,
    webhooks,
)
from telnyx_messages.testing import FakeTelnyx

from .support import ROOT
from .support.spec import CASES, SPEC, OperationCase, call_arguments

SEND = {"to": "+13125550002", "from_": "+18445550001", "text": "Hello"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
def test_every_operation_of_the_spec_is_answered_as_its_schema_says(case: OperationCase) -> None:
    fake = FakeTelnyx()
    client = fake.client()
    sent = client.messages.send(**SEND).data
    assert sent is not None
    scheduled = client.messages.schedule(**SEND, send_at="2030-01-01T00:00:00Z").data
    assert scheduled is not None
    # Path values the fake knows: a message it sent (a scheduled one, to cancel).
    known = scheduled.id if case.operation_id == "CancelMessage" else sent.id
    path_values, kwargs, _, _ = call_arguments(SPEC, case, known)
    result = case.bound(client.messages)(*path_values, **kwargs)
    assert isinstance(result, case.result_class)

    async def on_async() -> Any:
        async with fake.async_client() as aclient:
            again = scheduled if case.operation_id != "CancelMessage" else None
            if again is None:
                again = (await aclient.messages.schedule(**SEND, send_at="2030-01-01T00:00:00Z")).data
            assert again is not None
            values = [again.id if case.operation_id == "CancelMessage" else known for _ in path_values]
            return await case.bound(aclient.messages)(*values, **kwargs)

    assert isinstance(asyncio.run(on_async()), case.result_class)


def test_a_send_is_made_from_the_request_and_can_be_read_back() -> None:
    fake = FakeTelnyx()
    client = fake.client()
    first = client.messages.send(**SEND).data
    mms = client.messages.send_long_code(**{**SEND, "media_urls": ["https://example.com/a.png"]}).data
    long_text = client.messages.send(**{**SEND, "text": "x" * 161}).data
    unicode = client.messages.send(**{**SEND, "text": "\u00e9\u4e2d" * 40}).data
    assert first is not None and mms is not None and long_text is not None and unicode is not None
    assert first.text == "Hello" and first.type == "SMS" and first.parts == 1
    assert first.from_ is not None and first.from_.phone_number == "+18445550001"
    assert [(to.phone_number, to.status) for to in first.to or []] == [("+13125550002", "queued")]
    assert mms.type == "MMS" and [m.url for m in mms.media or []] == ["https://example.com/a.png"]
    assert long_text.parts == 2 and unicode.parts == 2
    assert len({first.id, mms.id, long_text.id, unicode.id}) == 4
    assert fake.sent == [first, mms, long_text, unicode]
    assert client.messages.retrieve(first.id).data == first
    with pytest.raises(NotFoundError):
        client.messages.retrieve("182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e")


def test_schedule_then_cancel_and_only_a_scheduled_message_cancels() -> None:
    client = FakeTelnyx().client()
    scheduled = client.messages.schedule(**SEND, send_at="2030-01-01T00:00:00Z").data
    sent = client.messages.send(**SEND).data
    assert scheduled is not None and sent is not None
    cancelled = client.messages.cancel_scheduled(scheduled.id)
    assert cancelled.id == scheduled.id
    assert [to.status for to in cancelled.to or []] == ["cancelled"]
    with pytest.raises(UnprocessableEntityError, match="not a scheduled message"):
        client.messages.cancel_scheduled(scheduled.id)  # once
    with pytest.raises(UnprocessableEntityError):
        client.messages.cancel_scheduled(sent.id)


@pytest.mark.parametrize(
    ("call", "error", "pointer"),
    [
        (lambda m: m.send(**SEND, webhook_url="not a url"), UnprocessableEntityError, "/webhook_url"),
        (lambda m: m.send(**SEND, extra_body={"to": 5}), UnprocessableEntityError, "/to"),
        (lambda m: m.send(**SEND, extra_body={"type": "FAX"}), UnprocessableEntityError, "/type"),
        (lambda m: m.send(**SEND, extra_body={"media_urls": "one"}), UnprocessableEntityError, "/media_urls"),
    ],
    ids=["a url that is not one", "a type the schema refuses", "an enum value", "an array given one value"],
)
def test_a_request_the_api_refuses_gets_the_status_and_errors_the_spec_declares(
    call: Any, error: type[Exception], pointer: str | None
) -> None:
    fake = FakeTelnyx()
    with pytest.raises(error) as caught:
        call(fake.client().messages)
    errors = caught.value.errors  # type: ignore[attr-defined]
    assert len(errors) == 1 and errors[0].detail
    if pointer is not None:
        assert errors[0].pointer == pointer
    assert fake.sent == []


def test_what_the_transport_refuses_before_any_operation() -> None:
    fake = FakeTelnyx()
    with httpx2.Client(transport=fake.transport(), base_url="https://api.telnyx.com/v2") as http:
        assert http.post("/messages", content=b"{", headers={"Authorization": "Bearer k"}).status_code == 400
        assert http.get("/nowhere", headers={"Authorization": "Bearer k"}).status_code == 404
        assert http.put("/messages", json={}, headers={"Authorization": "Bearer k"}).status_code == 405
        not_an_id = http.get("/messages/group/not-a-uuid", headers={"Authorization": "Bearer k"})
        assert not_an_id.status_code == 422 and "message_id" in not_an_id.text
        unauthorised = http.post("/messages", json={"to": "+13125550002"})
        assert unauthorised.status_code == 401 and unauthorised.json()["errors"][0]["code"]
        bad_key = http.post(
            "/messages", json={"to": "+1"}, headers={"Authorization": "Bearer k", "Idempotency-Key": "order 42"}
        )
        assert bad_key.status_code == 400 and "Idempotency-Key" in bad_key.text
    with pytest.raises(AuthenticationError):
        _without_auth(fake)
    assert fake.sent == []


def _without_auth(fake: FakeTelnyx) -> None:
    def strip(request: httpx2.Request) -> None:
        del request.headers["Authorization"]

    http = httpx2.Client(transport=fake.transport(), event_hooks={"request": [strip]})
    Telnyx(api_key="k", http_client=http, base_url="https://api.telnyx.com/v2").messages.send(**SEND)


def test_an_idempotency_key_is_kept_as_the_edge_keeps_it() -> None:
    fake = FakeTelnyx()
    client = fake.client()
    first = client.messages.with_raw_response.send(**SEND, idempotency_key="order-42")
    again = client.messages.with_raw_response.send(**SEND, idempotency_key="order-42")
    assert not first.replayed and again.replayed and again.parse() == first.parse()
    assert len(fake.sent) == 1
    with pytest.raises(UnprocessableEntityError, match="order-42"):
        client.messages.send(**{**SEND, "text": "other"}, idempotency_key="order-42")
    assert len(fake.sent) == 1


@pytest.mark.parametrize("kind", ["status 500", "status 429", "disconnect", "timeout"])
@pytest.mark.parametrize("after_accept", [False, True])
def test_failures_on_demand_are_retried_at_once_and_a_keyed_send_is_accepted_once(
    kind: str, after_accept: bool
) -> None:
    fake = FakeTelnyx()
    if kind.startswith("status"):
        fake.fail_next(status=int(kind.split()[1]), after_accept=after_accept, times=2)
    else:
        fake.fail_next(kind, after_accept=after_accept, times=2)  # type: ignore[arg-type]
    started = time.monotonic()
    sent = fake.client(max_retries=2).messages.send(**SEND).data
    assert time.monotonic() - started < 0.5  # no backoff, no Retry-After, no timeout waited out
    assert sent is not None and len(fake.requests) == 3
    assert [m.id for m in fake.sent] == [sent.id]  # accepted once, whatever failed after it


@pytest.mark.parametrize(
    ("kind", "error"),
    [("disconnect", APIConnectionError), ("timeout", APITimeoutError), ("status", InternalServerError)],
)
def test_without_a_key_a_failure_after_acceptance_is_the_callers_to_handle(kind: str, error: type[Exception]) -> None:
    fake = FakeTelnyx()
    if kind == "status":
        fake.fail_next(status=500, after_accept=True)
    else:
        fake.fail_next(kind, after_accept=True)  # type: ignore[arg-type]
    with pytest.raises(error):
        fake.client().messages.send(**SEND, idempotency_key=None)
    assert len(fake.sent) == 1 and len(fake.requests) == 1  # accepted, and not sent again


def test_fail_next_refuses_what_it_cannot_do() -> None:
    fake = FakeTelnyx()
    for bad in ({}, {"kind": "boom"}, {"status": 200}, {"kind": "timeout", "status": 500}, {"status": 500, "times": 0}):
        with pytest.raises(ValueError, match="fail_next"):
            fake.fail_next(**bad)


def test_a_signed_webhook_verifies_and_reads_as_its_event() -> None:
    fake = FakeTelnyx()
    sent = fake.client().messages.send(**SEND).data
    assert sent is not None
    for message in (sent, sent.id):
        body, headers = fake.webhook("message.finalized", message)
        event = webhooks.unwrap(body, headers, key=fake.public_key)
        assert type(event).__name__ == "OutboundMessageEvent"
        assert event.data is not None and event.data.event_type == "message.finalized"  # type: ignore[union-attr]
        assert event.data.payload is not None and event.data.payload.id == sent.id  # type: ignore[union-attr]
    body, headers = fake.webhook("message.received", sent, timestamp=int(time.time()) - 3600)
    with pytest.raises(webhooks.TimestampOutOfToleranceError):
        webhooks.unwrap(body, headers, key=fake.public_key)
    with pytest.raises(webhooks.InvalidSignatureError):
        webhooks.unwrap(body.replace(b"Hello", b"Jello"), fake.webhook("message.sent", sent)[1], key=fake.public_key)
    with pytest.raises(ValueError, match=r"message\.teleported"):
        fake.webhook("message.teleported", sent)
    with pytest.raises(KeyError):
        fake.webhook("message.sent", "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e")


def test_a_users_own_http_client_on_the_fake_transport() -> None:
    fake = FakeTelnyx()
    with httpx2.Client(transport=fake.transport()) as http:
        client = Telnyx(api_key="k", base_url="https://api.telnyx.com/v2", http_client=http)
        assert client.messages.send(**SEND).data == fake.sent[0]

    async def on_async() -> None:
        async with httpx2.AsyncClient(transport=fake.async_transport()) as ahttp:
            aclient = AsyncTelnyx(api_key="k", base_url="https://api.telnyx.com/v2", http_client=ahttp)
            await aclient.messages.send(**SEND)

    asyncio.run(on_async())
    assert len(fake.sent) == 2


def test_the_fixtures_come_from_the_installed_plugin(telnyx_fake: FakeTelnyx, async_telnyx_fake: FakeTelnyx) -> None:
    assert isinstance(telnyx_fake, FakeTelnyx) and telnyx_fake is not async_telnyx_fake
    telnyx_fake.client().messages.send(**SEND)
    assert len(telnyx_fake.sent) == 1 and async_telnyx_fake.sent == []


def test_without_the_extra_the_error_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import telnyx_messages
    import telnyx_messages.testing as testing

    for name in ("telnyx_messages.testing._fake", "telnyx_messages.testing._spec"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    with pytest.raises(telnyx_messages.MissingDependencyError, match=r"pip install 'telnyx-messages\[testing\]'"):
        testing.FakeTelnyx  # noqa: B018


README_TESTS = next(
    block
    for block in re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    if "def test_" in block and "telnyx_fake" in block
)


def test_the_readmes_tests_pass_under_pytest(tmp_path: Path) -> None:
    (tmp_path / "test_readme_testing.py").write_text(README_TESTS)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_readme_testing.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and "4 passed" in run.stdout, run.stdout + run.stderr
    assert json.dumps(README_TESTS).count("def test_") == 4
