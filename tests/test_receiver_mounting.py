"""The receiver where users put it: the README's FastAPI and Flask examples (read from the README;
they type-check under mypy --strict and Pyright) and the ASGI and WSGI apps mounted in FastAPI and
Flask, each served by a real server on 127.0.0.1 (uvicorn, waitress) and posted to over HTTP; and
what the bare apps answer to what is not a webhook (another method, path, an oversized body)."""

from __future__ import annotations

import http.client
import io
import re
import runpy
import sqlite3
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from flask import Flask
from telnyx_messages.receiver import ASGIReceiver, Receiver, StoreClosedError, WSGIReceiver
from telnyx_messages.testing import FakeTelnyx
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from .support import ROOT, typecheck
from .support.receiver_events import FINALIZED, SENT, Event, post_all, sign_body
from .support.receiver_inprocess import asgi_serving, wsgi_serving
from .support.typecheck import Checked

README = (ROOT / "README.md").read_text()
_BLOCKS = re.findall(r"```python\n(.*?)```", README.split("\n### Knowing what was delivered\n", 1)[1], re.S)
# The README's examples, as written there: the one mounting the receiver in FastAPI, the one in Flask.
(FASTAPI_EXAMPLE,) = [block for block in _BLOCKS if block.startswith("from fastapi import")]
(FLASK_EXAMPLE,) = [block for block in _BLOCKS if block.startswith("from flask import")]
EXAMPLES = {
    "fastapi": typecheck.program("receiver_fastapi_example", FASTAPI_EXAMPLE),
    "flask": typecheck.program("receiver_flask_example", FLASK_EXAMPLE),
}
RECIPIENT = "+13125550002"


def test_the_examples_type_check(type_checked: Checked) -> None:
    for name in EXAMPLES.values():
        assert type_checked.errors(name) == [], type_checked.report(name)


def test_the_examples_type_check_under_pyright(pyright_checked: Checked) -> None:
    for name in EXAMPLES.values():
        assert pyright_checked.errors(name) == [], pyright_checked.report(name)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeTelnyx:
    fake = FakeTelnyx()
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", fake.public_key)
    return fake


def _events(fake: FakeTelnyx) -> tuple[Event, Event, Event]:
    """A message's sent and finalized updates, and the finalized one with its body changed."""
    sent = fake.client().messages.send(to=RECIPIENT, from_="+18445550001", text="Hi")
    assert sent.data is not None
    message = sent.data.to_dict(mode="json")
    message_id = str(message["id"])

    def event(event_type: str, status: str) -> Event:
        body, headers = fake.webhook(event_type, {**message, "to": [{"phone_number": RECIPIENT, "status": status}]})
        return Event(0, message_id, event_type, body, headers)

    final = event(FINALIZED, "delivered")
    tampered = Event(0, message_id, FINALIZED, final.body.replace(b'"delivered"', b'"sending"'), final.headers)
    return event(SENT, "sent"), final, tampered


def _post_in_order(port: int, events: list[Event], path: str) -> list[tuple[int | None, str]]:
    return [(r.status, r.text) for event in events for r in post_all(port, [event], threads=1, path=path)]


EXPECTED = [
    (200, "recorded"),  # finalized first
    (200, "recorded"),  # then sent: recorded, the status stays delivered
    (200, "duplicate: recorded before"),
    (401, "the signature does not match the payload"),
]


def _statuses(store: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT recipient, status FROM deliveries").fetchall()


def _example(source: str, tmp_path: Path, name: str) -> dict[str, Any]:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return runpy.run_path(str(path))


def test_the_fastapi_example_under_uvicorn(fake: FakeTelnyx, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    sent, final, tampered = _events(fake)
    store = tmp_path / "receipts.db"
    body, headers = fake.webhook("message.received", final.message_id)  # a reply: the callback prints its text
    inbound = Event(0, final.message_id, "message.received", body, headers)
    app = _example(FASTAPI_EXAMPLE, tmp_path, "fastapi_example")["create_app"](str(store))
    with asgi_serving(app) as port:
        assert _post_in_order(port, [final, sent, final, tampered], "/webhooks/telnyx") == EXPECTED
        assert _post_in_order(port, [inbound, inbound], "/webhooks/telnyx") == [
            (200, "recorded"),
            (200, "duplicate: recorded before"),
        ]
    assert _statuses(store) == [(RECIPIENT, "delivered")]
    assert capfd.readouterr().out.count("received: Hi") == 1  # the callback, once per new event


def test_the_flask_example_under_waitress(fake: FakeTelnyx, tmp_path: Path) -> None:
    sent, final, tampered = _events(fake)
    store = tmp_path / "receipts.db"
    app = _example(FLASK_EXAMPLE, tmp_path, "flask_example")["create_app"](str(store))
    with wsgi_serving(app) as port:
        assert _post_in_order(port, [final, sent, final, tampered], "/webhooks/telnyx") == EXPECTED
    assert _statuses(store) == [(RECIPIENT, "delivered")]


def test_the_asgi_app_mounted_in_fastapi(fake: FakeTelnyx, tmp_path: Path) -> None:
    sent, final, tampered = _events(fake)
    store = tmp_path / "receipts.db"
    app = FastAPI()
    app.mount("/webhooks/telnyx", ASGIReceiver(Receiver(store)))
    with asgi_serving(app) as port:
        # Starlette answers a mount's own path with a redirect to it with a slash; Telnyx is given that one.
        assert _post_in_order(port, [final, sent, final, tampered], "/webhooks/telnyx/") == EXPECTED
    assert _statuses(store) == [(RECIPIENT, "delivered")]


def test_the_wsgi_app_mounted_beside_a_flask_app(fake: FakeTelnyx, tmp_path: Path) -> None:
    sent, final, tampered = _events(fake)
    store = tmp_path / "receipts.db"
    flask_app = Flask("shop")
    flask_app.add_url_rule("/", "home", lambda: "home")
    flask_app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        flask_app.wsgi_app, {"/webhooks/telnyx": WSGIReceiver(Receiver(store))}
    )
    with wsgi_serving(flask_app) as port:
        assert _post_in_order(port, [final, sent, final, tampered], "/webhooks/telnyx") == EXPECTED
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/")
        assert connection.getresponse().read() == b"home"  # the app beside it is untouched
        connection.close()
    assert _statuses(store) == [(RECIPIENT, "delivered")]


def _request(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, str, str | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body or None)
        answer = connection.getresponse()
        return answer.status, answer.read().decode(), answer.getheader("allow")
    finally:
        connection.close()


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_what_is_not_a_webhook_request_gets_its_4xx(kind: str, fake: FakeTelnyx, tmp_path: Path) -> None:
    receiver = Receiver(tmp_path / "receipts.db")
    if kind == "asgi":
        serving = asgi_serving(ASGIReceiver(receiver, path="/hooks", max_body=1000))
    else:
        serving = wsgi_serving(WSGIReceiver(receiver, path="/hooks", max_body=1000))
    with serving as port:
        assert _request(port, "GET", "/hooks") == (405, "POST only", "POST")
        assert _request(port, "POST", "/elsewhere", b"{}") == (404, "not found", None)
        assert _request(port, "POST", "/hooks", b"x" * 1001) == (413, "the body is over 1000 bytes", None)
        assert _request(port, "POST", "/hooks", b"{}") == (400, "missing header telnyx-signature-ed25519", None)
    assert list(receiver.event_ids()) == []
    receiver.close()


def _exchange(
    port: int, method: str, path: str, body: bytes | list[bytes] = b"", headers: dict[str, str] | None = None
) -> tuple[int, str, str, dict[str, str]]:
    """(status, reason, text, headers) of one request; a list body goes chunked, one chunk an item."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if isinstance(body, list):
            connection.request(method, path, body=iter(body), headers=headers or {}, encode_chunked=True)
        else:
            connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        text = answer.read().decode()
        return answer.status, answer.reason, text, {k.lower(): v for k, v in answer.getheaders()}
    finally:
        connection.close()


def _serving(kind: str, receiver: Receiver, **options: Any) -> Any:
    if kind == "asgi":
        return asgi_serving(ASGIReceiver(receiver, **options))
    return wsgi_serving(WSGIReceiver(receiver, **options))


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_each_answer_has_its_reason_and_a_plain_text_body_of_its_length(
    kind: str, fake: FakeTelnyx, tmp_path: Path
) -> None:
    _, final, tampered = _events(fake)
    receiver = Receiver(tmp_path / "receipts.db")
    with _serving(kind, receiver, path="/hooks", max_body=len(final.body)) as port:
        answers = [
            _exchange(port, "POST", "/hooks", final.body, final.headers),
            _exchange(port, "POST", "/hooks", tampered.body, tampered.headers),
            _exchange(port, "POST", "/hooks", b"{}"),
            _exchange(port, "GET", "/hooks"),
            _exchange(port, "POST", "/other", b"{}"),
            _exchange(port, "POST", "/hooks", final.body + b" ", final.headers),
        ]
    expected = [
        (200, "recorded"),
        (401, "the signature does not match the payload"),
        (400, "missing header telnyx-signature-ed25519"),
        (405, "POST only"),
        (404, "not found"),
        (413, f"the body is over {len(final.body)} bytes"),  # one byte over the most it takes
    ]
    assert [(status, text) for status, _, text, _ in answers] == expected
    for status, reason, text, headers in answers:
        assert reason == HTTPStatus(status).phrase
        assert headers["content-type"] == "text/plain; charset=utf-8"
        assert headers["content-length"] == str(len(text.encode()))
    assert answers[3][3]["allow"] == "POST"
    receiver.close()


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_a_chunked_body_is_read_whole_and_its_size_counted_across_chunks(
    kind: str, fake: FakeTelnyx, tmp_path: Path
) -> None:
    sent, final, _ = _events(fake)
    receiver = Receiver(tmp_path / "receipts.db")
    third = len(final.body) // 3
    pieces = [final.body[:third], final.body[third : 2 * third], final.body[2 * third :]]
    with _serving(kind, receiver, max_body=len(final.body)) as port:
        assert _exchange(port, "POST", "/", pieces, final.headers)[2] == "recorded"
        over = [sent.body[:third], sent.body[third:] + b" " * (len(final.body) - len(sent.body) + 1)]
        assert _exchange(port, "POST", "/", over, sent.headers)[:3] == (413, HTTPStatus(413).phrase, over_text(final))
    assert [d.status for d in receiver.deliveries()] == ["delivered"]
    receiver.close()


def over_text(event: Event) -> str:
    return f"the body is over {len(event.body)} bytes"


def test_the_apps_answer_their_path_under_a_mount_or_a_root_path(fake: FakeTelnyx, tmp_path: Path) -> None:
    sent, final, _ = _events(fake)
    receiver = Receiver(tmp_path / "receipts.db")
    fastapi_app = FastAPI()
    fastapi_app.mount("/webhooks/telnyx", ASGIReceiver(receiver, path="/"))
    with asgi_serving(fastapi_app) as port:
        assert _exchange(port, "POST", "/webhooks/telnyx/", final.body, final.headers)[2] == "recorded"
        assert _exchange(port, "POST", "/webhooks/telnyx/x", final.body, final.headers)[0] == 404
    with asgi_serving(ASGIReceiver(receiver, path="/hooks"), root_path="/base") as port:
        assert _exchange(port, "POST", "/hooks", sent.body, sent.headers)[2] == "recorded"
        assert _exchange(port, "POST", "/base", sent.body, sent.headers)[0] == 404
    flask_app = Flask("shop")
    flask_app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        flask_app.wsgi_app, {"/webhooks/telnyx": WSGIReceiver(receiver, path="/")}
    )
    with wsgi_serving(flask_app) as port:
        assert _exchange(port, "POST", "/webhooks/telnyx", final.body, final.headers)[2] == "duplicate: recorded before"
        assert _exchange(port, "POST", "/webhooks/telnyx/x", final.body, final.headers)[0] == 404
    receiver.close()


def test_the_asgi_app_closes_its_receiver_at_the_server_s_shutdown(fake: FakeTelnyx, tmp_path: Path) -> None:
    _, final, _ = _events(fake)
    receiver = Receiver(tmp_path / "receipts.db")
    with asgi_serving(ASGIReceiver(receiver), lifespan="on") as port:
        assert _exchange(port, "POST", "/", final.body, final.headers)[2] == "recorded"
        assert [d.status for d in receiver.deliveries()] == ["delivered"]
    with pytest.raises(StoreClosedError, match="the receiver is closed"):
        list(receiver.deliveries())


async def test_the_asgi_app_serves_http_only_and_reads_what_came_before_a_disconnect(
    fake: FakeTelnyx, tmp_path: Path
) -> None:
    _, final, _ = _events(fake)
    receiver = Receiver(tmp_path / "receipts.db")
    app = ASGIReceiver(receiver)
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(dict(message))

    async def nothing() -> dict[str, Any]:
        raise AssertionError("not read")

    with pytest.raises(RuntimeError, match=r"^the Telnyx webhook receiver serves HTTP, not 'websocket'$"):
        await app({"type": "websocket", "path": "/"}, nothing, send)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": final.body[:50], "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    headers = [(k.encode(), v.encode()) for k, v in final.headers.items()]
    await app({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive, send)
    assert sent[0]["status"] == 401 and sent[1]["body"] == b"the signature does not match the payload"
    assert list(receiver.event_ids()) == []
    receiver.close()


async def _asgi_call(app: ASGIReceiver, scope: dict[str, Any], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What an ASGI app sends, called as a server calls it, given `messages` to receive in turn."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    return sent


async def test_the_asgi_app_reads_a_body_across_messages_as_the_asgi_spec_writes_them(
    fake: FakeTelnyx, tmp_path: Path
) -> None:
    sent, final, _ = _events(fake)
    receiver = Receiver(tmp_path / "receipts.db")
    app = ASGIReceiver(receiver, max_body=len(final.body))

    async def post(event: Event, messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        headers = [(k.encode(), v.encode()) for k, v in event.headers.items()]
        scope = {"type": "http", "method": "POST", "path": "/", "root_path": "", "headers": headers}
        answer = await _asgi_call(app, scope, messages)
        return answer[0]["status"], answer[1]["body"]

    third = len(final.body) // 3
    assert len(sent.body) < len(final.body)
    # In three messages, the last without a body or more_body (the ASGI spec's defaults: b"", False).
    pieces = [
        {"type": "http.request", "body": final.body[:third], "more_body": True},
        {"type": "http.request", "body": final.body[third:], "more_body": True},
        {"type": "http.request"},
    ]
    assert await post(final, pieces) == (200, b"recorded")
    # Each message under the limit, together one byte over it.
    over = [
        {"type": "http.request", "body": sent.body, "more_body": True},
        {"type": "http.request", "body": b" " * (len(final.body) - len(sent.body)), "more_body": True},
        {"type": "http.request", "body": b" ", "more_body": False},
    ]
    assert await post(sent, over) == (413, over_text(final).encode())
    assert [d.status for d in receiver.deliveries()] == ["delivered"]
    receiver.close()


async def test_the_asgi_app_takes_a_scope_without_its_optional_keys(fake: FakeTelnyx, tmp_path: Path) -> None:
    _, final, _ = _events(fake)
    receiver = Receiver(tmp_path / "receipts.db")
    app = ASGIReceiver(receiver, path="/hooks")
    request = [{"type": "http.request", "body": final.body}]
    # No root_path (the ASGI spec's default: ""), another path: 404.
    elsewhere = await _asgi_call(app, {"type": "http", "method": "POST", "path": "/other", "headers": []}, request)
    assert (elsewhere[0]["status"], elsewhere[1]["body"]) == (404, b"not found")
    # No headers at all (a test client's bare scope): the signature is missing.
    bare = await _asgi_call(app, {"type": "http", "method": "POST", "path": "/hooks"}, list(request))
    assert (bare[0]["status"], bare[1]["body"]) == (400, b"missing header telnyx-signature-ed25519")
    assert list(receiver.event_ids()) == []
    receiver.close()


async def test_the_asgi_app_answers_the_server_s_lifespan_and_closes_the_receiver_at_its_end(
    fake: FakeTelnyx, tmp_path: Path
) -> None:
    receiver = Receiver(tmp_path / "receipts.db")
    lifespan = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    answered = await _asgi_call(ASGIReceiver(receiver), {"type": "lifespan"}, lifespan)
    assert answered == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
    with pytest.raises(StoreClosedError):
        list(receiver.event_ids())


def _wsgi_call(
    app: WSGIReceiver, stream: bytes, length: str | None, headers: dict[str, str]
) -> tuple[str, dict[str, str], bytes]:
    """(status, headers by lowercase name, body) of a POST to `app` called as a WSGI server calls it,
    its input `stream`, its CONTENT_LENGTH `length` (None: not given)."""
    environ: dict[str, Any] = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "wsgi.input": io.BytesIO(stream)}
    environ |= {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    started: list[tuple[str, list[tuple[str, str]]]] = []
    body = b"".join(app(environ, lambda status, headers: started.append((status, headers))))
    ((status, found),) = started
    return status, {name.lower(): value for name, value in found}, body


def test_the_wsgi_app_reads_content_length_bytes_and_gives_its_answer_s_length(
    fake: FakeTelnyx, tmp_path: Path
) -> None:
    _, final, _ = _events(fake)
    receiver = Receiver(tmp_path / "receipts.db")
    app = WSGIReceiver(receiver)
    # The input runs on past the body (a server's stream): only CONTENT_LENGTH bytes are read.
    status, headers, body = _wsgi_call(app, final.body + b"more", str(len(final.body)), final.headers)
    assert (status, body) == ("200 OK", b"recorded")
    # Its own length, for servers that do not count (waitress does).
    assert (headers["content-length"], headers["content-type"]) == ("8", "text/plain; charset=utf-8")
    # A CONTENT_LENGTH that is not a count reads no body: here an empty body, signed, that is not JSON.
    _, empty_headers = sign_body(fake, b"")
    status, _, body = _wsgi_call(app, b"{", "not a count", empty_headers)
    assert (status, body.decode()) == (
        "400 Bad Request",
        "the payload is not JSON: Expecting value: line 1 column 1 (char 0)",
    )
    assert [d.status for d in receiver.deliveries()] == ["delivered"]
    receiver.close()
