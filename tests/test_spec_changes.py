"""New spec versions: what each older version yields, and changes upstream may make that need no edit.

Each case generates a client from another spec into a scratch directory and puts tests under it (a
pytest subprocess with that spec and that generated package first on the path), the way
`make spec-update` would after re-pinning. One later document carries every change that needs no
edit (a new field, new enum values, a new operation, a new webhook event type, the responses
inlined, the Idempotency-Key header declared): it is generated once, and every test that reads the
spec runs under it once. That work, and each older version's, runs in other processes from the start
of the session (tests/support/background.py), beside the tests before these.
"""

from __future__ import annotations

import copy
import os
import sys
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import attrs
import pytest
import yaml
from generate import configuration

from .support import HISTORY, ROOT, background, collection, typecheck
from .support.generation import generated_package, shipped_root
from .support.pipeline import Workspace
from .support.spec import SPEC_PATH, absent, operation_ids, resolve, snake

# Each test here waits for a generated client and tests run under it: minutes in all.
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


def _under(spec: Path, generated: Path, *args: str) -> CompletedProcess[str]:
    env = {
        **os.environ,
        "TELNYX_MESSAGES_TEST_SPEC": str(spec),
        "PYTHONPATH": os.pathsep.join([str(generated.parents[1]), str(ROOT)]),
    }
    return background.run([sys.executable, *args], cwd=ROOT, env=env)


def _check_operations(spec: Path) -> CompletedProcess[str]:
    return background.run([sys.executable, "tools/check_operations.py", str(spec)], cwd=ROOT)


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


# The tests run under the later document: those that read the spec under test or what is generated from
# it, test by test (tests/support/collection.py says how they are told apart); this module and the
# pipeline's are left out (collection.NOT_UNDER_A_LATER_DOCUMENT).
def test_the_later_document_runs_the_tests_that_read_the_spec() -> None:
    chosen = collection.spec_reading_tests()
    # Each way of reading the spec counts: its cases, the generated package, the fake, Prism, the type
    # checkers, what the client shows of itself.
    for test in (
        "test_contract.py::test_example_parses_round_trips_and_validates",
        "test_operations.py::test_operation_sync",
        "test_testing.py::test_every_operation_of_the_spec_is_answered_as_its_schema_says",
        "test_prism.py::test_operation_against_prism",
        "test_readme.py::test_examples_pass_mypy_strict",
        "test_webhook_events.py::test_every_event_type_of_the_spec_has_its_model",
        "test_surface.py::test_jedi_completes_every_keyword_argument",
        "test_cli.py::test_help_of_send_shows_the_specs_descriptions_and_choices",
        "test_faults.py::test_a_fuzzed_response_parses_or_ends_in_the_hierarchy",  # drawn from the spec
    ):
        assert f"tests/{test}" in chosen
    # and the tests that give the client what they check, on loopback servers, are left out
    for test in (
        "test_client.py::test_404_raises_not_found",
        "test_retries.py::test_get_is_retried_after_5xx",
        "test_faults.py::test_fault",  # a message of its own, whatever the spec says of one
    ):
        assert f"tests/{test}" not in chosen
    assert not any(test.split("::")[0].endswith(tuple(collection.NOT_UNDER_A_LATER_DOCUMENT)) for test in chosen)


UPSTREAM_IDEMPOTENCY = ROOT.parent / "shared" / "spec" / "upstream-idempotency.yml"
IDEMPOTENCY_OPERATIONS = configuration()["idempotency"]["operations"]


def _new_event(document: dict[str, Any]) -> str:
    """A delivery update event type the document lacks, added to it; its name."""
    body = document["webhooks"]["deliveryUpdate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    data = resolve(document, resolve(document, body)["properties"]["data"])
    event_types = resolve(document, data["properties"]["event_type"])["enum"]
    event_type = absent(event_types, "message.expired")
    event_types.append(event_type)
    return event_type


@attrs.frozen
class Changes:
    """What the later document adds, by name: a message field, a message type, an operation (its
    operationId, method and path), a webhook event type."""

    field: str
    value: str
    operation_id: str
    method: str
    path: str
    event_type: str


def _later(document: dict[str, Any]) -> tuple[dict[str, Any], Changes]:
    """A later upstream document, as upstream's own have moved since the pin: every component response
    inlined; the Idempotency-Key header declared on the eight message-creating operations (upstream's
    IdempotencyKey component, by $ref); a new field and new enum values on the message (RCS and
    WHATSAPP among its types); an inbound message's `to` a string or a list; a new operation; and a
    new webhook event type."""
    document = _responses_inlined(document)
    upstream = yaml.safe_load(UPSTREAM_IDEMPOTENCY.read_bytes())["components"]
    document["components"].setdefault("parameters", {}).update(upstream["parameters"])
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") in IDEMPOTENCY_OPERATIONS:
                operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/IdempotencyKey"})
    document, field, value = _non_breaking(document)
    message_types = resolve(document, _message_schema(document)["properties"]["type"])["enum"]
    message_types += [value for value in ("RCS", "WHATSAPP") if value not in message_types]
    inbound = _inbound_payload(document)
    listed = inbound["properties"]["to"]
    if "oneOf" not in listed:
        described = {"description": listed["description"]} if "description" in listed else {}
        inbound["properties"]["to"] = {"oneOf": [{"type": "string"}, listed], **described}
    operation_id, method = _new_operation(document)
    path = next(p for p, item in document["paths"].items() if item.get("get", {}).get("operationId") == operation_id)
    event_type = _new_event(document)
    return document, Changes(field, value, operation_id, method, path, event_type)


def _message_schema(document: dict[str, Any]) -> dict[str, Any]:
    response = resolve(document, _send_message(document)["responses"]["200"])
    return resolve(document, resolve(document, response["content"]["application/json"]["schema"])["properties"]["data"])


def _inbound_payload(document: dict[str, Any]) -> dict[str, Any]:
    """The inbound message, as the inboundMessage webhook carries it."""
    body = document["webhooks"]["inboundMessage"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    data = resolve(document, resolve(document, body)["properties"]["data"])
    return resolve(document, data["properties"]["payload"])


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


@attrs.frozen
class LaterDocument:
    spec: Path
    generated: Path
    changes: Changes
    check: CompletedProcess[str]  # tools/check_operations.py
    update: CompletedProcess[str]  # tools/spec.py update, from the pin to it
    new_operation_update: CompletedProcess[str]  # the same, to the pin with the new operation alone
    new_operation_lock: dict[str, Any]  # the lock after that update
    typed: typecheck.Checked  # TYPED_USE under mypy --strict


def _load(document: bytes) -> Any:
    """A YAML document read by libyaml where PyYAML has it: the same data, a tenth of the pure-Python
    reader's CPU (0.3 s for the pinned spec)."""
    return yaml.load(document, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _later_document(directory: Path) -> LaterDocument:
    pinned = SPEC_PATH.read_bytes()
    document, changes = _later(_load(pinned))
    assert "responses" not in document["components"]
    spec = directory / "messages.yml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    # Laid out under build/ (not in the scratch directory): under the project's root, so that the mypy
    # runs on it (TYPED_USE's here, the rerun tests') share one cache, kept for the next session too.
    generated = generated_package(spec, shipped_root(spec))
    check = _check_operations(spec)
    # spec-update's changelog, from the pin to it
    pin = Workspace(directory / "pin", pinned, package_version="1.0.0")
    pin.stock(pin.pinned)
    update = background.run(pin.command("update", str(spec)), cwd=ROOT)
    # and to the pin with only the new operation added, which is a minor bump
    with_operation = _load(pinned)
    operation_id, _ = _new_operation(with_operation)
    assert operation_id == changes.operation_id
    (directory / "with-operation.yml").write_text(yaml.safe_dump(with_operation, sort_keys=False))
    pin = Workspace(directory / "pin-operation", pinned, package_version="1.0.0")
    pin.stock(pin.pinned)
    new_operation_update = background.run(pin.command("update", str(directory / "with-operation.yml")), cwd=ROOT)
    typed = typecheck.check(
        {"new_operation_use": TYPED_USE.replace("get_rcs_agent_by_id", changes.method)},
        directory / "typecheck",
        [generated.parents[1]],
    )
    return LaterDocument(spec, generated, changes, check, update, new_operation_update, pin.read_lock(), typed)


LATER = background.Job("later-document", _later_document)


@attrs.frozen
class SuiteRun:
    """The tests that read the spec, run under the later document."""

    run: CompletedProcess[str]
    results: Path  # JUnit XML

    def passed(self, module: str) -> list[str]:
        """The tests of a module (tests/test_x.py) that passed; [] if any of them failed."""
        classname = module.removesuffix(".py").replace("/", ".")
        cases = [c for c in ElementTree.parse(self.results).iter("testcase") if c.get("classname") == classname]
        if any(c.find("failure") is not None or c.find("error") is not None for c in cases):
            return []
        return [str(c.get("name")) for c in cases if c.find("skipped") is None]


# The tests that read the spec (collection.spec_reading_tests), but those marked slow: they run the
# generator, the suite's collection, volume runs or memory probes, and read no more of the spec than the
# others do.
# Read at import, on the main thread: ast in a background thread beside the tests may fail on CPython
# 3.11 (tests/support/generation.py says how).
LATER_SUITE = ["-m", "not slow", *collection.spec_reading_tests()]


# The rerun's processes (pytest-xdist), as make test's: it is the session's longest job, and the suite's
# own workers are done long before it; on one process it would leave a core idle then.
LATER_WORKERS = min(2, os.cpu_count() or 1)


def _suite_under_the_later_document(directory: Path) -> SuiteRun:
    later = LATER.result()
    results = directory / "results.xml"
    pytest_args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={results}", *LATER_SUITE]
    return SuiteRun(_under(later.spec, later.generated, *pytest_args, "-n", str(LATER_WORKERS)), results)


SUITE_UNDER_LATER = background.Job("suite-under-later", _suite_under_the_later_document)


@pytest.mark.background(SUITE_UNDER_LATER)
@pytest.mark.timeout(1800)  # waits for the tests that read the spec, run in a subprocess
def test_the_suite_passes_on_a_later_upstream_document() -> None:
    later = LATER.result()
    assert later.check.returncode == 0, later.check.stderr
    # spec-update's changelog names the header
    assert later.update.returncode == 0, later.update.stderr
    assert "Idempotency-Key" in later.update.stdout or "IdempotencyKey" in later.update.stdout, later.update.stdout
    run = SUITE_UNDER_LATER.result().run
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-3000:]


@pytest.mark.background(SUITE_UNDER_LATER)
@pytest.mark.timeout(1800)
def test_a_non_breaking_change_needs_no_edit() -> None:
    later = LATER.result()
    assert later.check.returncode == 0, later.check.stderr
    # The contract and operation tests pass under it.
    suite = SUITE_UNDER_LATER.result()
    for module in CONTRACT_TESTS[:2]:
        assert suite.passed(module), f"{module} under the later document:\n{suite.run.stdout[-3000:]}"
    field, value = later.changes.field, later.changes.value
    read = _under(
        later.spec, later.generated, "-c", READ_THE_NEW_FIELD.replace("{field}", field).replace("{value}", value)
    )
    assert read.stdout.split() == ["us-east", value, "True"], read.stderr


@pytest.mark.background(LATER)
@pytest.mark.timeout(1800)
def test_a_new_upstream_operation_needs_no_edit() -> None:
    later = LATER.result()
    operation_id, method, path = later.changes.operation_id, later.changes.method, later.changes.path
    assert later.check.returncode == 0, later.check.stderr

    # On both clients, typed, documented (naming its operationId), and callable against a real server.
    used = _under(later.spec, later.generated, "-c", USE_THE_NEW_METHOD.replace("get_rcs_agent_by_id", method))
    assert used.returncode == 0, used.stderr
    lines = used.stdout.splitlines()
    assert lines[0] == "Agent-7 3 Agent-7"
    assert "id" in lines[1] and "verbose" in lines[1] and "return" in lines[1]
    assert lines[2] == "Retrieve an RCS agent | True"
    at = path.replace("{id}", "Agent-7")
    assert lines[3] == f"['{at}?verbose=true', '{at}']"
    assert lines[4] == f"Operation {operation_id}: GET {path}."

    # mypy sees it: a right call passes, a wrong argument type is an error.
    errors = later.typed.errors("new_operation_use")
    assert len(errors) == 1 and 'Argument "verbose"' in errors[0], later.typed.report("new_operation_use")

    # And spec-update names it in the changelog.
    update = later.new_operation_update
    assert update.returncode == 0, update.stderr
    assert f"({operation_id}; new method: client.messages.{method}) added" in update.stdout
    assert later.new_operation_lock["package_version"] == "1.1.0"


READ_THE_NEW_EVENT = textwrap.dedent(
    """
    import json
    from telnyx_messages import webhooks
    from telnyx_messages.types import OutboundMessageEvent

    event = webhooks.unsafe_unwrap(json.dumps({"data": {"event_type": "{event_type}", "payload": {}}}))
    print(sorted(webhooks.EVENT_TYPES), type(event).__name__, isinstance(event, OutboundMessageEvent))
    """
)


@pytest.mark.background(LATER)
@pytest.mark.timeout(1800)
def test_a_new_webhook_event_needs_no_edit() -> None:
    later = LATER.result()
    event_type = later.changes.event_type
    read = _under(later.spec, later.generated, "-c", READ_THE_NEW_EVENT.replace("{event_type}", event_type))
    assert read.returncode == 0, read.stderr
    assert read.stdout.split("] ")[1].split() == ["OutboundMessageEvent", "True"]
    assert f"'{event_type}'" in read.stdout


# --- older versions ------------------------------------------------------------------------------
# (Last: the later document's jobs, the longest, are queued first.)


@attrs.frozen
class OlderVersion:
    check: CompletedProcess[str]  # tools/check_operations.py
    contract: CompletedProcess[str] | None  # the contract tests under it, where it passes the check


def _older_version(name: str) -> background.Job[OlderVersion | None]:
    def work(directory: Path) -> OlderVersion | None:
        spec = HISTORY / name
        if not spec.exists():
            return None
        generated = generated_package(spec, directory)
        check = _check_operations(spec)
        contract = None
        if HISTORY_OUTCOMES[name] is None and check.returncode == 0:
            contract = _under(spec, generated, "-m", "pytest", "-q", "-p", "no:cacheprovider", *CONTRACT_TESTS)
        return OlderVersion(check, contract)

    return background.Job(f"older-{name.replace('/', '-')}", work)


OLDER_VERSIONS = {name: _older_version(name) for name in sorted(HISTORY_OUTCOMES)}


@pytest.mark.timeout(1800)
@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=pytest.mark.background(job)) for name, job in OLDER_VERSIONS.items()]
)
def test_older_spec_version(name: str) -> None:
    older = OLDER_VERSIONS[name].result()
    if older is None:
        pytest.skip(f"{HISTORY / name} is not beside the project")
    check = older.check
    missing = HISTORY_OUTCOMES[name]
    if missing is None:
        assert check.returncode == 0, check.stderr
        run = older.contract
        assert run is not None and run.returncode == 0 and " passed" in run.stdout, run and run.stdout[-3000:]
    else:
        assert check.returncode == 1
        named = sorted(line.split()[1] for line in check.stderr.splitlines() if line.startswith("operation "))
        assert named == sorted(op for op, _ in missing)
        for _, method in missing:
            assert f"client.messages.{method} calls it" in check.stderr
