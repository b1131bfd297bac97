"""telnyx_messages.testing: the fake accepts every operation of the spec as the API does, refuses what
the API refuses, keeps idempotency keys as the edge does, fails on demand without waiting, signs
webhooks the receiver verifies; and the README's "Testing your code" tests pass under pytest."""

from __future__ import annotations

import asyncio
import copy
import datetime
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
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
    TelnyxError,
    UnprocessableEntityError,
    webhooks,
)
from telnyx_messages.testing import FakeTelnyx, FakeTelnyxError
from telnyx_messages.testing._spec import Spec

from .support import MESSAGE_ID, ROOT
from .support.spec import (
    CASES,
    JSON_BODY,
    SPEC,
    OperationCase,
    absent,
    at,
    call_arguments,
    case_of,
    example_of,
    resolve,
    where_is,
)

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


# --- messages made from the request, never from the spec's example ----------------------------------

AUTHORIZED = {"Authorization": "Bearer k"}
# What the API sets on a message it accepts, whatever the example shows: (field, value).
SET_BY_THE_API = {("direction", "outbound"), ("status", "queued"), ("status", "cancelled"), ("type", "SMS")}
# A text of two UCS-2 parts: its parts and encoding are none of the example's (one GSM-7 part).
TWO_UCS2_PARTS = "\u4e2d" * 71


def _alternatives(schema: dict[str, Any]) -> list[dict[str, Any]]:
    schema = resolve(SPEC, schema)
    return [resolve(SPEC, part) for part in schema.get("oneOf") or schema.get("anyOf") or [schema]]


def _makes_a_message(case: OperationCase) -> bool:
    """A send: a POST whose answer's data is a message (has an id)."""
    data = (resolve(SPEC, case.response_schema).get("properties") or {}).get("data")
    return (
        case.method == "POST"
        and data is not None
        and any("id" in (p.get("properties") or {}) for p in _alternatives(data))
    )


SENDS = [case for case in CASES if _makes_a_message(case)]


def _leaves(document: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Each scalar (or empty list or object) of a JSON document, with its path."""
    if isinstance(document, dict) and document:
        for name, value in document.items():
            yield from _leaves(value, (*path, name))
    elif isinstance(document, list) and document:
        for index, value in enumerate(document):
            yield from _leaves(value, (*path, str(index)))
    else:
        yield path, document


def _fixed(schema: Any, seen: set[int] | None = None) -> set[tuple[str, str]]:
    """(field, JSON value) of every field under `schema` whose value it fixes: a const, an enum of one
    value, a default."""
    seen = set() if seen is None else seen
    if not isinstance(schema, dict):
        return set()
    schema = resolve(SPEC, schema)
    if id(schema) in seen:
        return set()
    seen.add(id(schema))
    found: set[tuple[str, str]] = set()
    for name, part in (schema.get("properties") or {}).items():
        part = resolve(SPEC, part)
        values = [part["const"]] if "const" in part else part.get("enum") or []
        if len(values) == 1:
            found.add((name, json.dumps(values[0])))
        if "default" in part:
            found.add((name, json.dumps(part["default"])))
    children = [*(schema.get("properties") or {}).values()]
    for key in ("oneOf", "anyOf", "allOf"):
        children += schema.get(key) or []
    if isinstance(schema.get("items"), dict):
        children.append(schema["items"])
    for child in children:
        found |= _fixed(child, seen)
    return found


def _copied_from_the_example(answer: Any, example: Any, request: Any, schema: Any) -> list[tuple[str, Any]]:
    """The values of `answer` that are the example's at the same place, though neither the request, the
    schema nor the API's own rules give them."""
    given = {json.dumps(value) for _, value in _leaves(request)}
    fixed = _fixed(schema)
    shown = dict(_leaves(example))
    copied = []
    for path, value in _leaves(answer):
        if path not in shown or shown[path] != value or value in (None, [], {}):
            continue
        name = next((part for part in reversed(path) if not part.isdigit()), "")
        text = json.dumps(value)
        if text in given or (name, text) in fixed or (name, value) in SET_BY_THE_API:
            continue
        copied.append(("/".join(path), value))
    return copied


def _minimal_request(case: OperationCase) -> dict[str, Any]:
    """The request's required fields (from its example), and a text where it takes one."""
    assert case.request_schema is not None
    schema = resolve(SPEC, case.request_schema)
    example = example_of(SPEC, case.request_schema)
    body = {name: example[name] for name in schema.get("required") or [] if name in example}
    if "text" in (schema.get("properties") or {}):
        body["text"] = TWO_UCS2_PARTS
    return body


@pytest.mark.parametrize("case", SENDS, ids=lambda c: c.operation_id)
def test_a_sent_message_holds_what_the_request_set_and_none_of_the_examples_values(case: OperationCase) -> None:
    fake = FakeTelnyx()
    body = _minimal_request(case)
    with httpx2.Client(transport=fake.transport(), base_url=SPEC["servers"][0]["url"]) as http:
        answer = http.post(case.path, json=body, headers=AUTHORIZED)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    schema = resolve(SPEC, case.response_schema)["properties"]["data"]
    example = example_of(SPEC, schema)
    assert _copied_from_the_example(data, example, body, schema) == []
    for name, value in body.items():
        if name == "text" and "text" in data:
            assert data["text"] == value
    if "parts" in data:
        assert data["parts"] == 2 and data.get("encoding", "UCS-2") == "UCS-2"
    assert len(fake.sent) == 1


def test_a_field_a_later_spec_adds_and_its_example_fills_is_not_copied() -> None:
    document = copy.deepcopy(FakeTelnyx().spec.document)
    pointer = where_is(document, "SendMessage", "responses", "200", *JSON_BODY, "properties", "data")
    message = resolve(document, at(document, pointer))
    shown = absent(message["properties"], "delivery_region")
    empty = absent([*message["properties"], shown], "delivered_at")
    message["properties"] |= {shown: {"type": "string"}, empty: {"type": ["string", "null"]}}
    message["example"] = {**message.get("example", {}), shown: "us-east", empty: None}
    fake = _fake_on(document)
    with httpx2.Client(transport=fake.transport(), base_url=SPEC["servers"][0]["url"]) as http:
        answer = http.post("/messages", json={"to": "+13125550002", "text": "Hi"}, headers=AUTHORIZED)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert shown not in data and data[empty] is None  # an illustration left out; "not yet known" kept


def test_a_cancellation_holds_the_message_and_none_of_the_examples_values() -> None:
    fake = FakeTelnyx()
    client = fake.client()
    scheduled = client.messages.schedule(
        to="+13125550002", from_="+18445550009", text=TWO_UCS2_PARTS, send_at="2030-01-01T00:00:00Z"
    )
    assert scheduled.data is not None
    with httpx2.Client(transport=fake.transport(), base_url=SPEC["servers"][0]["url"]) as http:
        answer = http.delete(f"/messages/{scheduled.data.id}", headers=AUTHORIZED)
    assert answer.status_code == 200, answer.text
    cancel = next(case for case in CASES if case.operation_id == "CancelMessage")
    request = {"to": "+13125550002", "from": "+18445550009", "text": TWO_UCS2_PARTS, "id": scheduled.data.id}
    document = answer.json()
    assert (
        _copied_from_the_example(document, example_of(SPEC, cancel.response_schema), request, cancel.response_schema)
        == []
    )
    message = document.get("data", document)
    assert message["id"] == scheduled.data.id and message["text"] == TWO_UCS2_PARTS
    assert [to["status"] for to in message["to"]] == ["cancelled"]


# --- a text over the spec's maximum of parts ---------------------------------------------------------


def _parts_maximum(document: dict[str, Any]) -> dict[str, Any]:
    """The schema of a sent message's `parts` (where its maximum is), in `document`."""
    pointer = where_is(document, "SendMessage", "responses", "200", *JSON_BODY, "properties", "data")
    parts: dict[str, Any] = resolve(document, at(document, pointer)["properties"]["parts"])
    return parts


MAXIMUM = int(_parts_maximum(SPEC)["maximum"])


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("x" * 10_000, -(-10_000 // 153)),
        ("x" * (153 * MAXIMUM + 1), MAXIMUM + 1),
        ("\u20ac" * (76 * MAXIMUM + 1), MAXIMUM + 1),  # an escape pair is never split: 76 a part
        ("\u4e2d" * (67 * MAXIMUM + 1), MAXIMUM + 1),
    ],
    ids=[
        "10,000 GSM-7 characters",
        "one GSM-7 character over",
        "one GSM-7 escape pair over",
        "one UCS-2 character over",
    ],
)
def test_a_text_over_the_specs_parts_is_refused_as_telnyx_refuses_it(text: str, parts: int) -> None:
    fake = FakeTelnyx()
    with httpx2.Client(transport=fake.transport(), base_url=SPEC["servers"][0]["url"]) as http:
        answer = http.post(
            "/messages", json={"to": "+13125550002", "from": "+18445550009", "text": text}, headers=AUTHORIZED
        )
    assert answer.status_code == 400, answer.text
    (error,) = answer.json()["errors"]
    assert error["code"] == "40302" and error["title"] == "Message too large"
    assert error["source"] == {"pointer": "/text"}
    assert error["detail"].startswith("text: ") and f" {parts} parts" in error["detail"]
    assert f"maximum is {MAXIMUM}." in error["detail"]
    assert fake.sent == []


@pytest.mark.parametrize("text", ["x" * 153 * MAXIMUM, "\u20ac" * 76 * MAXIMUM, "\u4e2d" * 67 * MAXIMUM])
def test_a_text_of_the_specs_maximum_of_parts_is_sent(text: str) -> None:
    sent = FakeTelnyx().client().messages.send(to="+13125550002", from_="+18445550009", text=text).data
    assert sent is not None and sent.parts == MAXIMUM


def test_an_mms_text_is_not_split_in_sms_parts() -> None:
    fake = FakeTelnyx()
    body = {"to": "+13125550002", "text": "x" * 153 * (MAXIMUM + 1), "media_urls": ["https://example.com/a.png"]}
    with httpx2.Client(transport=fake.transport(), base_url=SPEC["servers"][0]["url"]) as http:
        answer = http.post("/messages", json=body, headers=AUTHORIZED)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["type"] == "MMS" and data["parts"] == 1 and "encoding" not in data


def _fake_on(document: dict[str, Any]) -> FakeTelnyx:
    fake = FakeTelnyx()
    fake.spec = Spec(document)
    return fake


def test_the_maximum_of_parts_is_the_specs() -> None:
    document = copy.deepcopy(FakeTelnyx().spec.document)
    _parts_maximum(document)["maximum"] = 2
    fake = _fake_on(document)
    with httpx2.Client(transport=fake.transport(), base_url=SPEC["servers"][0]["url"]) as http:
        refused = http.post("/messages", json={"to": "+13125550002", "text": "x" * 307}, headers=AUTHORIZED)
        sent = http.post("/messages", json={"to": "+13125550002", "text": "x" * 306}, headers=AUTHORIZED)
    assert refused.status_code == 400 and "3 parts" in refused.text and "maximum is 2." in refused.text
    assert sent.status_code == 200 and sent.json()["data"]["parts"] == 2


def test_what_the_fake_makes_and_its_spec_refuses_is_the_fakes_error_not_an_assertion() -> None:
    document = copy.deepcopy(FakeTelnyx().spec.document)
    pointer = where_is(document, "SendMessage", "responses", "200", *JSON_BODY, "properties", "data")
    resolve(document, at(document, pointer))["properties"]["id"]["maxLength"] = 1  # a UUID never fits
    fake = _fake_on(document)
    with pytest.raises(FakeTelnyxError, match=r"\(the fake's fault, not your code's\): /id: ") as caught:
        fake.client().messages.send(**SEND)
    assert isinstance(caught.value, TelnyxError) and not isinstance(caught.value, AssertionError)
    assert fake.sent == []


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
    with pytest.raises(telnyx_messages.MissingDependencyError) as refused:
        testing.FakeTelnyx  # noqa: B018
    assert re.fullmatch(
        r"telnyx_messages\.testing needs jsonschema: pip install 'telnyx-messages\[testing\]' \(.*jsonschema.*\)",
        str(refused.value),
    ), str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__


def _readme_tests() -> str:
    """The tests of the README's "Testing your code" section: its Python blocks that define tests."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Testing your code") :]
    section = section[: section.index("\n## ", 1)]
    blocks = [block for block in re.findall(r"```python\n(.*?)```", section, re.S) if "def test_" in block]
    assert blocks, "the README's Testing your code section shows no test"
    return "\n\n".join(blocks)


README_TESTS = _readme_tests()


@pytest.mark.parametrize(
    "plugins",
    [["-p", "no:asyncio"], []],
    ids=["without pytest-asyncio", "with pytest-asyncio, no asyncio_mode"],
)
def test_the_readmes_tests_pass_as_written_in_a_project_of_their_own(tmp_path: Path, plugins: list[str]) -> None:
    """In a project with no pytest settings (this repo's asyncio_mode = "auto" would run an async test
    that a user's project refuses): each test, async ones too, passes once."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_readme_testing.py").write_text(README_TESTS)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins, "test_readme_testing.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    defined = len(re.findall(r"^(?:async )?def test_", README_TESTS, re.M))
    assert defined >= 4
    assert run.returncode == 0 and re.search(rf"\b{defined} passed\b", run.stdout), run.stdout + run.stderr


# --- webhooks, groups and injected failures, in detail ------------------------------------------------


def _webhook_schema(event_type: str) -> dict[str, Any]:
    """The spec's schema of the webhook whose event types include `event_type`."""
    for item in SPEC.get("webhooks", {}).values():
        for operation in item.values():
            schema = resolve(SPEC, operation["requestBody"]["content"]["application/json"]["schema"])
            data = resolve(SPEC, schema["properties"]["data"])
            if event_type in resolve(SPEC, data["properties"]["event_type"]).get("enum", []):
                return schema
    raise LookupError(event_type)


@pytest.mark.parametrize("event_type", ["message.sent", "message.received"])
def test_a_webhook_is_the_spec_s_event_made_of_the_message(event_type: str) -> None:
    fake = FakeTelnyx()
    request = {"to": "+13125550002", "from_": "+18445550009", "text": TWO_UCS2_PARTS}
    sent = fake.client().messages.send(**request).data  # type: ignore[arg-type]
    assert sent is not None
    started = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    body, headers = fake.webhook(event_type, sent.id)
    again, _ = fake.webhook(event_type, sent)
    assert headers == {
        "telnyx-signature-ed25519": headers["telnyx-signature-ed25519"],
        "telnyx-timestamp": headers["telnyx-timestamp"],
        "content-type": "application/json",
    }
    schema = _webhook_schema(event_type)
    event, example = json.loads(body), example_of(SPEC, schema)
    data = event["data"]
    assert set(data) == set(example["data"]) and data["event_type"] == event_type
    assert uuid.UUID(data["id"]) and data["id"] != json.loads(again)["data"]["id"]
    assert datetime.datetime.fromisoformat(data["occurred_at"]) >= started
    payload = data["payload"]
    assert payload["id"] == sent.id and payload["text"] == TWO_UCS2_PARTS
    wire = {**request, "from": request.pop("from_")}
    payload_schema = resolve(SPEC, schema["properties"]["data"])["properties"]["payload"]
    assert _copied_from_the_example(payload, example["data"]["payload"], wire, payload_schema) == []
    assert set(payload) <= set(example["data"]["payload"]) | {"encoding", "parts"}


def test_a_webhook_of_what_the_fake_did_not_send_is_refused_by_name() -> None:
    fake = FakeTelnyx()
    with pytest.raises(KeyError, match="the fake sent no message 'nope'"):
        fake.webhook("message.sent", "nope")
    with pytest.raises(TypeError, match="message must be a result the fake returned, or its id, got int"):
        fake.webhook("message.sent", 5)
    sent = fake.client().messages.send(**SEND).data
    assert sent is not None
    body, _ = fake.webhook("message.sent", sent.to_dict(mode="json"))  # a mapping, as it is
    assert json.loads(body)["data"]["payload"]["id"] == sent.id


def test_a_group_is_read_back_and_an_unknown_one_is_the_apis_404() -> None:
    fake = FakeTelnyx()
    client = fake.client()
    body = {"from": "+18445550009", "to": ["+13125550002", "+13125550003"], "text": "Hi"}
    with httpx2.Client(transport=fake.transport(), base_url=SPEC["servers"][0]["url"]) as http:
        sent = http.post(case_of("CreateGroupMmsMessage").path, json=body, headers=AUTHORIZED).json()["data"]
        unknown = http.get(f"/messages/group/{MESSAGE_ID}", headers=AUTHORIZED)
    group = client.messages.retrieve_group_messages(sent["id"]).data
    assert [m.id for m in group or []] == [sent["id"]]
    assert unknown.status_code == 404
    assert unknown.json() == {
        "errors": [{"code": "10005", "title": "Resource not found", "detail": f"no group message {MESSAGE_ID}"}]
    }


def test_an_injected_disconnect_is_httpx_s_own_with_its_request() -> None:
    fake = FakeTelnyx()
    fake.fail_next("disconnect")
    request = httpx2.Request("POST", "https://api.telnyx.com/v2/messages", headers=AUTHORIZED)
    with pytest.raises(
        httpx2.RemoteProtocolError, match=r"^Server disconnected without sending a response\.$"
    ) as caught:
        fake.handle(request)
    assert caught.value.request is request


def _error(answer: httpx2.Response) -> tuple[int, dict[str, Any]]:
    (error,) = answer.json()["errors"]
    return answer.status_code, error


def test_what_the_fake_refuses_of_a_message_is_the_apis_error_document() -> None:
    fake = FakeTelnyx()
    client = fake.client()
    sent = client.messages.send(**SEND).data
    assert sent is not None
    with httpx2.Client(transport=fake.transport(), base_url=SPEC["servers"][0]["url"]) as http:
        unknown = http.get(f"/messages/{MESSAGE_ID}", headers=AUTHORIZED)
        cancel_unknown = http.delete(f"/messages/{MESSAGE_ID}", headers=AUTHORIZED)
        cancel_sent = http.delete(f"/messages/{sent.id}", headers=AUTHORIZED)
    not_found = {"code": "10005", "title": "Resource not found", "detail": f"no message {MESSAGE_ID}"}
    assert _error(unknown) == (404, not_found) and _error(cancel_unknown) == (404, not_found)
    detail = f"message {sent.id} is not a scheduled message"
    assert _error(cancel_sent) == (422, {"code": "40305", "title": "Not cancellable", "detail": detail})


@pytest.mark.parametrize("status", [400, 429, 500, 599])
def test_an_injected_status_is_an_error_document_with_retry_after_on_429_only(status: int) -> None:
    fake = FakeTelnyx()
    fake.fail_next(status=status)  # once, before acceptance
    request = httpx2.Request("POST", "https://api.telnyx.com/v2/messages", headers=AUTHORIZED)
    answer = fake.handle(request)
    assert answer.request is request
    expected = {"content-type": "application/json", **({"retry-after": "1"} if status == 429 else {})}
    assert {k: v for k, v in answer.headers.items() if k != "content-length"} == expected
    assert _error(answer) == (
        status,
        {"code": "10000", "title": "Injected failure", "detail": "fail_next() asked for it"},
    )
    assert fake.handle(request).status_code == 200  # once: the next is answered


def test_an_injected_timeout_is_httpx_s_own_with_its_request() -> None:
    fake = FakeTelnyx()
    fake.fail_next("timeout")
    request = httpx2.Request("POST", "https://api.telnyx.com/v2/messages", headers=AUTHORIZED)
    with pytest.raises(httpx2.ReadTimeout, match=r"^timed out \(the fake's injected timeout\)$") as caught:
        fake.handle(request)
    assert caught.value.request is request


@pytest.mark.parametrize("status", [399, 600])
def test_fail_next_takes_error_statuses_only_and_says_which(status: int) -> None:
    with pytest.raises(ValueError, match=rf"^fail_next status must be an HTTP error status \(400-599\), got {status}$"):
        FakeTelnyx().fail_next(status=status)
    with pytest.raises(
        ValueError, match=r"^fail_next takes a kind \('disconnect' or 'timeout'\) or status=, one of them$"
    ):
        FakeTelnyx().fail_next()


def _cancel_schema(document: dict[str, Any]) -> dict[str, Any]:
    operation = document["paths"][case_of("CancelMessage").path]["delete"]
    response = resolve(document, operation["responses"]["200"])
    schema: dict[str, Any] = response["content"]["application/json"]
    return schema


@pytest.mark.parametrize("enveloped", [False, True])
@pytest.mark.parametrize("takes_cancelled", [True, False])
def test_a_cancellation_answers_in_the_cancel_schemas_shape(enveloped: bool, takes_cancelled: bool) -> None:
    document = copy.deepcopy(FakeTelnyx().spec.document)
    content = _cancel_schema(document)
    message = resolve(document, content["schema"])
    if not takes_cancelled:
        items = resolve(document, resolve(document, message["properties"]["to"])["items"])
        status = resolve(document, items["properties"]["status"])
        status["enum"] = [value for value in status["enum"] if value != "cancelled"]
    if enveloped:
        content["schema"] = {"type": "object", "properties": {"data": message}}
    fake = _fake_on(document)
    with httpx2.Client(transport=fake.transport(), base_url=SPEC["servers"][0]["url"]) as http:
        body = {"to": "+13125550002", "text": "Hi", "send_at": "2030-01-01T00:00:00Z"}
        scheduled = http.post(case_of("ScheduleMessage").path, json=body, headers=AUTHORIZED).json()["data"]
        answer = http.delete(f"/messages/{scheduled['id']}", headers=AUTHORIZED)
    assert answer.status_code == 200, answer.text
    cancelled = answer.json()["data"] if enveloped else answer.json()
    assert set(answer.json()) == ({"data"} if enveloped else set(answer.json()))
    assert cancelled["id"] == scheduled["id"] and cancelled["text"] == "Hi"
    assert [to["status"] for to in cancelled["to"]] == ["cancelled" if takes_cancelled else "queued"]


@pytest.mark.parametrize("shape", ["recipients without a status", "no fields"])
def test_a_cancellation_whose_schema_lacks_a_status_or_any_field(shape: str) -> None:
    document = copy.deepcopy(FakeTelnyx().spec.document)
    content = _cancel_schema(document)
    message = copy.deepcopy(resolve(document, content["schema"]))
    if shape == "no fields":
        content["schema"] = {"type": "object", "example": {"note": "cancelled"}}
    else:
        items = resolve(document, resolve(document, message["properties"]["to"])["items"])
        message["properties"]["to"] = {"type": "array", "items": {**items, "properties": {"phone_number": {}}}}
        content["schema"] = message
    fake = _fake_on(document)
    with httpx2.Client(transport=fake.transport(), base_url=SPEC["servers"][0]["url"]) as http:
        body = {"to": "+13125550002", "text": "Hi", "send_at": "2030-01-01T00:00:00Z"}
        scheduled = http.post(case_of("ScheduleMessage").path, json=body, headers=AUTHORIZED).json()["data"]
        answer = http.delete(f"/messages/{scheduled['id']}", headers=AUTHORIZED)
    assert answer.status_code == 200, answer.text
    if shape == "no fields":
        assert answer.json() == content["schema"]["example"]
    else:
        assert answer.json()["to"] == scheduled["to"]  # as they were: the schema has no status to set


def test_alternatives_are_a_schemas_one_of_or_any_of_else_itself() -> None:
    from telnyx_messages.testing._fake import _alternatives

    spec = Spec({"paths": {}})
    first, second = {"type": "integer"}, {"type": "string"}
    assert _alternatives(spec, {"oneOf": [first, second]}) == [first, second]
    assert _alternatives(spec, {"anyOf": [first, second]}) == [first, second]
    assert _alternatives(spec, first) == [first]


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [("Hi", None, "GSM-7"), (TWO_UCS2_PARTS, None, "UCS-2"), ("Hi", "auto", "GSM-7"), ("Hi", "ucs2", "ucs2")],
)
def test_a_sent_sms_s_encoding_is_its_texts_unless_the_request_chose_one(
    text: str, encoding: str | None, expected: str
) -> None:
    fake = FakeTelnyx()
    body = {"to": "+13125550002", "text": text, **({"encoding": encoding} if encoding else {})}
    with httpx2.Client(transport=fake.transport(), base_url=SPEC["servers"][0]["url"]) as http:
        answer = http.post("/messages", json=body, headers=AUTHORIZED)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["encoding"] == expected


def test_a_cancellation_its_spec_refuses_is_the_fakes_error() -> None:
    document = copy.deepcopy(FakeTelnyx().spec.document)
    message = resolve(document, _cancel_schema(document)["schema"])
    wanted = absent(message["properties"], "cancelled_by")
    message["properties"][wanted] = {"type": "string"}
    message["required"] = [*message.get("required", []), wanted]
    fake = _fake_on(document)
    with httpx2.Client(transport=fake.transport(), base_url=SPEC["servers"][0]["url"]) as http:
        body = {"to": "+13125550002", "text": "Hi", "send_at": "2030-01-01T00:00:00Z"}
        scheduled = http.post(case_of("ScheduleMessage").path, json=body, headers=AUTHORIZED).json()["data"]
        with pytest.raises(FakeTelnyxError, match=rf"made a cancellation the spec refuses .*{wanted}"):
            http.delete(f"/messages/{scheduled['id']}", headers=AUTHORIZED)


def test_the_async_client_is_on_the_api_s_url_and_retries_at_once() -> None:
    fake = FakeTelnyx()
    fake.fail_next(status=500, times=2)

    async def send() -> Any:
        async with fake.async_client(max_retries=2) as client:
            return (await client.messages.send(**SEND)).data

    started = time.monotonic()
    sent = asyncio.run(send())
    assert time.monotonic() - started < 0.5 and sent is not None
    assert [str(request.url) for request in fake.requests] == ["https://api.telnyx.com/v2/messages"] * 3


def test_an_injected_status_fails_before_acceptance_unless_asked() -> None:
    fake = FakeTelnyx()
    fake.fail_next(status=500)
    with pytest.raises(InternalServerError):
        fake.client(max_retries=0).messages.send(**SEND)
    assert fake.sent == []


def test_the_fakes_reading_of_a_spec_takes_every_method_parameter_and_body() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string"}}}
    document: dict[str, Any] = {
        "servers": [{"url": "https://api.example.com/v9"}],
        "paths": {
            "/things/{id}": {
                "summary": "not an operation",
                "parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}],
                **{
                    method: {
                        "operationId": f"{method}Thing",
                        "parameters": [{"$ref": "#/components/parameters/q"}],
                        "requestBody": {"$ref": "#/components/requestBodies/a~1b"},
                        "responses": {"200": {"description": "ok"}},
                    }
                    for method in ("get", "post", "put", "patch", "delete")
                },
            },
            "/bare": {"get": {"operationId": "bare"}},
        },
        "components": {
            "parameters": {"q": {"name": "q", "in": "query", "required": True, "schema": {"type": "integer"}}},
            "requestBodies": {"a/b": {"required": True, "content": {"application/json": {"schema": schema}}}},
        },
    }
    spec = Spec(document)
    things, bare = spec.operations[:5], spec.operations[5]
    assert [op.method for op in things] == ["GET", "POST", "PUT", "PATCH", "DELETE"]
    for op in things:
        assert op.operation_id == f"{op.method.lower()}Thing" and op.path == "/things/{id}"
        assert [(p.name, p.where, p.required, dict(p.schema)) for p in op.parameters] == [
            ("id", "path", True, {"type": "string"}),
            ("q", "query", True, {"type": "integer"}),
        ]
        assert op.body_schema == schema and op.body_required and op.responses == {"200": {"description": "ok"}}
    assert (bare.parameters, bare.body_schema, bare.body_required, bare.responses) == ((), None, False, {})
    assert spec.base_path == "/v9"
    operation, values = spec.route("PATCH", "/v9/things/7")
    assert operation.method == "PATCH" and values == {"id": "7"}


def test_the_fakes_reading_of_a_spec_s_servers_extensions_schemaless_parameters_and_escaped_names() -> None:
    document: dict[str, Any] = {
        "servers": [{"url": "https://api.example.com/X/"}],
        "paths": {
            "/things": {
                "x-internal": {"note": "an extension, not an operation"},
                "get": {"operationId": "list", "parameters": [{"name": "q", "in": "query"}]},
            }
        },
        "components": {"schemas": {"a~b/c": {"type": "integer"}}},
    }
    spec = Spec(document)
    (operation,) = spec.operations
    assert spec.base_path == "/X" and spec.route("GET", "/X/things")[0] is operation
    assert [dict(p.schema) for p in operation.parameters] == [{}]
    assert spec.resolve({"$ref": "#/components/schemas/a~0b~1c"}) == {"type": "integer"}
    bare = Spec({"paths": document["paths"]})
    assert bare.base_path == "" and bare.route("GET", "/things")[0].operation_id == "list"


@pytest.mark.parametrize(
    ("format_", "value", "valid"),
    [
        ("date-time", "2026-01-01T00:00:00Z", True),
        ("date-time", "2026-01-01t00:00:00+02:00", True),
        ("date-time", "2026-01-01 00:00:00.5Z", True),
        ("date-time", "2026-01-01T00:00:00", False),  # no zone
        ("date-time", "2026-01-01X00:00:00Z", False),
        ("date-time", "2026-01-01", False),
        ("date-time", "2026-13-01T00:00:00Z", False),  # no such month
        ("date-time", 5, True),  # a format constrains text only
        ("uuid", "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", True),
        ("uuid", "not-a-uuid", False),
        ("uuid", 5, True),
        ("uri", "https://example.com/a", True),
        ("url", "http://example.com", True),
        ("url", "ftp://example.com", False),
        ("url", "https://", False),
        ("uri", 5, True),
    ],
)
def test_the_formats_the_fake_checks(format_: str, value: Any, valid: bool) -> None:
    from telnyx_messages.testing._spec import Refusal

    spec = FakeTelnyx().spec
    if valid:
        spec.check({"format": format_}, value, "/field")
    else:
        with pytest.raises(Refusal, match=r"^422 Invalid value: /field: "):
            spec.check({"format": format_}, value, "/field")


def test_the_fakes_clients_are_on_the_fakes_url_whatever_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELNYX_BASE_URL", "https://elsewhere.example.com/v2")
    fake = FakeTelnyx()
    fake.client().messages.send(**SEND)

    async def send() -> None:
        async with fake.async_client() as client:
            await client.messages.send(**SEND)

    asyncio.run(send())
    assert [str(request.url) for request in fake.requests] == ["https://api.telnyx.com/v2/messages"] * 2


def test_a_get_of_what_no_send_makes_is_answered_from_its_example() -> None:
    thing = {"type": "object", "properties": {"id": {"type": "string", "example": "agent-1"}}}
    enveloped = {"type": "object", "properties": {"data": thing}}
    document: dict[str, Any] = {
        "servers": [{"url": "https://api.example.com/v9"}],
        "paths": {
            "/things": {
                "post": {
                    "operationId": "make",
                    "responses": {"200": {"content": {"text/plain": {"schema": {"type": "string"}}}}},
                }
            },
            "/things/{id}": {
                "get": {
                    "operationId": "get",
                    "parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}],
                    "responses": {"200": {"content": {"application/json": {"schema": enveloped}}}},
                }
            },
        },
    }
    fake = _fake_on(document)
    with httpx2.Client(transport=fake.transport(), base_url="https://api.example.com/v9") as http:
        made = http.post("/things", headers=AUTHORIZED)
        answer = http.get("/things/7", headers=AUTHORIZED)
    assert made.status_code == 200, made.text
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"data": {"id": thing["properties"]["id"]["example"]}}


class _NowOnly:
    def now(self) -> float:
        return 0.0


class _UtcOnly:
    def utc(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)


@pytest.mark.parametrize("clock", [_NowOnly(), _UtcOnly()], ids=["now only", "utc only"])
def test_a_clock_needs_both_now_and_utc(clock: Any) -> None:
    with pytest.raises(TypeError, match=r"FakeTelnyx clock must have now\(\) and utc\(\) \(a FakeClock\), got "):
        FakeTelnyx(clock=clock)


def test_the_fake_shows_the_throughput_and_limits_it_was_given() -> None:
    from telnyx_messages.testing import FakeClock, RequestLimit, SpendLimit, Throughput

    throughput, request_limit, spend_limit = Throughput(), RequestLimit(5), SpendLimit(7)
    fake = FakeTelnyx(clock=FakeClock(), throughput=throughput, request_limit=request_limit, spend_limit=spend_limit)
    assert (fake.throughput, fake.request_limit, fake.spend_limit) == (throughput, request_limit, spend_limit)
    assert FakeTelnyx(clock=FakeClock()).throughput == Throughput()  # Telnyx's rates, by default, with a clock
    assert FakeTelnyx().throughput is None
