"""What the fake refuses before any operation runs, and the error document it answers: the status, the
Telnyx error code and title, and a detail naming what is wrong. The routes and checks are the spec's;
a small spec of the test's own holds the parameters today's spec lacks (a required query parameter, a
number in the query, a header with a schema, a required body)."""

from __future__ import annotations

import copy
import datetime
import time
import uuid
from typing import Any

import httpx2
import pytest
from telnyx_messages.testing import FakeClock, FakeTelnyx, FakeTelnyxError, RequestLimit, SpendLimit
from telnyx_messages.testing._spec import Refusal, Spec

URL = "https://api.example.com/v9"
AUTHORIZED = {"Authorization": "Bearer k"}

DOCUMENT: dict[str, Any] = {
    "servers": [{"url": URL}],
    "paths": {
        "/things": {
            "post": {
                "operationId": "make",
                "parameters": [  # an optional one before a required one: each is checked
                    {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                    {"name": "x-tier", "in": "header", "schema": {"type": "string", "enum": ["gold"]}},
                    {"name": "x-priority", "in": "header", "schema": {"type": "integer", "maximum": 3}},
                    {"name": "label", "in": "query", "schema": {"type": "string"}},
                    {"name": "ratio", "in": "query", "schema": {"type": "number"}},
                    {"name": "count", "in": "query", "required": True, "schema": {"type": "integer", "maximum": 9}},
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {"200": {"description": "ok"}},
            },
            "get": {"operationId": "list", "responses": {"200": {"description": "ok"}}},
        }
    },
}


def _fake() -> FakeTelnyx:
    fake = FakeTelnyx()
    fake.spec = Spec(DOCUMENT)
    return fake


def _error(answer: httpx2.Response) -> tuple[int, dict[str, Any]]:
    (error,) = answer.json()["errors"]
    return answer.status_code, error


@pytest.mark.parametrize(
    ("method", "path", "params", "headers", "content", "expected"),
    [
        ("POST", "/things", {"count": "1"}, {}, b"{}", (401, "10009", "Authentication failed", "no API key")),
        ("GET", "/v8/things", {}, AUTHORIZED, b"", (404, "10005", "Resource not found", "no operation at /v8/things")),
        ("GET", "/v9/nothing", {}, AUTHORIZED, b"", (404, "10005", "Resource not found", "no operation at /nothing")),
        (
            "PUT",
            "/v9/things",
            {},
            AUTHORIZED,
            b"",
            (405, "10002", "Method not allowed", "PUT /things: the API takes POST, GET"),
        ),
        (
            "POST",
            "/v9/things",
            {},
            AUTHORIZED,
            b"{}",
            (422, "10002", "Missing parameter", "query parameter count is required"),
        ),
        (
            "POST",
            "/v9/things",
            {"count": "12"},
            AUTHORIZED,
            b"{}",
            (422, "10002", "Invalid value", "query parameter count: 12 is greater than the maximum of 9"),
        ),
        (
            "POST",
            "/v9/things",
            {"count": "1"},
            {**AUTHORIZED, "x-tier": "lead"},
            b"{}",
            (400, "10015", "Invalid header", "header parameter x-tier: 'lead' is not one of ['gold']"),
        ),
        (
            "POST",
            "/v9/things",
            {"count": "1"},
            AUTHORIZED,
            b"",
            (422, "10002", "Missing body", "the request needs a JSON body"),
        ),
        (
            "POST",
            "/v9/things",
            {"count": "1"},
            AUTHORIZED,
            b"{",
            (400, "10002", "Invalid JSON", "the body is not JSON: "),
        ),
    ],
    ids=[
        "no key",
        "outside the base path",
        "no such path",
        "no such method",
        "missing query parameter",
        "query number out of range",
        "header refused",
        "missing body",
        "not JSON",
    ],
)
def test_a_refusal_is_the_status_code_title_and_a_detail_naming_what_is_wrong(
    method: str,
    path: str,
    params: dict[str, str],
    headers: dict[str, str],
    content: bytes,
    expected: tuple[int, str, str, str],
) -> None:
    with httpx2.Client(transport=_fake().transport(), base_url="https://api.example.com") as http:
        answer = http.request(method, path, params=params, headers=headers, content=content)
    status, error = _error(answer)
    assert (status, error["code"], error["title"]) == expected[:3]
    assert error["detail"].startswith(expected[3])


def test_a_number_in_the_query_or_a_header_is_read_as_a_number_and_text_the_schema_refuses() -> None:
    with httpx2.Client(transport=_fake().transport(), base_url=URL) as http:
        taken = http.post(
            "/things",
            params={"count": "3", "label": "123", "ratio": "1.5"},
            headers={**AUTHORIZED, "x-tier": "gold", "x-priority": "2"},
            json={},
        )
        text = http.post("/things", params={"count": "three"}, headers=AUTHORIZED, json={})
        header = http.post("/things", params={"count": "3"}, headers={**AUTHORIZED, "x-priority": "high"}, json={})
    assert taken.status_code == 200, taken.text
    status, error = _error(text)
    assert status == 422 and error["detail"].startswith("query parameter count: 'three' is not of type 'integer'")
    status, error = _error(header)
    assert (status, error["code"]) == (400, "10015") and "x-priority" in error["detail"]


def test_a_body_refused_is_named_by_the_json_pointer_to_what_is_wrong_or_slash_for_the_whole() -> None:
    document = copy.deepcopy(DOCUMENT)
    body = document["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"] = {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}}
    fake = FakeTelnyx()
    fake.spec = Spec(document)
    with httpx2.Client(transport=fake.transport(), base_url=URL) as http:
        inner = http.post("/things", params={"count": "1"}, headers=AUTHORIZED, json={"tags": ["a", 5]})
        whole = http.post("/things", params={"count": "1"}, headers=AUTHORIZED, json=[])
    assert _error(inner) == (
        422,
        {
            "code": "10002",
            "title": "Invalid value",
            "detail": "/tags/1: 5 is not of type 'string'",
            "source": {"pointer": "/tags/1"},
        },
    )
    assert _error(whole) == (
        422,
        {
            "code": "10002",
            "title": "Invalid value",
            "detail": "/: [] is not of type 'object'",
            "source": {"pointer": "/"},
        },
    )


def test_a_key_reused_with_another_request_or_while_its_first_is_in_progress_is_refused() -> None:
    import threading

    fake = FakeTelnyx()
    keyed = {**AUTHORIZED, "Idempotency-Key": "order-42"}
    body = {"to": "+13125550002", "text": "Hi"}
    with httpx2.Client(transport=fake.transport(), base_url="https://api.telnyx.com/v2") as http:
        assert http.post("/messages", json=body, headers=keyed).status_code == 200
        reused = _error(http.post("/messages", json={**body, "text": "other"}, headers=keyed))
    assert reused == (
        422,
        {"code": "10016", "title": "Idempotency key reused", "detail": "the key was used with another request"},
    )
    # A second request while the first is still being made: the first is held inside the fake.
    entered, release = threading.Event(), threading.Event()
    create = fake._create

    def held(*args: Any) -> Any:
        entered.set()
        release.wait(5)
        return create(*args)

    fake._create = held  # type: ignore[method-assign]
    keyed = {**AUTHORIZED, "Idempotency-Key": "order-43"}
    with httpx2.Client(transport=fake.transport(), base_url="https://api.telnyx.com/v2") as http:
        first: list[httpx2.Response] = []
        thread = threading.Thread(target=lambda: first.append(http.post("/messages", json=body, headers=keyed)))
        thread.start()
        assert entered.wait(5)
        in_progress = _error(http.post("/messages", json=body, headers=keyed))
        release.set()
        thread.join(5)
    assert in_progress == (
        409,
        {"code": "10017", "title": "Request in progress", "detail": "a request with this key is in progress"},
    )
    assert first[0].status_code == 200


def test_an_answer_is_json_with_a_request_id_of_its_own_and_a_replay_says_so() -> None:
    fake = FakeTelnyx()
    keyed = {**AUTHORIZED, "Idempotency-Key": "order-44"}
    request = httpx2.Request("POST", "https://api.telnyx.com/v2/messages", json={"to": "+13125550002"}, headers=keyed)
    first, again = fake.handle(request), fake.handle(request)
    assert first.request is request and first.headers["content-type"] == "application/json"
    ids = [str(uuid.UUID(answer.headers["x-request-id"])) for answer in (first, again)]
    assert ids[0] != ids[1] and "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"


def test_a_failure_after_acceptance_carries_its_request() -> None:
    fake = FakeTelnyx()
    fake.fail_next("disconnect", after_accept=True)
    request = httpx2.Request(
        "POST", "https://api.telnyx.com/v2/messages", json={"to": "+13125550002"}, headers=AUTHORIZED
    )
    with pytest.raises(httpx2.RemoteProtocolError) as caught:
        fake.handle(request)
    assert caught.value.request is request and len(fake.sent) == 1


def test_the_spend_limits_refusal_names_the_next_midnight_utc_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Etc/GMT-9")
    time.tzset()
    try:
        clock = FakeClock(datetime.datetime(2026, 12, 7, 20, 0, tzinfo=datetime.UTC))
        fake = FakeTelnyx(clock=clock, spend_limit=SpendLimit(0))
        with httpx2.Client(transport=fake.transport(), base_url="https://api.telnyx.com/v2") as http:
            body = {"to": "+13125550002", "from": "+18445550001", "text": "Hi"}
            status, error = _error(http.post("/messages", json=body, headers=AUTHORIZED))
        assert (status, error["code"]) == (429, "40333")
        assert error["detail"].endswith("sends are refused until 00:00 UTC (2026-12-08T00:00:00.000Z)")
    finally:
        monkeypatch.undo()
        time.tzset()


def test_every_http_method_of_the_spec_is_routed_and_a_path_parameter_is_always_required() -> None:
    document: dict[str, Any] = {  # no servers: the paths are at the root
        "paths": {
            "/things/{id}": {
                "parameters": [{"name": "id", "in": "path", "schema": {"type": "string"}}],
                "summary": "shared by the operations below",
                "x-note": {"operationId": "none: an extension, not an operation"},
                "trace": {"operationId": "traced"},  # not a method the spec's API takes
                **{method: {"operationId": method} for method in ("get", "post", "put", "patch", "delete")},
            }
        }
    }
    spec = Spec(document)
    assert [(o.operation_id, o.method) for o in spec.operations] == [
        (method, method.upper()) for method in ("get", "post", "put", "patch", "delete")
    ]
    for operation in spec.operations:
        assert [(p.name, p.where, p.required) for p in operation.parameters] == [("id", "path", True)]
        assert operation.body_schema is None and not operation.body_required and operation.responses == {}
        assert spec.route(operation.method, "/things/a-b") == (operation, {"id": "a-b"})
    with pytest.raises(Refusal) as refused:
        spec.route("TRACE", "/things/7")
    assert (refused.value.status, refused.value.detail) == (
        405,
        "TRACE /things/7: the API takes GET, POST, PUT, PATCH, DELETE",
    )
    with pytest.raises(Refusal) as refused:
        spec.route("GET", "/things/7/more")
    assert (refused.value.status, refused.value.detail) == (404, "no operation at /things/7/more")


def test_the_base_path_is_the_first_servers_path_without_its_trailing_slash() -> None:
    document = {"servers": [{"url": "https://api.example.com/v9/"}, {"url": "https://other.example.com/v1"}]}
    spec = Spec({**document, "paths": {"/things": {"get": {"operationId": "list"}}}})
    assert spec.base_path == "/v9"
    assert spec.route("GET", "/v9/things")[0].operation_id == "list"
    for path in ("/v1/things", "/things", "/v9things"):
        with pytest.raises(Refusal) as refused:
            spec.route("GET", path)
        assert refused.value.status == 404


def test_a_parameter_without_a_schema_takes_any_value_and_one_not_required_may_be_left_out() -> None:
    spec = Spec({"paths": {"/things": {"get": {"operationId": "list", "parameters": [{"name": "q", "in": "query"}]}}}})
    (parameter,) = spec.operations[0].parameters
    assert (parameter.required, parameter.schema) == (False, {})
    spec.check(parameter.schema, "anything", "query parameter q")


def test_a_refusal_reads_as_its_status_title_and_detail_and_names_its_pointer_when_it_has_one() -> None:
    refusal = Refusal(422, "10002", "Invalid value", "/text: too long", "/text")
    assert str(refusal) == "422 Invalid value: /text: too long"
    assert refusal.document() == {
        "errors": [
            {"code": "10002", "title": "Invalid value", "detail": "/text: too long", "source": {"pointer": "/text"}}
        ]
    }
    assert Refusal(404, "10005", "Resource not found", "no message m").document() == {
        "errors": [{"code": "10005", "title": "Resource not found", "detail": "no message m"}]
    }


@pytest.mark.parametrize(
    ("name", "accepted", "refused"),
    [
        (
            "date-time",
            ["2026-01-01T00:00:00Z", "2026-01-01t00:00:00+01:00", "2026-01-01 00:00:00.5Z"],
            ["2026-01-01X00:00:00Z", "2026-01-01T00:00:00.5", "2026-13-01T00:00:00Z", "2026-01-01T00:00Z", "soon"],
        ),
        ("uuid", [str(uuid.UUID(int=7)), "urn:uuid:" + str(uuid.UUID(int=8))], ["not-a-uuid", "", "1234"]),
        ("uri", ["http://example.com", "https://example.com/x"], ["ftp://example.com", "https:///x", "example.com"]),
        ("url", ["http://example.com", "https://example.com/x"], ["ftp://example.com", "https:///x", "example.com"]),
    ],
)
def test_a_format_is_checked_on_text_and_text_that_breaks_it_refused(
    name: str, accepted: list[str], refused: list[str]
) -> None:
    spec = Spec({"paths": {}})
    schema = {"type": ["string", "integer"], "format": name}
    for value in [*accepted, 5]:  # a format says nothing of what is not text
        spec.check(schema, value, "/when")
    for value in refused:
        with pytest.raises(Refusal) as caught:
            spec.check(schema, value, "/when")
        assert (caught.value.status, caught.value.detail) == (422, f"/when: {value!r} is not a {name!r}")


def test_an_answer_the_fake_makes_and_its_spec_refuses_is_named_a_response_in_the_fakes_error() -> None:
    document = copy.deepcopy(DOCUMENT)
    schema = {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}, "example": {"a": 1}}
    document["paths"]["/things"]["get"]["responses"]["200"]["content"] = {"application/json": {"schema": schema}}
    fake = FakeTelnyx()
    fake.spec = Spec(document)
    with httpx2.Client(transport=fake.transport(), base_url=URL) as http, pytest.raises(FakeTelnyxError) as raised:
        http.get("/things", headers=AUTHORIZED)
    assert str(raised.value) == (
        "telnyx_messages.testing made a response the spec refuses (the fake's fault, not your code's): "
        "/a: 1 is not of type 'string'"
    )


def test_the_request_limits_refusal_names_the_limit_its_window_and_when_it_resets() -> None:
    clock = FakeClock()
    fake = FakeTelnyx(clock=clock, request_limit=RequestLimit(2, window=10))
    with httpx2.Client(transport=fake.transport(), base_url="https://api.telnyx.com/v2") as http:
        for _ in range(2):
            assert http.get(f"/messages/{uuid.uuid4()}", headers=AUTHORIZED).status_code == 404  # not limited
        clock.advance(2.5)
        answer = http.get(f"/messages/{uuid.uuid4()}", headers=AUTHORIZED)
    assert _error(answer)[0] == 429
    assert _error(answer)[1]["code"] == "10011" and _error(answer)[1]["title"] == "Too many requests"
    assert _error(answer)[1]["detail"] == (
        "more than 2 requests in 10 s (the fake's request_limit); the window resets in 8 s"
    )
