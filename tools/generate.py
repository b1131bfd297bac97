"""Generate the client from a spec, as `make generate` and the tests do: one command for both.

python tools/generate.py SPEC OUTPUT   # OUTPUT: the package directory, replaced whole
"""

from __future__ import annotations

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
        stamp(output)
    return result


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
