"""Cases derived from the spec: every operation, a request body and a response document for it."""

from __future__ import annotations

import uuid
from typing import Any

import attrs
from telnyx_messages import _operations
from telnyx_messages_api.types import UNSET

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


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
    """The spec's own example where it has one, else a document built from the schema's parts."""
    if "example" in schema and "$ref" not in schema:
        return schema["example"]
    schema = resolve(spec, schema)
    if "example" in schema:
        return schema["example"]
    if "oneOf" in schema:
        return example_of(spec, schema["oneOf"][0])
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "object" in types or "properties" in schema:
        required = schema.get("required")
        props = schema.get("properties", {})
        return {k: example_of(spec, v) for k, v in props.items() if required is None or k in required}
    if "array" in types:
        return [example_of(spec, schema["items"])]
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
