"""New spec versions: what each older version yields, and non-breaking changes that need no edit.

Each case generates a client from another spec into a scratch directory and puts the contract and
operation tests under it (a pytest subprocess with that spec and that generated package first on
the path), the way `make spec-update` would after re-pinning.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import ROOT, SPEC_PATH, generate

HISTORY = ROOT.parent / "shared" / "spec" / "history"
CONTRACT_TESTS = ["tests/test_contract.py", "tests/test_operations.py"]
CONTRACT_TESTS += ["-k", "not drawn and not has_a_method_and_tests"]

# What each older upstream version yields when pinned. None: a clean pass; else the operations the
# overlay wraps that the version lacks, which `make generate` names (with the client method) and stops.
HISTORY_OUTCOMES: dict[str, list[tuple[str, str]] | None] = {
    "messages-2026-02-25.yml": None,
    "messages-2025-11-06.yml": [
        ("GetGroupMmsMessages", "retrieve_group_messages"),
        ("SendAlphanumericSenderIdMessage", "send_with_alphanumeric_sender"),
    ],
}


def _under(spec: Path, generated: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TELNYX_MESSAGES_TEST_SPEC": str(spec),
        "PYTHONPATH": os.pathsep.join([str(generated.parent), str(ROOT)]),
    }
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True)


def _check_operations(spec: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "tools/check_operations.py", str(spec)], cwd=ROOT, capture_output=True, text=True
    )


@pytest.mark.parametrize("name", sorted(HISTORY_OUTCOMES))
def test_older_spec_version(name: str, tmp_path: Path) -> None:
    spec = HISTORY / name
    if not spec.exists():
        pytest.skip(f"{spec} is not beside the project")
    generated = generate(spec, tmp_path)
    check = _check_operations(spec)
    missing = HISTORY_OUTCOMES[name]
    if missing is None:
        assert check.returncode == 0, check.stderr
        run = _under(spec, generated, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CONTRACT_TESTS)
        assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-3000:]
    else:
        assert check.returncode == 1
        named = sorted(line.split()[1] for line in check.stderr.splitlines() if line.startswith("operation "))
        assert named == sorted(op for op, _ in missing)
        for _, method in missing:
            assert f"client.messages.{method} wraps it" in check.stderr


def _non_breaking(document: dict[str, Any]) -> dict[str, Any]:
    """The pinned spec with a new optional field, a new enum value, and a $ref inlined."""
    schemas = document["components"]["schemas"]
    schemas["OutboundMessagePayload"]["properties"]["delivery_region"] = {"type": "string"}
    schemas["OutboundMessagePayload"]["example"]["delivery_region"] = "us-east"
    schemas["OutboundMessagePayload"]["properties"]["type"]["enum"].append("RCS")
    schemas["CreateMessageRequest"]["properties"]["to"] = dict(schemas["ToNumber"])
    return document


READ_THE_NEW_FIELD = textwrap.dedent(
    """
    from telnyx_messages import Telnyx
    from tests.conftest import LoopbackServer, Reply, SPEC_PATH
    import yaml

    example = yaml.safe_load(SPEC_PATH.read_bytes())["components"]["schemas"]["OutboundMessagePayload"]["example"]
    server = LoopbackServer()
    server.reply(Reply(200, {"data": {**example, "type": "RCS"}}))
    with Telnyx(api_key="k", base_url=server.base_url) as client:
        message = client.messages.send(to="+13125550002", text="hi").data
    server.close()
    print(message.delivery_region, message.type_, message.type_.is_known)
    """
)


def test_a_non_breaking_change_needs_no_edit(tmp_path: Path) -> None:
    spec = tmp_path / "messages.yml"
    spec.write_text(yaml.safe_dump(_non_breaking(yaml.safe_load(SPEC_PATH.read_bytes())), sort_keys=False))
    generated = generate(spec, tmp_path / "out")
    assert _check_operations(spec).returncode == 0
    run = _under(spec, generated, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CONTRACT_TESTS)
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-3000:]
    read = _under(spec, generated, "-c", READ_THE_NEW_FIELD)
    assert read.stdout.split() == ["us-east", "RCS", "True"], read.stderr
