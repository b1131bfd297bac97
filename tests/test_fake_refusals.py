"""What the fake refuses before any operation runs, and the error document it answers: the status, the
Telnyx error code and title, and a detail naming what is wrong. The routes and checks are the spec's;
a small spec of the test's own holds the parameters today's spec lacks (a required query parameter, a
number in the query, a header with a schema, a required body)."""

from __future__ import annotations

import copy
import datetime
import json
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx2
import jsonschema
import pytest
import referencing
import referencing.jsonschema
from telnyx_messages.testing import FakeClock, FakeTelnyx, FakeTelnyxError, RequestLimit, SpendLimit
from telnyx_messages.testing._spec import _FORMATS, _MOST_CHECKERS, Refusal, Spec, _anchored, load

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


# --- the quick test of a value against a schema (Spec.check, before jsonschema) ---------------------
#
# Spec.check first runs a test made once per schema that passes only what jsonschema passes; what it
# does not pass goes to jsonschema, which finds and names the error. Each case: a schema, a value, and
# what the quick test says of it: "valid" (it passes; jsonschema finds no error), "invalid" (it does
# not; jsonschema finds one), "jsonschema's" (it does not, and leaves the value to jsonschema, which
# judges it: a keyword, or a value, the quick test does not judge).

COMPONENTS: dict[str, Any] = {
    "Text": {"type": "string", "minLength": 2},
    "Tree": {"type": "object", "properties": {"name": {"type": "string"}, "kids": {"items": {"$ref": "#/x/Tree"}}}},
    "Loop": {"$ref": "#/x/Loop"},
    "Short": {"$ref": "#/x/Text", "maxLength": 3},  # a ref beside another keyword: both hold
}
QUICK_SPEC = Spec({"paths": {}, "x": COMPONENTS})


def _jsonschema_finds_no_error(schema: Any, value: Any) -> bool:
    """jsonschema's own verdict, as Spec.check reached it before it had a quick test."""
    resource = referencing.Resource.from_contents({"paths": {}, "x": COMPONENTS}, referencing.jsonschema.DRAFT202012)
    registry: referencing.Registry[Any] = referencing.Registry().with_resource("urn:spec", resource)
    anchored = json.loads(json.dumps(schema).replace('"$ref": "#/', '"$ref": "urn:spec#/'))
    validator = jsonschema.Draft202012Validator(anchored, registry=registry, format_checker=_FORMATS)
    return jsonschema.exceptions.best_match(validator.iter_errors(value)) is None


QUICK_CASES: list[tuple[Any, Any, str]] = [
    # type, by the value's exact type
    ({"type": "string"}, "a", "valid"),
    ({"type": "string"}, 1, "invalid"),
    ({"type": "object"}, {}, "valid"),
    ({"type": "object"}, [], "invalid"),
    ({"type": "array"}, [], "valid"),
    ({"type": "array"}, {}, "invalid"),
    ({"type": "null"}, None, "valid"),
    ({"type": "null"}, 0, "invalid"),
    ({"type": "boolean"}, True, "valid"),
    ({"type": "boolean"}, 1, "invalid"),
    ({"type": "integer"}, 3, "valid"),
    ({"type": "integer"}, True, "invalid"),
    ({"type": "integer"}, 3.5, "invalid"),
    ({"type": "integer"}, 3.0, "jsonschema's"),  # an integer to jsonschema, written as a float
    ({"type": "number"}, 3, "valid"),
    ({"type": "number"}, 3.5, "valid"),
    ({"type": "number"}, False, "invalid"),
    ({"type": "number"}, "3", "invalid"),
    ({"type": ["string", "null"]}, None, "valid"),
    ({"type": ["string", "null"]}, "a", "valid"),
    ({"type": ["string", "null"]}, 1, "invalid"),
    ({"type": "text"}, "a", "jsonschema's"),  # no JSON type: jsonschema's to judge (it raises)
    ({"type": ["string", 5]}, "a", "jsonschema's"),
    # each keyword beside the others, in any order, and after those jsonschema ignores
    ({"description": "d", "type": "string"}, 1, "invalid"),
    ({"type": "string", "maxLength": 2}, 5, "invalid"),
    ({"type": "string", "maxLength": 2}, "abc", "invalid"),
    ({"minLength": 2, "maxLength": 3}, "a", "invalid"),
    ({"minLength": 2, "maxLength": 3}, "abcd", "invalid"),
    ({"minLength": 2, "maxLength": 3}, "abc", "valid"),
    ({"properties": {"a": {"type": "string"}}, "maxLength": 1}, {"a": 1}, "invalid"),
    ({"required": ["a"], "maxLength": 1}, {}, "invalid"),
    ({"required": ["a"], "properties": {"a": {"type": "string"}}}, {"a": 1}, "invalid"),
    # properties and required: on objects only
    ({"properties": {"a": {"type": "string"}}}, {"a": "x", "b": 1}, "valid"),
    ({"properties": {"a": {"type": "string"}}}, {"a": 1}, "invalid"),
    ({"properties": {"a": {"type": "string"}}}, {"b": 1}, "valid"),
    ({"properties": {"a": {"type": "string"}}}, "not an object", "valid"),
    ({"properties": {"a": {}, "b": {"type": "string"}}}, {"a": 1, "b": 2}, "invalid"),
    ({"properties": {"a": {"type": "string"}, "b": {}}}, {"a": 1, "b": 2}, "invalid"),
    ({"required": ["a", "b"]}, {"a": 1, "b": 2}, "valid"),
    ({"required": ["a", "b"]}, {"a": 1}, "invalid"),
    ({"required": ["a", "b"]}, {"b": 1}, "invalid"),
    ({"required": ["a"]}, ["a"], "valid"),
    ({"required": "a"}, {"a": 1}, "jsonschema's"),  # not a list: jsonschema's to judge
    ({"required": [1]}, {"a": 1}, "jsonschema's"),
    ({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}, {"a": 1}, "valid"),
    ({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}, {"a": "1"}, "invalid"),
    ({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}, {}, "invalid"),
    ({"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}}, [1], "invalid"),
    # additionalProperties
    ({"properties": {"a": {}}, "additionalProperties": {"type": "integer"}}, {"a": "x", "b": 1}, "valid"),
    ({"properties": {"a": {}}, "additionalProperties": {"type": "integer"}}, {"a": "x", "b": "y"}, "invalid"),
    ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1}, "valid"),
    ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "b": 2}, "invalid"),
    ({"additionalProperties": False}, {"b": 2}, "invalid"),
    ({"additionalProperties": False}, 5, "valid"),
    ({"additionalProperties": False, "patternProperties": {"^b": {}}}, {"b": 2}, "jsonschema's"),
    ({"patternProperties": {"^b": {"type": "string"}}, "additionalProperties": {}}, {"b": 2}, "invalid"),
    ({"properties": [], "additionalProperties": {}}, {"b": 2}, "jsonschema's"),
    # items and the bounds of lists
    ({"items": {"type": "string"}}, ["a", "b"], "valid"),
    ({"items": {"type": "string"}}, ["a", 1], "invalid"),
    ({"items": {"type": "string"}}, "ab", "valid"),
    ({"items": {"type": "string"}, "prefixItems": [{"type": "integer"}]}, [1, "a"], "jsonschema's"),
    ({"minItems": 2}, [1, 2], "valid"),
    ({"minItems": 2}, [1], "invalid"),
    ({"minItems": 2}, "a", "valid"),
    ({"maxItems": 2}, [1, 2], "valid"),
    ({"maxItems": 2}, [1, 2, 3], "invalid"),
    ({"maxItems": 2}, "abc", "valid"),
    # enum and const: text and null; other members are jsonschema's to compare
    ({"enum": ["a", None, 1]}, "a", "valid"),
    ({"enum": ["a", None, 1]}, None, "valid"),
    ({"enum": ["a", None, 1]}, "b", "invalid"),
    ({"enum": ["a", 1]}, None, "invalid"),
    ({"enum": ["a", None, 1]}, 1, "jsonschema's"),
    ({"enum": "a"}, "a", "jsonschema's"),
    ({"const": "a"}, "a", "valid"),
    ({"const": "a"}, "b", "invalid"),
    ({"const": None}, None, "valid"),
    ({"const": None}, "None", "invalid"),
    ({"const": 2}, 2, "jsonschema's"),
    # formats (the fake's four; one it does not know passes anything, as in jsonschema)
    ({"format": "uuid"}, str(uuid.UUID(int=3)), "valid"),
    ({"format": "uuid"}, "nope", "invalid"),
    ({"format": "uuid"}, 7, "valid"),
    ({"format": "date-time"}, "2026-01-01T00:00:00Z", "valid"),
    ({"format": "date-time"}, "2026-01-01", "invalid"),
    ({"format": "e164"}, "anything", "valid"),
    ({"format": 5}, "anything", "jsonschema's"),
    ({"format": ["uuid"]}, "anything", "jsonschema's"),
    # pattern, and the bounds of text
    ({"pattern": "^\\+[0-9]+$"}, "+123", "valid"),
    ({"pattern": "[0-9]"}, "a1b", "valid"),  # searched for, not matched at the start
    ({"pattern": "^\\+[0-9]+$"}, "123", "invalid"),
    ({"pattern": "^\\+[0-9]+$"}, 123, "valid"),
    ({"pattern": 5}, "5", "jsonschema's"),
    ({"pattern": "("}, "(", "jsonschema's"),  # not a regular expression: jsonschema raises
    ({"minLength": 2}, "ab", "valid"),
    ({"minLength": 2}, "a", "invalid"),
    ({"minLength": 2}, 1, "valid"),
    ({"maxLength": 2}, "ab", "valid"),
    ({"maxLength": 2}, "abc", "invalid"),
    ({"maxLength": 2}, [1, 2, 3], "valid"),
    ({"maxLength": "2"}, "a", "jsonschema's"),
    ({"maxLength": True}, "a", "jsonschema's"),
    # the bounds of numbers: a bool or text is no number; a Decimal is jsonschema's to compare
    ({"minimum": 2}, 2, "valid"),
    ({"minimum": 2}, 1.5, "invalid"),
    ({"minimum": 2}, "1", "valid"),
    ({"minimum": 2}, False, "valid"),
    ({"minimum": 2}, Decimal(3), "jsonschema's"),
    ({"maximum": 2}, 2.0, "valid"),
    ({"maximum": 2}, 3, "invalid"),
    ({"maximum": 2}, True, "valid"),
    ({"maximum": 2}, "3", "valid"),
    ({"maximum": 2}, Decimal(1), "jsonschema's"),
    ({"maximum": 2.5}, 2.25, "valid"),
    # allOf, anyOf; oneOf, not and the rest are jsonschema's
    ({"allOf": [{"type": "string"}, {"minLength": 2}]}, "ab", "valid"),
    ({"allOf": [{"type": "string"}, {"minLength": 2}]}, "a", "invalid"),
    ({"allOf": [{"type": "string"}, {"minLength": 2}]}, 12, "invalid"),
    ({"anyOf": [{"type": "string"}, {"type": "null"}]}, None, "valid"),
    ({"anyOf": [{"type": "string"}, {"type": "null"}]}, "a", "valid"),
    ({"anyOf": [{"type": "string"}, {"type": "null"}]}, 1, "invalid"),
    ({"anyOf": []}, 1, "jsonschema's"),  # not a schema: jsonschema raises
    ({"allOf": []}, 1, "jsonschema's"),
    ({"allOf": {"type": "string"}}, "a", "jsonschema's"),
    ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, "a", "jsonschema's"),
    ({"not": {"type": "string"}}, 1, "jsonschema's"),
    ({"type": "string", "uniqueItems": True}, "a", "jsonschema's"),
    # what jsonschema does not know, it ignores: so does the quick test
    ({"description": "d", "example": 1, "x-format": "e164", "nullable": True}, "a", "valid"),
    ({"type": "string", "description": "d", "example": 1}, 1, "invalid"),
    ({}, object(), "valid"),
    (True, 1, "valid"),
    (False, 1, "invalid"),
    # $ref: local, followed in the spec (a schema that refers to itself too)
    ({"$ref": "#/x/Text"}, "ab", "valid"),
    ({"$ref": "#/x/Text"}, "a", "invalid"),
    ({"$ref": "#/x/Text", "maxLength": 2}, "abc", "invalid"),
    ({"$ref": "#/x/Tree"}, {"name": "a", "kids": [{"name": "b", "kids": [{"name": "c"}]}]}, "valid"),
    ({"$ref": "#/x/Tree"}, {"name": "a", "kids": [{"name": "b", "kids": [{"name": 3}]}]}, "invalid"),
    ({"properties": {"a": {"$ref": "#/x/Text"}, "b": {"$ref": "#/x/Text"}}}, {"a": "xy", "b": "xy"}, "valid"),
    ({"properties": {"a": {"$ref": "#/x/Text"}, "b": {"$ref": "#/x/Text"}}}, {"a": "xy", "b": "x"}, "invalid"),
    ({"$ref": "#/x/Short"}, "abc", "valid"),
    ({"$ref": "#/x/Short"}, "abcd", "invalid"),
    ({"$ref": "#/x/Short"}, "a", "invalid"),
    ({"$ref": "urn:spec#/x/Text"}, "ab", "jsonschema's"),
    ({"$ref": 5}, "ab", "jsonschema's"),
]


@pytest.mark.parametrize(("schema", "value", "says"), QUICK_CASES)
def test_the_quick_test_passes_only_what_jsonschema_passes(schema: Any, value: Any, says: str) -> None:
    quick = QUICK_SPEC._test(schema)
    assert quick(value) is (says == "valid")
    if says != "jsonschema's":  # else jsonschema judges (and may raise: a schema it cannot read)
        assert _jsonschema_finds_no_error(schema, value) is (says == "valid")


@pytest.mark.parametrize("ref", ["#/x/Loop", "#/x/Missing", "#/nowhere/at/all"])
def test_a_ref_that_leads_nowhere_is_left_to_jsonschema(ref: str) -> None:
    spec = Spec({"paths": {}, "x": COMPONENTS})
    for _ in range(2):  # made, then kept
        assert spec._test({"$ref": ref})("a") is False
    assert spec._test({"properties": {"a": {"$ref": ref}}})({"b": 1}) is True  # a field left out is not tested


def test_a_refs_test_is_made_once_and_shared() -> None:
    spec = Spec({"paths": {}, "x": COMPONENTS})
    first, second = spec._test({"$ref": "#/x/Text"}), spec._test({"$ref": "#/x/Text"})
    assert first("ab") and second("ab") and not second("a")
    assert list(spec._refs) == ["#/x/Text"]


def test_a_check_jsonschema_makes_is_made_once_per_schema_and_few_are_kept() -> None:
    spec = Spec({"paths": {}})
    schema = {"type": "string", "maxLength": 1}
    checker = spec._checker(schema)
    assert spec._checker(schema) is checker and checker.schema is schema and list(spec._checkers) == [id(schema)]
    for value in ("a", "b"):
        spec.check(schema, value, "")
    assert checker._validator is None  # what the quick test passes needs no jsonschema
    for value in (1, "bc"):
        with pytest.raises(Refusal):
            spec.check(schema, value, "")
    assert checker._validator is not None and spec._checker(schema) is checker and len(spec._checkers) == 1
    made = checker.validator(spec._registry)
    assert checker.validator(spec._registry) is made  # made when first needed, then kept
    most = 0
    for n in range(_MOST_CHECKERS + 50):  # schemas made on the fly, as a test makes them
        spec.check({"maxLength": n}, "", "")
        most = max(most, len(spec._checkers))
    assert most == _MOST_CHECKERS


def _leaf_changes(document: Any, depth: int = 2) -> list[Any]:
    """`document` changed in one place each, `depth` levels down: a value replaced by another kind
    of value, a key of an object left out, a key added, a list emptied or doubled."""
    odd: list[Any] = [None, True, -1, 10**6, 2.5, "", "x" * 2000, "not-a-uuid", [], {"a": 1}]
    changed: list[Any] = [document]
    if depth == 0:
        return changed
    if isinstance(document, dict):
        for name, part in document.items():
            changed.append({key: value for key, value in document.items() if key != name})
            changed += [{**document, name: other} for other in [*odd, *_leaf_changes(part, depth - 1)[1:]]]
        changed.append({**document, "not_in_the_spec": 1})
    elif isinstance(document, list) and document:
        others = [*odd, *_leaf_changes(document[0], depth - 1)[1:]]
        changed += [[], document * 2, *([other, *document[1:]] for other in others)]
    return changed


# Slow (pyproject's marker): about 3,000 documents, each checked by jsonschema twice (a few seconds).
@pytest.mark.slow
def test_on_the_specs_own_schemas_spec_check_refuses_as_jsonschema_refuses_and_passes_what_it_passes() -> None:
    """Every operation's request body and answer, as the spec's examples and the fake make them, and
    each changed in one place: Spec.check refuses (naming the same error) exactly what jsonschema
    refuses; the fake's answer to a send passes its quick test (it needs no jsonschema)."""
    spec = load()
    fake = FakeTelnyx()
    with fake.client() as client:
        client.messages.send(to="+13125550001", from_="+18445550001", text="hi ü", media_urls=["https://e.x/a.png"])
    answer = {"data": next(iter(fake._messages.values()))}
    sent = fake._response_schema(spec.route("POST", "/v2/messages")[0])
    assert spec._checker(sent).accepts(answer)
    schemas = [operation.body_schema for operation in spec.operations]
    schemas += [fake._response_schema(operation) for operation in spec.operations]
    distinct = {json.dumps(schema, sort_keys=True): schema for schema in schemas if schema is not None}
    cases = [(schema, spec.example(schema)) for schema in distinct.values()] + [(sent, answer)]
    checked = 0
    for schema, document in cases:
        validator = jsonschema.Draft202012Validator(_anchored(schema), registry=spec._registry, format_checker=_FORMATS)
        for value in _leaf_changes(document):
            error = jsonschema.exceptions.best_match(validator.iter_errors(value))
            try:
                spec.check(schema, value, "/at")
                refused = None
            except Refusal as refusal:
                refused = refusal.detail
            expected = None if error is None else "/at" + "".join(f"/{p}" for p in error.absolute_path)
            assert refused == (None if error is None else f"{expected}: {error.message}"), value
            checked += 1
    assert checked > 1000
