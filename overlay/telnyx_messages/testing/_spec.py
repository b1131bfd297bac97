"""The pinned spec, as the fake reads it: its operations by method and path, each request checked
against its parameters and body schema (JSON Schema 2020-12, as OpenAPI 3.1 writes them), and
documents made from its schemas and examples. A check passes a value by a quick test made once per
schema, and leaves any other to jsonschema, which names the error (Spec.check).

The spec ships in the wheel (telnyx_messages/_api/spec.json, the document the client was generated
from, overrides applied), so the fake accepts what the client's own methods were made from.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import numbers
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
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
        self._checkers: dict[int, _Checker] = {}  # by the schema's id(); each holds its schema
        self._refs: dict[str, list[_Test]] = {}  # a $ref's test, in a cell (a ref may lead back to itself)

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
        """Raises a 422 Refusal naming the first place `value` breaks `schema`.

        Each schema's check is made once (kept by the schema's identity: the spec's schemas are read,
        never changed): a quick test that passes only a value jsonschema would pass (_test), and
        where it does not pass, jsonschema itself, which finds and names the error as it always has."""
        checker = self._checker(schema)
        if checker.accepts(value):
            return
        error = jsonschema.exceptions.best_match(checker.validator(self._registry).iter_errors(value))
        if error is not None:
            where = pointer + "".join(f"/{part}" for part in error.absolute_path)
            raise Refusal(422, "10002", "Invalid value", f"{where or '/'}: {error.message}", where or "/")

    def _checker(self, schema: Mapping[str, Any]) -> _Checker:
        # By id(): a kept checker holds its schema, so that no other object has that id while it is kept.
        checker = self._checkers.get(id(schema))
        if checker is None:
            if len(self._checkers) >= _MOST_CHECKERS:  # schemas made on the fly (a test's): keep few
                self._checkers.clear()
            checker = self._checkers[id(schema)] = _Checker(schema, self._test(schema))
        return checker

    def _test(self, schema: Any) -> _Test:
        """A quick test of a value against `schema`: True only where jsonschema (Draft 2020-12, the
        fake's formats) finds no error. It knows the keywords the spec's schemas use; a schema with
        another of jsonschema's keywords (or one of them in a form it does not know) tests False, so
        that jsonschema decides. Keywords jsonschema does not know (description, example, x-...) it
        ignores, as jsonschema does."""
        if schema is True:
            return _always
        if not isinstance(schema, Mapping):
            return _never  # False, or not a schema: jsonschema's to judge
        kinds: frozenset[type] | None = None
        fields: dict[str, _Test] | None = None
        required: tuple[str, ...] = ()
        others: list[_Test] = []
        for keyword, argument in schema.items():
            if keyword not in _VALIDATORS:
                continue
            if keyword == "type":
                kinds = _kinds(argument)
                if kinds is None:
                    return _never
            elif keyword == "properties":
                if not isinstance(argument, Mapping):
                    return _never
                fields = {name: self._test(part) for name, part in argument.items()}
                fields = {name: test for name, test in fields.items() if test is not _always} or None
            elif keyword == "required":
                if not (isinstance(argument, list) and all(isinstance(name, str) for name in argument)):
                    return _never
                required = tuple(argument)
            else:
                made = self._keyword(keyword, argument, schema)
                if made is None:
                    return _never
                others.append(made)
        if kinds is None and fields is None and not required and len(others) == 1:
            return others[0]
        if kinds is None and fields is None and not required and not others:
            return _always
        return functools.partial(_schema, kinds, fields, required, tuple(others))

    def _keyword(self, keyword: str, argument: Any, schema: Mapping[str, Any]) -> _Test | None:
        """The test of one keyword but type, properties and required (None: one the quick test does
        not know, or not in a form it knows)."""
        # (Beside patternProperties or prefixItems, which the quick test does not know, these are
        # never reached: the schema tests False, for jsonschema to judge.)
        if keyword == "additionalProperties":
            return functools.partial(_additional, frozenset(schema.get("properties") or ()), self._test(argument))
        if keyword == "items":
            return functools.partial(_items, self._test(argument))
        if keyword in ("enum", "const"):
            members = argument if keyword == "enum" else [argument]
            if not isinstance(members, list):
                return None
            # Text and null only: jsonschema's equality of numbers and booleans (1 == 1.0, True != 1) is its own.
            texts = frozenset(member for member in members if isinstance(member, str))
            return functools.partial(_one_of_texts, texts, None in members)
        if keyword == "format":
            if not isinstance(argument, str):
                return None
            known = _FORMATS.checkers.get(argument)  # the fake's checks: each says True or False, none raises
            return _always if known is None else known[0]
        if keyword == "pattern":
            if not isinstance(argument, str):
                return None
            try:
                return functools.partial(_patterned, re.compile(argument))
            except re.error:
                return None
        if keyword in _BOUNDS:
            if isinstance(argument, bool) or not isinstance(argument, (int, float)):
                return None
            return functools.partial(_BOUNDS[keyword], argument)
        if keyword in ("allOf", "anyOf"):
            if not isinstance(argument, list) or not argument:
                return None
            parts = tuple(self._test(part) for part in argument)
            return functools.partial(_all_of if keyword == "allOf" else _any_of, parts)
        if keyword == "$ref":
            if not (isinstance(argument, str) and argument.startswith("#/")):
                return None
            return self._ref(argument)
        return None

    def _ref(self, ref: str) -> _Test:
        """The test of what a local $ref leads to, made once (in a cell, filled once made: a schema
        may lead back to itself)."""
        cell = self._refs.get(ref)
        if cell is None:
            cell = self._refs[ref] = [_never]
            try:  # a ref to nothing, or a cycle of refs: jsonschema's to judge
                _spec_refs.located(self.document, {"$ref": ref})
                found = _spec_refs.target(self.document, ref)  # as written: a $ref there has its siblings
            except _spec_refs.RefError:
                return _never
            cell[0] = self._test(found)
        return functools.partial(_in_cell, cell)

    def example(self, schema: Any) -> Any:
        """A document for `schema`: the spec's example where it has one, else one made of its parts."""
        return copy.deepcopy(_example(self, schema, 0))


_Test = Callable[[Any], bool]
_VALIDATORS = frozenset(jsonschema.Draft202012Validator.VALIDATORS)
_MOST_CHECKERS = 1024
# jsonschema's types, by a value's exact type: a bool is no integer; an integer written as a float
# (1.0), a Decimal, a subclass of str or dict are jsonschema's to judge (the quick test says no).
_KINDS: dict[str, frozenset[type]] = {
    "string": frozenset([str]),
    "object": frozenset([dict]),
    "array": frozenset([list]),
    "null": frozenset([type(None)]),
    "boolean": frozenset([bool]),
    "integer": frozenset([int]),
    "number": frozenset([int, float]),
}


def _kinds(argument: Any) -> frozenset[type] | None:
    """The Python types of a `type` keyword's JSON types (None: not a type jsonschema knows)."""
    names = argument if isinstance(argument, list) else [argument]
    if not all(isinstance(name, str) and name in _KINDS for name in names):
        return None
    return frozenset().union(*(_KINDS[name] for name in names))


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


class _Checker:
    """A schema's quick test, and its jsonschema validator (made when first needed)."""

    __slots__ = ("_validator", "accepts", "schema")

    def __init__(self, schema: Mapping[str, Any], accepts: _Test) -> None:
        self.schema = schema
        self.accepts = accepts
        self._validator: jsonschema.protocols.Validator | None = None

    def validator(self, registry: referencing.Registry[Any]) -> jsonschema.protocols.Validator:
        if self._validator is None:
            self._validator = jsonschema.Draft202012Validator(
                _anchored(self.schema), registry=registry, format_checker=_FORMATS
            )
        return self._validator


def _schema(
    kinds: frozenset[type] | None,
    fields: dict[str, _Test] | None,
    required: tuple[str, ...],
    others: tuple[_Test, ...],
    value: Any,
) -> bool:
    """A schema's type, properties and required keywords, then its others."""
    if kinds is not None and type(value) not in kinds:
        return False
    if isinstance(value, dict):
        if fields is not None:
            for name, part in value.items():
                test = fields.get(name)
                if test is not None and not test(part):
                    return False
        for name in required:
            if name not in value:
                return False
    for test in others:  # noqa: SIM110 - a loop: all() of a generator costs more, once a value
        if not test(value):
            return False
    return True


def _in_cell(cell: list[_Test], value: Any) -> bool:
    return cell[0](value)


def _additional(named: frozenset[str], test: _Test, value: Any) -> bool:
    return not isinstance(value, dict) or all(test(part) for name, part in value.items() if name not in named)


def _items(test: _Test, value: Any) -> bool:
    return not isinstance(value, list) or all(test(item) for item in value)


def _one_of_texts(texts: frozenset[str], null: bool, value: Any) -> bool:
    return (isinstance(value, str) and value in texts) or (null and value is None)


def _patterned(pattern: re.Pattern[str], value: Any) -> bool:
    return not isinstance(value, str) or pattern.search(value) is not None


def _at_least(bound: float, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return True  # not a number to jsonschema: the bound does not apply
    # A Decimal or a Fraction: jsonschema's to compare (the quick test says no).
    return isinstance(value, (int, float)) and value >= bound


def _at_most(bound: float, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return True
    return isinstance(value, (int, float)) and value <= bound


def _all_of(parts: tuple[_Test, ...], value: Any) -> bool:
    return all(test(value) for test in parts)


def _any_of(parts: tuple[_Test, ...], value: Any) -> bool:
    return any(test(value) for test in parts)


# Each bound as jsonschema applies it: only to a value of its type (text, list, number).
_BOUNDS: dict[str, Callable[[Any, Any], bool]] = {
    "minLength": lambda bound, value: not isinstance(value, str) or len(value) >= bound,
    "maxLength": lambda bound, value: not isinstance(value, str) or len(value) <= bound,
    "minItems": lambda bound, value: not isinstance(value, list) or len(value) >= bound,
    "maxItems": lambda bound, value: not isinstance(value, list) or len(value) <= bound,
    "minimum": _at_least,
    "maximum": _at_most,
}


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
