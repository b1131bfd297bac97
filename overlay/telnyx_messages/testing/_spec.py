"""The pinned spec, as the fake reads it: its operations by method and path, each request checked
against its parameters and body schema (JSON Schema 2020-12, as OpenAPI 3.1 writes them), and
documents made from its schemas and examples.

The spec ships in the wheel (telnyx_messages/_api/spec.json, the document the client was generated
from, overrides applied), so the fake accepts what the client's own methods were made from.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import referencing
import referencing.jsonschema

from .. import _spec_refs

__all__ = ["Operation", "Refusal", "Spec", "load"]


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # "path", "query" or "header"
    required: bool
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    pattern: re.Pattern[str]
    parameters: tuple[Parameter, ...]
    body_schema: Mapping[str, Any] | None
    body_required: bool
    responses: Mapping[str, Any]


class Refusal(Exception):
    """A request the API would refuse: the status, and the error the spec's error schema holds."""

    def __init__(self, status: int, code: str, title: str, detail: str, pointer: str | None = None) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status, self.code, self.title, self.detail, self.pointer = status, code, title, detail, pointer

    def document(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "title": self.title, "detail": self.detail}
        if self.pointer is not None:
            error["source"] = {"pointer": self.pointer}
        return {"errors": [error]}


# A format constrains text only: another type is the schema's `type` to refuse.
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if len(value) < 20 or value[10] not in "Tt ":
        return False
    try:
        return datetime.datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _is_url(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


_FORMATS = jsonschema.FormatChecker(formats=())
for _name, _check in {"date-time": _is_date_time, "uuid": _is_uuid, "uri": _is_url, "url": _is_url}.items():
    _FORMATS.checks(_name)(_check)


class Spec:
    """The spec's operations and schemas."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        resource = referencing.Resource.from_contents(dict(document), referencing.jsonschema.DRAFT202012)
        self._registry: referencing.Registry[Any] = referencing.Registry().with_resource("urn:spec", resource)
        self.base_path = urlsplit((document.get("servers") or [{"url": ""}])[0]["url"]).path.rstrip("/")
        self.operations = list(self._operations())

    def resolve(self, node: Any) -> Any:
        """`node`, or what its $ref leads to in the spec (followed until a node without one)."""
        return _spec_refs.resolve(self.document, node)

    def _operations(self) -> Iterator[Operation]:
        for path, item in self.document["paths"].items():
            shared = item.get("parameters", [])
            for method, operation in item.items():
                if method not in ("get", "post", "put", "patch", "delete") or not isinstance(operation, Mapping):
                    continue
                parameters = tuple(
                    Parameter(p["name"], p["in"], bool(p.get("required")) or p["in"] == "path", p.get("schema", {}))
                    for p in (self.resolve(p) for p in [*shared, *operation.get("parameters", [])])
                )
                body = self.resolve(operation.get("requestBody")) if operation.get("requestBody") else None
                schema = body["content"]["application/json"]["schema"] if body else None
                regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
                yield Operation(
                    operation["operationId"],
                    method.upper(),
                    path,
                    re.compile(regex),
                    parameters,
                    schema,
                    bool(body and body.get("required")),
                    operation.get("responses", {}),
                )

    def route(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        """The operation a request is for, and its path parameters; 404 for a path the spec lacks."""
        if not path.startswith(self.base_path + "/"):
            raise Refusal(404, "10005", "Resource not found", f"no operation at {path}")
        path = path[len(self.base_path) :]
        allowed = []
        for operation in self.operations:
            match = operation.pattern.fullmatch(path)
            if match:
                if operation.method == method:
                    return operation, match.groupdict()
                allowed.append(operation.method)
        if allowed:
            raise Refusal(405, "10002", "Method not allowed", f"{method} {path}: the API takes {', '.join(allowed)}")
        raise Refusal(404, "10005", "Resource not found", f"no operation at {path}")

    def check(self, schema: Mapping[str, Any], value: Any, pointer: str) -> None:
        """Raises a 422 Refusal naming the first place `value` breaks `schema`."""
        wrapped = _anchored(schema)
        validator = jsonschema.Draft202012Validator(wrapped, registry=self._registry, format_checker=_FORMATS)
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            where = pointer + "".join(f"/{part}" for part in error.absolute_path)
            raise Refusal(422, "10002", "Invalid value", f"{where or '/'}: {error.message}", where or "/")

    def example(self, schema: Any) -> Any:
        """A document for `schema`: the spec's example where it has one, else one made of its parts."""
        return copy.deepcopy(_example(self, schema, 0))


def _anchored(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A schema whose local references (#/components/...) resolve in the spec."""
    text = json.dumps(schema).replace('"$ref": "#/', '"$ref": "urn:spec#/')
    anchored: dict[str, Any] = json.loads(text)
    return anchored


def _example(spec: Spec, schema: Any, depth: int) -> Any:
    schema = spec.resolve(schema)
    if not isinstance(schema, Mapping):
        return None
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    for combined in ("oneOf", "anyOf"):
        if combined in schema:
            return _example(spec, schema[combined][0], depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = _example(spec, part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "enum" in schema:
        return schema["enum"][0]
    if "object" in kinds or "properties" in schema:
        # Every property near the top (the fields a message has); deeper, the required ones only,
        # so that a deep schema (RCS cards) gives a small valid document.
        required = set(schema.get("required", []))
        return {
            name: _example(spec, part, depth + 1)
            for name, part in schema.get("properties", {}).items()
            if depth < 2 or name in required
        }
    if "array" in kinds:
        return [_example(spec, schema.get("items", {}), depth + 1)] if schema.get("minItems") or depth < 2 else []
    formats = {
        "date-time": "2026-01-01T00:00:00.000Z",
        "uuid": str(uuid.UUID(int=1)),
        "uri": "https://example.com",
        "url": "https://example.com",
    }
    if schema.get("format") in formats:
        return formats[schema["format"]]
    if "integer" in kinds:
        return 1
    if "number" in kinds:
        return 1.0
    if "boolean" in kinds:
        return False
    if "null" in kinds and len(kinds) == 1:
        return None
    return "string"


@cache
def load() -> Spec:
    """The spec the client was generated from."""
    text = resources.files("telnyx_messages._api").joinpath("spec.json").read_text(encoding="utf-8")
    return Spec(json.loads(text))
