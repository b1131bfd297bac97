"""Fail `make generate` early, and by name, when the spec no longer has an operation the naming
table names (generation.yml's `methods`): its method would silently vanish from client.messages.

    python tools/check_operations.py [SPEC]   # default: openapi/messages.yml
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml
from generate import CONFIGURATION, ConfigurationError, method_names  # tools/ is on the path, as this script's folder

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "messages.yml"


def spec_operations(spec: Path) -> set[str]:
    document = yaml.safe_load(spec.read_bytes())
    return {
        str(operation["operationId"])
        for item in document.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


def main(spec: Path = SPEC) -> int:
    available = spec_operations(spec)
    try:
        methods = method_names()
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        return 1
    missing = {method: op for op, method in methods.items() if op not in available}
    for method, operation in sorted(missing.items()):
        print(
            f"operation {operation} is not in {os.path.relpath(spec, ROOT)}, but client.messages.{method} calls it: "
            f"upstream removed or renamed it. Map the new operationId to {method} in "
            f"{CONFIGURATION.relative_to(ROOT)} (methods), or remove the line (the method goes with it).",
            file=sys.stderr,
        )
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else SPEC))
