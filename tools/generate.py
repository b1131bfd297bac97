"""Generate the client from a spec, as `make generate` and the tests do: one command for both.

python tools/generate.py SPEC OUTPUT   # OUTPUT: the package directory, replaced whole
"""

from __future__ import annotations

import ast
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from spec_refs import RefError, pointer_parts, resolve  # tools/ is on the path, as this script's folder

ROOT = Path(__file__).resolve().parent.parent
# The one configuration of the generation: openapi-python-client's own settings (`generator`) and the
# project's decisions beside them (method and result names, overrides of the document).
CONFIGURATION = ROOT / "generation.yml"
# Its sections, all required: openapi-python-client's settings; operationId -> the method's path
# under client.messages; operationId -> the official SDK's name of its result; the Idempotency-Key
# override of the document, with its keys.
SECTIONS = ("generator", "methods", "results", "idempotency")
IDEMPOTENCY_KEYS: dict[str, type] = {"why": str, "operations": list, "component": str, "parameter": dict}
# What a header parameter's schema may be for the templates to render it: its argument's type is
# checked (an enum as a Literal), its text checked against the schema's pattern and lengths.
RENDERABLE_HEADER_TYPES = frozenset({"string", "integer"})
# The overlay modules whose names the generated code uses, re-exported by its types.py (each
# module's __all__): the models' runtime, what a method hands its client, the response forms.
RUNTIME_MODULES = ("_datetime", "_models", "_calls", "_response")


class GenerationError(Exception):
    """The spec has something the templates cannot render: generation stops, naming it."""


class ConfigurationError(GenerationError):
    """generation.yml lacks a section, or holds one of the wrong shape: generation stops, naming the
    file and the key."""


# configuration()'s last reading: the file's path and bytes, and what it holds.
_CONFIGURATION: dict[tuple[Path, bytes], dict[str, Any]] = {}


def configuration(path: Path = CONFIGURATION) -> dict[str, Any]:
    """generation.yml, read and checked: each of SECTIONS there and of its shape (the generator's
    settings a mapping: generator_config() checks them as openapi-python-client reads them), else
    ConfigurationError naming the file and the key. A copy of its own to each caller."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise ConfigurationError(f"{_shown(path)}: cannot be read ({error.strerror})") from None
    if (path, content) not in _CONFIGURATION:
        loaded = _checked(path, content)
        _CONFIGURATION.clear()
        _CONFIGURATION[(path, content)] = loaded
    return copy.deepcopy(_CONFIGURATION[(path, content)])


def _shown(path: Path) -> str:
    """The configuration file's name in an error: from the project's root if it is in the project."""
    return os.path.relpath(path, ROOT) if path.is_relative_to(ROOT) else str(path)


def load_document(path: Path) -> Any:
    """A YAML document read with libyaml's safe loader where PyYAML has it (the same objects as
    yaml.safe_load, about ten times faster on the spec)."""
    return yaml.load(path.read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _checked(path: Path, content: bytes) -> dict[str, Any]:
    """The configuration file's content, its sections checked (configuration())."""
    try:
        loaded = yaml.safe_load(content)
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{_shown(path)}: not YAML: {error}") from None
    if not isinstance(loaded, dict):
        raise ConfigurationError(
            f"{_shown(path)}: a mapping of the sections {', '.join(SECTIONS)} expected, got {_kind(loaded)}"
        )
    problems = [f"{key}: missing (a required section)" for key in SECTIONS if key not in loaded]
    problems += [
        f"{key}: no such section (the sections: {', '.join(SECTIONS)})" for key in loaded if key not in SECTIONS
    ]
    if not problems:
        if not isinstance(loaded["generator"], dict):
            problems.append(
                f"generator: a mapping of openapi-python-client's settings expected, got {_kind(loaded['generator'])}"
            )
        problems += _names_problems("methods", loaded["methods"], "method path (Python names joined by dots)")
        problems += _names_problems("results", loaded["results"], "class name")
        problems += _idempotency_problems(loaded["idempotency"])
    if problems:
        raise ConfigurationError(f"{_shown(path)}: {problems[0]}")
    return loaded


def generator_config(path: Path = CONFIGURATION) -> Any:
    """openapi-python-client's configuration from generation.yml's `generator` section (its own
    defaults where the section says nothing), the settings checked as it reads them: one it would
    refuse, or one it has not (it would ignore it), is a ConfigurationError naming the file and key."""
    from openapi_python_client.config import Config, ConfigFile, MetaType
    from pydantic import ValidationError

    settings = configuration(path)["generator"]
    problems = [
        f"generator.{key}: openapi-python-client has no such setting"
        for key in settings
        if key not in ConfigFile.model_fields
    ]
    try:
        config_file = ConfigFile(**settings)
    except ValidationError as error:
        problems += [f"generator.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
    if problems:
        raise ConfigurationError(f"{_shown(path)}: {problems[0]}")
    return Config.from_sources(config_file, MetaType.NONE, "", "utf-8", overwrite=True, output_path=None)


_KINDS: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string", type(None): "nothing"}


def _kind(value: Any) -> str:
    """What a YAML value is, for an error: a mapping, a list, nothing, or the scalar itself (in JSON)."""
    if isinstance(value, dict | list) or value is None:
        return _KINDS[type(value)]
    return json.dumps(value, default=str)


def _names_problems(section: str, names: Any, what: str) -> list[str]:
    """`methods` and `results`: operationId -> a name (a method's path, a class name)."""
    if not isinstance(names, dict):
        return [f"{section}: a mapping of operationId to {what} expected, got {_kind(names)}"]
    dots = section == "methods"
    return [
        f"{section}.{operation}: a {what} expected, got {_kind(name)}"
        for operation, name in names.items()
        if not isinstance(name, str) or not all(part.isidentifier() for part in (name.split(".") if dots else [name]))
    ]


def _idempotency_problems(override: Any) -> list[str]:
    """`idempotency`: IDEMPOTENCY_KEYS, each of its kind; the operations by operationId; the
    parameter with its header's name."""
    if not isinstance(override, dict):
        return [f"idempotency: a mapping of {', '.join(IDEMPOTENCY_KEYS)} expected, got {_kind(override)}"]
    problems = [
        f"idempotency.{key}: no such key (the keys: {', '.join(IDEMPOTENCY_KEYS)})"
        for key in override
        if key not in IDEMPOTENCY_KEYS
    ]
    for key, kind in IDEMPOTENCY_KEYS.items():
        if key not in override:
            problems.append(f"idempotency.{key}: missing")
        elif not isinstance(override[key], kind):
            problems.append(f"idempotency.{key}: {_KINDS[kind]} expected, got {_kind(override[key])}")
    if not problems:
        problems += [
            f"idempotency.operations: an operationId expected, got {_kind(operation)}"
            for operation in override["operations"]
            if not isinstance(operation, str)
        ]
        name = override["parameter"].get("name")
        if not isinstance(name, str):
            problems.append(f"idempotency.parameter.name: the header's name expected, got {_kind(name)}")
    return problems


def write_generator_settings(settings: dict[str, Any], folder: Path) -> Path:
    """generation.yml's `generator` section as openapi-python-client's own config file, in `folder`
    (the generation's scratch folder), for its --config."""
    path = folder / "openapi-python-client.json"
    path.write_text(json.dumps(settings, indent=2, ensure_ascii=False))
    return path


def with_parameter_descriptions(document: dict[str, Any]) -> dict[str, Any]:
    """The generator reads a parameter's description from its schema only; the spec writes it on
    the parameter. Copied onto the schema, it reaches the methods' docstrings and the CLI's help."""
    parameters = list((document.get("components") or {}).get("parameters", {}).values())
    for item in (document.get("paths") or {}).values():
        parameters += item.get("parameters", [])
        parameters += [p for op in item.values() if isinstance(op, dict) for p in op.get("parameters", [])]
    for parameter in parameters:
        schema = parameter.get("schema")
        if "description" in parameter and isinstance(schema, dict) and "$ref" not in schema:
            schema.setdefault("description", parameter["description"])
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(path, method, path item, operation) for each operation of the document."""
    found = []
    for path, item in (document.get("paths") or {}).items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}:
                found.append((path, method, item, operation))
    return found


def _parameters(document: dict[str, Any], item: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    """An operation's parameters, resolved: the path item's, then its own (which win by name and place)."""
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
        resolved = _resolved(document, parameter)
        by_key[(str(resolved.get("in")), str(resolved.get("name")).lower())] = resolved
    return list(by_key.values())


def with_upstream_idempotency(document: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """generation.yml's `idempotency`: upstream's IdempotencyKey header declared on the listed
    operations that do not declare an Idempotency-Key header themselves (a no-op once they do)."""
    component, parameter = override["component"], override["parameter"]
    listed = set(override["operations"])
    for _, _, item, operation in _operations(document):
        if operation.get("operationId") not in listed:
            continue
        declared = any(
            p.get("in") == "header" and str(p.get("name")).lower() == parameter["name"].lower()
            for p in _parameters(document, item, operation)
        )
        if not declared:
            parameters = document.setdefault("components", {}).setdefault("parameters", {})
            parameters.setdefault(component, parameter)
            operation.setdefault("parameters", []).append({"$ref": f"#/components/parameters/{component}"})
    return document


def check_parameters(document: dict[str, Any]) -> None:
    """Every parameter reaches its method, or generation stops naming it: the generator would drop a
    cookie parameter, and the templates render a header only from a string or integer schema."""
    for path, method, item, operation in _operations(document):
        name = operation.get("operationId") or f"{method.upper()} {path}"
        for parameter in _parameters(document, item, operation):
            where, wire = parameter.get("in"), parameter.get("name")
            schema = _resolved(document, parameter.get("schema") or {})
            if where == "cookie":
                raise GenerationError(f"operation {name}: cookie parameter {wire!r}: the client sends no cookies")
            if where == "header" and schema.get("type") not in RENDERABLE_HEADER_TYPES:
                raise GenerationError(
                    f"operation {name}: header parameter {wire!r} has a schema of type {schema.get('type')!r}; "
                    f"the templates render header parameters of type {' or '.join(sorted(RENDERABLE_HEADER_TYPES))}"
                )


def _schemas_within(document: dict[str, Any], schema: Any) -> list[dict[str, Any]]:
    """`schema` and every schema it holds (properties, items, compositions), refs resolved, each once."""
    found: list[dict[str, Any]] = []
    seen: set[int] = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        if not isinstance(node, dict):
            continue
        node = _resolved(document, node)
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        pending += (node.get("properties") or {}).values()
        pending += [node.get("items"), node.get("additionalProperties")]
        for composition in ("allOf", "oneOf", "anyOf"):
            pending += node.get(composition) or []
    return found


def _has_property(document: dict[str, Any], schema: Any, name: str) -> bool:
    """Whether an object schema (or one it is composed of) names the property `name` at its top level."""
    pending, seen = [schema], set()
    while pending:
        node = pending.pop()
        if not isinstance(node, dict) or id(node := _resolved(document, node)) in seen:
            continue
        seen.add(id(node))
        if name in (node.get("properties") or {}):
            return True
        for composition in ("allOf", "oneOf", "anyOf"):
            pending += node.get(composition) or []
    return False


def text_parts_limits(document: dict[str, Any]) -> dict[str, int]:
    """The most parts a message text may take, by operationId, for each operation whose JSON request
    body has a `text` property and may make an SMS: the least `maximum` of a `parts` property in the
    operations' responses. None stated, none listed (no check)."""
    maxima = []
    for *_, operation in _operations(document):
        for response in (operation.get("responses") or {}).values():
            for media in (_resolved(document, response).get("content") or {}).values():
                for schema in _schemas_within(document, media.get("schema")):
                    parts = _resolved(document, (schema.get("properties") or {}).get("parts") or {})
                    if isinstance(parts.get("maximum"), int):
                        maxima.append(parts["maximum"])
    if not maxima:
        return {}
    limits = {}
    for *_, operation in _operations(document):
        body = _resolved(document, operation.get("requestBody") or {})
        body_schema = ((body.get("content") or {}).get("application/json") or {}).get("schema")
        # Parts are an SMS's: Telnyx sends an MMS's text whole. A body with media_urls and no `type`
        # (the group MMS) is always an MMS; one with a `type` or without media may be an SMS.
        may_be_sms = _has_property(document, body_schema, "type") or not _has_property(
            document, body_schema, "media_urls"
        )
        if "operationId" in operation and _has_property(document, body_schema, "text") and may_be_sms:
            limits[str(operation["operationId"])] = min(maxima)
    return limits


def operation_layout(document: dict[str, Any], method_names: dict[str, str]) -> dict[str, dict[str, str]]:
    """Where each operation's method goes, by the generator's name of the operation (its endpoint's
    `name`): its operationId, its path under client.messages (`method_names`'s, else the generator's
    name: "send", "rcs.send"), the sub-resource it is on ("" for client.messages itself, "rcs") and
    its name there."""
    from openapi_python_client.parser.openapi import generate_operation_id
    from openapi_python_client.strings import PythonIdentifier

    prefix = generator_config().field_prefix
    layout = {}
    for path, method, _, operation in _operations(document):
        operation_id = operation.get("operationId")
        if operation_id is None:
            name = str(generate_operation_id(path=path, method=method, prefix=prefix))  # type: ignore[arg-type]
        else:
            name = str(PythonIdentifier(str(operation_id), prefix))
        where = method_names.get(str(operation_id), name)
        group, _, method_name = where.rpartition(".")
        layout[name] = {"operation_id": str(operation_id or name), "path": where, "group": group, "method": method_name}
    return layout


def method_names() -> dict[str, str]:
    """generation.yml's `methods`: operationId -> the method's path under client.messages."""
    return {str(k): str(v) for k, v in configuration()["methods"].items()}


def runtime_names(overlay: Path = ROOT / "overlay" / "telnyx_messages") -> list[tuple[str, list[str]]]:
    """Each of RUNTIME_MODULES with the names its `__all__` lists (read from its source: the overlay
    imports the generated package, which is being made)."""
    found = []
    for name in RUNTIME_MODULES:
        tree = ast.parse((overlay / f"{name}.py").read_text())
        listed = [
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
        ]
        if len(listed) != 1:
            raise GenerationError(f"telnyx_messages.{name} has no literal __all__ for types.py to re-export")
        found.append((f"telnyx_messages.{name}", [str(item) for item in listed[0]]))
    return found


# A union member as discriminator() reads it: its class name, and each of its properties (wire name)
# with the values of its enum, or None for a property that is no enum.
Member = tuple[str, list[tuple[str, tuple[str, ...] | None]]]


def discriminator(members: list[Member]) -> tuple[str, dict[str, str]] | None:
    """The property that tells a union's members apart, and which member each of its values reads
    as: with tolerant enums any member parses any other's document, so "first that parses" would
    pick the wrong one. The first property of the first member (in its order) that every member has
    as a one-valued enum, a different value each; None when there is none, or fewer than two
    members (a union with a member that is no model has no Member list)."""
    if len(members) < 2:
        return None
    for name, _ in members[0][1]:
        values = [dict(properties).get(name) for _, properties in members]
        if all(v is not None and len(v) == 1 for v in values) and len({v[0] for v in values if v}) == len(members):
            return name, {v[0]: class_name for v, (class_name, _) in zip(values, members, strict=True) if v}
    return None


def _wire(name: Any) -> str:
    """A property's name as the document writes it (the generator wraps it, to keep it out of code)."""
    return str(name.get_untrusted_value() if hasattr(name, "get_untrusted_value") else name)


def _union_members(union: Any) -> list[Member] | None:
    """A union property's members as discriminator() reads them; None unless every one is a model."""
    from openapi_python_client.parser.properties import EnumProperty, ModelProperty

    members: list[Member] = []
    for inner in union.inner_properties:
        if not isinstance(inner, ModelProperty):
            return None
        properties = [*(inner.required_properties or []), *(inner.optional_properties or [])]
        members.append(
            (
                str(inner.class_info.name),
                [
                    (_wire(p.name), tuple(str(v) for v in p.values.values()) if isinstance(p, EnumProperty) else None)
                    for p in properties
                ],
            )
        )
    return members


def union_discriminators(data: Any) -> dict[str, tuple[str, dict[str, str]]]:
    """discriminator() of every union of models the generator reads in the document (in its models'
    properties, lists and unions included), by the union's type as the templates see it."""
    from openapi_python_client.parser.properties import ListProperty, UnionProperty

    found: dict[str, tuple[str, dict[str, str]]] = {}
    pending = [p for model in data.models for p in [*model.required_properties, *model.optional_properties]]
    while pending:
        prop = pending.pop()
        if isinstance(prop, ListProperty):
            pending.append(prop.inner_property)
        elif isinstance(prop, UnionProperty):
            pending += prop.inner_properties
            members = _union_members(prop)
            decided = discriminator(members) if members is not None else None
            if decided is not None:
                found[prop.get_type_string(no_optional=True).as_unembedded_code()] = decided
    return found


def spec_facts(document: dict[str, Any]) -> str:
    """What the templates need of the spec that the generator does not hand them, as a Jinja module:
    every operationId as written (the generator gives the templates its snake-case form), and each
    header parameter's constraints (its schema's pattern and lengths, which the generator drops),
    and the most parts a `text` may take, by operationId; where each operation's method goes
    (operation_layout) and the sub-resources, client.messages itself ("") first."""
    operation_ids = sorted(str(op["operationId"]) for *_, op in _operations(document) if "operationId" in op)
    constraints: dict[str, dict[str, dict[str, Any]]] = {}
    for _, _, item, operation in _operations(document):
        for parameter in _parameters(document, item, operation):
            if parameter.get("in") == "header" and "operationId" in operation:
                schema = _resolved(document, parameter.get("schema") or {})
                limits = {"pattern": "pattern", "min_length": "minLength", "max_length": "maxLength"}
                constraints.setdefault(str(operation["operationId"]), {})[str(parameter["name"])] = {
                    ours: schema[theirs] for ours, theirs in limits.items() if schema.get(theirs) is not None
                }
    layout = operation_layout(document, method_names())
    groups = ["", *sorted({where["group"] for where in layout.values()} - {""})]
    # JSON's literals are Jinja's but null: there is none among them (absent limits are left out).
    return (
        "{#- Written by tools/generate.py from the spec being generated; not a source file. -#}\n"
        f"{{% set OPERATION_IDS = {json.dumps(operation_ids)} %}}\n"
        f"{{% set HEADER_CONSTRAINTS = {json.dumps(constraints)} %}}\n"
        f"{{% set TEXT_PARTS_LIMITS = {json.dumps(text_parts_limits(document))} %}}\n"
        f"{{% set LAYOUT = {json.dumps(layout, sort_keys=True)} %}}\n"
        f"{{% set GROUPS = {json.dumps(groups)} %}}\n"
        f"{{% set RUNTIME_NAMES = {json.dumps(runtime_names())} %}}\n"
        f"{{% set DISCRIMINATORS = {json.dumps(union_discriminators(_generator_data(document)))} %}}\n"
    )


def generate(spec: Path, output: Path) -> subprocess.CompletedProcess[str]:
    """Run openapi-python-client with generation.yml's `generator` settings (written to a scratch
    config file) and the project's templates on the spec with generation.yml's overrides applied;
    the post-hooks (ruff) are taken from the same environment as this Python."""
    shutil.rmtree(output, ignore_errors=True)
    with tempfile.TemporaryDirectory() as scratch:
        overridden = Path(scratch) / spec.name
        document = load_document(spec)
        try:
            config = configuration()
            generator_config()  # its settings checked before the generator runs
            document = with_upstream_idempotency(document, config["idempotency"])
            check_parameters(document)
            document = with_parameter_descriptions(document)
            facts = spec_facts(document)
        except GenerationError as error:
            return subprocess.CompletedProcess([], 1, "", f"generation stopped: {error}\n")
        overridden.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
        templates = Path(scratch) / "templates"
        shutil.copytree(ROOT / "templates", templates)
        (templates / "spec_facts.jinja").write_text(facts)
        settings = write_generator_settings(config["generator"], Path(scratch))
        result = _run_generator(overridden, output, templates, settings)
        if result.returncode == 0:
            # The document the client is made from, shipped with it: telnyx_messages.testing's fake
            # accepts what the spec accepts.
            (output / "spec.json").write_text(json.dumps(document, sort_keys=True, ensure_ascii=False))
        return result


def _run_generator(spec: Path, output: Path, templates: Path, settings: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "openapi-python-client"), "generate", "--path", str(spec)]
    command += ["--config", str(settings), "--custom-template-path", str(templates)]
    command += ["--meta", "none", "--output-path", str(output)]
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode == 0:
        document = load_document(spec)
        try:
            write_webhooks(document, output)
            write_results(document, output)
        except GenerationError as error:
            return subprocess.CompletedProcess(command, 1, result.stdout, f"generation stopped: {error}\n")
        stamp(output)
    return result


def _resolved(document: dict[str, Any], node: Any) -> Any:
    """`node`, or what its `$ref`s lead to: the shared resolver (telnyx_messages/_spec_refs.py), a ref
    that leads nowhere stopping generation, naming it."""
    try:
        return resolve(document, node)
    except RefError as error:
        raise GenerationError(str(error)) from None


def webhook_events(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(event type, webhook, model class) for each event type the spec's `webhooks:` lists: the
    request body of each webhook is a component schema; its `data.event_type` enum, the types."""
    from openapi_python_client.strings import ClassName

    events = []
    for webhook, item in sorted((document.get("webhooks") or {}).items()):
        for operation in item.values():
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            if "$ref" not in schema:
                raise GenerationError(f"webhook {webhook}: its body is no component schema, so it has no model")
            model = str(ClassName(pointer_parts(schema["$ref"])[-1], ""))
            data = _resolved(document, _resolved(document, schema)["properties"]["data"])
            for event_type in _resolved(document, data["properties"]["event_type"]).get("enum", []):
                events.append((str(event_type), webhook, model))
    return sorted(events)


def _template(name: str) -> Any:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROOT / "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.get_template(name)


# _generator_data's last reading, by the document's JSON: one generation reads the document twice
# (spec_facts, then the results), seconds each.
_READ: dict[str, Any] = {}


def _generator_data(document: dict[str, Any]) -> Any:
    """The document as the generator reads it (its endpoints, with their responses' models by the
    names it gives them), from its own parser with generation.yml's `generator` settings."""
    from openapi_python_client.parser import GeneratorData

    key = json.dumps([document, configuration()["generator"]], sort_keys=True, default=str)
    if key in _READ:
        return _READ[key]
    data = GeneratorData.from_dict(document, config=generator_config())
    if not isinstance(data, GeneratorData):
        raise GenerationError(f"the generator cannot read the document: {data.header}: {data.detail}")
    _READ.clear()
    _READ[key] = data
    return data


def _result_model(endpoint: Any) -> Any:
    """An endpoint's 200 response's model property, or None."""
    for response in endpoint.responses.patterns:
        status = response.status_code.range
        if status and status[0] == status[1] == 200 and hasattr(response.prop, "class_info"):
            return response.prop
    return None


def operation_results(document: dict[str, Any], result_names: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The models the methods return and those their results hold directly (lists unwrapped), by
    class name; and `result_names`'s names (operationId -> the official SDK's name of its result)
    for the results whose model is named otherwise: alias -> model. An alias that is another
    model's name stops generation."""
    from openapi_python_client.parser.properties import ModelProperty

    layout = operation_layout(document, {})
    names: set[str] = set()
    aliases: dict[str, str] = {}
    data = _generator_data(document)
    for collection in data.endpoint_collections_by_tag.values():
        for endpoint in collection.endpoints:
            result = _result_model(endpoint)
            if result is None:
                continue
            names.add(result.class_info.name)
            for field in [*(result.required_properties or []), *(result.optional_properties or [])]:
                inner = getattr(field, "inner_property", None) or field
                if isinstance(inner, ModelProperty):
                    names.add(inner.class_info.name)
            official = result_names.get(layout[str(endpoint.name)]["operation_id"])
            if official and official != result.class_info.name:
                aliases[official] = result.class_info.name
    models = {str(model.class_info.name) for model in data.models} | {str(enum.class_info.name) for enum in data.enums}
    for alias, model in aliases.items():
        if alias in models:
            raise GenerationError(
                f"generation.yml results names a result {alias}, but the spec has a model of that "
                f"name that is not the result ({model}): rename one (generation.yml generator.class_overrides)"
            )
    return sorted(names), aliases


def result_names() -> dict[str, str]:
    """generation.yml's `results`: operationId -> the official SDK's name of its result."""
    return {str(k): str(v) for k, v in configuration()["results"].items()}


def write_results(document: dict[str, Any], package: Path) -> None:
    names, aliases = operation_results(document, result_names())
    text = _template("results.py.jinja").render(names=names, aliases=aliases)
    (package / "results.py").write_text(text)


def write_webhooks(document: dict[str, Any], package: Path) -> None:
    events = webhook_events(document)
    template = _template("webhooks.py.jinja")
    text = template.render(events=events, models=sorted({model for _, _, model in events}))
    (package / "webhooks.py").write_text(text)
    subprocess.run(
        [
            str(Path(sys.executable).parent / "ruff"),
            "format",
            "--isolated",
            "--line-length",
            "120",
            "--quiet",
            str(package / "webhooks.py"),
        ],
        check=True,
    )


GENERATED_MARK = "# Generated from "
DEFAULT_STAMP = "# Generated from openapi-python-client's own template by `make generate`; do not edit.\n"


def stamp(package: Path) -> None:
    """Mark every file made by one of the generator's own templates as ours do (they write the line
    naming their template themselves)."""
    for path in sorted(package.rglob("*.py")):
        text = path.read_text()
        if not text.startswith(GENERATED_MARK):
            path.write_text(DEFAULT_STAMP + text)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    result = generate(Path(argv[1]).resolve(), Path(argv[2]).resolve())
    if result.returncode != 0:
        print(result.stdout + result.stderr, file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
