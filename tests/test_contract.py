"""The generated client, the overlay and the spec agree: every case here is read off the spec."""

from __future__ import annotations

import copy
import datetime
import enum
import functools
import json
import ssl
import typing
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx2
import jsonschema
import pytest
import referencing
import telnyx_messages._api.api as generated_api
from dateutil.parser import isoparse
from hypothesis import given, settings
from openapi_core import OpenAPI
from referencing.jsonschema import DRAFT202012
from telnyx_messages import AsyncTelnyx, Telnyx

from .support import API_KEY, collection
from .support.contract import (
    Mismatch,
    Walker,
    component_class,
    concrete,
    drawn,
    escape,
    init_parameters,
    inlined,
    is_model,
    python_name,
    report,
    resolve,
    type_hints,
)
from .support.openapi_httpx import HttpxOpenAPIRequest
from .support.server import LoopbackServer, Reply
from .support.spec import (
    CASES,
    SPEC,
    OperationCase,
    at,
    call_arguments,
    error_pointer,
    example_of,
    message_pointer,
    normalised,
    operations,
    snake,
)

JSON = "content/application~1json/schema"


# --- where each spec schema lives in the code -------------------------------------------------


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(map(escape, parts))


def model_roots(spec: dict[str, Any]) -> dict[str, type]:
    """Spec pointer -> generated class, for every schema that has one: components, bodies, responses."""
    roots = {}
    for name in spec["components"]["schemas"]:
        model = component_class(spec, name)
        if model is not None:
            roots[_pointer("components", "schemas", name)] = model
    for case in operations(spec):
        at = _pointer("paths", case.path, case.method.lower())
        roots[f"{at}/responses/200/{JSON}"] = case.result_class
    return roots


def schema_at(spec: dict[str, Any], pointer: str) -> Any:
    node: Any = spec
    for part in pointer.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = resolve(spec, node)[part] if isinstance(node, dict) else node[int(part)]
    return node


ROOTS = {p: m for p, m in model_roots(SPEC).items() if "$ref" not in schema_at(SPEC, p) or "paths" not in p}


# --- 1. schema contract -----------------------------------------------------------------------


@pytest.mark.parametrize("pointer", sorted(ROOTS), ids=lambda p: p.removeprefix("#/"))
def test_generated_model_has_exactly_the_schema(pointer: str) -> None:
    mismatches = list(Walker(SPEC).model(pointer, schema_at(SPEC, pointer), ROOTS[pointer]))
    assert not mismatches, report(mismatches)


def test_every_component_schema_is_a_model_or_a_scalar() -> None:
    for name, schema in SPEC["components"]["schemas"].items():
        if component_class(SPEC, name) is None:
            assert schema.get("type") != "object" and "properties" not in schema, f"{name} has no generated model"


def _drifted(edit: typing.Callable[[dict[str, Any]], None]) -> list[Mismatch]:
    spec = copy.deepcopy(SPEC)
    edit(spec)
    walker = Walker(spec)
    return [
        m
        for pointer, model in model_roots(spec).items()
        for m in walker.model(pointer, schema_at(spec, pointer), model)
    ]


def _payload(spec: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = at(spec, message_pointer(spec))["properties"]
    return properties


@pytest.mark.parametrize(
    ("edit", "where", "spec_says"),
    [
        (lambda s: _payload(s).update(colour={"type": "string"}), ".colour", "a property"),
        (lambda s: _payload(s).pop("subject"), ".subject", "no such property"),
        (lambda s: _payload(s)["parts"].update(type=["integer", "null"]), ".parts", "nullable"),
        (lambda s: _payload(s)["received_at"].pop("format"), ".received_at", "string (no format)"),
        (lambda s: _payload(s)["tags"]["items"].update(type="integer"), ".tags[]", "integer"),
        (lambda s: _payload(s)["direction"]["enum"].append("sideways"), ".direction", "sideways"),
        (lambda s: at(s, error_pointer(s))["required"].remove("title"), ".title", "optional"),
    ],
    ids=["new property", "dropped property", "nullability", "format", "array items", "enum value", "required"],
)
def test_the_contract_check_names_each_kind_of_drift(edit: Any, where: str, spec_says: str) -> None:
    mismatches = _drifted(edit)
    assert any(where in m.where and spec_says in m.spec_says for m in mismatches), report(mismatches)


# --- 2. examples ------------------------------------------------------------------------------


def _formats() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("uuid", raises=ValueError)
    def _uuid(value: object) -> bool:
        return not isinstance(value, str) or str(uuid.UUID(value)) == value.lower()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or isoparse(value).tzinfo is not None

    @checker.checks("url")
    def _url(value: object) -> bool:
        parts = urlsplit(value) if isinstance(value, str) else None
        return parts is None or (parts.scheme in {"http", "https"} and bool(parts.netloc))

    return checker


REGISTRY = referencing.Registry().with_resource("urn:spec", DRAFT202012.create_resource(SPEC))


def validator(pointer: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({"$ref": "urn:spec" + pointer}, registry=REGISTRY, format_checker=_formats())


def examples(node: Any, pointer: str = "#") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "example":
                # A parameter's example is of its schema.
                yield (f"{pointer}/schema" if "in" in node and "schema" in node else pointer), value
            else:
                yield from examples(value, f"{pointer}/{escape(key)}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from examples(value, f"{pointer}/{index}")


EXAMPLES = dict(examples(SPEC))


def code_type_at(pointer: str) -> Any:
    """The annotation the generated code gives the value at a spec pointer, from its nearest model."""
    root = max((r for r in ROOTS if pointer == r or pointer.startswith(r + "/")), key=len, default=None)
    if root is None:
        schema = schema_at(SPEC, pointer)
        return {"string": str, "integer": int, "number": float, "boolean": bool}[schema["type"]]
    hint: Any = ROOTS[root]
    rest = pointer[len(root) :].strip("/").split("/") if pointer != root else []
    while rest:
        key, name, *rest = rest
        assert key == "properties", f"{pointer}: no rule to follow {key}"
        hint = concrete(type_hints(hint)[python_name(name)])
    return hint


def round_trip(hint: Any, value: Any) -> Any:
    if is_model(hint):
        return hint.from_dict(value).to_dict(mode="json")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        member = hint(value)
        assert member.is_known, f"{value!r} is not one of {hint.__name__}'s values"
        return str(member)
    if hint is uuid.UUID:
        return str(uuid.UUID(value))
    if hint is datetime.datetime:
        return isoparse(value).isoformat()
    assert isinstance(value, hint), f"{value!r} is not a {hint.__name__}"
    return value


@pytest.mark.parametrize("pointer", sorted(EXAMPLES), ids=lambda p: p.removeprefix("#/"))
def test_example_parses_round_trips_and_validates(pointer: str) -> None:
    example = EXAMPLES[pointer]
    validator(pointer).validate(example)
    assert normalised(round_trip(code_type_at(pointer), example)) == normalised(example)


def test_an_invalid_example_is_caught() -> None:
    pointer = message_pointer(SPEC)
    broken = {**EXAMPLES[pointer], "id": "not-a-uuid", "webhook_url": "nowhere"}
    errors = sorted(e.json_path for e in validator(pointer).iter_errors(broken))
    assert errors == ["$.id", "$.webhook_url"]


# --- 3. documents drawn from the response schemas ---------------------------------------------


def _responses() -> Iterator[tuple[str, Any, type]]:
    for case in CASES:
        yield f"{case.operation_id} 200", case.response_schema, case.result_class
    for name, response in SPEC["components"].get("responses", {}).items():
        schema = response["content"]["application/json"]["schema"]
        model = component_class(SPEC, schema["$ref"].split("/")[-1]) if "$ref" in schema else None
        if model is not None:
            yield name, schema, model


def _grouped(responses: Iterator[tuple[str, Any, type]]) -> list[tuple[str, Any, list[type]]]:
    """One case per schema, with every model made from it: six operations share MessageResponse."""
    groups: dict[str, tuple[str, Any, list[type]]] = {}
    for name, schema, model in responses:
        key = json.dumps(inlined(SPEC, schema, every=True), sort_keys=True)
        groups.setdefault(key, (name, schema, []))[2].append(model)
    return list(groups.values())


RESPONSES = _grouped(_responses())


@pytest.mark.parametrize("every", [True, False], ids=["every property", "fewest properties"])
@pytest.mark.parametrize(("name", "schema", "models"), RESPONSES, ids=[r[0] for r in RESPONSES])
def test_drawn_documents_parse_and_round_trip(name: str, schema: Any, models: list[type], every: bool) -> None:
    strategy = drawn(inlined(SPEC, schema, every=every))

    @settings(max_examples=10)
    @given(strategy)
    def check(document: Any) -> None:
        for model in models:
            parsed = model.from_dict(document)
            assert normalised(parsed.to_dict(mode="json")) == normalised(document), model.__name__
            assert _built_through_init(parsed) == parsed, model.__name__

    check()


def _built_through_init(instance: Any) -> Any:
    """The same model made by its __init__, which from_dict skips: every field must have been set
    (reading one that was not raises), nested models too, and the model's equality must hold."""
    model = type(instance)
    # _x_request_id is no field: the client sets it on a call's result only.
    # The slots of the class and of the base it shares with every model (_additional_properties).
    slots = [name for klass in model.__mro__ for name in klass.__dict__.get("__slots__", ())]
    fields = [name for name in slots if name not in ("__weakref__", "_x_request_id")]
    values = {}
    for name in fields:
        value = getattr(instance, name)
        if is_model(type(value)):
            value = _built_through_init(value)
        elif isinstance(value, list):
            value = [_built_through_init(item) if is_model(type(item)) else item for item in value]
        values[name] = value
    given = init_parameters(model)
    rebuilt = model(**{name: values[name] for name in given})
    for name in fields:
        if name not in given:
            setattr(rebuilt, name, values[name])
    return rebuilt


# --- 4. every request the overlay sends validates against the spec ----------------------------


@functools.cache
def _loopback_spec() -> OpenAPI:
    """The spec with a server on 127.0.0.1 at any port beside its own, as openapi-core reads it (about
    a second to build): made once per process, each test checking the port its requests went to."""
    spec = copy.deepcopy(SPEC)
    spec["servers"] = [*spec["servers"], {"url": "http://127.0.0.1:{port}", "variables": {"port": {"default": "80"}}}]
    return OpenAPI.from_dict(spec)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One SSL context for the recording clients below: they speak plain HTTP to the loopback server,
    and each would otherwise load the system's CA certificates (about 40 ms of CPU) for nothing."""
    return ssl.create_default_context()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
async def test_requests_validate_against_the_spec(case: OperationCase, server: LoopbackServer) -> None:
    openapi = _loopback_spec()
    sent: list[httpx2.Request] = []
    response = example_of(SPEC, case.response_schema)
    server.default = Reply(200, response)
    path_values, kwargs, _, _ = call_arguments(SPEC, case)
    with httpx2.Client(verify=_ssl_context(), event_hooks={"request": [sent.append]}) as recording:
        client = Telnyx(api_key=API_KEY, base_url=server.base_url, http_client=recording)
        case.bound(client.messages)(*path_values, **kwargs)

    async def record(request: httpx2.Request) -> None:
        sent.append(request)

    async with httpx2.AsyncClient(verify=_ssl_context(), event_hooks={"request": [record]}) as arecording:
        aclient = AsyncTelnyx(api_key=API_KEY, base_url=server.base_url, http_client=arecording)
        await case.bound(aclient.messages)(*path_values, **kwargs)
    assert len(sent) == 2
    for request in sent:
        assert str(request.url).startswith(server.base_url + "/"), request.url
        openapi.validate_request(HttpxOpenAPIRequest(request))


def test_request_validation_catches_a_bad_request(server: LoopbackServer) -> None:
    openapi = _loopback_spec()
    no_auth = httpx2.Request("GET", f"{server.base_url}/messages/{uuid.uuid4()}")
    bad_body = httpx2.Request(
        "POST", f"{server.base_url}/messages", json={"text": "no to"}, headers={"Authorization": "Bearer k"}
    )
    # The loopback server is 127.0.0.1 at any port: another host is on no server of the spec.
    elsewhere = httpx2.Request(
        "GET",
        f"http://127.0.0.2:{server.base_url.rsplit(':', 1)[1]}/messages/{uuid.uuid4()}",
        headers={"Authorization": "Bearer k"},
    )
    for request, complaint in [(no_auth, "security"), (bad_body, "body"), (elsewhere, "server")]:
        with pytest.raises(Exception) as caught:
            openapi.validate_request(HttpxOpenAPIRequest(request))
        assert complaint in f"{type(caught.value).__name__} {caught.value}".lower()


# --- 5. coverage ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.background(collection.COLLECTION)  # the session's one collection run
def test_every_operation_has_a_method_and_tests() -> None:
    collected = "\n".join(collection.collected().every)
    problems = [f"{c.operation_id}: no method" for c in CASES if snake(c.operation_id) not in generated_api.METHODS]
    problems += [f"{c.operation_id}: no test" for c in CASES if f"[{c.operation_id}]" not in collected]
    assert not problems, "\n".join(problems)
    assert sorted(generated_api.METHODS) == sorted(snake(c.operation_id) for c in CASES)
