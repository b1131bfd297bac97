"""The spec under test, loaded once, and the cases derived from it: every operation, a request body
and a response document for it.

Schemas are reached through operations (by operationId) and their responses, never by a component's
name: upstream may inline or rename a component without changing the API.
"""

from __future__ import annotations

import copy
import datetime
import functools
import os
import re
import uuid
from pathlib import Path
from typing import Any

import attrs
import yaml
from telnyx_messages import _operations
from telnyx_messages_api.types import UNSET

from . import ROOT

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
# Another spec version can be put under the same tests (tests/test_spec_changes.py does).
SPEC_PATH = Path(os.environ.get("TELNYX_MESSAGES_TEST_SPEC") or ROOT / "openapi" / "messages.yml")
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_bytes())


@attrs.frozen
class OperationCase:
    operation_id: str
    method: str
    path: str
    request_schema: dict[str, Any] | None
    response_schema: dict[str, Any]

    @property
    def client_method(self) -> str:
        return {op: m for m, op in _operations.METHODS.items()}[self.operation_id]

    @property
    def module(self) -> Any:
        return getattr(_operations, self.operation_id)


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = spec["components"][section][name]
    return node


def operations(spec: dict[str, Any]) -> list[OperationCase]:
    cases = []
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            op = item[method]
            body = op.get("requestBody")
            request_schema = resolve(spec, body)["content"]["application/json"]["schema"] if body else None
            response = resolve(spec, op["responses"]["200"])
            cases.append(
                OperationCase(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    request_schema=request_schema,
                    response_schema=response["content"]["application/json"]["schema"],
                )
            )
    return cases


def example_of(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The spec's own example where it has one, else a document built from the schema's parts; a copy,
    which a test may change (the spec is loaded once for the whole run)."""
    return copy.deepcopy(_example_of(spec, schema))


def _example_of(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    if "example" in schema and "$ref" not in schema:
        return schema["example"]
    schema = resolve(spec, schema)
    if "example" in schema:
        return schema["example"]
    if "oneOf" in schema:
        return _example_of(spec, schema["oneOf"][0])
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "object" in types or "properties" in schema:
        required = schema.get("required")
        props = schema.get("properties", {})
        return {k: _example_of(spec, v) for k, v in props.items() if required is None or k in required}
    if "array" in types:
        return [_example_of(spec, schema["items"])]
    if schema.get("format") == "uuid":
        return str(uuid.UUID(int=1))
    if "enum" in schema:
        return schema["enum"][0]
    if "boolean" in types:
        return True
    if "integer" in types:
        return 1
    return "+18445550001"


def keyword_arguments(body_model: Any, document: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments a caller passes to send `document`, read off the generated model."""
    body = body_model.from_dict(document)
    return {
        field.name: getattr(body, field.name)
        for field in attrs.fields(body_model)
        if field.name != "additional_properties" and getattr(body, field.name) is not UNSET
    }


def call_arguments(
    spec: dict[str, Any], case: OperationCase, path_value: str | None = None
) -> tuple[list[str], dict[str, Any], dict[str, Any] | None]:
    """Path values (`path_value`, or a fresh UUID each), keyword arguments and the body they send."""
    path_values = [path_value or str(uuid.uuid4()) for _ in case.module.PATH_PARAMETERS]
    document = example_of(spec, case.request_schema) if case.request_schema else None
    kwargs = keyword_arguments(case.module.Body, document) if document is not None else {}
    return path_values, kwargs, document


CASES = operations(SPEC)


@functools.cache
def case_of(operation_id: str) -> OperationCase:
    (case,) = (c for c in CASES if c.operation_id == operation_id)
    return case


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def where_is(spec: dict[str, Any], operation_id: str, *parts: str) -> str:
    """The JSON pointer of what lies at `parts` below an operation, following every $ref on the way:
    where the schema really is, whether upstream keeps it in a component or inline."""
    path, method = next(
        (path, method)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and op.get("operationId") == operation_id
    )
    location = ["paths", path, method]
    node = spec["paths"][path][method]
    for part in (*parts, None):
        while isinstance(node, dict) and "$ref" in node:
            location = [p.replace("~1", "/").replace("~0", "~") for p in node["$ref"].removeprefix("#/").split("/")]
            node = functools.reduce(lambda n, p: n[p], location, spec)
        if part is not None:
            node = node[part]
            location.append(part)
    return "#/" + "/".join(map(_escape, location))


def at(spec: dict[str, Any], pointer: str) -> Any:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.removeprefix("#/").split("/")]
    return functools.reduce(lambda node, part: node[part], parts, spec)


JSON_BODY = ("content", "application/json", "schema")


def message_pointer(spec: dict[str, Any]) -> str:
    """Where the message schema is: the `data` of what SendMessage answers."""
    return where_is(spec, "SendMessage", "responses", "200", *JSON_BODY, "properties", "data")


def error_pointer(spec: dict[str, Any]) -> str:
    """Where one error of an error answer is: an item of `errors` in SendMessage's 4XX response."""
    return where_is(spec, "SendMessage", "responses", "4XX", *JSON_BODY, "properties", "errors", "items")


def response_data_schema(operation_id: str) -> dict[str, Any]:
    """The schema of `data` in an operation's 200 response."""
    schema: dict[str, Any] = at(
        SPEC, where_is(SPEC, operation_id, "responses", "200", *JSON_BODY, "properties", "data")
    )
    return schema


def message_example() -> dict[str, Any]:
    """A message as the API returns it: the example of what SendMessage answers."""
    return dict(example_of(SPEC, response_data_schema("SendMessage")))


def inbound_message_example() -> dict[str, Any]:
    """A received message: the example among what GetMessage may answer whose direction is inbound."""
    variants = [example_of(SPEC, v) for v in response_data_schema("GetMessage")["oneOf"]]
    (inbound,) = (v for v in variants if v.get("direction") == "inbound")
    return dict(inbound)


_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?")


def normalised(document: Any) -> Any:
    """A JSON document with its date-time strings as datetimes, to compare round-trips by meaning."""
    if isinstance(document, dict):
        return {k: normalised(v) for k, v in document.items()}
    if isinstance(document, list):
        return [normalised(v) for v in document]
    if isinstance(document, str) and _DATE_TIME.fullmatch(document):
        return datetime.datetime.fromisoformat(document)
    return document
