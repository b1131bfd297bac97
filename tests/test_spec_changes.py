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
from .support.pipeline import Workspace
from .support.spec import SPEC_PATH, absent, operation_ids, resolve, snake

# Each test here regenerates the client from a spec copy (the last reruns the whole suite on one):
# minutes in all.
pytestmark = pytest.mark.slow

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


def _send_message(document: dict[str, Any]) -> dict[str, Any]:
    (operation,) = (
        op for item in document["paths"].values() for op in item.values() if op.get("operationId") == "SendMessage"
    )
    return dict(operation)


def _non_breaking(document: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
    """The pinned spec with a new optional field, a new enum value, and a $ref inlined, each reached
    through SendMessage: its answer's message schema, and its request body's `to`; and the names of
    the field and the value (each one the spec lacks)."""
    operation = _send_message(document)
    response = resolve(document, operation["responses"]["200"])
    answer = resolve(document, response["content"]["application/json"]["schema"])
    message = resolve(document, answer["properties"]["data"])
    field = absent(message["properties"], "delivery_region")
    message["properties"][field] = {"type": "string"}
    message["example"][field] = "us-east"
    types = resolve(document, message["properties"]["type"])["enum"]
    value = absent(types, "RCS")
    types.append(value)
    request = resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    request["properties"]["to"] = dict(resolve(document, request["properties"]["to"]))
    return document, field, value


def _responses_inlined(document: dict[str, Any]) -> dict[str, Any]:
    """The pinned spec with every component response written into each operation that used it,
    as a later upstream version does with MessageResponse."""
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                responses = operation["responses"]
                for code, response in responses.items():
                    responses[code] = copy.deepcopy(resolve(document, response))
    document["components"].pop("responses", None)
    return document


READ_THE_NEW_FIELD = textwrap.dedent(
    """
    from telnyx_messages import Telnyx
    from tests.support.server import LoopbackServer, Reply
    from tests.support.spec import message_example

    example = message_example()
    server = LoopbackServer()
    server.reply(Reply(200, {"data": {**example, "type": "{value}"}}))
    with Telnyx(api_key="k", base_url=server.base_url) as client:
        message = client.messages.send(to="+13125550002", text="hi").data
    server.close()
    print(message.{field}, message.type, message.type.is_known)
    """
)


def test_a_non_breaking_change_needs_no_edit(tmp_path: Path) -> None:
    spec = tmp_path / "messages.yml"
    document, field, value = _non_breaking(yaml.safe_load(SPEC_PATH.read_bytes()))
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    generated = generated_package(spec, tmp_path / "out")
    assert _check_operations(spec).returncode == 0
    run = _under(spec, generated, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CONTRACT_TESTS)
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-3000:]
    read = _under(spec, generated, "-c", READ_THE_NEW_FIELD.replace("{field}", field).replace("{value}", value))
    assert read.stdout.split() == ["us-east", value, "True"], read.stderr


# Every test that reads the spec, but the ones that generate or build (this module, the pipeline's).
WHOLE_SUITE = [
    "tests",
    "--ignore=tests/test_spec_changes.py",
    "--ignore=tests/test_pipeline.py",
    "--ignore=tests/test_bench.py",
    "-k",
    "not has_a_method_and_tests",
]


UPSTREAM_IDEMPOTENCY = ROOT.parent / "shared" / "spec" / "upstream-idempotency.yml"
IDEMPOTENCY_OPERATIONS = yaml.safe_load((ROOT / "openapi" / "overrides.yml").read_bytes())["idempotency"]["operations"]


def _later(document: dict[str, Any]) -> dict[str, Any]:
    """A later upstream document, as upstream's own have moved since the pin: every component response
    inlined; the Idempotency-Key header declared on the eight message-creating operations (upstream's
    IdempotencyKey component, by $ref); a new field and new enum values on the message (RCS and
    WHATSAPP among its types); an inbound message's `to` a string or a list; and a new operation."""
    document = _responses_inlined(document)
    upstream = yaml.safe_load(UPSTREAM_IDEMPOTENCY.read_bytes())["components"]
    document["components"].setdefault("parameters", {}).update(upstream["parameters"])
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") in IDEMPOTENCY_OPERATIONS:
                operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/IdempotencyKey"})
    document, _, _ = _non_breaking(document)
    message_types = resolve(document, _message_schema(document)["properties"]["type"])["enum"]
    message_types += [value for value in ("RCS", "WHATSAPP") if value not in message_types]
    inbound = _inbound_payload(document)
    listed = inbound["properties"]["to"]
    if "oneOf" not in listed:
        described = {"description": listed["description"]} if "description" in listed else {}
        inbound["properties"]["to"] = {"oneOf": [{"type": "string"}, listed], **described}
    _new_operation(document)
    return document


def _message_schema(document: dict[str, Any]) -> dict[str, Any]:
    response = resolve(document, _send_message(document)["responses"]["200"])
    return resolve(document, resolve(document, response["content"]["application/json"]["schema"])["properties"]["data"])


def _inbound_payload(document: dict[str, Any]) -> dict[str, Any]:
    """The inbound message, as the inboundMessage webhook carries it."""
    body = document["webhooks"]["inboundMessage"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    data = resolve(document, resolve(document, body)["properties"]["data"])
    return resolve(document, data["properties"]["payload"])


@pytest.mark.timeout(900)  # the whole suite, in a subprocess
def test_the_suite_passes_on_a_later_upstream_document(tmp_path: Path) -> None:
    document = _later(yaml.safe_load(SPEC_PATH.read_bytes()))
    assert "responses" not in document["components"]
    spec = tmp_path / "messages.yml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    generated = generated_package(spec, tmp_path / "out")
    assert _check_operations(spec).returncode == 0
    # spec-update's changelog names the header
    pin = Workspace(tmp_path / "pin", SPEC_PATH.read_bytes(), package_version="1.0.0")
    pin.stock(pin.pinned)
    update = pin.run("update", str(spec))
    assert update.returncode == 0, update.stderr
    assert "Idempotency-Key" in update.stdout or "IdempotencyKey" in update.stdout, update.stdout
    run = _under(spec, generated, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *WHOLE_SUITE)
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-3000:]


# An operation upstream might add (the public Telnyx API has it, under /messaging): the naming table
# does not know it, so it becomes client.messages.<its operationId in snake case>.
NEW_OPERATION = {
    "get": {
        "operationId": "GetRCSAgentById",
        "summary": "Retrieve an RCS agent",
        "tags": ["RCS"],
        "parameters": [
            {
                "name": "id",
                "in": "path",
                "required": True,
                "description": "The agent's id.",
                "schema": {"type": "string"},
            },
            {"name": "verbose", "in": "query", "required": False, "schema": {"type": "boolean"}},
        ],
        "responses": {
            "200": {
                "description": "The agent.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "data": {
                                    "type": "object",
                                    "properties": {
                                        "agent_id": {"type": "string", "description": "Identifies the agent."},
                                        "user_count": {"type": "integer"},
                                    },
                                }
                            },
                        }
                    }
                },
            }
        },
    }
}


def _new_operation(document: dict[str, Any]) -> tuple[str, str]:
    """NEW_OPERATION added to the document under an operationId and a path it lacks (upstream may
    add GetRCSAgentById itself); its operationId and the method it becomes."""
    operation_id = absent(operation_ids(document), "GetRCSAgentById")
    path = absent(document["paths"], "/messages/rcs/agents/{id}")
    document["paths"][path] = {"get": {**NEW_OPERATION["get"], "operationId": operation_id}}
    return operation_id, snake(operation_id)


USE_THE_NEW_METHOD = textwrap.dedent(
    """
    import asyncio, inspect, typing
    from telnyx_messages import AsyncTelnyx, Telnyx
    from tests.support.server import LoopbackServer, Reply

    server = LoopbackServer()
    server.default = Reply(200, {"data": {"agent_id": "Agent-7", "user_count": 3}})
    with Telnyx(api_key="k", base_url=server.base_url) as client:
        agent = client.messages.get_rcs_agent_by_id("Agent-7", verbose=True).data
        hints = typing.get_type_hints(client.messages.get_rcs_agent_by_id)
        doc = inspect.getdoc(client.messages.get_rcs_agent_by_id)

    async def main():
        async with AsyncTelnyx(api_key="k", base_url=server.base_url) as client:
            return (await client.messages.get_rcs_agent_by_id("Agent-7")).data

    agent_async = asyncio.run(main())
    server.close()
    print(agent.agent_id, agent.user_count, agent_async.agent_id)
    print(sorted(hints))
    print(doc.splitlines()[0], "|", "id: The agent's id." in doc)
    print([r.path for r in server.received])
    print(next(line for line in doc.splitlines() if line.startswith("Operation ")))
    """
)

TYPED_USE = textwrap.dedent(
    """
    from telnyx_messages import Telnyx

    def agent(client: Telnyx) -> object:
        return client.messages.get_rcs_agent_by_id("Agent-7", verbose=True).data

    def wrong(client: Telnyx) -> None:
        client.messages.get_rcs_agent_by_id("Agent-7", verbose="yes")
    """
)


@pytest.mark.timeout(600)
def test_a_new_upstream_operation_needs_no_edit(tmp_path: Path) -> None:
    document = yaml.safe_load(SPEC_PATH.read_bytes())
    operation_id, method = _new_operation(document)
    path = next(p for p, item in document["paths"].items() if item.get("get", {}).get("operationId") == operation_id)
    spec = tmp_path / "messages.yml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    generated = generated_package(spec, tmp_path / "out")
    assert _check_operations(spec).returncode == 0

    # On both clients, typed, documented (naming its operationId), and callable against a real server.
    used = _under(spec, generated, "-c", USE_THE_NEW_METHOD.replace("get_rcs_agent_by_id", method))
    assert used.returncode == 0, used.stderr
    lines = used.stdout.splitlines()
    assert lines[0] == "Agent-7 3 Agent-7"
    assert "id" in lines[1] and "verbose" in lines[1] and "return" in lines[1]
    assert lines[2] == "Retrieve an RCS agent | True"
    at = path.replace("{id}", "Agent-7")
    assert lines[3] == f"['{at}?verbose=true', '{at}']"
    assert lines[4] == f"Operation {operation_id}: GET {path}."

    # mypy sees it: a right call passes, a wrong argument type is an error.
    (tmp_path / "use.py").write_text(TYPED_USE.replace("get_rcs_agent_by_id", method))
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(tmp_path / "use.py")],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": os.pathsep.join([str(generated.parent), str(ROOT / "overlay")])},
        capture_output=True,
        text=True,
    )
    errors = [line for line in checked.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and 'Argument "verbose"' in errors[0], checked.stdout

    # And spec-update names it in the changelog.
    pin = Workspace(tmp_path / "pin", SPEC_PATH.read_bytes(), package_version="1.0.0")
    pin.stock(pin.pinned)
    update = pin.run("update", str(spec))
    assert update.returncode == 0, update.stderr
    assert f"({operation_id}; new method: client.messages.{method}) added" in update.stdout
    assert pin.read_lock()["package_version"] == "1.1.0"


READ_THE_NEW_EVENT = textwrap.dedent(
    """
    import json
    from telnyx_messages import webhooks
    from telnyx_messages.types import OutboundMessageEvent

    event = webhooks.unsafe_unwrap(json.dumps({"data": {"event_type": "{event_type}", "payload": {}}}))
    print(sorted(webhooks.EVENT_TYPES), type(event).__name__, isinstance(event, OutboundMessageEvent))
    """
)


def test_a_new_webhook_event_needs_no_edit(tmp_path: Path) -> None:
    document = yaml.safe_load(SPEC_PATH.read_bytes())
    body = document["webhooks"]["deliveryUpdate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    data = resolve(document, resolve(document, body)["properties"]["data"])
    event_types = resolve(document, data["properties"]["event_type"])["enum"]
    event_type = absent(event_types, "message.expired")
    event_types.append(event_type)
    spec = tmp_path / "messages.yml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    generated = generated_package(spec, tmp_path / "out")
    read = _under(spec, generated, "-c", READ_THE_NEW_EVENT.replace("{event_type}", event_type))
    assert read.returncode == 0, read.stderr
    assert read.stdout.split("] ")[1].split() == ["OutboundMessageEvent", "True"]
    assert f"'{event_type}'" in read.stdout
