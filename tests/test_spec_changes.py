"""New spec versions: what each older version yields, and non-breaking changes that need no edit.

Each case generates a client from another spec into a scratch directory and puts the contract and
operation tests under it (a pytest subprocess with that spec and that generated package first on
the path), the way `make spec-update` would after re-pinning.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from .support import HISTORY, ROOT
from .support.generation import generated_package
from .support.spec import SPEC_PATH

CONTRACT_TESTS = ["tests/test_contract.py", "tests/test_operations.py"]
CONTRACT_TESTS += ["-k", "not drawn and not has_a_method_and_tests"]

# What each older upstream version yields when pinned. None: a clean pass; else the operations the
# naming table names that the version lacks, which `make generate` names (with the method) and stops.
HISTORY_OUTCOMES: dict[str, list[tuple[str, str]] | None] = {
    "full/messages-2026-02-25.yml": None,
    "full/messages-2025-11-06.yml": [
        ("GenerateRCSDeeplink", "rcs.generate_deeplink"),
        ("GetGroupMmsMessages", "retrieve_group_messages"),
        ("SendAlphanumericSenderIdMessage", "send_with_alphanumeric_sender"),
        ("SendRCSMessage", "rcs.send"),
        ("SendWhatsappMessage", "whatsapp"),
    ],
    # The older shape (the Messages tag only) lacks the WhatsApp and RCS operations.
    "messages-2026-02-25.yml": [
        ("GenerateRCSDeeplink", "rcs.generate_deeplink"),
        ("SendRCSMessage", "rcs.send"),
        ("SendWhatsappMessage", "whatsapp"),
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


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", sorted(HISTORY_OUTCOMES))
def test_older_spec_version(name: str, tmp_path: Path) -> None:
    spec = HISTORY / name
    if not spec.exists():
        pytest.skip(f"{spec} is not beside the project")
    generated = generated_package(spec, tmp_path)
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
            assert f"client.messages.{method} calls it" in check.stderr


def _resolved(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = document["components"][section][name]
    return node


def _send_message(document: dict[str, Any]) -> dict[str, Any]:
    (operation,) = (
        op for item in document["paths"].values() for op in item.values() if op.get("operationId") == "SendMessage"
    )
    return dict(operation)


def _non_breaking(document: dict[str, Any]) -> dict[str, Any]:
    """The pinned spec with a new optional field, a new enum value, and a $ref inlined, each reached
    through SendMessage: its answer's message schema, and its request body's `to`."""
    operation = _send_message(document)
    response = _resolved(document, operation["responses"]["200"])
    answer = _resolved(document, response["content"]["application/json"]["schema"])
    message = _resolved(document, answer["properties"]["data"])
    message["properties"]["delivery_region"] = {"type": "string"}
    message["example"]["delivery_region"] = "us-east"
    _resolved(document, message["properties"]["type"])["enum"].append("RCS")
    request = _resolved(document, operation["requestBody"]["content"]["application/json"]["schema"])
    request["properties"]["to"] = dict(_resolved(document, request["properties"]["to"]))
    return document


def _responses_inlined(document: dict[str, Any]) -> dict[str, Any]:
    """The pinned spec with every component response written into each operation that used it,
    as a later upstream version does with MessageResponse."""
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                responses = operation["responses"]
                for code, response in responses.items():
                    responses[code] = copy.deepcopy(_resolved(document, response))
    document["components"].pop("responses", None)
    return document


READ_THE_NEW_FIELD = textwrap.dedent(
    """
    from telnyx_messages import Telnyx
    from tests.support.server import LoopbackServer, Reply
    from tests.support.spec import message_example

    example = message_example()
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
    generated = generated_package(spec, tmp_path / "out")
    assert _check_operations(spec).returncode == 0
    run = _under(spec, generated, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CONTRACT_TESTS)
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-3000:]
    read = _under(spec, generated, "-c", READ_THE_NEW_FIELD)
    assert read.stdout.split() == ["us-east", "RCS", "True"], read.stderr


# Every test that reads the spec, but the ones that generate or build (this module, the pipeline's).
WHOLE_SUITE = [
    "tests",
    "--ignore=tests/test_spec_changes.py",
    "--ignore=tests/test_pipeline.py",
    "--ignore=tests/test_bench.py",
    "-k",
    "not has_a_method_and_tests",
]


@pytest.mark.timeout(900)  # the whole suite, in a subprocess
def test_the_suite_passes_with_every_component_response_inlined(tmp_path: Path) -> None:
    document = _responses_inlined(yaml.safe_load(SPEC_PATH.read_bytes()))
    assert "responses" not in document["components"]
    spec = tmp_path / "messages.yml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    generated = generated_package(spec, tmp_path / "out")
    assert _check_operations(spec).returncode == 0
    run = _under(spec, generated, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *WHOLE_SUITE)
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-3000:]
