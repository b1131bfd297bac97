"""Walk a spec schema and a generated model side by side and list every way they disagree.

The generator's own naming rules (PythonIdentifier for properties, ClassName for component
schemas) map spec names to code names; nothing here names a generated class.
"""

from __future__ import annotations

import datetime
import enum
import inspect
import keyword
import sys
import types
import typing
from collections.abc import Iterator
from typing import Any

import attrs
import telnyx_messages._api.models as generated_models
from hypothesis import strategies as st
from openapi_python_client.strings import ClassName, PythonIdentifier

from .spec import resolve

# Every generated model, so that the annotations written under TYPE_CHECKING resolve.
_NAMESPACE = {name: getattr(generated_models, name) for name in generated_models.__all__}
_SCALARS: dict[tuple[str, str | None], Any] = {
    ("string", None): str,
    ("string", "uuid"): str,  # the server's text, kept exactly
    ("string", "date-time"): datetime.datetime,
    ("integer", None): int,
    ("number", None): float,
    ("boolean", None): bool,
}


def is_model(hint: Any) -> bool:
    """A generated model class: a plain class with its fields in __slots__, read by from_dict."""
    return isinstance(hint, type) and hasattr(hint, "from_dict") and "__slots__" in vars(hint)


def init_parameters(model: type) -> dict[str, inspect.Parameter]:
    """A model's __init__ arguments (the fields a caller gives), by name."""
    _self, *parameters = inspect.signature(model.__init__).parameters.values()
    return {parameter.name: parameter for parameter in parameters}


@attrs.frozen
class Mismatch:
    where: str
    spec_says: str
    code_says: str

    def __str__(self) -> str:
        return f"{self.where}\n    spec: {self.spec_says}\n    code: {self.code_says}"


def python_name(json_name: str) -> str:
    """The attribute of a property: its wire name, unless that is a Python keyword (`from_`)."""
    name = str(PythonIdentifier(json_name, prefix="field"))
    return json_name if not keyword.iskeyword(json_name) and name in (json_name, json_name + "_") else name


def component_class(spec: dict[str, Any], name: str) -> type | None:
    """The generated class of a component schema, or None for a component that is no model (a string)."""
    return getattr(generated_models, str(ClassName(name, prefix="")), None)


def escape(part: str) -> str:
    """One segment of a JSON pointer (RFC 6901)."""
    return part.replace("~", "~0").replace("/", "~1")


def type_hints(model: type) -> dict[str, Any]:
    return typing.get_type_hints(model, localns=_NAMESPACE)


def _members(hint: Any) -> list[Any]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(hint) for m in _members(arg)]
    return [hint]


def concrete(hint: Any) -> Any:
    """An annotation without its None."""
    (member,) = [m for m in _members(hint) if m is not type(None)]
    return member


def _refusing_null(model: type) -> frozenset[str]:
    """The wire names whose null the model reads as absent: its record of the spec's nullability."""
    return frozenset(getattr(sys.modules[model.__module__], "_REFUSING_NULL", frozenset()))


def _name(hint: Any) -> str:
    return " | ".join(getattr(m, "__name__", str(m)) for m in _members(hint))


def _spec_types(schema: dict[str, Any]) -> set[str]:
    declared = schema.get("type")
    if declared is None:
        return {"object"} if "properties" in schema else set()
    return set(declared) if isinstance(declared, list) else {declared}


class Walker:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.checked: set[tuple[int, type]] = set()

    def model(self, where: str, schema: dict[str, Any], model: type) -> Iterator[Mismatch]:
        """The properties of an object schema against the fields of a generated model."""
        if "$ref" in schema:  # a component is reported under its own name, once
            where = schema["$ref"]
            schema = resolve(self.spec, schema)
        if (id(schema), model) in self.checked:
            return
        self.checked.add((id(schema), model))
        if not is_model(model):
            yield Mismatch(where, "an object with properties", f"{_name(model)}, not a model")
            return
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        parameters = init_parameters(model)
        fields = set(parameters)
        expected = {python_name(p): p for p in properties}
        for extra in sorted(fields - set(expected)):
            yield Mismatch(f"{where}.{extra}", "no such property", f"field {model.__name__}.{extra}")
        hints = type_hints(model)
        for field, prop in sorted(expected.items()):
            at = f"{where}.{prop}"
            if field not in fields:
                yield Mismatch(at, "a property", f"no field {field} on {model.__name__}")
                continue
            hint = hints[field]
            optional = parameters[field].default is not inspect.Parameter.empty
            if optional == (prop in required):
                says = "required" if prop in required else "optional"
                yield Mismatch(at, says, f"{_name(hint)} ({'optional' if optional else 'required'})")
            if optional:
                # Absent and null both read None: whether the spec allows null is in _REFUSING_NULL.
                allows_null = prop not in _refusing_null(model)
                if allows_null != ("null" in _spec_types(resolve(self.spec, properties[prop]))):
                    says = "nullable" if not allows_null else "not nullable"
                    yield Mismatch(at, says, f"{model.__name__} reads null {'as null' if allows_null else 'as absent'}")
                if not allows_null:
                    hint = typing.Union[tuple(m for m in _members(hint) if m is not type(None))]  # noqa: UP007
            yield from self.value(at, properties[prop], hint)

    def value(self, where: str, schema: dict[str, Any], hint: Any) -> Iterator[Mismatch]:
        """One value's schema against its annotation."""
        declared, schema = schema, resolve(self.spec, schema)
        members = _members(hint)
        spec_types = _spec_types(schema)
        nullable = "null" in spec_types
        if nullable != (type(None) in members):
            yield Mismatch(where, "nullable" if nullable else "not nullable", _name(hint))
        members = [m for m in members if m is not type(None)]
        if "oneOf" in schema or "anyOf" in schema:
            yield from self._union(where, schema.get("oneOf") or schema["anyOf"], members)
            return
        spec_types.discard("null")
        if len(members) != 1 or len(spec_types) > 1:
            yield Mismatch(where, " | ".join(sorted(spec_types)) or "any", _name(hint))
            return
        (code,) = members
        (kind,) = spec_types or {"any"}
        if kind == "array":
            if typing.get_origin(code) is not list:
                yield Mismatch(where, "array", _name(code))
                return
            yield from self.value(f"{where}[]", schema.get("items", {}), typing.get_args(code)[0])
        elif kind == "object":
            if schema.get("properties"):
                yield from self.model(where, declared, code)
            elif not (is_model(code) or typing.get_origin(code) is dict):
                yield Mismatch(where, "a free-form object", _name(code))
        elif "enum" in schema:
            values = [v for v in schema["enum"] if v is not None]
            if not (isinstance(code, type) and issubclass(code, enum.Enum)):
                yield Mismatch(where, f"enum {values}", _name(code))
            elif sorted(m.value for m in code) != sorted(values):
                yield Mismatch(where, f"enum {sorted(values)}", f"{code.__name__} {sorted(m.value for m in code)}")
        else:
            wanted = _SCALARS.get((kind, schema.get("format")), _SCALARS.get((kind, None)))
            if wanted is not code:
                yield Mismatch(where, f"{kind} ({schema.get('format', 'no format')})", _name(code))

    def _union(self, where: str, variants: list[dict[str, Any]], members: list[Any]) -> Iterator[Mismatch]:
        if len(variants) != len(members):
            yield Mismatch(where, f"one of {len(variants)} schemas", " | ".join(map(_name, members)))
            return
        unmatched = list(members)
        for index, variant in enumerate(variants):
            at = f"{where}<{variant.get('$ref', index)}>"
            fits = [m for m in unmatched if not list(Walker(self.spec).value(at, variant, m))]
            if fits:
                unmatched.remove(fits[0])
                yield from self.value(at, variant, fits[0])
            else:
                yield Mismatch(at, "a variant", f"none of {' | '.join(map(_name, unmatched))} fits it")


def report(mismatches: list[Mismatch]) -> str:
    return f"{len(mismatches)} mismatches between spec and generated code:\n" + "\n".join(map(str, mismatches))


# --- documents drawn from schemas (hypothesis-jsonschema) --------------------------------------


def inlined(spec: dict[str, Any], schema: Any, *, every: bool) -> Any:
    """A schema with its $refs inlined: every property required, or only the required ones kept."""
    if isinstance(schema, list):
        return [inlined(spec, s, every=every) for s in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {k: inlined(spec, v, every=every) for k, v in resolve(spec, schema).items() if k != "example"}
    if "properties" in schema:
        # Like the generator, read a schema with properties but no type (messaging_Error) as an object.
        schema.setdefault("type", "object")
        if every:
            schema["required"] = sorted(schema["properties"])
        else:
            keep = set(schema.get("required", []))
            schema["properties"] = {k: v for k, v in schema["properties"].items() if k in keep}
        schema["additionalProperties"] = False
    if "items" in schema:
        schema["maxItems"] = 3  # bounded documents keep the suite fast; one item exercises the parse
    return schema


FORMATS = {
    "uuid": st.uuids().map(str),
    "date-time": st.datetimes(timezones=st.just(datetime.UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    "url": st.from_regex(r"\Ahttps://[a-z]{1,12}\.example/[a-z0-9]{0,12}\Z"),
}


def drawn(schema: Any) -> st.SearchStrategy[Any]:
    """hypothesis-jsonschema's strategy for `schema` (inlined: no $refs) with FORMATS, the strategy of
    each property made once.

    hypothesis-jsonschema makes a property's strategy anew each time it draws an object (its
    `from_object_schema` calls merged_as_strategies per key drawn): canonicalising the property's
    schema and building composites, most of the time of a drawn document here. The strategy depends
    on the schemas, the alphabet and the formats alone, so each is kept by those and reused: the same
    strategy, the same draws, made once per process.
    """
    import warnings

    from hypothesis_jsonschema import _from_schema, from_schema

    _memoise_merged_strategies(_from_schema)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # supplying date-time replaces hypothesis-jsonschema's own
        return from_schema(schema, custom_formats=FORMATS)


def _memoise_merged_strategies(module: Any) -> None:
    made = module.merged_as_strategies
    if getattr(made, "memoised", False):
        return
    kept: dict[tuple[str, int, int], tuple[Any, Any, st.SearchStrategy[Any]]] = {}

    def merged_as_strategies(schemas: list[Any], *, alphabet: Any, custom_formats: Any) -> st.SearchStrategy[Any]:
        key = (module.encode_canonical_json(schemas), id(alphabet), id(custom_formats))
        if key not in kept:
            # The alphabet and formats are held with the strategy: their ids stay theirs.
            strategy = made(schemas, alphabet=alphabet, custom_formats=custom_formats)
            kept[key] = (alphabet, custom_formats, strategy)
        return kept[key][2]

    merged_as_strategies.memoised = True  # type: ignore[attr-defined]
    module.merged_as_strategies = merged_as_strategies
