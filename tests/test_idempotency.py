"""Exactly-once sends: the Idempotency-Key header from the spec (or upstream's own parameter, by
generation.yml), a key made for every call that takes one, and retries through any failure
against a server that keeps keys as the API's edge does (tests/support/edge.py)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from generate import GenerationError, _parameters, check_parameters, configuration, main, with_upstream_idempotency
from telnyx_messages import (
    NOT_GIVEN,
    AsyncTelnyx,
    BadRequestError,
    NotGiven,
    Telnyx,
    TelnyxError,
    UnprocessableEntityError,
)
from telnyx_messages._api.api import OPERATIONS

from .support import API_KEY, ROOT
from .support.edge import EdgeServer
from .support.generation import generated_package, shipped_root
from .support.server import LoopbackServer, Reply, client_for
from .support.spec import SPEC, SPEC_PATH, absent, case_of, operation_ids

OVERRIDE = configuration()["idempotency"]
KEYED_OPERATIONS = [op for op in OVERRIDE["operations"] if op in operation_ids(SPEC)]
PATTERN = OVERRIDE["parameter"]["schema"]["pattern"]


def test_the_eight_message_creating_operations_take_a_key_and_no_other_does() -> None:
    assert len(OVERRIDE["operations"]) == 8
    assert len(KEYED_OPERATIONS) == 8  # the pinned document has all eight
    for path, operation in OPERATIONS.items():
        headers = {(p.argument, p.header) for p in operation.header_parameters}
        keyed = ("idempotency_key", "Idempotency-Key") in headers
        assert keyed is (operation.operation_id in KEYED_OPERATIONS), path
        if keyed:
            (parameter,) = (p for p in operation.header_parameters if p.argument == "idempotency_key")
            assert (parameter.pattern, parameter.min_length, parameter.max_length) == (PATTERN, 1, 255)


def _spec_copy() -> dict[str, Any]:
    """The pinned document, to change: SPEC (read from SPEC_PATH once per process) copied."""
    return copy.deepcopy(SPEC)


def _write(document: dict[str, Any], path: Path) -> Path:
    """The document as YAML at `path`, by libyaml where PyYAML has it (several times faster)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump(document, Dumper=dumper, sort_keys=False))
    return path


def _declared_natively(document: dict[str, Any]) -> dict[str, Any]:
    """The pinned document as upstream's later ones are: the header on the eight, written inline
    (where the document does not declare it already)."""
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") in OVERRIDE["operations"]:
                declared = {str(p.get("name")).lower() for p in _parameters(document, item, operation)}
                if "idempotency-key" not in declared:
                    operation.setdefault("parameters", []).append(copy.deepcopy(OVERRIDE["parameter"]))
    return document


def test_the_override_is_a_no_op_where_the_document_declares_the_header() -> None:
    native = _declared_natively(copy.deepcopy(SPEC))
    assert with_upstream_idempotency(copy.deepcopy(native), OVERRIDE) == native
    # and where the document lacks it, the header goes on each of the eight by upstream's component
    overridden = with_upstream_idempotency(copy.deepcopy(SPEC), OVERRIDE)
    assert overridden["components"]["parameters"]["IdempotencyKey"] == OVERRIDE["parameter"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_document_that_declares_the_header_generates_the_same_methods(tmp_path: Path) -> None:
    spec = _write(_declared_natively(_spec_copy()), tmp_path / "native.yml")
    native = generated_package(spec, tmp_path / "native")
    pinned = generated_package(SPEC_PATH, tmp_path / "pinned")
    assert (native / "api" / "__init__.py").read_text() == (pinned / "api" / "__init__.py").read_text()


SOURCE_HEADER = {
    "name": "X-Request-Source",
    "in": "header",
    "required": False,
    "description": "Where the request comes from.",
    "schema": {"type": "string", "enum": ["web", "batch"]},
}

USE_THE_HEADER = textwrap.dedent(
    """
    import subprocess, sys
    from telnyx_messages import Telnyx
    from tests.support.server import LoopbackServer, Reply
    from tests.support.spec import message_example

    server = LoopbackServer()
    server.default = Reply(200, {"data": message_example()})
    with Telnyx(api_key="k", base_url=server.base_url) as client:
        client.messages.send(to="+13125550002", text="hi", ARGUMENT="batch")
        try:
            client.messages.send(to="+13125550002", text="hi", ARGUMENT="cli")
        except ValueError as error:
            print("refused:", error)
    server.close()
    print("sent:", [r.headers.get("X-Request-Source") for r in server.received])
    from telnyx_messages.cli import main
    main(["send", "--help"])
    """
)


@pytest.mark.timeout(300)
def test_another_header_parameter_is_an_argument_checked_sent_and_shown_in_help(tmp_path: Path) -> None:
    document = _spec_copy()
    header = {**SOURCE_HEADER, "name": absent(_headers_of(document), "X-Request-Source")}
    argument = header["name"].lower().replace("-", "_")
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == "SendMessage":
                operation.setdefault("parameters", []).append(header)
    spec = _write(document, tmp_path / "messages.yml")
    # Laid out where the same document is each session (not under tmp_path): the program below then
    # reads the bytecode compiled for it last time instead of compiling the package again.
    generated = generated_package(spec, shipped_root(spec))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(generated.parents[1]), str(ROOT)])}
    env["TELNYX_MESSAGES_TEST_SPEC"] = str(spec)
    code = USE_THE_HEADER.replace("ARGUMENT", argument).replace("X-Request-Source", header["name"])
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert f"refused: send(): {argument} must be one of 'web', 'batch', got 'cli'" in run.stdout
    assert "sent: ['batch']" in run.stdout  # the refused call sent nothing
    option = "--" + argument.replace("_", "-")
    assert f"{option} {{web,batch}}" in run.stdout
    # (argparse wraps help text, at spaces and hyphens alike)
    shown = f"Where the request comes from. Sent as the {header['name']} header.".replace(" ", "")
    assert shown in "".join(run.stdout.split())


def _headers_of(document: dict[str, Any]) -> set[str]:
    names = set()
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                names |= {str(p.get("name")) for p in operation.get("parameters", []) if isinstance(p, dict)}
    return names


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        (
            {"name": "X-Tags", "in": "header", "schema": {"type": "array", "items": {"type": "string"}}},
            "operation SendMessage: header parameter 'X-Tags' has a schema of type 'array'",
        ),
        (
            {"name": "session", "in": "cookie", "schema": {"type": "string"}},
            "operation SendMessage: cookie parameter 'session'",
        ),
    ],
    ids=["array header", "cookie"],
)
def test_a_parameter_the_templates_cannot_render_stops_generation_naming_it(
    parameter: dict[str, Any], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _spec_copy()
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == "SendMessage":
                operation.setdefault("parameters", []).append(parameter)
    with pytest.raises(GenerationError, match=re.escape(message)):
        check_parameters(document)
    spec = _write(document, tmp_path / "messages.yml")
    # tools/generate.py's main, as `python tools/generate.py SPEC OUT` runs it (`sys.exit(main(sys.argv))`),
    # in this process: a Python of its own would import the generator again, for a second of CPU.
    capsys.readouterr()
    status = main(["tools/generate.py", str(spec), str(tmp_path / "out" / "telnyx_messages_api")])
    assert status == 1 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # stopped before the generator ran


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "order 42",
            "send(): idempotency_key must match '^[A-Za-z0-9_-]{1,255}$' (the Idempotency-Key header), got 'order 42'",
        ),
        ("k" * 256, "send(): idempotency_key must be at most 255 characters, got 256"),
        ("", "send(): idempotency_key must be at least 1 character, got 0"),
        (42, "send(): idempotency_key must be str or None, got int"),
    ],
    ids=["space", "256 characters", "empty", "int"],
)
@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
def test_a_key_the_spec_refuses_is_refused_before_sending(
    key: Any, message: str, client_class: type[Telnyx] | type[AsyncTelnyx], server: LoopbackServer
) -> None:
    client = client_for(server, client_class)
    with pytest.raises((ValueError, TypeError)) as caught:
        result = client.messages.send(to="+13125550002", text="hi", idempotency_key=key)
        if asyncio.iscoroutine(result):
            asyncio.run(result)
    assert str(caught.value) == message
    assert server.received == []


@pytest.mark.parametrize("key", ["k", "k" * 255, "Order_42-b"], ids=["shortest", "longest", "all kinds"])
def test_a_key_the_spec_allows_is_sent_as_given(key: str, server: LoopbackServer) -> None:
    server.default = Reply(200, {"data": {"id": "x"}})
    with client_for(server) as client:
        assert client.messages.with_raw_response.send(to="+13125550002", idempotency_key=key).idempotency_key == key
    assert server.received[0].headers["Idempotency-Key"] == key


def test_a_key_in_extra_headers_is_the_calls_key_and_the_argument_wins_over_it(server: LoopbackServer) -> None:
    server.default = Reply(503, b"", {"retry-after-ms": "1"})
    with client_for(server, max_retries=1) as client:
        with pytest.raises(TelnyxError) as caught:
            client.messages.send(to="+13125550002", extra_headers={"idempotency-key": "from-extra"})
        assert caught.value.idempotency_key == "from-extra"  # retried: the key makes it safe
        with pytest.raises(TelnyxError) as caught:
            client.messages.send(to="+13125550002", extra_headers={"IDEMPOTENCY-KEY": "x"}, idempotency_key="arg")
        assert caught.value.idempotency_key == "arg"
    sent = [[(n, v) for n, v in r.headers.items() if n.lower() == "idempotency-key"] for r in server.received]
    assert sent == [[("Idempotency-Key", "from-extra")]] * 2 + [[("Idempotency-Key", "arg")]] * 2  # one header each


def test_a_made_key_is_a_uuid4_the_spec_allows_and_new_for_each_call() -> None:
    with EdgeServer() as edge, Telnyx(api_key=API_KEY, base_url=edge.base_url) as client:
        keys = [
            client.messages.with_raw_response.send(to="+13125550002", text=f"m{i}").idempotency_key for i in range(50)
        ]
    assert len(set(keys)) == 50
    for key in keys:
        assert key is not None and re.search(PATTERN, key)
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", key)


def test_a_key_given_again_is_replayed_and_a_reused_one_is_named_in_the_422() -> None:
    with EdgeServer() as edge, Telnyx(api_key=API_KEY, base_url=edge.base_url) as client:
        first = client.messages.with_raw_response.send(to="+13125550002", text="once", idempotency_key="order-42")
        again = client.messages.with_raw_response.send(to="+13125550002", text="once", idempotency_key="order-42")
        with pytest.raises(UnprocessableEntityError) as caught:
            client.messages.send(to="+13125550002", text="other", idempotency_key="order-42")
    assert (first.replayed, again.replayed) == (False, True)
    assert (first.idempotency_key, again.idempotency_key) == ("order-42", "order-42")
    assert first.parsed.to_dict(mode="json") == again.parsed.to_dict(mode="json")
    assert edge.accepted == {"once": 1}
    assert caught.value.idempotency_key == "order-42"
    assert "(Idempotency-Key order-42: the API also answers 422 when a key is reused with a different request)" in str(
        caught.value
    )


REUSE_HINT = "the API also answers 422 when a key is reused with a different request"


@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
def test_a_422_hints_at_reuse_only_for_a_key_the_caller_gave(
    client_class: type[Telnyx] | type[AsyncTelnyx], server: LoopbackServer
) -> None:
    server.default = Reply(422, {"errors": [{"code": "40001", "title": "Invalid to"}]})
    ways: dict[str, dict[str, Any]] = {
        "made": {},
        "argument": {"idempotency_key": "order-7"},
        "extra_headers": {"extra_headers": {"idempotency-KEY": "order-8"}},
    }

    async def send(options: dict[str, Any], streamed: bool) -> UnprocessableEntityError:
        client = client_class(api_key=API_KEY, base_url=server.base_url)
        try:
            if not streamed:
                result = client.messages.send(to="+13125550002", text="hi", **options)
                await result if asyncio.iscoroutine(result) else None
            elif isinstance(client, AsyncTelnyx):
                async with client.messages.with_streaming_response.send(to="+13125550002", text="hi", **options):
                    pass
            else:
                with client.messages.with_streaming_response.send(to="+13125550002", text="hi", **options):
                    pass
        except UnprocessableEntityError as error:
            return error
        finally:
            closed = client.close()
            await closed if asyncio.iscoroutine(closed) else None
        raise AssertionError("no 422")

    for streamed in (False, True):
        errors = {way: asyncio.run(send(options, streamed)) for way, options in ways.items()}
        made = server.received[-3].headers["Idempotency-Key"]
        assert errors["made"].idempotency_key == made  # still carried, to retry with
        assert str(errors["made"]) == "422 Unprocessable Content: 40001 Invalid to"
        assert str(errors["argument"]).endswith(f"(Idempotency-Key order-7: {REUSE_HINT})")
        assert str(errors["extra_headers"]).endswith(f"(Idempotency-Key order-8: {REUSE_HINT})")
    assert len(server.received) == 6


def test_a_400_for_the_key_names_the_header(server: LoopbackServer) -> None:
    refused = {"errors": [{"code": "10015", "title": "Invalid Idempotency-Key", "detail": "malformed"}]}
    server.reply(Reply(400, refused))
    with client_for(server) as client, pytest.raises(BadRequestError) as caught:
        client.messages.send(to="+13125550002", text="hi")
    assert str(caught.value).endswith("(error 10015: the API refused the Idempotency-Key header)")
    assert caught.value.idempotency_key == server.received[0].headers["Idempotency-Key"]


# --- at volume: failures after the edge accepted the message -------------------------------------

# The figures the exactly-once guarantee was asked with: 1,000 async calls, 50 in flight
# (ASYNC_IN_FLIGHT), and 300 sync calls on 30 threads, each meeting faults after acceptance (drops,
# 500s and stalls, at FAIL_RATE) and their retries.
ASYNC_CALLS, SYNC_CALLS, SYNC_THREADS = 1_000, 300, 30
# Calls in flight at once on the async client. Each attempt's deadline also runs while a call waits
# for one of the pool's connections, so 1,000 at once on a loaded 2-core machine (the edge shares the
# process) timed out before connecting, again on every retry: failures of the machine, not after
# acceptance, which is what these tests are about. 50 at once, as the threaded clients' 30 threads.
ASYNC_IN_FLIGHT = 50
FAIL_RATE, MAX_RETRIES = 0.3, 5
TIMEOUT, STALL = 2.0, 2.5  # a stalled answer comes after the client's timeout


def _report(title: str, edge: EdgeServer, calls: int, succeeded: int, elapsed: float) -> str:
    twice = sum(1 for n in edge.accepted.values() if n > 1)
    return (
        f"{title}: {calls} calls, {succeeded} succeeded, {len(edge.accepted)} messages accepted "
        f"({twice} more than once), {edge.requests} requests in {elapsed:.1f} s; "
        f"edge answers: {dict(sorted(edge.statuses.items()))}"
    )


async def _async_burst(base_url: str, key: Any) -> list[Any]:
    options = {} if key == "made" else {"idempotency_key": None}
    async with AsyncTelnyx(api_key=API_KEY, base_url=base_url, max_retries=MAX_RETRIES, timeout=TIMEOUT) as client:
        in_flight = asyncio.Semaphore(ASYNC_IN_FLIGHT)

        async def send(i: int) -> Any:
            async with in_flight:
                return await client.messages.send(to="+13125550002", text=f"async-{i}", **options)

        return await asyncio.gather(*(send(i) for i in range(ASYNC_CALLS)), return_exceptions=True)


def _threaded_burst(base_url: str, key: Any) -> list[Any]:
    options = {} if key == "made" else {"idempotency_key": None}
    with Telnyx(api_key=API_KEY, base_url=base_url, max_retries=MAX_RETRIES, timeout=TIMEOUT) as client:

        def send(i: int) -> Any:
            try:
                return client.messages.send(to="+13125550002", text=f"sync-{i}", **options)
            except TelnyxError as error:
                return error

        with concurrent.futures.ThreadPoolExecutor(SYNC_THREADS) as pool:
            return list(pool.map(send, range(SYNC_CALLS)))


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("clients", ["async", "threaded"])
def test_every_call_succeeds_and_is_accepted_exactly_once_through_failures_after_acceptance(
    clients: str, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = ASYNC_CALLS if clients == "async" else SYNC_CALLS
    with EdgeServer(fail_rate=FAIL_RATE, stall_seconds=STALL) as edge:
        started = time.monotonic()
        results = (
            asyncio.run(_async_burst(edge.base_url, "made"))
            if clients == "async"
            else _threaded_burst(edge.base_url, "made")
        )
        elapsed = time.monotonic() - started
        time.sleep(STALL)  # any answer still stalling is stored by now
    failures = [r for r in results if isinstance(r, BaseException)]
    with capsys.disabled():
        print("\n" + _report(f"{clients}, a key made for each call", edge, calls, calls - len(failures), elapsed))
    assert failures == [], failures[:3]
    prefix = "async" if clients == "async" else "sync"
    assert edge.accepted == {f"{prefix}-{i}": 1 for i in range(calls)}  # each call's message, exactly once
    faults = sum(n for what, n in edge.statuses.items() if what.startswith("fault"))
    assert faults > calls * FAIL_RATE / 2  # the failures happened (about 30% of the first attempts)
    assert edge.statuses["replay"] > 0  # and retries were answered from the stored successes


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("clients", ["async", "threaded"])
def test_without_a_key_no_message_is_accepted_twice(clients: str, capsys: pytest.CaptureFixture[str]) -> None:
    calls = ASYNC_CALLS if clients == "async" else SYNC_CALLS
    with EdgeServer(fail_rate=FAIL_RATE, stall_seconds=STALL) as edge:
        started = time.monotonic()
        results = (
            asyncio.run(_async_burst(edge.base_url, None))
            if clients == "async"
            else _threaded_burst(edge.base_url, None)
        )
        elapsed = time.monotonic() - started
        time.sleep(STALL)
    failures = [r for r in results if isinstance(r, BaseException)]
    with capsys.disabled():
        print("\n" + _report(f"{clients}, idempotency_key=None", edge, calls, calls - len(failures), elapsed))
    assert max(edge.accepted.values()) == 1  # calls may fail, but none was sent twice
    assert failures and all(isinstance(f, TelnyxError) and f.idempotency_key is None for f in failures)


def test_the_key_sent_is_the_one_the_error_names_and_one_for_all_attempts(server: LoopbackServer) -> None:
    server.default = Reply(503, b"", {"retry-after-ms": "1"})
    with client_for(server, max_retries=2) as client, pytest.raises(TelnyxError) as caught:
        client.messages.send(to="+13125550002", text="hi")
    sent = {r.headers.get("Idempotency-Key") for r in server.received}
    assert len(server.received) == 3 and sent == {caught.value.idempotency_key}


def test_a_schedule_takes_no_key_and_is_not_retried_after_an_ambiguous_failure(server: LoopbackServer) -> None:
    case = case_of("ScheduleMessage")
    assert not case.operation.header_parameters or all(
        p.argument != "idempotency_key" for p in case.operation.header_parameters
    )
    server.default = Reply(503, b"", {"retry-after-ms": "1"})
    with client_for(server, max_retries=2) as client, pytest.raises(TelnyxError) as caught:
        client.messages.schedule(to="+13125550002", text="later")
    assert len(server.received) == 1 and "Idempotency-Key" not in server.received[0].headers
    assert caught.value.idempotency_key is None


def _two_headers(
    self: object, *, idempotency_key: str | NotGiven | None = NOT_GIVEN, x_source: str | NotGiven = NOT_GIVEN
) -> None:
    """A method of an operation that declares two headers (as a later spec may): read by prepare."""


def test_each_declared_header_is_read_whatever_comes_before_it() -> None:
    """Unit: prepare() over an operation with two header parameters, the key first."""
    from telnyx_messages._api.types import CallOptions, HeaderParameter, Operation
    from telnyx_messages._request_building import prepare

    headers = (
        HeaderParameter("idempotency_key", "Idempotency-Key", PATTERN, 1, 255),
        HeaderParameter("x_source", "X-Source"),
    )
    operation: Operation[Any] = Operation("Two", "POST", "/two", (), (), headers, (), False, None, None)  # type: ignore[arg-type]

    def sent(**arguments: Any) -> dict[str, str]:
        given = {"idempotency_key": NOT_GIVEN, "x_source": NOT_GIVEN, **arguments}
        return prepare(operation, _two_headers, given, CallOptions(), {}).headers

    assert sent(idempotency_key=None, x_source="web") == {"X-Source": "web"}
    assert sent(idempotency_key="k-1", x_source="web") == {"Idempotency-Key": "k-1", "X-Source": "web"}
    made = sent(x_source="batch")
    assert made["X-Source"] == "batch" and re.search(PATTERN, made["Idempotency-Key"])
    assert sent(idempotency_key="k-2") == {"Idempotency-Key": "k-2"}  # X-Source not given: not sent
