"""Generate the client from a spec, as `make generate` and the tests do: one command for both.

python tools/generate.py SPEC OUTPUT   # OUTPUT: the package directory, replaced whole
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generate(spec: Path, output: Path) -> subprocess.CompletedProcess[str]:
    """Run openapi-python-client with the project's config and templates; the post-hooks (ruff) are
    taken from the same environment as this Python."""
    shutil.rmtree(output, ignore_errors=True)
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
