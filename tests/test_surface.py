"""What a caller of client.messages sees: every method on both clients, its signature, types and
documentation, the official SDK's names and per-call options, and the options reaching the wire."""

from __future__ import annotations

import fcntl
import inspect
import os
import shutil
import textwrap
import typing
from typing import Any

import jedi
import pytest
from telnyx_messages import AsyncTelnyx, Telnyx
from telnyx_messages._api.api import METHODS

from .support import API_KEY, MESSAGE_ID, ROOT, typecheck
from .support.server import LoopbackServer, Reply, client_for
from .support.spec import CASES, OperationCase, message_example
from .support.typecheck import Checked

PER_CALL_OPTIONS = {"extra_headers", "extra_query", "extra_body", "timeout", "max_retries"}
OK = Reply(200, {"data": {"id": MESSAGE_ID}})


def _method(client: Telnyx | AsyncTelnyx, case: OperationCase, raw: bool = False) -> Any:
    return case.bound(client.messages.with_raw_response if raw else client.messages)


@pytest.mark.parametrize("raw", [False, True], ids=["parsed", "raw"])
@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.operation_id)
def test_every_method_is_typed_documented_and_takes_the_per_call_options(
    case: OperationCase, client_class: type[Telnyx | AsyncTelnyx], raw: bool
) -> None:
    method = _method(client_class(api_key=API_KEY, base_url="http://127.0.0.1:9"), case, raw)
    assert inspect.iscoroutinefunction(method) is (client_class is AsyncTelnyx)
    hints = typing.get_type_hints(method)  # resolves at run time: no NameError
    parameters = inspect.signature(method).parameters
    assert set(parameters) >= PER_CALL_OPTIONS
    # Every header the spec declares is an argument (Idempotency-Key as idempotency_key), and no other.
    headers = {p.argument for p in case.operation.header_parameters}
    assert ("idempotency_key" in parameters) is ("idempotency_key" in headers)
    assert headers <= set(parameters)
    assert set(hints) == {*parameters, "return"}
    doc = inspect.getdoc(method) or ""
    assert "Args:" in doc and f"Operation {case.operation_id}" in doc
    arguments = [name for name in parameters if name not in PER_CALL_OPTIONS]
    for name in arguments:
        assert f"\n    {name}: " in doc, f"{name} is not documented"
    origin = typing.get_origin(hints["return"])
    expected = "AsyncAPIResponse" if client_class is AsyncTelnyx else "APIResponse"
    assert (origin is not None and origin.__name__ == expected) is raw


def test_methods_are_where_the_official_sdk_has_them() -> None:
    assert set(METHODS.values()) >= {
        "send",
        "send_with_alphanumeric_sender",
        "retrieve_group_messages",
        "send_group_mms",
        "send_long_code",
        "send_number_pool",
        "schedule",
        "send_short_code",
        "cancel_scheduled",
        "retrieve",
        "whatsapp",
        "rcs.send",
        "rcs.generate_deeplink",
    }


def test_help_shows_the_specs_description_of_each_argument() -> None:
    doc = inspect.getdoc(Telnyx(api_key=API_KEY).messages.send) or ""
    assert doc.startswith("Send a message")
    assert "    to: Receiving address (+E.164 formatted phone number or short code). Required." in doc
    assert "    type: The protocol for sending the message, either SMS or MMS." in doc


def test_arguments_are_the_wire_names(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": message_example()}))
    with client_for(server) as client:
        client.messages.send(to="+13125550002", from_="+18445550001", type="MMS", media_urls=["https://x.example/a"])
    assert server.received[0].json() == {
        "to": "+13125550002",
        "from": "+18445550001",
        "type": "MMS",
        "media_urls": ["https://x.example/a"],
    }


def test_an_enum_value_the_spec_does_not_list_goes_only_as_the_enums_own_member(server: LoopbackServer) -> None:
    member_type = typing.get_type_hints(Telnyx(api_key=API_KEY).messages.send)["type"]
    (enum_class,) = [m for m in typing.get_args(member_type) if isinstance(m, type) and m.__name__ != "NotGiven"]
    server.reply(Reply(200, {"data": message_example()}))
    with client_for(server) as client:
        with pytest.raises(ValueError, match="type must be one of 'SMS', 'MMS', got 'FAX'"):
            client.messages.send(to="+13125550002", type="FAX")  # type: ignore[arg-type]
        client.messages.send(to="+13125550002", type=enum_class("FAX"))
    assert [r.json()["type"] for r in server.received] == ["FAX"]


@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
async def test_per_call_options_reach_the_wire(server: LoopbackServer, client_class: type[Any]) -> None:
    server.default = OK
    client = client_class(api_key=API_KEY, base_url=server.base_url, default_query={"tenant": "t1"})
    call = client.messages.send(
        to="+13125550002",
        text="hi",
        extra_headers={"X-Trace": "abc"},
        extra_query={"dry_run": "1"},
        extra_body={"custom": {"a": 1}},
        idempotency_key="order-42",
    )
    if client_class is AsyncTelnyx:
        await call
        await client.close()
    else:
        client.close()
    (request,) = server.received
    assert request.path == "/messages?tenant=t1&dry_run=1"
    assert request.headers["X-Trace"] == "abc" and request.headers["Idempotency-Key"] == "order-42"
    assert request.json() == {"to": "+13125550002", "text": "hi", "custom": {"a": 1}}


def test_with_options_and_copy_change_what_they_name_and_share_the_pool(server: LoopbackServer) -> None:
    other = LoopbackServer()
    server.default = other.default = OK
    with client_for(server, timeout=5.0) as client:
        copy = client.with_options(
            api_key="KEY-other", base_url=other.base_url, default_headers={"X-Team": "a"}, default_query={"q": "1"}
        )
        assert copy._http is client._http
        copy.messages.retrieve(MESSAGE_ID)
        client.copy(max_retries=0).messages.retrieve(MESSAGE_ID)
        assert client.copy(timeout=1.5).timeout == 1.5 and client.timeout == 5.0
    other.close()
    (seen_by_other,) = other.received
    assert seen_by_other.headers["Authorization"] == "Bearer KEY-other"
    assert seen_by_other.headers["X-Team"] == "a" and seen_by_other.path == f"/messages/{MESSAGE_ID}?q=1"
    (seen,) = server.received
    assert seen.headers["Authorization"] == f"Bearer {API_KEY}" and "X-Team" not in seen.headers


def test_with_options_refuses_what_the_constructor_refuses() -> None:
    client = Telnyx(api_key=API_KEY)
    with pytest.raises(ValueError, match="plain http to a non-loopback host"):
        client.with_options(base_url="http://example.com")
    with pytest.raises(ValueError, match="Authorization is set by the client"):
        client.with_options(default_headers={"authorization": "x"})
    with pytest.raises(ValueError, match="max_retries"):
        client.with_options(max_retries=-1)


@pytest.fixture(scope="module")
def users_project(tmp_path_factory: pytest.TempPathFactory) -> typing.Iterator[jedi.Project]:
    """The project of a user's editor: a folder of their own, the package installed where their
    Python finds it. Jedi searches a project's files for calls of a function whose parameters it
    infers (a form's *args); with no project given it took the working directory, this repository,
    and read its ~350 files (tests calling every method among them) again for each Script.

    Jedi has parso pickle what it parses into one cache directory; test processes writing it at once
    read each other's half-written files (EOFError, "pickle data was truncated": seen with three
    workers). Each test process keeps its own, under build/. A new one starts as a copy of the first
    one made (`warm`, written once, whole, by a rename): from a fresh clone the first Script of a
    process took 6.2 s of CPU with an empty cache and 1.4 s with a warm one, and each worker paid it."""
    project = jedi.Project(tmp_path_factory.mktemp("users-project"))
    before = jedi.settings.cache_directory
    mine = JEDI_CACHES / os.environ.get("PYTEST_XDIST_WORKER", "main")
    warm = JEDI_CACHES / "warm"
    JEDI_CACHES.mkdir(parents=True, exist_ok=True)
    with open(JEDI_CACHES / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held to the close: another process may be making `warm`
        if not mine.exists() and warm.exists():
            shutil.copytree(warm, mine)
        jedi.settings.cache_directory = str(mine)
        if not warm.exists():
            _jedi_signatures(_call(AsyncTelnyx, "streaming", CASES[0]), project)
            made = JEDI_CACHES / f"warm-{os.getpid()}"
            shutil.copytree(mine, made)
            made.rename(warm)
    yield project
    jedi.settings.cache_directory = before


def test_jedi_completes_every_keyword_argument(users_project: jedi.Project) -> None:
    source = "from telnyx_messages import Telnyx\nclient = Telnyx()\nclient.messages.send("
    script = jedi.Script(source, project=users_project)
    completions = {c.name for c in script.complete(3, len("client.messages.send("))}
    expected = {f"{name}=" for name in inspect.signature(Telnyx(api_key=API_KEY).messages.send).parameters}
    assert expected <= completions


JEDI_CACHES = ROOT / "build" / "jedi-cache"
FORMS = {"plain": "", "raw": "with_raw_response.", "streaming": "with_streaming_response."}
CLIENTS = {"Telnyx": "client", "AsyncTelnyx": "async_client"}


def _call(client_class: type[Telnyx | AsyncTelnyx], form: str, case: OperationCase) -> str:
    """The text of a call of `case`'s method in `form`, up to its open bracket."""
    return f"{CLIENTS[client_class.__name__]}.messages.{FORMS[form]}{case.method_path}("


def _jedi_signatures(call: str, project: jedi.Project) -> tuple[list[list[str]], set[str]]:
    """The parameters Jedi shows for `call` (a call's text up to its open bracket), one list per
    signature, and the names it completes there; asked as an editor asks, a Script for the request,
    in the user's project.
    (One Script asked about every call in turn keeps its inferences and caches from call to call: on
    a larger document it came to lose methods that a Script of their own finds.)"""
    source = "\n".join(
        ["from telnyx_messages import AsyncTelnyx, Telnyx", "client = Telnyx()", "async_client = AsyncTelnyx()"]
    )
    script = jedi.Script(f"{source}\n{call})", project=project)
    signatures = [[p.name for p in signature.params] for signature in script.get_signatures(4, len(call))]
    return signatures, {completion.name for completion in script.complete(4, len(call))}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
def test_jedi_shows_and_completes_every_argument_of_every_form(
    client_class: type[Telnyx | AsyncTelnyx], form: str, users_project: jedi.Project
) -> None:
    """Jedi (editors' completion) shows each operation's method, plain, raw and streaming, sync and
    async, with every argument the spec gives the operation and the per-call options, no `self`;
    it completes them as keyword arguments. The operations are the spec's, whichever it is."""
    assert CASES
    for case in CASES:
        call = _call(client_class, form, case)
        operation = case.operation
        pairs = operation.path_parameters + operation.query_parameters + operation.body_parameters
        expected = {name for name, _ in pairs} | {p.argument for p in operation.header_parameters} | PER_CALL_OPTIONS
        signatures, completions = _jedi_signatures(call, users_project)
        assert [set(names) for names in signatures] == [expected], (call, signatures)
        assert {f"{name}=" for name in expected} <= completions, (call, sorted(completions))


TYPE_CHECKED = textwrap.dedent(
    """
    from telnyx_messages import Telnyx

    client = Telnyx()
    client.messages.send(to="+13125550002", type="MMS")
    client.messages.send(to="+13125550002", type="FAX")
    client.messages.rcs.send(agent_id="a", to="+1", messaging_profile_id="p", agent_message={"ttl": "5s"})
    client.messages.whatsapp(from_="+1", to="+2", whatsapp_message={"type": "telepathy"})
    """
)
NOT_LISTED = typecheck.program("surface_value_not_listed", TYPE_CHECKED)


def test_mypy_catches_a_value_the_spec_does_not_list(type_checked: Checked) -> None:
    errors = [line.split(": error: ")[0] for line in type_checked.errors(NOT_LISTED)]
    assert errors == [f"{NOT_LISTED}.py:6", f"{NOT_LISTED}.py:8"], type_checked.report(NOT_LISTED)
