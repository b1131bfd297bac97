"""Generate the client from a spec, as `make generate` and the tests do: one command for both.

python tools/generate.py SPEC OUTPUT   # OUTPUT: the package directory, replaced whole
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


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


def generate(spec: Path, output: Path) -> subprocess.CompletedProcess[str]:
    """Run openapi-python-client with the project's config and templates on the spec with the
    overrides above; the post-hooks (ruff) are taken from the same environment as this Python."""
    shutil.rmtree(output, ignore_errors=True)
    with tempfile.TemporaryDirectory() as scratch:
        overridden = Path(scratch) / spec.name
        document = with_parameter_descriptions(yaml.safe_load(spec.read_bytes()))
        overridden.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
        return _run_generator(overridden, output)


def _run_generator(spec: Path, output: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "openapi-python-client"), "generate", "--path", str(spec)]
    command += ["--config", "generator-config.yaml", "--custom-template-path", "templates"]
    command += ["--meta", "none", "--output-path", str(output)]
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode == 0:
        write_webhooks(yaml.safe_load(spec.read_bytes()), output)
        write_results(output)
        stamp(output)
    return result


def _resolved(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = document["components"][section][name]
    return node


def webhook_events(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(event type, webhook, model class) for each event type the spec's `webhooks:` lists: the
    request body of each webhook is a component schema; its `data.event_type` enum, the types."""
    from openapi_python_client.strings import ClassName

    events = []
    for webhook, item in sorted((document.get("webhooks") or {}).items()):
        for operation in item.values():
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            if "$ref" not in schema:
                raise SystemExit(f"webhook {webhook}: its body is no component schema, so it has no model")
            model = str(ClassName(schema["$ref"].split("/")[-1], ""))
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


def result_types(package: Path) -> list[str]:
    """The RESULT_TYPES tuple of the generated api module, read without importing it."""
    module = ast.parse((package / "api" / "__init__.py").read_text())
    for node in module.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "RESULT_TYPES":
            assert node.value is not None
            return list(ast.literal_eval(node.value))
    raise SystemExit("templates/api_init.py.jinja wrote no RESULT_TYPES")


def write_results(package: Path) -> None:
    (package / "results.py").write_text(_template("results.py.jinja").render(names=result_types(package)))


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
