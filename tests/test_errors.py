"""The errors a call raises: in the hierarchy, saying where and why, pickling without the key, with
the server's control characters escaped in messages and kept in the document."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import pickle
import socket

import httpx2
import pytest
from telnyx_messages import (
    APIConnectionError,
    AsyncTelnyx,
    ClientClosedError,
    NotFoundError,
    Telnyx,
    TelnyxError,
)

from .support import API_KEY, MESSAGE_ID
from .support.client_kinds import ALL_CLIENTS, CLIENTS, OK_GROUP, call_as
from .support.server import LoopbackServer, Reply


def _raise_not_found(base_url: str) -> None:
    with Telnyx(api_key=API_KEY, base_url=base_url, max_retries=0) as client:
        client.messages.retrieve(MESSAGE_ID)


def test_status_errors_unpickle_and_carry_no_key(server: LoopbackServer) -> None:
    server.default = Reply(404, {"errors": [{"code": "10005", "title": "Resource not found"}]}, {"x-request-id": "r1"})
    with pytest.raises(NotFoundError) as caught:
        _raise_not_found(server.base_url)
    pickled = pickle.dumps(caught.value)
    assert API_KEY.encode() not in pickled
    copy = pickle.loads(pickled)
    assert (type(copy), str(copy), copy.status_code, copy.request_id) == (
        NotFoundError,
        str(caught.value),
        404,
        "r1",
    )
    assert copy.errors == caught.value.errors and copy.request is None and copy.response is None
    assert caught.value.response is not None and caught.value.request is not None  # the original keeps both
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        error = pool.submit(_raise_not_found, server.base_url).exception(timeout=60)
    assert isinstance(error, NotFoundError) and error.status_code == 404


@CLIENTS
def test_a_call_after_close_is_a_telnyx_error(client_kind: str, server: LoopbackServer) -> None:
    server.default = OK_GROUP
    if client_kind == "sync":
        client = Telnyx(api_key=API_KEY, base_url=server.base_url)
        client.close()
        with pytest.raises(ClientClosedError, match=r"^Telnyx is closed: make a new client, or call before close\(\)$"):
            client.messages.retrieve_group_messages(MESSAGE_ID)
        return

    async def run() -> None:
        client = AsyncTelnyx(api_key=API_KEY, base_url=server.base_url)
        await client.close()
        with pytest.raises(ClientClosedError, match=r"^AsyncTelnyx is closed: make a new client"):
            await client.messages.retrieve_group_messages(MESSAGE_ID)

    asyncio.run(run())


EVIL = "\x1b[2J\x1b[31mpwned\nINFO telnyx_messages: forged line\r\x07"


@pytest.mark.parametrize(
    "reply",
    [
        Reply(404, {"errors": [{"code": "1", "title": EVIL, "detail": EVIL}]}),
        Reply(500, {"title": EVIL, "detail": EVIL}),
        Reply(502, EVIL.encode()),
        Reply(200, {"data": [{"received_at": EVIL}]}),
    ],
    ids=["Telnyx error", "RFC 7807", "plain text", "unparsable success"],
)
@CLIENTS
def test_control_characters_from_the_server_are_escaped(client_kind: str, reply: Reply, server: LoopbackServer) -> None:
    server.default = reply
    with pytest.raises(TelnyxError) as caught:
        call_as(client_kind, server.base_url)
    text = str(caught.value)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text), repr(text)
    assert "\\x1b[2J" in text


def test_json_is_what_the_client_sends(server: LoopbackServer) -> None:
    # The escaping is of messages only: what the server sent is kept as sent.
    server.default = Reply(404, {"errors": [{"code": "1", "title": EVIL}]})
    with pytest.raises(NotFoundError) as caught:
        call_as("sync", server.base_url)
    assert caught.value.errors[0].title == EVIL
    assert json.loads(caught.value.response.content)["errors"][0]["title"] == EVIL  # type: ignore[union-attr]


@ALL_CLIENTS
def test_a_refused_connection_names_where_its_cause_and_request(client_kind: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    with pytest.raises(APIConnectionError) as caught:
        call_as(client_kind, f"http://127.0.0.1:{port}")
    assert type(caught.value) is APIConnectionError
    prefix = f"Connection error (ConnectError) for GET 127.0.0.1:{port}: "
    assert str(caught.value).startswith(prefix) and len(str(caught.value)) > len(prefix) + 5
    assert isinstance(caught.value.__cause__, httpx2.ConnectError) and API_KEY not in str(caught.value)
    assert caught.value.request is not None and caught.value.request.url.port == port


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
