"""tools/generate.py's decisions from the spec and generation.yml, made in Python and handed to the
templates: where each operation's method goes (operation_layout) and the results the methods return
(operation_results), and which property tells a union's members apart (discriminator); the `$ref`s
it follows, by the shared resolver (telnyx_messages/_spec_refs.py); generation.yml, the one
configuration, read and checked (configuration, generator_config), its `generator` section handed to
openapi-python-client as its config file."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from generate import (
    CONFIGURATION,
    ConfigurationError,
    GenerationError,
    _checked,
    _generator_data,
    _parameters,
    configuration,
    discriminator,
    generator_config,
    method_names,
    operation_layout,
    operation_results,
    result_names,
    union_discriminators,
    write_generator_settings,
)
from openapi_python_client.config import ConfigFile
from openapi_python_client.strings import PythonIdentifier
from telnyx_messages import Telnyx
from telnyx_messages._api import models
from telnyx_messages._api.api import METHODS, OPERATIONS

from .support import API_KEY
from .support.spec import SPEC


def test_every_operation_has_its_method_where_the_layout_puts_it() -> None:
    layout = operation_layout(SPEC, method_names())
    assert {name: where["path"] for name, where in layout.items()} == METHODS
    client = Telnyx(api_key=API_KEY)
    for where in layout.values():
        resource = getattr(client.messages, where["group"]) if where["group"] else client.messages
        assert where["path"] == ".".join(filter(None, (where["group"], where["method"])))
        assert OPERATIONS[where["path"]].operation_id == where["operation_id"]
        assert callable(getattr(resource, where["method"]))


def test_an_operation_the_table_does_not_name_keeps_the_generators_name_and_a_listed_one_may_be_nested() -> None:
    document = copy.deepcopy(SPEC)
    operation_id = next(iter(method_names()))
    layout = operation_layout(document, {operation_id: "outer.inner"})
    (nested,) = [where for where in layout.values() if where["operation_id"] == operation_id]
    assert (nested["group"], nested["method"], nested["path"]) == ("outer", "inner", "outer.inner")
    for name, where in layout.items():
        if where["operation_id"] != operation_id:
            assert where == {"operation_id": where["operation_id"], "path": name, "group": "", "method": name}


def test_the_results_are_the_models_the_methods_return_and_those_they_hold() -> None:
    names, aliases = operation_results(SPEC, result_names())
    returned = {operation.result for operation in OPERATIONS.values() if operation.result}
    assert returned <= set(names) and names == sorted(set(names))
    for name in names:
        assert isinstance(getattr(models, name), type)
    held = set(names) - returned
    assert held, "the results hold models of their own (data, its fields)"
    for name in held:  # each a field's type (or a list's items') of a model the list holds
        assert any(name in str(getattr(models, other).__annotations__) for other in set(names) - {name}), name
    for alias, model in aliases.items():
        assert model in returned and alias != model and not hasattr(models, alias)


def test_a_result_named_as_its_model_is_no_alias() -> None:
    names, _ = operation_results(SPEC, {})
    _, aliases = operation_results(SPEC, {op.operation_id: op.result for op in OPERATIONS.values() if op.result})
    assert aliases == {} and names


def test_a_result_name_that_is_another_models_stops_generation_naming_both() -> None:
    """The check reads the models' names from the document (the generated package is not read back)."""
    with pytest.raises(GenerationError, match=r"result OutboundMessagePayload, .*\(MessageRetrieveResponse\)"):
        operation_results(SPEC, {"GetMessage": "OutboundMessagePayload"})
    # An enum's name too; a name no model has is an alias.
    with pytest.raises(GenerationError, match="result OutboundMessagePayloadType,"):
        operation_results(SPEC, {"GetMessage": "OutboundMessagePayloadType"})
    _, aliases = operation_results(SPEC, {"GetMessage": "MessageFetched"})
    assert aliases == {"MessageFetched": "MessageRetrieveResponse"}


def test_the_discriminator_is_the_first_one_valued_enum_with_a_value_for_each_member() -> None:
    kind_a, kind_b = ("kind", ("a",)), ("kind", ("b",))
    shared, free = ("type", ("x",)), ("text", None)
    # "type" comes first but has one value for both: "kind" tells them apart.
    assert discriminator([("A", [free, shared, kind_a]), ("B", [shared, kind_b])]) == ("kind", {"a": "A", "b": "B"})
    assert discriminator([("A", [kind_a, ("type", ("x",))]), ("B", [kind_b, ("type", ("y",))])]) == (
        "kind",
        {"a": "A", "b": "B"},
    )
    assert discriminator([("A", [("type", ("x",)), kind_a]), ("B", [("type", ("y",)), kind_b])]) == (
        "type",
        {"x": "A", "y": "B"},
    )


def test_no_discriminator_without_a_one_valued_enum_on_every_member_each_its_own() -> None:
    kind_a, kind_b = ("kind", ("a",)), ("kind", ("b",))
    assert discriminator([("A", [kind_a])]) is None  # one member: nothing to tell apart
    assert discriminator([]) is None
    assert discriminator([("A", [kind_a]), ("B", [("text", None)])]) is None  # B lacks it
    assert discriminator([("A", [kind_a]), ("B", [("kind", None)])]) is None  # B's is no enum
    assert discriminator([("A", [kind_a]), ("B", [("kind", ("b", "c"))])]) is None  # two values
    assert discriminator([("A", [kind_a]), ("B", [kind_a])]) is None  # the same value
    assert discriminator([("A", [kind_a]), ("B", [kind_b]), ("C", [kind_b])]) is None
    assert discriminator([("A", [kind_a]), ("B", [kind_b]), ("C", [("kind", ("c",))])]) == (
        "kind",
        {"a": "A", "b": "B", "c": "C"},
    )


def test_each_discriminated_union_of_the_spec_reads_each_value_as_its_member() -> None:
    """Every union the spec's models hold that discriminator() decides is rendered as a dispatch on
    that property: a document with a member's value parses as that member."""
    found = union_discriminators(_generator_data(copy.deepcopy(SPEC)))
    sources = "".join(path.read_text() for path in sorted(Path(models.__file__).parent.glob("*.py")))
    decided = {(name, value, member) for name, members in found.values() for value, member in members.items()}
    # Each union the models dispatch is one discriminator() decided, and each it decided is dispatched.
    dispatched = re.findall(r'\.get\("([^"]+)"\) == "([^"]*)":\n +\w+ = (\w+)\.from_dict\(', sources)
    assert set(dispatched) == decided


def _two_operations(second_parameter: dict[str, object]) -> dict[str, object]:
    header = {"name": "K", "in": "header", "schema": {"type": "string", "maxLength": 3}}
    return {
        "paths": {
            "/a/b": {"post": {"operationId": "X", "parameters": [header]}},
            "/c": {"post": {"operationId": "Y", "parameters": [second_parameter]}},
        }
    }


def test_a_parameter_ref_is_followed_by_json_pointer_anywhere_in_the_document() -> None:
    """A ref into a path item (its / escaped as ~1) reads the parameter it points at: the shared
    resolver, where generate.py's own took the ref's last two segments as a component's."""
    document = _two_operations({"$ref": "#/paths/~1a~1b/post/parameters/0"})
    item = document["paths"]["/c"]  # type: ignore[index]
    (parameter,) = _parameters(document, item, item["post"])
    assert parameter["name"] == "K" and parameter["schema"] == {"type": "string", "maxLength": 3}


def test_a_ref_that_leads_nowhere_stops_generation_naming_it() -> None:
    document = _two_operations({"$ref": "#/components/parameters/Missing"})
    item = document["paths"]["/c"]  # type: ignore[index]
    with pytest.raises(GenerationError, match="#/components/parameters/Missing"):
        _parameters(document, item, item["post"])
    looping = _two_operations({"$ref": "#/components/parameters/A"})
    looping["components"] = {"parameters": {"A": {"$ref": "#/components/parameters/A"}}}
    item = looping["paths"]["/c"]  # type: ignore[index]
    with pytest.raises(GenerationError, match="cycle"):
        _parameters(looping, item, item["post"])


def test_the_generators_config_file_is_generation_ymls_generator_section(tmp_path: Path) -> None:
    """tools/generate.py hands openapi-python-client a config file of its own making, in its scratch
    folder: the `generator` section, as the generator reads it."""
    settings = configuration()["generator"]
    assert settings["class_overrides"] and settings["post_hooks"]
    written = write_generator_settings(settings, tmp_path)
    assert written.parent == tmp_path
    assert json.loads(written.read_text()) == settings
    assert ConfigFile.load_from_path(written) == ConfigFile(**settings)
    assert generator_config().class_overrides == ConfigFile(**settings).class_overrides


def test_each_class_override_of_generation_yml_names_the_generated_model_or_is_unused() -> None:
    """A class override reaches the generated code: the model is in the module the override names,
    under its class name, and no module has the generator's own name for it. A key the document no
    longer makes (the generator would not give that name) leaves no module at all."""
    package, prefix = Path(models.__file__).parent, generator_config().field_prefix
    applied = []
    for generators_name, override in configuration()["generator"]["class_overrides"].items():
        assert not (package / f"{PythonIdentifier(generators_name, prefix)}.py").exists(), generators_name
        module = package / f"{override['module_name']}.py"
        if module.exists():
            assert f"class {override['class_name']}(" in module.read_text(), override
            assert getattr(models, override["class_name"]).__module__.endswith(f".{override['module_name']}")
            applied.append(generators_name)
    assert applied, "no class override of generation.yml names a generated model"


def _broken(tmp_path: Path, change: Any) -> Path:
    """generation.yml with `change` made to its content, in tmp_path."""
    content = yaml.safe_load(CONFIGURATION.read_bytes())
    change(content)
    path = tmp_path / "generation.yml"
    path.write_text(yaml.safe_dump(content))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("results"), "results: missing (a required section)"),
        (lambda c: c.pop("generator"), "generator: missing (a required section)"),
        (lambda c: c.update(method={}), "method: no such section"),
        (lambda c: c.update(generator=["x"]), "generator: a mapping of openapi-python-client's settings expected"),
        (lambda c: c.update(methods=None), "methods: a mapping of operationId to method path"),
        (lambda c: c["methods"].update(SendMessage="send it"), "methods.SendMessage: a method path (Python names"),
        (lambda c: c["results"].update(GetMessage="a.B"), 'results.GetMessage: a class name expected, got "a.B"'),
        (lambda c: c["idempotency"].pop("component"), "idempotency.component: missing"),
        (lambda c: c["idempotency"].update(operations="SendMessage"), "idempotency.operations: a list expected"),
        (lambda c: c["idempotency"]["parameter"].pop("name"), "idempotency.parameter.name: the header's name"),
    ],
    ids=[
        "results missing",
        "generator missing",
        "unknown section",
        "generator a list",
        "methods null",
        "method no name",
        "result dotted",
        "idempotency without component",
        "operations a string",
        "parameter without name",
    ],
)
def test_a_missing_or_malformed_section_stops_generation_naming_the_file_and_key(
    change: Any, message: str, tmp_path: Path
) -> None:
    path = _broken(tmp_path, change)
    with pytest.raises(ConfigurationError) as caught:
        configuration(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)
    assert isinstance(caught.value, GenerationError)  # generate() reports it as it stops


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["generator"].update(class_override={}), "generator.class_override: openapi-python-client has no"),
        (lambda c: c["generator"].update(post_hooks="ruff"), "generator.post_hooks: Input should be a valid list"),
        (
            lambda c: c["generator"]["class_overrides"]["GetMessageResponse200"].update(class_name=["x"]),
            "generator.class_overrides.GetMessageResponse200.class_name: Input should be a valid string",
        ),
    ],
    ids=["unknown setting", "post_hooks a string", "class name a list"],
)
def test_a_generator_setting_openapi_python_client_would_refuse_or_ignore_is_named(
    change: Any, message: str, tmp_path: Path
) -> None:
    path = _broken(tmp_path, change)
    configuration(path)  # the project's sections are sound
    with pytest.raises(ConfigurationError) as caught:
        generator_config(path)
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)


def test_the_projects_configuration_is_named_from_its_root_and_one_that_cannot_be_read_by_its_path(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigurationError, match=r"^generation\.yml: a mapping of the sections generator, methods"):
        _checked(CONFIGURATION, b"- not\n- sections\n")
    with pytest.raises(ConfigurationError, match=r"^generation\.yml: not YAML: "):
        _checked(CONFIGURATION, b"methods: [\n")
    with pytest.raises(ConfigurationError, match=f"^{re.escape(str(tmp_path / 'none.yml'))}: cannot be read"):
        configuration(tmp_path / "none.yml")
