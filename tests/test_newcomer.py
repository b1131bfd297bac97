"""What a newcomer tripped on (issue 34), each held: bad timeouts and keys refused when given, models
with one subscripting rule, date-times back as written, one webhook signature, public modules that
show their public names."""

from __future__ import annotations

import asyncio
import copy
import datetime
import math
import pickle
from typing import Any

import httpx
import httpx2
import pytest
import telnyx_messages
from telnyx_messages import AsyncTelnyx, Telnyx, webhooks
from telnyx_messages import types as public_types
from telnyx_messages_api import models as generated_models

from .support import API_KEY, MESSAGE_ID
from .support.server import LoopbackServer, Reply, client_for
from .support.spec import message_example

BAD_TIMEOUTS: list[Any] = [
    -1,
    0,
    0.0,
    math.nan,
    math.inf,
    True,
    "5",
    httpx2.Timeout(5.0, connect=-1),
    httpx2.Timeout(5.0, read=0),
    httpx2.Timeout(5.0, pool=math.nan),
    httpx.Timeout(5.0, read=-2),
]


# --- row 2: a timeout that could only time out is refused ---------------------------------------


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
def test_a_bad_timeout_is_refused_at_construction(client_class: type[Any], timeout: Any) -> None:
    with pytest.raises(ValueError, match="timeout") as caught:
        client_class(api_key=API_KEY, timeout=timeout)
    assert "seconds" in str(caught.value)


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
def test_a_bad_timeout_is_refused_per_call_before_sending(timeout: Any, server: LoopbackServer) -> None:
    with client_for(server) as client, pytest.raises(ValueError, match="timeout"):
        client.messages.retrieve(MESSAGE_ID, timeout=timeout)
    with client_for(server) as client, pytest.raises(ValueError, match="timeout"):
        client.with_options(timeout=timeout)

    async def call_async() -> None:
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as aclient:
            await aclient.messages.retrieve(MESSAGE_ID, timeout=timeout)

    with pytest.raises(ValueError, match="timeout"):
        asyncio.run(call_async())
    assert server.received == []


@pytest.mark.parametrize("timeout", [None, 0.5, 3, httpx2.Timeout(None), httpx2.Timeout(5.0, connect=None)])
def test_good_timeouts_are_kept(timeout: Any) -> None:
    client = Telnyx(api_key=API_KEY, timeout=timeout)
    assert client.timeout == timeout


def test_a_timeout_names_the_bad_part() -> None:
    with pytest.raises(ValueError, match=r"timeout's connect part must be None or a number of seconds > 0, got -1"):
        Telnyx(api_key=API_KEY, timeout=httpx2.Timeout(5.0, connect=-1))
    with pytest.raises(ValueError, match=r"got nan"):
        Telnyx(api_key=API_KEY, timeout=math.nan)


# --- row 3: a key given with its scheme ----------------------------------------------------------


@pytest.mark.parametrize("key", [f"Bearer {API_KEY}", f"bearer {API_KEY}", f"BEARER {API_KEY}"])
def test_a_key_given_with_bearer_is_refused_without_quoting_it(key: str) -> None:
    for client_class in (Telnyx, AsyncTelnyx):
        with pytest.raises(ValueError, match="pass the key alone") as caught:
            client_class(api_key=key)
        assert API_KEY not in str(caught.value)
    with pytest.raises(ValueError, match="pass the key alone"):
        Telnyx(api_key=API_KEY).with_options(api_key=key)


def test_a_key_that_merely_starts_with_bearer_letters_is_kept(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": []}))
    with Telnyx(api_key="BearerKEY123", base_url=server.base_url) as client:
        client.messages.retrieve_group_messages(MESSAGE_ID)
    assert server.received[0].headers["Authorization"] == "Bearer BearerKEY123"


# --- row 5: one subscripting rule ----------------------------------------------------------------


def test_a_model_is_not_subscriptable_and_unknown_fields_are_in_additional_properties() -> None:
    document = {**message_example(), "not_in_the_spec": 1}
    message = generated_models.OutboundMessagePayload.from_dict(document)
    assert message.id == document["id"] and message.additional_properties == {"not_in_the_spec": 1}
    with pytest.raises(TypeError):
        message["id"]  # type: ignore[index]
    with pytest.raises(TypeError):
        _ = "id" in message  # type: ignore[operator]


# --- row 6: date-times go back as the server wrote them -------------------------------------------


def test_date_times_go_back_as_written(server: LoopbackServer) -> None:
    example = message_example()
    example["received_at"] = "2019-01-23T18:10:02.574Z"
    example["sent_at"] = "2019-01-23T18:10:02.5+01:00"
    server.reply(Reply(200, {"data": example}))
    with client_for(server) as client:
        message = client.messages.retrieve(MESSAGE_ID).data
    assert message is not None and message.received_at is not None
    document = message.to_dict(mode="json")
    assert document["received_at"] == "2019-01-23T18:10:02.574Z"
    assert document["sent_at"] == "2019-01-23T18:10:02.5+01:00"
    assert message.received_at.microsecond == 574000 and message.received_at.utcoffset() == datetime.timedelta(0)
    for kept in (pickle.loads(pickle.dumps(message)), copy.deepcopy(message)):
        assert kept.to_dict(mode="json")["received_at"] == "2019-01-23T18:10:02.574Z"
    # A date-time changed in code is written in the document's style where it fits, else isoformat().
    message.received_at = message.received_at.replace(year=2020)
    assert message.to_dict(mode="json")["received_at"] == "2020-01-23T18:10:02.574Z"
    message.received_at = message.received_at.replace(microsecond=574321)
    assert message.to_dict(mode="json")["received_at"] == "2020-01-23T18:10:02.574321+00:00"
    message.received_at = datetime.datetime(2021, 5, 1, tzinfo=datetime.UTC)
    assert message.to_dict(mode="json")["received_at"] == "2021-05-01T00:00:00+00:00"
    # The value itself is a plain datetime (nothing more for the garbage collector to track).
    assert type(message.received_at) is datetime.datetime


@pytest.mark.parametrize(
    "text",
    [
        "2019-01-23T18:10:02.574Z",
        "2019-01-23T18:10:02Z",
        "2019-01-23T18:10:02.574000+00:00",
        "2019-01-23 18:10:02.5-05:00",
        "2019-01-23T18:10:02.574+0100",
        "2019-01-23T18:10:02.123456",
        "2019-01-23T18:10:02.100Z",
        "20190123T181002Z",
        "2019-01-23T18:10Z",
    ],
)
def test_a_date_time_is_written_as_read_or_as_isoformat(text: str) -> None:
    from telnyx_messages_api.types import datetime_text, wire_datetime

    value = wire_datetime(text)
    assert value == datetime.datetime.fromisoformat(text)
    written = datetime_text(value)
    assert written in (text, datetime.datetime.fromisoformat(text).isoformat())
    if text[4] == "-" and text.count(":") >= 2 and not text.endswith("+0100"):
        assert written == text  # the extended forms servers write come back as they were
    assert datetime_text(pickle.loads(pickle.dumps(value))) == written


# --- row 7: one unwrap signature, headers as frameworks hand them over ------------------------------


def test_both_unwraps_take_the_same_arguments() -> None:
    import inspect

    module = inspect.signature(webhooks.unwrap)
    method = inspect.signature(webhooks.Webhooks("A" * 43 + "=").unwrap)
    assert list(module.parameters) == list(method.parameters) == ["payload", "headers", "key", "tolerance"]
    assert {name: p.kind for name, p in module.parameters.items()} == {
        name: p.kind for name, p in method.parameters.items()
    }


# --- row 10: public modules show public names ------------------------------------------------------


@pytest.mark.parametrize("module", [telnyx_messages, webhooks, public_types], ids=lambda m: m.__name__)
def test_public_modules_list_only_public_names(module: Any) -> None:
    names = dir(module)
    leaked = [n for n in names if n in {"Any", "TYPE_CHECKING", "os", "json", "time", "base64", "binascii"}]
    assert leaked == []
    assert [n for n in names if n.startswith("_") and not n.startswith("__")] == []
    for name in names:
        assert getattr(module, name) is not None or name == "NOT_GIVEN"


# --- row 11: a README for users; history and design elsewhere -------------------------------------


def test_the_readme_is_for_users_with_one_performance_table() -> None:
    from .support import ROOT

    readme = (ROOT / "README.md").read_text()
    sections = [line for line in readme.splitlines() if line.startswith("## ")]
    assert sections == ["## Quick start", "## Usage", "## Testing your code", "## Developing"]
    for needed in ("### Errors", "exactly once", "### Webhooks", "### Command line", "### Coming from the official"):
        assert needed in readme
    # The first screen: what it is, then the Quick start; no internals.
    first_screen = readme.split("\n## Usage\n", 1)[0]
    assert len(first_screen.splitlines()) <= 45
    for internal in ("msgspec", "httpx 0.2", "quadratic", "MiB", "benchmark", "Prism", "generat"):
        assert internal not in first_screen, internal
    # The user's part reads in about ten minutes; internals, history and figures live elsewhere.
    users_part = readme.split("\n## Developing\n", 1)[0]
    assert len(users_part.split()) <= 2600 and len(readme.split()) <= 3000
    assert "Measured 2026-" not in readme and "x raw httpx2" not in readme
    developing = readme.split("\n## Developing\n", 1)[1]
    assert len(developing.splitlines()) <= 25
    linked = ["docs/developing.md", "docs/internals.md", "docs/testing.md", "docs/spec-updates.md", "bench/README.md"]
    for path in linked:
        assert f"]({path})" in developing and (ROOT / path).exists(), path
    # The one performance table: bench/README.md's current figures.
    current = (ROOT / "bench" / "README.md").read_text().split("\n## Current figures\n", 1)[1].split("\n## ", 1)[0]
    tables = [block for block in current.split("\n\n") if block.lstrip().startswith("| ")]
    assert len(tables) == 1 and "x raw httpx2" in tables[0]


# --- row 12: the slow tests are marked, and one flag leaves them out -------------------------------


def test_one_flag_leaves_the_slow_tests_out_and_make_test_runs_them_all() -> None:
    import subprocess
    import sys

    from .support import ROOT

    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    every = subprocess.run([*collect, "tests"], cwd=ROOT, capture_output=True, text=True).stdout
    fast = subprocess.run([*collect, "-m", "not slow", "tests"], cwd=ROOT, capture_output=True, text=True).stdout
    for slow in ("test_the_suite_passes_on_a_later_upstream_document", "accepted_exactly_once_through_failures"):
        assert slow in every and slow not in fast
    assert "test_date_times_go_back_as_written" in fast
    makefile = (ROOT / "Makefile").read_text()
    assert '$(BIN)/pytest -q $(if $(FAST),-m "not slow",)' in makefile
    assert "make test FAST=1" in (ROOT / "README.md").read_text()


# --- row 9: model docstrings name the attributes' own types -------------------------------------


def test_model_docstrings_match_the_annotations() -> None:
    import inspect
    import re

    checked = 0
    for name in generated_models.__all__:
        model = getattr(generated_models, name)
        if not hasattr(model, "_fields_"):
            continue
        doc = inspect.getdoc(model) or ""
        assert "Unset" not in doc, name
        for attribute, annotation in re.findall(r"^\s*(\w+) \(([^)]*)\):", doc.partition("Attributes:")[2], re.M):
            if attribute in model.__annotations__:
                assert annotation == model.__annotations__[attribute], (name, attribute)
                checked += 1
    assert checked > 50


def test_a_connection_error_names_the_default_port_of_its_scheme() -> None:
    from telnyx_messages._client import _connection_error

    cases = [
        ("https://api.telnyx.com/v2/messages", "POST api.telnyx.com:443"),
        ("http://127.0.0.1/v2/messages", "POST 127.0.0.1:80"),
        ("http://127.0.0.1:8080/v2/messages", "POST 127.0.0.1:8080"),
    ]
    for url, where in cases:
        error = _connection_error(httpx2.ConnectError("refused"), httpx2.Request("POST", url))
        assert str(error) == f"Connection error (ConnectError) for {where}: refused"
    quiet = _connection_error(httpx2.ReadTimeout(""), httpx2.Request("GET", "https://api.telnyx.com/v2/x"))
    assert str(quiet) == "Request timed out (ReadTimeout) for GET api.telnyx.com:443"


def test_client_webhooks_take_the_tolerance_and_default_to_300_seconds() -> None:
    import base64
    import json
    import time

    from nacl.signing import SigningKey

    key = SigningKey.generate()
    public = base64.b64encode(bytes(key.verify_key)).decode()
    body = json.dumps({"data": {"event_type": "message.teleported"}}).encode()

    def signed(age: int) -> dict[str, str]:
        when = str(int(time.time()) - age)
        signature = key.sign(when.encode() + b"|" + body).signature
        return {"telnyx-timestamp": when, "telnyx-signature-ed25519": base64.b64encode(signature).decode()}

    receiver = webhooks.Webhooks(public)
    with pytest.raises(webhooks.TimestampOutOfToleranceError):
        receiver.unwrap(body, signed(300))  # 300 s and a fraction old: past the default
    assert receiver.unwrap(body, signed(500), tolerance=1000) is not None
