"""The overlay against a real loopback server: payloads, errors, configuration, secrets."""

from __future__ import annotations

import datetime
import logging
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from telnyx_messages import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    AsyncTelnyx,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    Telnyx,
    TelnyxError,
    UnprocessableEntityError,
)
from telnyx_messages._api.models import InboundMessagePayload, OutboundMessagePayload

from .support import API_KEY
from .support import MESSAGE_ID as GROUP_ID
from .support.raw_server import RawServer
from .support.server import LoopbackServer, Reply, client_for
from .support.spec import inbound_message_example, message_example, normalised


def test_group_messages_arrive_intact(server: LoopbackServer, spec: dict[str, Any]) -> None:
    example = message_example()
    server.reply(Reply(200, {"data": [example]}))
    with client_for(server) as client:
        group = client.messages.retrieve_group_messages(GROUP_ID)
    (message,) = group.data
    assert isinstance(message, OutboundMessagePayload)
    assert message.id == example["id"]
    assert message.from_.phone_number == example["from"]["phone_number"]
    assert [to.phone_number for to in message.to] == [to["phone_number"] for to in example["to"]]
    assert message.received_at == datetime.datetime.fromisoformat(example["received_at"])
    assert message.received_at.tzinfo is not None
    assert Decimal(message.cost.amount) == Decimal(example["cost"]["amount"])
    assert message.cost.currency == example["cost"]["currency"]
    assert normalised(message.to_dict(mode="json")) == normalised(example)
    (request,) = server.received
    assert (request.method, request.path) == ("GET", f"/messages/group/{GROUP_ID}")
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"


def test_environment_configures_the_client(server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELNYX_API_KEY", "env-key")
    monkeypatch.setenv("TELNYX_BASE_URL", server.base_url)
    server.reply(Reply(200, {"data": []}))
    with Telnyx() as client:
        assert client.base_url == server.base_url
        assert client.messages.retrieve_group_messages(GROUP_ID).data == []
    assert server.received[0].headers["Authorization"] == "Bearer env-key"


def test_default_base_url() -> None:
    assert Telnyx(api_key="k").base_url == "https://api.telnyx.com/v2"


def test_a_missing_api_key_fails_at_construction() -> None:
    with pytest.raises(TelnyxError, match="TELNYX_API_KEY"):
        Telnyx()
    with pytest.raises(TelnyxError, match="TELNYX_API_KEY"):
        AsyncTelnyx()


def test_plain_http_is_refused_beyond_loopback() -> None:
    with pytest.raises(ValueError, match="allow_insecure_http"):
        Telnyx(api_key="k", base_url="http://api.example.com/v2")
    assert Telnyx(api_key="k", base_url="http://api.example.com/v2", allow_insecure_http=True)
    assert Telnyx(api_key="k", base_url="http://localhost:1/v2")
    with pytest.raises(ValueError, match="http"):
        Telnyx(api_key="k", base_url="ftp://example.com")


def test_a_bad_uuid_is_refused_before_any_request(server: LoopbackServer) -> None:
    with client_for(server) as client, pytest.raises(ValueError, match="message_id must be a UUID, got 'nope'"):
        client.messages.retrieve_group_messages("nope")
    assert server.received == []


@pytest.mark.parametrize(
    "given",
    [
        "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
        "182BD5E5-6E1A-4FE4-A799-AA6D9A6AB26E",
        "{182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e}",
        "urn:uuid:182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
        "182bd5e56e1a4fe4a799aa6d9a6ab26e",
        uuid.UUID("182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"),
    ],
)
def test_a_uuid_in_any_form_uuid_reads_is_sent_in_canonical_form(server: LoopbackServer, given: object) -> None:
    server.reply(Reply(200, {"data": []}))
    with client_for(server) as client:
        client.messages.retrieve_group_messages(given)  # type: ignore[arg-type]
    assert server.received[0].path == "/messages/group/182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"


@pytest.mark.parametrize("given", ["182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26", "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e\n"])
def test_text_near_a_uuid_is_refused(server: LoopbackServer, given: str) -> None:
    with client_for(server) as client, pytest.raises(ValueError, match="message_id must be a UUID"):
        client.messages.retrieve_group_messages(given)
    assert server.received == []


def test_a_program_that_passes_ids_as_text_never_imports_uuid(server: LoopbackServer) -> None:
    """uuid imports `platform` on Linux, milliseconds of every start: a UUID argument given as text
    (in the path or the body) is checked and sent without it, and a uuid.UUID still is one. A fresh
    interpreter, as a plain install: without what this environment has and httpx and httpcore import
    when they can (bench/run.py's NOT_IN_A_PLAIN_INSTALL; click imports uuid)."""
    import subprocess
    import sys

    server.reply(Reply(200, {"data": []}), Reply(200, {"data": message_example()}))
    profile = "4000eba1-a0c0-4563-9925-b25e842a7cb6"
    code = (
        "import sys\n"
        "sys.modules.update(dict.fromkeys(('click', 'rich', 'pygments', 'trio'), None))\n"
        "from telnyx_messages import Telnyx\n"
        "from telnyx_messages._api.types import UUID\n"
        f"client = Telnyx(api_key='k', base_url={server.base_url!r}, max_retries=0)\n"
        f"client.messages.retrieve_group_messages({GROUP_ID!r})\n"
        f"client.messages.send_number_pool(messaging_profile_id={profile!r}, to='+13125550002', text='hi')\n"
        "print('uuid' in sys.modules, isinstance(object(), UUID), 'uuid' in sys.modules)\n"
        "import uuid\n"
        f"print(isinstance(uuid.UUID({profile!r}), UUID), isinstance({profile!r}, UUID), type(UUID({profile!r})))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.splitlines() == ["False False False", "True False <class 'uuid.UUID'>"]
    group, sent = server.received
    assert group.path == f"/messages/group/{GROUP_ID}"
    assert sent.json()["messaging_profile_id"] == profile


def test_401_raises_with_the_parsed_errors(server: LoopbackServer) -> None:
    errors = {"errors": [{"code": "10009", "title": "Authentication failed", "detail": "The API key is wrong."}]}
    server.reply(Reply(401, errors, headers={"x-request-id": "req-1"}))
    with client_for(server) as client, pytest.raises(AuthenticationError) as caught:
        client.messages.retrieve_group_messages(GROUP_ID)
    error = caught.value
    assert error.status_code == 401
    assert error.request_id == "req-1"
    assert [(e.code, e.title, e.detail) for e in error.errors] == [
        ("10009", "Authentication failed", "The API key is wrong.")
    ]
    assert str(error) == "401 Unauthorized: 10009 The API key is wrong."


def test_404_raises_not_found(server: LoopbackServer) -> None:
    server.reply(Reply(404, {"errors": [{"code": "10005", "title": "Resource not found"}]}))
    with client_for(server) as client, pytest.raises(NotFoundError) as caught:
        client.messages.retrieve_group_messages(GROUP_ID)
    assert caught.value.status_code == 404
    assert caught.value.errors[0].title == "Resource not found"


def test_422_message_names_code_detail_and_pointer(server: LoopbackServer) -> None:
    body = {
        "errors": [
            {
                "code": "40310",
                "title": "Invalid 'to' address",
                "detail": "Invalid 'to' address",
                "source": {"pointer": "/to"},
            }
        ]
    }
    server.reply(Reply(422, body), Reply(422, body), Reply(422, body))
    with client_for(server) as client, pytest.raises(UnprocessableEntityError) as caught:
        client.messages.send(to="+1", text="x", idempotency_key=None)
    assert str(caught.value) == "422 Unprocessable Content: 40310 Invalid 'to' address (at /to)"
    assert caught.value.errors[0].pointer == "/to"
    # A key made for the call is new to it: the error carries it, and the message names no reuse.
    with client_for(server) as client, pytest.raises(UnprocessableEntityError) as caught:
        client.messages.send(to="+1", text="x")
    key = caught.value.idempotency_key
    assert key is not None and server.received[-1].headers["Idempotency-Key"] == key
    assert str(caught.value) == "422 Unprocessable Content: 40310 Invalid 'to' address (at /to)"
    # A key the caller gave: the message names it and the other cause of a 422.
    with client_for(server) as client, pytest.raises(UnprocessableEntityError) as caught:
        client.messages.send(to="+1", text="x", idempotency_key="order-9")
    assert str(caught.value) == (
        "422 Unprocessable Content: 40310 Invalid 'to' address (at /to) (Idempotency-Key order-9: the API also "
        "answers 422 when a key is reused with a different request)"
    )


@pytest.mark.parametrize(
    ("reply", "error", "text"),
    [
        (
            Reply(502, b"<html><body>Bad gateway</body></html>", {"Content-Type": "text/html"}),
            InternalServerError,
            "502",
        ),
        (Reply(503, b""), InternalServerError, "(empty body)"),
        (Reply(520, b"oops"), InternalServerError, "520 Unknown Status: oops"),
        (Reply(418, {"title": "teapot"}), APIStatusError, "418"),
        (Reply(200, b"{not json"), APIResponseValidationError, "does not parse: JSONDecodeError: Expecting"),
        (Reply(200, b""), APIResponseValidationError, "does not parse: JSONDecodeError: Expecting value"),
        (Reply(200, {"data": "not a list"}), APIResponseValidationError, "does not parse"),
        (Reply(200, [1, 2]), APIResponseValidationError, "does not parse"),
    ],
)
def test_every_server_fault_ends_in_the_hierarchy(
    server: LoopbackServer, reply: Reply, error: type[Exception], text: str
) -> None:
    server.default = reply
    with client_for(server, max_retries=0) as client, pytest.raises(error) as caught:
        client.messages.retrieve_group_messages(GROUP_ID)
    assert type(caught.value) is error
    assert text in str(caught.value)


def test_connection_refused_is_a_connection_error() -> None:
    from prism import free_port

    client = Telnyx(api_key=API_KEY, base_url=f"http://127.0.0.1:{free_port()}", max_retries=0)
    with client, pytest.raises(APIConnectionError):
        client.messages.retrieve_group_messages(GROUP_ID)


def test_retrieve_dispatches_on_direction_even_with_unknown_values(
    server: LoopbackServer, spec: dict[str, Any]
) -> None:
    inbound = inbound_message_example()
    inbound["to"][0]["status"] = "a-status-from-the-future"
    outbound = message_example()
    server.reply(Reply(200, {"data": inbound}), Reply(200, {"data": outbound}))
    with client_for(server) as client:
        first = client.messages.retrieve(str(uuid.uuid4())).data
        second = client.messages.retrieve(uuid.uuid4()).data
    assert isinstance(first, InboundMessagePayload)
    assert isinstance(second, OutboundMessagePayload)
    assert normalised(first.to_dict(mode="json")) == normalised(inbound)


def test_the_server_moving_ahead_of_the_spec_does_not_break_parsing(
    server: LoopbackServer, spec: dict[str, Any]
) -> None:
    example = message_example()
    example["to"][0]["status"] = "teleported"  # a new enum value
    example["to"][0]["line_type"] = "Satellite"
    example["brand_new_field"] = {"nested": [1, 2]}  # a new field
    example["text"] = None  # a null where the spec says string
    example["parts"] = None
    server.reply(Reply(200, {"data": [example]}))
    with client_for(server) as client:
        (message,) = client.messages.retrieve_group_messages(GROUP_ID).data
    status = message.to[0].status
    assert status == "teleported" and status.value == "teleported" and not status.is_known
    assert message.to[0].line_type.value == "Satellite"
    assert message.additional_properties["brand_new_field"] == {"nested": [1, 2]}
    assert not message.text  # unset, and the null is kept
    assert normalised(message.to_dict(mode="json")) == normalised(example)


def test_key_never_appears_in_reprs_errors_or_logs(
    server: LoopbackServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    logging.getLogger("httpcore").setLevel(logging.DEBUG)
    logging.getLogger("httpx2").setLevel(logging.DEBUG)
    logging.getLogger("httpcore2").setLevel(logging.DEBUG)
    server.default = Reply(401, {"errors": [{"code": "1", "title": "no"}]})
    client = client_for(server, max_retries=1)
    texts = [repr(client), repr(client.with_options(max_retries=0)), str(client.__dict__.get("_config"))]
    for call in (lambda: client.messages.retrieve_group_messages(GROUP_ID), lambda: client.messages.send(to="+1")):
        with pytest.raises(TelnyxError) as caught:
            call()
        texts += [str(caught.value), repr(caught.value), repr(caught.value.__dict__)]
    texts.append(caplog.text)
    assert caplog.text  # logging was on
    for text in texts:
        assert API_KEY not in text


def test_with_options_shares_the_pool(server: LoopbackServer) -> None:
    client = client_for(server)
    other = client.with_options(timeout=3.0, max_retries=5)
    assert other._http is client._http
    assert (other.timeout, other.max_retries) == (3.0, 5)
    assert client.max_retries == 2
    server.reply(Reply(200, {"data": []}))
    assert client.messages.retrieve_group_messages(GROUP_ID).data == []


def test_the_callers_http_client_is_used(server: LoopbackServer) -> None:
    seen: list[httpx2.Request] = []
    http = httpx2.Client(event_hooks={"request": [seen.append]})
    server.reply(Reply(200, {"data": []}))
    with Telnyx(api_key=API_KEY, base_url=server.base_url, http_client=http) as client:
        client.messages.retrieve_group_messages(GROUP_ID)
    assert len(seen) == 1


def test_raw_response_gives_status_headers_and_model(server: LoopbackServer, spec: dict[str, Any]) -> None:
    server.reply(Reply(200, {"data": message_example()}, headers={"x-request-id": "r9"}))
    with client_for(server) as client:
        raw = client.messages.with_raw_response.retrieve(GROUP_ID)
    assert raw.status_code == 200
    assert raw.headers["x-request-id"] == "r9"
    assert isinstance(raw.parsed.data, OutboundMessagePayload)
    assert raw.parse() is raw.parsed


async def test_async_raw_response(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": []}, headers={"x-request-id": "r10"}))
    async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
        raw = await client.messages.with_raw_response.retrieve_group_messages(GROUP_ID)
    assert raw.status_code == 200 and raw.headers["x-request-id"] == "r10"
    assert raw.parsed.data == []


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (403, "PermissionDeniedError"),
        (404, "NotFoundError"),
        (409, "ConflictError"),
        (422, "UnprocessableEntityError"),
        (429, "RateLimitError"),
        (500, "InternalServerError"),
        (599, "InternalServerError"),
        (402, "APIStatusError"),
        (302, "APIStatusError"),
    ],
)
def test_each_status_has_its_exception(server: LoopbackServer, status: int, name: str) -> None:
    import telnyx_messages

    server.default = Reply(status, {"errors": [{"code": "1", "title": "t"}]}, {"Location": "http://other.example/"})
    with client_for(server, max_retries=0) as client, pytest.raises(telnyx_messages.APIStatusError) as caught:
        client.messages.retrieve_group_messages(GROUP_ID)
    assert type(caught.value).__name__ == name
    assert caught.value.status_code == status
    assert isinstance(caught.value, telnyx_messages.APIError)
    assert len(server.received) == 1  # a redirect is not followed


def test_telnyx_log_switches_logging_on(server: LoopbackServer) -> None:
    import os
    import subprocess
    import sys

    server.reply(Reply(200, {"data": []}))
    code = (
        "from telnyx_messages import Telnyx; "
        f"Telnyx(api_key={API_KEY!r}, base_url={server.base_url!r}).messages.retrieve_group_messages({GROUP_ID!r})"
    )
    env = {**os.environ, "TELNYX_LOG": "info"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert f"GET /messages/group/{GROUP_ID} -> 200" in result.stderr
    assert API_KEY not in result.stderr
    server.reply(Reply(200, {"data": []}))
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "telnyx_messages" not in quiet.stderr


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.255.3.9",
        "::1",
        "0:0:0:0:0:0:0:1",
        "localhost",
        "10.0.0.1",
        "1.2.3.4",
        "::2",
        "::",
        "127.1",
        "example.com",
        "127.0.0.1.example.com",
        "::ffff:127.0.0.1",
        "256.0.0.1",
        "",
    ],
)
def test_loopback_hosts_are_those_ipaddress_names(host: str) -> None:
    import ipaddress

    from telnyx_messages._config import is_loopback

    try:
        expected = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        expected = False
    assert is_loopback(host) is expected


CLIENT_CLASSES = pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])


@CLIENT_CLASSES
def test_the_repr_names_the_class_base_url_and_retries(client_class: type[Telnyx]) -> None:
    client = client_class(api_key=API_KEY, base_url="http://127.0.0.1:9/v2", max_retries=3)
    expected = f"{client_class.__name__}(base_url='http://127.0.0.1:9/v2', max_retries=3)"
    assert repr(client) == expected
    assert repr(client.with_options(max_retries=0)) == expected.replace("max_retries=3", "max_retries=0")


def test_a_copy_made_after_the_original_was_used_calls_with_its_own_options(server: LoopbackServer) -> None:
    server.default = Reply(200, {"data": []})
    with client_for(server, max_retries=2) as client:
        original_messages = client.messages  # cached on the original before the copy is made
        copy = client.with_options(max_retries=0)
        assert copy.messages is not original_messages
        server.reply(Reply(503, b"", {"retry-after-ms": "5"}))
        with pytest.raises(InternalServerError):
            copy.messages.retrieve_group_messages(GROUP_ID)
        assert len(server.received) == 1
        server.reply(Reply(503, b"", {"retry-after-ms": "5"}))
        assert client.messages.retrieve_group_messages(GROUP_ID).data == []
        assert len(server.received) == 3


def test_a_copy_makes_its_own_of_a_resource_added_later() -> None:
    """with_options resets every cached resource, a subclass's too, not a list of names it knows."""
    from functools import cached_property

    class WithReports(Telnyx):
        @cached_property
        def reports(self) -> tuple[str, int]:  # a resource added after with_options was written
            return (self.base_url, self.max_retries)

    client = WithReports(api_key=API_KEY, base_url="https://one.example/v2", max_retries=2)
    assert client.reports == ("https://one.example/v2", 2)  # cached on the original first
    copy = client.with_options(base_url="https://two.example/v2", max_retries=0)
    assert copy.reports == ("https://two.example/v2", 0)
    assert client.reports == ("https://one.example/v2", 2)
    assert copy.with_raw_response is not client.with_raw_response


def test_a_copy_keeps_the_permission_for_plain_http_and_names_bad_default_headers() -> None:
    client = Telnyx(api_key=API_KEY, base_url="http://example.com", allow_insecure_http=True)
    assert client.with_options(base_url="http://example.org/v2").base_url == "http://example.org/v2"
    with pytest.raises(ValueError) as caught:
        client.with_options(default_headers={"X-Team": "a\r\nb"})
    assert str(caught.value) == "default_headers: the value of X-Team holds a line break or NUL"


@CLIENT_CLASSES
def test_a_body_that_does_not_decode_reads_as_a_502(client_class: type[Telnyx], server: LoopbackServer) -> None:
    import asyncio

    server.default = Reply(200, b'{"data": []}', {"Content-Encoding": "gzip"})
    client = client_for(server, client_class, max_retries=0)
    with pytest.raises(APIResponseValidationError) as caught:
        result = client.messages.retrieve_group_messages(GROUP_ID)
        if asyncio.iscoroutine(result):
            asyncio.run(result)
    assert caught.value.status_code == 502
    assert str(caught.value).startswith("502 response body does not decode (DecodingError): ")
    assert caught.value.request is not None and caught.value.request.url.path == f"/messages/group/{GROUP_ID}"


def test_an_httpx_error_of_no_known_kind_is_a_connection_error_with_its_request() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.TooManyRedirects("the transport gave up", request=request)

    http_client = httpx2.Client(transport=httpx2.MockTransport(refuse))
    client = Telnyx(api_key=API_KEY, base_url="http://127.0.0.1:9", http_client=http_client, max_retries=0)
    with pytest.raises(APIConnectionError) as caught:
        client.messages.retrieve(GROUP_ID)
    assert str(caught.value) == "Request failed (TooManyRedirects): the transport gave up"
    assert caught.value.request is not None and caught.value.request.url.path == f"/messages/{GROUP_ID}"


@CLIENT_CLASSES
def test_the_default_timeout_is_60_seconds_for_reads_and_5_to_connect(client_class: type[Telnyx]) -> None:
    client = client_class(api_key=API_KEY)
    assert client.timeout == httpx2.Timeout(60.0, connect=5.0)
    assert client.max_retries == 2 and client.base_url == "https://api.telnyx.com/v2"


@CLIENT_CLASSES
@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(500, b"\xff\xfe not utf-8"), "500 Internal Server Error: \ufffd\ufffd not utf-8"),
        (Reply(500, ("x" + "\u00e9" * 150).encode()), "500 Internal Server Error: x" + "\u00e9" * 99 + "\ufffd"),
        (
            Reply(
                422,
                {"errors": [{"code": "10004", "title": "Bad", "detail": "is required", "source": {"parameter": "to"}}]},
            ),
            "422 Unprocessable Content: 10004 is required (at to)",
        ),
        (
            Reply(
                400,
                {
                    "errors": [
                        {"code": "1", "title": "Bad", "detail": "", "source": {"pointer": "/text"}},
                        {"code": "2"},
                    ]
                },
            ),
            "400 Bad Request: 1 Bad (at /text); 2",
        ),
        (
            Reply(400, {"title": "Invalid request", "detail": "text is too long"}),
            "400 Bad Request: Invalid request: text is too long",
        ),
        (Reply(418, b""), "418 I'm a teapot: (empty body)"),
    ],
)
def test_an_error_body_becomes_a_readable_message(
    client_class: type[Telnyx], server: LoopbackServer, reply: Reply, message: str
) -> None:
    from .support.server import use_client

    server.default = reply
    with pytest.raises(APIStatusError) as caught:
        use_client(client_class, server.base_url, lambda m: m.retrieve(GROUP_ID), max_retries=0)
    assert str(caught.value) == message
    if reply.status == 400 and caught.value.errors:
        assert caught.value.errors[0].detail is None and caught.value.errors[1].pointer is None  # "" and absent: None
    if reply.status == 422:
        (detail,) = caught.value.errors
        assert (detail.code, detail.title, detail.detail, detail.pointer, detail.parameter) == (
            "10004", "Bad", "is required", None, "to"
        )  # fmt: skip


@CLIENT_CLASSES
def test_error_entries_of_the_wrong_shape_are_skipped_not_fatal(
    client_class: type[Telnyx], server: LoopbackServer
) -> None:
    from .support.server import use_client

    body = {"errors": [5, "text", {"title": "No code"}, {"code": 10005, "title": "Not found", "source": "x"}]}
    server.default = Reply(404, body, {"X-Request-ID": "req-7"})
    with pytest.raises(NotFoundError) as caught:
        use_client(client_class, server.base_url, lambda m: m.retrieve(GROUP_ID), max_retries=0)
    error = caught.value
    assert [(e.code, e.title) for e in error.errors] == [("", "No code"), ("10005", "Not found")]
    assert str(error) == "404 Not Found: No code; 10005 Not found"
    assert error.request_id == "req-7" and error.headers["content-type"] == "application/json"
    assert error.body == body and error.response.status_code == 404


@CLIENT_CLASSES
def test_a_validation_error_keeps_the_response(client_class: type[Telnyx], server: LoopbackServer) -> None:
    from .support.server import use_client

    server.default = Reply(200, b"<html>maintenance</html>", {"Content-Type": "text/html", "X-Request-ID": "r9"})
    with pytest.raises(APIResponseValidationError) as caught:
        use_client(client_class, server.base_url, lambda m: m.retrieve(GROUP_ID), max_retries=0)
    error = caught.value
    assert error.response is not None and error.response.text == "<html>maintenance</html>"
    assert error.status_code == 200 and error.headers["x-request-id"] == "r9"


def test_the_types_module_lists_every_model_and_the_webhook_types() -> None:
    import telnyx_messages.types as types_module

    names = dir(types_module)
    assert {"WebhookEvent", "UnknownWebhookEvent", "MessageSendResponse", "OutboundMessagePayload"} <= set(names)
    assert all(getattr(types_module, name) is not None for name in names if not name.startswith("_"))


@pytest.mark.parametrize(
    ("setting", "level"), [("debug", logging.DEBUG), (" INFO ", logging.INFO), ("", None), ("verbose", None)]
)
def test_telnyx_log_names_the_level_of_a_stderr_handler(setting: str, level: int | None) -> None:
    from telnyx_messages import _logging

    logger = logging.getLogger("telnyx_messages")
    before_handlers, before_level = list(logger.handlers), logger.level
    try:
        _logging.configure(setting)
        added = [h for h in logger.handlers if h not in before_handlers]
        if level is None:
            assert added == [] and logger.level == before_level
            return
        (handler,) = added
        assert isinstance(handler, logging.StreamHandler) and logger.level == level
        record = logging.LogRecord("telnyx_messages", logging.INFO, __file__, 1, "GET /x -> 200", None, None)
        assert handler.format(record).endswith(" telnyx_messages INFO] GET /x -> 200")
        assert handler.format(record).startswith("[")
    finally:
        logger.handlers[:] = before_handlers
        logger.setLevel(before_level)


@CLIENT_CLASSES
@pytest.mark.parametrize(
    ("public_key", "says"),
    [
        ("not-base64!!", "the public key given is not valid base64"),
        ("AAAA", "the public key given is the base64 of 3 bytes, not of a 32-byte Ed25519 key"),
        ("", "no public key to verify webhooks with"),
    ],
    ids=["not base64", "3 bytes", "empty"],
)
def test_a_malformed_public_key_is_refused_where_the_client_is_made(
    client_class: type[Telnyx], public_key: str, says: str
) -> None:
    from telnyx_messages import webhooks

    with pytest.raises(webhooks.PublicKeyError) as caught:
        client_class(api_key=API_KEY, public_key=public_key)
    error = caught.value
    assert str(error).startswith(f"public_key of {client_class.__name__}: {says}")
    assert "\n" not in str(error) and (not public_key or public_key not in str(error))
    assert isinstance(error, ValueError) and not isinstance(error, webhooks.WebhookVerificationError)
    assert error.__cause__ is None and error.__suppress_context__


@CLIENT_CLASSES
def test_a_well_formed_public_key_is_taken_and_none_is_asked_for(
    client_class: type[Telnyx], monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    good = base64.b64encode(bytes(range(32))).decode()
    assert client_class(api_key=API_KEY, public_key=good).webhooks is not None
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", "not-base64!!")
    client_class(api_key=API_KEY)  # a key is checked where webhooks are verified, not by every client


def _authorizations(received: Any) -> list[tuple[str, str]]:
    return [(name, value) for name, value in received.headers.items() if name.lower() == "authorization"]


def test_a_copy_with_another_key_and_query_sends_them_once_over_the_originals(server: LoopbackServer) -> None:
    server.default = Reply(200, {"data": []}, headers={"x-request-id": "r-copy"})
    with client_for(server, default_query={"a": "1"}) as client:
        copy = client.with_options(api_key="KEY-other", default_query={"b": "2"})
        result = copy.messages.retrieve_group_messages(GROUP_ID)
        client.messages.retrieve_group_messages(GROUP_ID)
    assert result._request_id == "r-copy"
    from_copy, from_client = server.received
    assert _authorizations(from_copy) == [("Authorization", "Bearer KEY-other")]
    assert _authorizations(from_client) == [("Authorization", f"Bearer {API_KEY}")]
    assert from_copy.path.endswith("?a=1&b=2") and from_client.path.endswith("?a=1")


async def test_an_async_client_it_made_sends_the_key_and_its_name_and_follows_no_redirect(
    server: LoopbackServer,
) -> None:
    server.reply(Reply(302, b"", headers={"Location": "/elsewhere"}))
    async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url, max_retries=0) as client:
        with pytest.raises(APIStatusError) as answered:
            await client.with_raw_response.messages.retrieve_group_messages(GROUP_ID)
    (received,) = server.received  # the redirect not followed
    assert answered.value.status_code == 302
    assert _authorizations(received) == [("Authorization", f"Bearer {API_KEY}")]
    assert received.headers["User-Agent"].startswith("telnyx-messages-python")


@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
async def test_a_raw_response_counts_the_retries_it_took_and_a_raw_calls_error_has_its_key(
    server: LoopbackServer, client_class: type[Any]
) -> None:
    busy, ok = Reply(503, b"", headers={"retry-after-ms": "1"}), Reply(200, {"data": []})
    for reply in (busy, busy, ok, ok, busy, busy, busy):
        server.reply(reply)
    client = client_class(api_key=API_KEY, base_url=server.base_url, max_retries=2)

    async def called(call: Any) -> Any:
        result = call()
        return await result if client_class is AsyncTelnyx else result

    retried = await called(lambda: client.messages.with_raw_response.retrieve_group_messages(GROUP_ID))
    once = await called(lambda: client.messages.with_raw_response.retrieve_group_messages(GROUP_ID))
    assert (retried.retries_taken, once.retries_taken) == (2, 0)
    with pytest.raises(APIStatusError) as failed:
        await called(lambda: client.messages.with_raw_response.send(to="+13125550002", idempotency_key="key-raw"))
    assert failed.value.status_code == 503 and failed.value.idempotency_key == "key-raw"
    await called(client.close)


def _headers_then_a_stalled_body() -> Iterator[bytes | float]:
    """A 200 whose chunked body starts, then stalls longer than the call's timeout."""
    yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    yield b'9\r\n{"data": \r\n'
    for _ in range(60):
        yield 0.1


@pytest.mark.parametrize("client_class", [Telnyx, AsyncTelnyx])
async def test_a_streamed_call_hands_out_the_response_and_its_first_bytes_before_the_body_ends(
    client_class: type[Any],
) -> None:
    """The streaming form does not read the body before handing the response out: status and the
    first chunk come while the rest of the body is still to come (reading it whole would wait out the
    3 s timeout and fail)."""
    with RawServer(_headers_then_a_stalled_body) as server:
        client = client_class(api_key=API_KEY, base_url=server.base_url, max_retries=0, timeout=3.0)
        started = time.monotonic()
        if client_class is Telnyx:
            with client.messages.with_streaming_response.retrieve_group_messages(GROUP_ID) as response:
                chunks = response.iter_bytes()
                status, first = response.status_code, next(chunks)
                elapsed = time.monotonic() - started
                assert not response.is_closed
            client.close()
        else:
            async with client.messages.with_streaming_response.retrieve_group_messages(GROUP_ID) as response:
                achunks = response.iter_bytes()
                status, first = response.status_code, await anext(achunks)
                elapsed = time.monotonic() - started
                assert not response.is_closed
            await client.close()
    assert (status, first) == (200, b'{"data": ')
    assert elapsed < 1.5, elapsed
