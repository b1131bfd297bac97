"""The documents the fake makes from a schema (`Spec.example`): the schema's own example where it has
one, else one made of its parts, and always one the schema accepts. The fake answers from these what
it does not track (an operation that is not a message's, a webhook's envelope) and reads in them what
a message leaves empty, so each rule is checked on a small spec of its own."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from telnyx_messages.testing._spec import Refusal, Spec

INTEGER = {"type": "integer"}
TEXT = {"type": "string"}


def _spec(**schemas: Any) -> Spec:
    return Spec({"paths": {}, "components": {"schemas": schemas}})


def _accepts(spec: Spec, schema: Any, value: Any) -> bool:
    try:
        spec.check(schema, value, "")
    except Refusal:
        return False
    return True


def test_a_schemas_own_example_is_taken_first_then_the_first_of_its_examples() -> None:
    own = {"type": "integer", "example": 7, "examples": [8, 9]}
    listed = {"type": "integer", "examples": [8, 9]}
    spec = _spec(own=own, listed=listed)
    assert spec.example({"$ref": "#/components/schemas/own"}) == own["example"]
    assert spec.example({"$ref": "#/components/schemas/listed"}) == listed["examples"][0]


def test_an_example_is_a_copy_the_caller_may_change() -> None:
    shown = {"type": "object", "example": {"to": [{"phone_number": "+15550001111"}]}}
    expected = copy.deepcopy(shown["example"])
    spec = _spec(shown=shown)
    made = spec.example({"$ref": "#/components/schemas/shown"})
    made["to"].append("changed")
    assert spec.example({"$ref": "#/components/schemas/shown"}) == expected


@pytest.mark.parametrize("combined", ["oneOf", "anyOf"])
def test_of_alternatives_the_first_is_made(combined: str) -> None:
    spec = _spec()
    made = spec.example({combined: [INTEGER, TEXT]})
    assert _accepts(spec, INTEGER, made) and not _accepts(spec, TEXT, made)


def test_all_of_merges_the_objects_of_its_parts() -> None:
    spec = _spec(first={"type": "object", "properties": {"a": INTEGER}})
    schema = {"allOf": [{"$ref": "#/components/schemas/first"}, {"properties": {"b": TEXT}}, TEXT]}
    made = spec.example(schema)
    assert set(made) == {"a", "b"} and _accepts(spec, {"type": "object", "properties": {"a": INTEGER, "b": TEXT}}, made)


def test_an_enum_gives_its_first_value() -> None:
    schema = {"type": "string", "enum": ["first", "second"]}
    assert _spec().example(schema) == schema["enum"][0]


@pytest.mark.parametrize(
    "schema",
    [
        INTEGER,
        {"type": "number"},
        {"type": "boolean"},
        TEXT,
        {"type": "null"},
        {"type": ["null"]},
        {"type": ["integer", "null"]},
        {"type": ["string", "null"]},
        {"type": "array", "items": INTEGER},
        {"type": "object"},
        {"properties": {"a": INTEGER}},
        *({"type": "string", "format": name} for name in ("date-time", "uuid", "uri", "url")),
    ],
    ids=repr,
)
def test_what_is_made_is_what_the_schema_accepts(schema: dict[str, Any]) -> None:
    spec = _spec()
    made = spec.example(schema)
    assert _accepts(spec, schema, made)
    kinds = schema.get("type")
    if isinstance(kinds, list) and len(kinds) > 1:  # of a type or null, the type: null says nothing
        assert made is not None
    if "properties" in schema:
        assert set(made) == set(schema["properties"])


def test_near_the_top_every_property_is_made_deeper_the_required_ones_only() -> None:
    deep = {
        "type": "object",
        "required": ["needed"],
        "properties": {"needed": INTEGER, "optional": INTEGER, "items": {"type": "array", "items": INTEGER}},
    }
    listed = {"type": "array", "minItems": 1, "items": INTEGER}
    second = {"type": "object", "properties": {"deep": deep, "listed": {"type": "array", "items": INTEGER}}}
    top = {"type": "object", "properties": {"second": second, "listed": {"type": "array", "items": INTEGER}}}
    spec = _spec()
    made = spec.example(top)
    assert set(made) == {"second", "listed"} and set(made["second"]) == {"deep", "listed"}
    assert set(made["second"]["deep"]) == {"needed"}
    assert len(made["listed"]) == 1 and made["second"]["listed"] == []  # a list deeper than the top's is empty
    deeper = spec.example({"type": "object", "properties": {"second": {"properties": {"listed": listed}}}})
    assert len(deeper["second"]["listed"]) == 1  # unless the schema asks for items
    assert _accepts(spec, top, made)


def test_an_alternative_is_a_level_of_its_own() -> None:
    inner = {"type": "object", "required": ["needed"], "properties": {"needed": INTEGER, "optional": INTEGER}}
    made = _spec().example({"type": "object", "properties": {"choice": {"oneOf": [inner]}}})
    assert set(made["choice"]) == {"needed"}


def test_each_nested_schema_is_a_level_whether_alternative_part_or_item() -> None:
    inner = {"type": "object", "required": ["needed"], "properties": {"needed": INTEGER, "optional": INTEGER}}
    spec = _spec()
    assert set(spec.example({"oneOf": [inner]})) == {"needed", "optional"}  # one level down: every property
    assert [set(item) for item in spec.example({"type": "array", "items": inner})] == [{"needed", "optional"}]
    made = spec.example({"type": "object", "properties": {"list": {"type": "array", "items": inner}}})
    assert [set(item) for item in made["list"]] == [{"needed"}]  # an item of a list two levels down: required
    made = spec.example({"type": "object", "properties": {"merged": {"allOf": [inner]}}})
    assert set(made["merged"]) == {"needed"}  # two levels down: the required ones
