"""Fail `make generate` early, and by name, when the spec no longer has an operation the overlay wraps.

The overlay's table (overlay/telnyx_messages/_operations.py, METHODS) maps each client method to an
operationId. It is read as data, so this check runs even when the overlay itself would not import.

    python tools/check_operations.py [SPEC]   # default: openapi/messages.yml
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "overlay" / "telnyx_messages" / "_operations.py"
SPEC = ROOT / "openapi" / "messages.yml"


def overlay_methods() -> dict[str, str]:
    for node in ast.parse(TABLE.read_text()).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "METHODS" for t in targets) and node.value is not None:
                return dict(ast.literal_eval(node.value))
    raise SystemExit(f"{TABLE}: no METHODS table")


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
    missing = {method: op for method, op in overlay_methods().items() if op not in available}
    for method, operation in sorted(missing.items()):
        print(
            f"operation {operation} is not in {os.path.relpath(spec, ROOT)}, but client.messages.{method} wraps it: "
            f"upstream removed or renamed it. Map the method to the new operationId in "
            f"{TABLE.relative_to(ROOT)}, or remove the method.",
            file=sys.stderr,
        )
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else SPEC))
