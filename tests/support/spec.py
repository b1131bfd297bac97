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
import typing
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import telnyx_messages._api.api as generated_api
import telnyx_messages._api.models as generated_models
import yaml
from openapi_python_client.strings import PythonIdentifier
from telnyx_messages import _spec_refs as spec_refs
from telnyx_messages._api.types import Operation

from . import ROOT

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
# Another spec version can be put under the same tests (tests/test_spec_changes.py does).
SPEC_PATH = Path(os.environ.get("TELNYX_MESSAGES_TEST_SPEC") or ROOT / "openapi" / "messages.yml")
SPEC: dict[str, Any] = yaml.load(SPEC_PATH.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def snake(operation_id: str) -> str:
    """The generator's name of an operation, by its own rule."""
    return str(PythonIdentifier(operation_id, prefix="field"))


@attrs.frozen
class OperationCase:
    operation_id: str
    method: str
    path: str
    request_schema: dict[str, Any] | None
    response_schema: dict[str, Any]
    query_parameters: tuple[dict[str, Any], ...] = ()

    @property
    def method_path(self) -> str:
        """Where the method is under client.messages: "send", "rcs.send"."""
        return generated_api.METHODS[snake(self.operation_id)]

    @property
    def operation(self) -> Operation[Any]:
        return generated_api.OPERATIONS[self.method_path]

    @property
    def result_class(self) -> Any:
        return getattr(generated_models, str(self.operation.result))

    @property
    def path_parameters(self) -> list[str]:
        return [name for name, _ in self.operation.path_parameters]

    def bound(self, messages: Any) -> Any:
        """This operation's method on a client's `messages` (or its with_raw_response)."""
        target = messages
        for part in self.method_path.split("."):
            target = getattr(target, part)
        return target


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node`, or what its $ref leads to in `spec` (telnyx_messages._spec_refs, shared with the fake)."""
    resolved: dict[str, Any] = spec_refs.resolve(spec, node)
    return resolved


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
            parameters = [resolve(spec, p) for p in item.get("parameters", []) + op.get("parameters", [])]
            cases.append(
                OperationCase(
                    operation_id=op["operationId"],
                    method=method.upper(),
                    path=path,
                    request_schema=request_schema,
                    response_schema=response["content"]["application/json"]["schema"],
                    query_parameters=tuple(p for p in parameters if p["in"] == "query"),
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
    if schema.get("format") == "date-time":
        return "2026-01-02T03:04:05Z"
    if schema.get("format") in ("url", "uri"):
        return "https://example.com/hooks"
    if "number" in types:
        return 1.5
    if "enum" in schema:
        return schema["enum"][0]
    if "boolean" in types:
        return True
    if "integer" in types:
        return 1
    return "+18445550001"


def _as_argument(value: Any, hint: Any) -> Any:
    """A JSON value as a caller passes it: nested objects keyed like their TypedDict (`from_`)."""
    for alternative in typing.get_args(hint) or (hint,):
        if typing.is_typeddict(alternative) and isinstance(value, dict):
            to_key: dict[str, str] = {wire: key for key, wire in getattr(alternative, "__wire_names__", {}).items()}
            key_types = typing.get_type_hints(alternative)
            document: dict[str, Any] = value
            return {to_key.get(k, k): _as_argument(v, key_types[to_key.get(k, k)]) for k, v in document.items()}
        if typing.get_origin(alternative) is list and isinstance(value, list):
            (item,) = typing.get_args(alternative)
            return [_as_argument(v, item) for v in value]
    return value


def call_arguments(
    spec: dict[str, Any], case: OperationCase, path_value: str | None = None
) -> tuple[list[str], dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
    """Path values (`path_value`, or a fresh UUID each), the keyword arguments a caller passes, and
    the body and query they send."""
    path_values = [path_value or str(uuid.uuid4()) for _ in case.path_parameters]
    document = example_of(spec, case.request_schema) if case.request_schema else None
    query = {p["name"]: example_of(spec, p["schema"]) for p in case.query_parameters if p.get("required")}
    hints = typing.get_type_hints(case.bound(generated_api.Messages(client=typing.cast(Any, None))))
    to_argument = {wire: name for name, wire in case.operation.body_parameters + case.operation.query_parameters}
    kwargs = {to_argument[wire]: _as_argument(v, hints[to_argument[wire]]) for wire, v in (document or {}).items()}
    kwargs |= {to_argument[wire]: v for wire, v in query.items()}
    return path_values, kwargs, document, query


CASES = operations(SPEC)


def absent(taken: Iterable[object], wanted: str) -> str:
    """`wanted`, or the first of wanted2, wanted3, ... that `taken` lacks: what a test adds to a copy of
    the spec (an operation, a field, an enum value) must be new to it, whatever upstream adds later."""
    present = {str(t) for t in taken}
    candidate, n = wanted, 2
    while candidate in present:
        candidate, n = f"{wanted}{n}", n + 1
    return candidate


def operation_ids(spec: dict[str, Any]) -> list[str]:
    return [
        str(op["operationId"])
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]


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
        ref, node = spec_refs.located(spec, node)
        if ref is not None:
            location = spec_refs.pointer_parts(ref)
        if part is not None:
            node = node[part]
            location.append(part)
    return "#/" + "/".join(map(_escape, location))


def at(spec: dict[str, Any], pointer: str) -> Any:
    """What the JSON pointer `pointer` (#/...) points at in `spec`."""
    return spec_refs.target(spec, pointer)


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
