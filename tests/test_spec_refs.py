"""telnyx_messages._spec_refs: the one `$ref` resolver (tools, tests, bench and the fake use it):
local refs, chains of refs, JSON-pointer escapes, and the refs that lead nowhere refused by name."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from telnyx_messages import _spec_refs
from telnyx_messages._spec_refs import RefError, located, pointer_parts, resolve, target

from .support.spec import SPEC

DOCUMENT: dict[str, Any] = {
    "paths": {
        "/messages/{id}": {"get": {"parameters": [{"$ref": "#/components/parameters/Id"}]}},
    },
    "components": {
        "parameters": {"Id": {"name": "id", "in": "path", "schema": {"$ref": "#/components/schemas/Uuid"}}},
        "schemas": {
            "Uuid": {"type": "string", "format": "uuid"},
            "Alias": {"$ref": "#/components/schemas/Uuid"},
            "AliasOfAlias": {"$ref": "#/components/schemas/Alias"},
            "a/b~c": {"type": "integer"},
            "with space": {"type": "boolean"},
            "Self": {"$ref": "#/components/schemas/Self"},
            "Ping": {"$ref": "#/components/schemas/Pong"},
            "Pong": {"$ref": "#/components/schemas/Ping"},
            "Dangling": {"$ref": "#/components/schemas/Gone"},
        },
    },
}
SCHEMAS = DOCUMENT["components"]["schemas"]


def test_a_local_ref_resolves_to_its_target() -> None:
    assert resolve(DOCUMENT, {"$ref": "#/components/schemas/Uuid"}) is SCHEMAS["Uuid"]


def test_a_node_without_ref_and_anything_not_a_mapping_are_returned_as_they_are() -> None:
    node = {"type": "string"}
    assert resolve(DOCUMENT, node) is node
    assert resolve(DOCUMENT, ["$ref"]) == ["$ref"]
    assert resolve(DOCUMENT, "#/components/schemas/Uuid") == "#/components/schemas/Uuid"
    assert resolve(DOCUMENT, None) is None
    assert located(DOCUMENT, node) == (None, node)


def test_a_chain_of_refs_is_followed_to_its_end_and_located_names_its_last_ref() -> None:
    assert resolve(DOCUMENT, {"$ref": "#/components/schemas/AliasOfAlias"}) is SCHEMAS["Uuid"]
    ref, node = located(DOCUMENT, {"$ref": "#/components/schemas/AliasOfAlias"})
    assert ref == "#/components/schemas/Uuid" and node is SCHEMAS["Uuid"]


def test_a_ref_inside_a_resolved_node_is_resolved_when_asked() -> None:
    operation = DOCUMENT["paths"]["/messages/{id}"]["get"]
    parameter = resolve(DOCUMENT, operation["parameters"][0])
    assert parameter["name"] == "id"
    assert resolve(DOCUMENT, parameter["schema"]) == {"type": "string", "format": "uuid"}


def test_target_does_not_follow_the_ref_it_finds() -> None:
    assert target(DOCUMENT, "#/components/schemas/Alias") == {"$ref": "#/components/schemas/Uuid"}


def test_pointer_escapes_and_percent_encoding_are_read() -> None:
    assert pointer_parts("#/paths/~1messages~1{id}/get") == ["paths", "/messages/{id}", "get"]
    assert pointer_parts("#/a~01") == ["a~1"]  # ~01 is ~ then 1, never /
    assert resolve(DOCUMENT, {"$ref": "#/components/schemas/a~1b~0c"}) == {"type": "integer"}
    assert resolve(DOCUMENT, {"$ref": "#/components/schemas/with%20space"}) == {"type": "boolean"}
    assert pointer_parts("#") == [] and target(DOCUMENT, "#") is DOCUMENT
    assert pointer_parts("#/") == [""]


def test_a_pointer_through_a_list_takes_its_index() -> None:
    parameters = "#/paths/~1messages~1{id}/get/parameters"
    assert target(DOCUMENT, f"{parameters}/0") == {"$ref": "#/components/parameters/Id"}
    for index in ("1", "x", "-1"):
        with pytest.raises(RefError) as refused:
            target(DOCUMENT, f"{parameters}/{index}")
        assert str(refused.value) == (
            f"$ref '{parameters}/{index}': the document has nothing at 'paths//messages/{{id}}/get/parameters/{index}'"
        )
    with pytest.raises(RefError) as refused:
        target(DOCUMENT, "#/components/parameters/Id/name/0")  # a string is no list
    assert str(refused.value).endswith("nothing at 'components/parameters/Id/name/0'")


def test_a_ref_to_itself_is_refused_naming_it() -> None:
    with pytest.raises(RefError) as refused:
        resolve(DOCUMENT, {"$ref": "#/components/schemas/Self"})
    assert str(refused.value) == (
        "$ref '#/components/schemas/Self': a cycle of refs (#/components/schemas/Self -> #/components/schemas/Self)"
    )


def test_a_cycle_of_refs_is_refused_naming_each_ref() -> None:
    with pytest.raises(RefError) as refused:
        resolve(DOCUMENT, {"$ref": "#/components/schemas/Ping"})
    assert str(refused.value) == (
        "$ref '#/components/schemas/Ping': a cycle of refs "
        "(#/components/schemas/Ping -> #/components/schemas/Pong -> #/components/schemas/Ping)"
    )


def test_a_missing_target_is_refused_naming_the_ref_and_where_it_ends() -> None:
    with pytest.raises(RefError) as refused:
        resolve(DOCUMENT, {"$ref": "#/components/schemas/Dangling"})
    assert str(refused.value) == (
        "$ref '#/components/schemas/Gone': the document has nothing at 'components/schemas/Gone'"
    )
    with pytest.raises(RefError) as refused:
        resolve(DOCUMENT, {"$ref": "#/components/responses/NotFound"})
    assert str(refused.value) == (
        "$ref '#/components/responses/NotFound': the document has nothing at 'components/responses'"
    )


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("other.yml#/components/schemas/Uuid", "only local refs (#/...) are resolved"),
        ("https://example.com/spec.yml#/x", "only local refs (#/...) are resolved"),
        ("#components/schemas/Uuid", "not a JSON pointer (#/...)"),
        (5, "not a string"),
    ],
)
def test_a_ref_that_is_no_local_pointer_is_refused_naming_it(ref: object, message: str) -> None:
    with pytest.raises(RefError) as refused:
        resolve(DOCUMENT, {"$ref": ref})
    assert str(refused.value) == f"$ref {ref!r}: {message}"
    assert isinstance(refused.value, ValueError)


def test_every_ref_in_the_spec_resolves() -> None:
    refs: list[str] = []
    pending: list[Any] = [SPEC]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            pending += node.values()
        elif isinstance(node, list):
            pending += node
    assert refs
    for ref in refs:
        assert "$ref" not in resolve(SPEC, {"$ref": ref}), ref


def test_the_module_imports_nothing_of_the_package() -> None:
    """Tools load it by its path, before generated code exists: it imports the standard library only
    (and, as a mutant under mutation testing, mutmut's trampoline)."""
    tree = ast.parse(Path(_spec_refs.__file__).read_text())
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    allowed = set(sys.stdlib_module_names) | ({"mutmut"} if "MUTANT_UNDER_TEST" in os.environ else set())
    names = [
        *(alias.name for node in imports if isinstance(node, ast.Import) for alias in node.names),
        *(node.module or "" for node in imports if isinstance(node, ast.ImportFrom)),
    ]
    assert imports and all(getattr(node, "level", 0) == 0 for node in imports)
    assert {"collections.abc", "typing", "urllib.parse"} <= set(names)
    assert all(name.split(".")[0] in allowed for name in names), names
