"""The fake's delivery receipts (FakeTelnyx.deliver_receipts): the message.sent and message.finalized
webhooks of what it accepted, with the outcomes the test sets, signed with its key, delivered into a
real receiver (telnyx_messages.receiver) called in process (WSGI, ASGI) and through real servers on
127.0.0.1 (waitress, uvicorn); redelivered as Telnyx does (a try answered non-2xx or too slowly is
tried again, 3 tries in all, then at the failover); duplicated and reordered on request."""

from __future__ import annotations

import asyncio
import copy
import datetime
import json
import random
import socket
import textwrap
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from telnyx_messages import webhooks
from telnyx_messages.receiver import DELIVERY_STATUSES, ASGIReceiver, Receiver, WSGIReceiver
from telnyx_messages.testing import (
    Failure,
    FakeClock,
    FakeTelnyx,
    Outcomes,
    ReceiptReport,
    RecipientOutcome,
    Throughput,
)
from telnyx_messages.testing._spec import Spec

from .support.receiver_inprocess import wsgi_serving

SENT = "message.sent"
FINALIZED = "message.finalized"
FROM = "+18445550001"
FAILED = Failure("delivery_failed", 40008, title="Undeliverable", detail="the carrier refused it")
UNSENT = Failure("sending_failed", "40002")
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def _number(n: int) -> str:
    return f"+1312555{n:04d}"


def _send(fake: FakeTelnyx, count: int) -> list[str]:
    """A campaign-like batch: one message to each of `count` numbers; their ids."""
    client = fake.client()
    ids = []
    for n in range(count):
        sent = client.messages.send(to=_number(n), from_=FROM, text=f"Your order {n} shipped").data
        assert sent is not None and sent.id is not None
        ids.append(sent.id)
    return ids


@contextmanager
def _receiver(tmp_path: Path, fake: FakeTelnyx, name: str = "receipts.db") -> Iterator[Receiver]:
    with Receiver(tmp_path / name, public_key=fake.public_key, synchronous="NORMAL") as receiver:
        yield receiver


def _recorded(receiver: Receiver) -> dict[tuple[str, str], RecipientOutcome]:
    return {(d.message_id, d.recipient): RecipientOutcome(d.status, d.error_codes) for d in receiver.deliveries()}


def _asgi(app: Any) -> Any:
    """An ASGI app as a coroutine function of three arguments: what uvicorn and deliver_receipts tell
    an ASGI app by (under mutmut, ASGIReceiver.__call__ is a trampoline of *args that they would not)."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        await app(scope, receive, send)

    return asgi


@contextmanager
def _uvicorn(app: Any) -> Iterator[int]:
    """`app` under uvicorn in a thread until the block ends; its
    port. The listening socket has TCP_NODELAY, which the sockets it accepts inherit: without it,
    each answer waits out the client's delayed ACK (40 ms a POST where it takes 5)."""
    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", interface="asgi3")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Reply:
    """How the script answers one post: `status` without passing it on (None: the receiver's
    answer), after `delay` seconds."""

    status: int | None = None
    delay: float = 0.0


@dataclass
class Script:
    """A WSGI app over another: the first posts of each event type answered as `replies` says, every
    post recorded (body, headers)."""

    app: Any
    replies: dict[str, list[Reply]] = field(default_factory=dict)
    posts: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    answered: int = 0  # the WSGI calls that have returned

    def _reply(self, body: bytes, headers: dict[str, str]) -> Reply:
        event_type = json.loads(body)["data"]["event_type"]
        with self.lock:
            self.posts.append((body, headers))
            queued = self.replies.get(event_type) or []
            return queued.pop(0) if queued else Reply()

    def attempts(self, event_type: str) -> list[int]:
        documents = [json.loads(body) for body, _ in self.posts]
        return [d["meta"]["attempt"] for d in documents if d["data"]["event_type"] == event_type]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        reply = self._reply(body, headers)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.status is not None:
            start_response(f"{reply.status} {HTTPStatus(reply.status).phrase}", [("Content-Type", "text/plain")])
            answer: Iterable[bytes] = [b"scripted"]
        else:
            environ["wsgi.input"] = _Body(body)
            answer = self.app(environ, start_response)
        with self.lock:
            self.answered += 1
        return answer


class AsgiScript(Script):
    """The same over an ASGI app, as an ASGI app."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:  # type: ignore[override]
        message = await receive()
        body = message.get("body", b"")
        headers = {name.decode(): value.decode() for name, value in scope["headers"]}
        reply = self._reply(body, headers)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status is not None:
            await send({"type": "http.response.start", "status": reply.status, "headers": []})
            await send({"type": "http.response.body", "body": b"scripted"})
            return

        async def again() -> Any:
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, again, send)


def _any(value: object) -> Any:
    """A value of the wrong type, handed over as a user's untyped code would."""
    return value


def _ok(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b""]


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def read(self, size: int = -1) -> bytes:
        return self._body


# --- outcomes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_a_batch_in_process_ends_in_exactly_the_statuses_set(tmp_path: Path, interface: str) -> None:
    fake = FakeTelnyx()
    ids = _send(fake, 20)
    with _receiver(tmp_path, fake) as receiver:
        app = WSGIReceiver(receiver) if interface == "wsgi" else _asgi(ASGIReceiver(receiver))
        outcomes = Outcomes(failed={FAILED: 0.25, UNSENT: 0.1})
        report = fake.deliver_receipts(app, outcomes=outcomes, seed=3)
        recorded = _recorded(receiver)
    assert report.ok and report.unacknowledged == ()
    assert report.counts() == {"delivered": 13, "delivery_failed": 5, "sending_failed": 2}
    assert list(report.counts()) == [s for s in DELIVERY_STATUSES if s in report.counts()]  # the spec's order
    assert recorded == dict(report.outcomes)
    assert set(recorded) == {(message_id, _number(n)) for n, message_id in enumerate(ids)}
    codes = {outcome.status: outcome.error_codes for outcome in recorded.values()}
    assert codes == {"delivered": (), "delivery_failed": ("40008",), "sending_failed": ("40002",)}
    assert [t.target for t in report.tries] == [f"{interface}:/"] * 40
    assert [t.attempt for t in report.tries] == [1] * 40 and all(t.status == 200 for t in report.tries)


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_a_batch_through_a_real_server_ends_in_exactly_the_statuses_set(tmp_path: Path, kind: str) -> None:
    fake = FakeTelnyx()
    ids = _send(fake, 10)
    with _receiver(tmp_path, fake) as receiver:
        if kind == "wsgi":
            script = Script(WSGIReceiver(receiver, path="/webhooks/telnyx"))
            serving = wsgi_serving(script)
        else:
            serving = _uvicorn(_asgi(ASGIReceiver(receiver, path="/webhooks/telnyx")))
        with serving as port:
            url = f"http://127.0.0.1:{port}/webhooks/telnyx"
            report = fake.deliver_receipts(url, outcomes=Outcomes(failed={FAILED: 0.3}), seed=5)
        recorded = _recorded(receiver)
        events = list(receiver.event_ids())
    assert report.ok
    assert recorded == dict(report.outcomes) and len(recorded) == 10
    assert sorted(s.status for s in recorded.values()) == ["delivered"] * 7 + ["delivery_failed"] * 3
    assert sorted(events) == sorted(e.event_id for e in report.events) and len(events) == 20
    assert {t.target for t in report.tries} == {url}
    assert [e.message_id for e in report.events if e.event_type == SENT] == ids  # in the order sent
    if kind == "wsgi":  # what the server received: meta.delivered_to the URL, attempt 1
        metas = [json.loads(body)["meta"] for body, _ in script.posts]
        assert metas == [{"attempt": 1, "delivered_to": url}] * 20


def test_numbers_set_their_own_outcome_and_the_shares_divide_the_others(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    _send(fake, 11)
    expired = Failure("expired", 40006)
    outcomes = Outcomes(failed={FAILED: 0.5}, numbers={_number(0): expired, _number(1): "delivered"})
    with _receiver(tmp_path, fake) as receiver:
        report = fake.deliver_receipts(WSGIReceiver(receiver), outcomes=outcomes)
        by_number = {d.recipient: (d.status, d.error_codes) for d in receiver.deliveries()}
    assert by_number[_number(0)] == ("expired", ("40006",)) and by_number[_number(1)] == ("delivered", ())
    others = [by_number[_number(n)][0] for n in range(2, 11)]
    # 9 others, half failed: 4.5 each way, the tie to the first listed (delivered)
    assert sorted(others) == ["delivered"] * 5 + ["delivery_failed"] * 4
    assert report.counts() == {"delivered": 6, "expired": 1, "delivery_failed": 4}


def test_outcomes_by_default_are_all_delivered_and_an_exact_share_may_be_given(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    _send(fake, 4)
    with _receiver(tmp_path, fake) as receiver:
        report = fake.deliver_receipts(WSGIReceiver(receiver))
    assert {o.status for o in report.outcomes.values()} == {"delivered"} and len(report.outcomes) == 4
    assert Outcomes(delivered=0.75, failed={FAILED: 0.25}).delivered == 0.75
    assert Outcomes(failed={FAILED: 0.25}).delivered == 0.75
    assert Outcomes(failed={FAILED: 1}).delivered == 0.0


def test_the_same_seed_gives_the_same_outcomes_and_order_and_another_seed_others() -> None:
    def run(seed: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        fake = FakeTelnyx()
        ids = _send(fake, 20)
        number = {message_id: _number(n) for n, message_id in enumerate(ids)}
        posted: list[str] = []

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            posted.append(environ["wsgi.input"].read().decode())
            start_response("200 OK", [])
            return [b""]

        report = fake.deliver_receipts(
            app, outcomes=Outcomes(failed={FAILED: 0.2}), seed=seed, duplicate=0.2, reorder=0.3
        )
        outcomes = sorted((number[m], o.status) for (m, _), o in report.outcomes.items())
        order = [(number[json.loads(p)["data"]["payload"]["id"]], json.loads(p)["data"]["event_type"]) for p in posted]
        return outcomes, order

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first[0] != other[0] and first[1] != other[1]


# --- redelivery -------------------------------------------------------------------------------------


def test_a_receiver_answering_503_twice_gets_the_third_try_and_three_times_no_fourth(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    (message_id,) = _send(fake, 1)
    with _receiver(tmp_path, fake) as receiver:
        replies = {SENT: [Reply(503), Reply(503)], FINALIZED: [Reply(503)] * 3}
        script = AsgiScript(ASGIReceiver(receiver), replies=replies)
        with _uvicorn(script) as port:
            report = fake.deliver_receipts(f"http://127.0.0.1:{port}/hooks", timeout=1.0)
        recorded = _recorded(receiver)
    sent, finalized = report.events
    assert [(t.event_type, t.attempt, t.status) for t in report.tries] == [
        (SENT, 1, 503),
        (FINALIZED, 1, 503),
        (SENT, 2, 503),
        (FINALIZED, 2, 503),
        (SENT, 3, 200),
        (FINALIZED, 3, 503),
    ]
    assert script.attempts(SENT) == [1, 2, 3] and script.attempts(FINALIZED) == [1, 2, 3]  # meta.attempt
    assert [t.ok for t in report.tries_of(sent.event_id)] == [False, False, True]
    assert report.tries_of(finalized.event_id)[-1].error == "answered 503"
    assert report.unacknowledged == (finalized.event_id,) and not report.ok
    assert report.acknowledged == {sent.event_id}
    assert recorded == {(message_id, _number(0)): RecipientOutcome("sent", ())}  # the finalized never landed


def test_tries_is_settable_and_one_try_is_no_retry(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    _send(fake, 1)
    script = Script(_ok, replies={SENT: [Reply(500)] * 5, FINALIZED: [Reply(200)]})
    report = fake.deliver_receipts(script, tries=1)
    assert [(t.event_type, t.attempt, t.status) for t in report.tries] == [(SENT, 1, 500), (FINALIZED, 1, 200)]
    assert len(report.unacknowledged) == 1
    assert all(isinstance(t.seconds, float) and 0 <= t.seconds < 1 for t in report.tries)


@pytest.mark.parametrize(("status", "ok"), [(199, False), (200, True), (299, True), (300, False)])
def test_only_a_2xx_answer_acknowledges(status: int, ok: bool) -> None:
    fake = FakeTelnyx()
    _send(fake, 1)

    async def answer(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    report = fake.deliver_receipts(answer, tries=1)
    assert [t.status for t in report.tries] == [status, status] and report.ok is ok
    assert [t.error for t in report.tries] == [None if ok else f"answered {status}"] * 2


@pytest.mark.parametrize("where", ["url", "wsgi"])
def test_a_slow_answer_counts_as_a_failure_and_is_tried_again(tmp_path: Path, where: str) -> None:
    fake = FakeTelnyx()
    (message_id,) = _send(fake, 1)
    with _receiver(tmp_path, fake) as receiver:
        started = time.monotonic()
        if where == "url":
            with _uvicorn(AsgiScript(ASGIReceiver(receiver), replies={SENT: [Reply(delay=0.6)]})) as port:
                report = fake.deliver_receipts(f"http://127.0.0.1:{port}/", timeout=0.3)
        else:
            script = Script(WSGIReceiver(receiver), replies={SENT: [Reply(delay=0.6)]})
            report = fake.deliver_receipts(script, timeout=0.3)
            assert script.answered == len(script.posts) == 3  # the late call waited for, before returning
        elapsed = time.monotonic() - started
        recorded = _recorded(receiver)
        events = list(receiver.event_ids())
    first = report.tries[0]
    assert (first.event_type, first.status, first.ok) == (SENT, None, False)
    assert first.error == "no answer within 0.3 s" and 0.3 <= first.seconds < 0.6
    assert [(t.event_type, t.attempt, t.ok) for t in report.tries[1:]] == [(FINALIZED, 1, True), (SENT, 2, True)]
    assert report.ok and recorded == {(message_id, _number(0)): RecipientOutcome("delivered", ())}
    assert len(events) == 2  # the late answer recorded the event; its retry was a duplicate
    assert elapsed < 2.0


def test_an_answer_that_comes_but_too_late_is_a_failure(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    _send(fake, 1)
    calls: list[float] = []

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        calls.append(time.monotonic())
        if len(calls) == 1:
            await asyncio.sleep(0.4)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    report = fake.deliver_receipts(slow, timeout=0.2)
    assert [(t.attempt, t.status, t.ok) for t in report.tries] == [(1, None, False), (1, 204, True), (2, 204, True)]
    assert report.ok and len(calls) == 3


def test_after_its_tries_an_event_goes_to_the_failover(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    (message_id,) = _send(fake, 1)
    down = Script(_ok, replies={SENT: [Reply(503)] * 3, FINALIZED: [Reply(503)] * 3})
    with _receiver(tmp_path, fake) as receiver:
        with _uvicorn(_asgi(ASGIReceiver(receiver))) as port:
            failover = f"http://127.0.0.1:{port}/backup"
            report = fake.deliver_receipts(down, failover=failover, path="/primary")
        recorded = _recorded(receiver)
    assert [(t.event_type, t.attempt, t.target) for t in report.tries] == [
        (SENT, 1, "wsgi:/primary"),
        (FINALIZED, 1, "wsgi:/primary"),
        (SENT, 2, "wsgi:/primary"),
        (FINALIZED, 2, "wsgi:/primary"),
        (SENT, 3, "wsgi:/primary"),
        (FINALIZED, 3, "wsgi:/primary"),
        (SENT, 4, failover),
        (FINALIZED, 4, failover),
    ]
    assert report.ok and recorded == {(message_id, _number(0)): RecipientOutcome("delivered", ())}
    # In process, meta names no URL: delivered_to is a URL's only
    assert all("delivered_to" not in json.loads(body)["meta"] for body, _ in down.posts)


def test_an_app_that_raises_or_never_answers_is_a_failed_try() -> None:
    fake = FakeTelnyx()
    _send(fake, 1)

    def broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise RuntimeError("the database is gone")

    async def mute(scope: Any, receive: Any, send: Any) -> None:
        await receive()

    async def broken_asgi(scope: Any, receive: Any, send: Any) -> None:
        raise OSError("the disk is full")

    raised = fake.deliver_receipts(broken, tries=1)
    assert [t.error for t in raised.tries] == ["the app raised RuntimeError: the database is gone"] * 2
    assert all(isinstance(t.seconds, float) and 0 <= t.seconds < 1 for t in raised.tries)
    raised_asgi = fake.deliver_receipts(broken_asgi, tries=1, messages=fake.sent)
    assert [t.error for t in raised_asgi.tries] == ["the app raised OSError: the disk is full"] * 2
    assert [t.status for t in raised.tries] == [None, None]
    silent = fake.deliver_receipts(mute, tries=1, messages=[m.id for m in fake.sent])
    assert [t.error for t in silent.tries] == ["the app answered no status (no http.response.start)"] * 2
    unstarted = fake.deliver_receipts(lambda e, s: [b"x"], tries=1, messages=fake.sent, interface="wsgi")
    assert [t.error for t in unstarted.tries] == ["the app answered no status (start_response was not called)"] * 2


def test_an_unreachable_url_is_a_failed_try() -> None:
    fake = FakeTelnyx()
    _send(fake, 1)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    report = fake.deliver_receipts(f"http://127.0.0.1:{port}/", tries=2)
    assert len(report.tries) == 4 and all(t.status is None and t.error for t in report.tries)
    assert all(t.error is not None and t.error.startswith("ConnectError") for t in report.tries)
    assert all(0 <= t.seconds < 2 for t in report.tries)


def test_a_redirect_is_a_failed_try_not_followed() -> None:
    fake = FakeTelnyx()
    _send(fake, 1)
    paths: list[str] = []

    async def moved(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        paths.append(scope["path"])
        if scope["path"] == "/old":
            await send({"type": "http.response.start", "status": 307, "headers": [(b"location", b"/new")]})
        else:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with _uvicorn(moved) as port:
        report = fake.deliver_receipts(f"http://127.0.0.1:{port}/old", tries=1)
    assert [t.status for t in report.tries] == [307, 307] and not report.ok
    assert paths == ["/old", "/old"]


# --- duplicates and reorders ------------------------------------------------------------------------


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_duplicates_and_reorders_still_end_in_the_right_statuses(tmp_path: Path, interface: str) -> None:
    fake = FakeTelnyx()
    _send(fake, 30)
    with _receiver(tmp_path, fake) as receiver:
        script = Script(WSGIReceiver(receiver))
        app = script if interface == "wsgi" else _asgi(ASGIReceiver(receiver))
        report = fake.deliver_receipts(
            app, outcomes=Outcomes(failed={FAILED: 0.4}), seed=11, duplicate=0.25, reorder=0.5
        )
        recorded = _recorded(receiver)
        events = list(receiver.event_ids())
    assert len(report.events) == 60 and len(report.tries) == 60 + 15  # a quarter of them twice
    assert report.ok and all(t.attempt == 1 for t in report.tries)
    posted = [(t.message_id, t.event_type) for t in report.tries]
    first_seen: dict[str, str] = {}
    for message_id, event_type in posted:
        first_seen.setdefault(message_id, event_type)
    assert list(first_seen.values()).count(FINALIZED) == 15  # half the messages: finalized first
    assert recorded == dict(report.outcomes)
    assert sorted(o.status for o in recorded.values()) == ["delivered"] * 18 + ["delivery_failed"] * 12
    assert sorted(events) == sorted(e.event_id for e in report.events)  # each recorded once
    if interface == "wsgi":
        ids = [json.loads(body)["data"]["id"] for body, _ in script.posts]
        assert len(ids) == 75 and len(set(ids)) == 60
        assert ids == [t.event_id for t in report.tries]  # the app got what the report says, in order


def test_without_reorder_each_sent_comes_before_its_finalized() -> None:
    fake = FakeTelnyx()
    _send(fake, 10)
    report = fake.deliver_receipts(_ok, duplicate=0.0)
    order = [(t.message_id, t.event_type) for t in report.tries]
    for message_id in {m for m, _ in order}:
        assert [e for m, e in order if m == message_id] == [SENT, FINALIZED]
    everything = fake.deliver_receipts(_ok, messages=fake.sent, reorder=1)
    for message_id in {m for m, _ in order}:
        assert [t.event_type for t in everything.tries if t.message_id == message_id] == [FINALIZED, SENT]


# --- signatures ---------------------------------------------------------------------------------------


def test_signatures_verify_with_the_fakes_key_and_a_wrong_key_refuses_them(tmp_path: Path) -> None:
    fake, other = FakeTelnyx(), FakeTelnyx()
    _send(fake, 3)
    recorded = Script(_ok)
    fake.deliver_receipts(recorded)
    assert len(recorded.posts) == 6
    for body, headers in recorded.posts:
        document = webhooks.verify(body, headers, key=fake.public_key)
        assert document["data"]["event_type"] in (SENT, FINALIZED)
        with pytest.raises(webhooks.InvalidSignatureError):
            webhooks.verify(body, headers, key=other.public_key)
    with Receiver(tmp_path / "wrong.db", public_key=other.public_key) as wrong:
        refused = fake.deliver_receipts(WSGIReceiver(wrong), messages=fake.sent)
        assert list(wrong.event_ids()) == [] and list(wrong.deliveries()) == []
    assert {t.status for t in refused.tries} == {401} and len(refused.tries) == 18  # 3 tries of each
    assert len(refused.unacknowledged) == 6


# --- the message itself, the clock, and making receipts once -----------------------------------------


def test_events_are_timed_by_the_fakes_clock_and_the_message_reads_back_final() -> None:
    clock = FakeClock(START)
    fake = FakeTelnyx(clock=clock, throughput=Throughput(sender_mps={"toll_free": 2}))
    ids = _send(fake, 3)  # waits 0, 0.5, 1.0 in the toll-free sender's queue
    clock.advance(60)
    bodies: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        bodies.append(json.loads(environ["wsgi.input"].read()))
        start_response("200 OK", [])
        return [b""]

    report = fake.deliver_receipts(app, outcomes=Outcomes(numbers={_number(2): FAILED}, final_after=5))
    times = {(e.message_id, e.event_type): e.occurred_at for e in report.events}
    for n, message_id in enumerate(ids):
        sent_at = START + datetime.timedelta(seconds=0.5 * n)
        assert times[(message_id, SENT)] == sent_at
        assert times[(message_id, FINALIZED)] == sent_at + datetime.timedelta(seconds=5)
    payloads = {(b["data"]["payload"]["id"], b["data"]["event_type"]): b["data"]["payload"] for b in bodies}
    on_its_way, final = payloads[(ids[1], SENT)], payloads[(ids[1], FINALIZED)]
    assert on_its_way["sent_at"] == "2026-03-02T09:00:00.500Z" and on_its_way["completed_at"] is None
    assert [r["status"] for r in on_its_way["to"]] == ["sent"]
    assert final["completed_at"] == "2026-03-02T09:00:05.500Z" and final["errors"] == []
    assert final["sent_at"] == "2026-03-02T09:00:00.500Z"
    failed = payloads[(ids[2], FINALIZED)]
    assert failed["errors"] == [{"code": "40008", "title": "Undeliverable", "detail": "the carrier refused it"}]
    read = fake.client().messages.retrieve(ids[2]).data
    assert read is not None and read.to is not None
    assert [r.status for r in read.to] == ["delivery_failed"]
    assert read.sent_at == START + datetime.timedelta(seconds=1)
    assert read.completed_at == START + datetime.timedelta(seconds=6)
    assert read.errors is not None and [e.code for e in read.errors] == ["40008"]
    assert clock.now() == 60.0  # delivering moved no time


def test_receipts_are_made_once_and_delivered_again_as_the_same_events() -> None:
    fake = FakeTelnyx()
    _send(fake, 4)

    def ok(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b""]

    first = fake.deliver_receipts(ok, outcomes=Outcomes(failed={FAILED: 0.5}))
    assert len(first.events) == 8
    none_left = fake.deliver_receipts(ok)
    assert none_left.events == () and none_left.tries == () and none_left.ok
    later = _send(fake, 1)
    only_new = fake.deliver_receipts(ok)
    assert {e.message_id for e in only_new.events} == set(later)
    again = fake.deliver_receipts(ok, messages=[fake.sent[0], fake.sent[0].id], outcomes=Outcomes())
    assert [e.event_id for e in again.events] == [e.event_id for e in first.events if e.message_id == fake.sent[0].id]
    assert dict(again.outcomes) == {k: v for k, v in first.outcomes.items() if k[0] == fake.sent[0].id}


def test_a_scheduled_message_gets_no_receipts() -> None:
    fake = FakeTelnyx()
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    scheduled = fake.client().messages.schedule(to=_number(0), from_=FROM, text="Later", send_at=later).data
    assert scheduled is not None
    report = fake.deliver_receipts(_ok)
    assert report.events == () and report.tries == ()
    with pytest.raises(ValueError, match=rf"messages: {scheduled.id} is scheduled \(send_at\)"):
        fake.deliver_receipts(_ok, messages=[scheduled.id])


async def test_deliver_receipts_async_posts_to_a_receiver_on_the_callers_event_loop(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    (message_id,) = _send(fake, 1)
    with _receiver(tmp_path, fake) as receiver:
        sock = socket.socket()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as _uvicorn's
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        server = uvicorn.Server(
            uvicorn.Config(_asgi(ASGIReceiver(receiver)), log_level="warning", lifespan="off", interface="asgi3")
        )
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            report = await fake.deliver_receipts_async(f"http://127.0.0.1:{sock.getsockname()[1]}/")
        finally:
            server.should_exit = True
            await task
            sock.close()
        recorded = _recorded(receiver)
    assert report.ok and recorded == {(message_id, _number(0)): RecipientOutcome("delivered", ())}


# --- settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: Failure("bogus"),
            ValueError,
            r"^Failure status 'bogus' is not a recipient status the spec lists \(final: .*delivered.*\)$",
        ),
        (
            lambda: Failure("queued"),
            ValueError,
            r"^Failure status 'queued' is not a final status: a message.finalized gives one of .*delivery_failed.*$",
        ),
        (
            lambda: Failure("delivered"),
            ValueError,
            r"^Failure status 'delivered' is not a failure: the share delivered is Outcomes\(delivered=\.\.\.\)$",
        ),
        (
            lambda: Failure("delivery_failed", "4x"),
            ValueError,
            r"^Failure code must be Telnyx's error code, digits \(40008\), got '4x'$",
        ),
        (
            lambda: Failure("delivery_failed", True),
            ValueError,
            r"^Failure code must be Telnyx's error code, digits \(40008\), got True$",
        ),
        (
            lambda: Failure("delivery_failed", 1, title=_any(3)),
            TypeError,
            r"^Failure title must be a str or None, got 3$",
        ),
        (
            lambda: Outcomes(failed={FAILED: 1.5}),
            ValueError,
            r"^Outcomes failed\[Failure\(status='delivery_failed', .*\)\] must be a share from 0 to 1, got 1.5$",
        ),
        (
            lambda: Outcomes(failed={FAILED: -0.1}),
            ValueError,
            r"^Outcomes failed\[.*\] must be a share from 0 to 1, got -0.1$",
        ),
        (
            lambda: Outcomes(failed={FAILED: 0.7, UNSENT: 0.4}),
            ValueError,
            r"^Outcomes failed shares add up to 1.1, more than 1$",
        ),
        (
            lambda: Outcomes(delivered=0.5, failed={FAILED: 0.2}),
            ValueError,
            r"shares add up to 0.7 \(delivered 0.5, failed 0.2\): they must make 1",
        ),
        (lambda: Outcomes(delivered=True), ValueError, r"^Outcomes delivered must be a share from 0 to 1, got True$"),
        (
            lambda: Outcomes(failed=_any({"delivery_failed": 0.1})),
            TypeError,
            r"^Outcomes failed keys must be Failures, got 'delivery_failed'$",
        ),
        (
            lambda: Outcomes(failed=_any([FAILED])),
            TypeError,
            r"^Outcomes failed must map each Failure to its share, got list$",
        ),
        (
            lambda: Outcomes(numbers=_any({"+1": "lost"})),
            TypeError,
            r"^Outcomes numbers\['\+1'\] must be a Failure or 'delivered', got 'lost'$",
        ),
        (
            lambda: Outcomes(numbers=_any({3: "delivered"})),
            TypeError,
            r"^Outcomes numbers keys must be phone numbers \(str\), got 3$",
        ),
        (lambda: Outcomes(numbers=_any([])), TypeError, r"^Outcomes numbers must map numbers to outcomes, got list$"),
        (
            lambda: Outcomes(final_after=-1),
            ValueError,
            r"^Outcomes final_after must be a number of seconds >= 0, got -1$",
        ),
    ],
)
def test_bad_outcomes_are_refused_naming_what_is_wrong(make: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"duplicate": 1.5}, ValueError, r"^duplicate must be a share from 0 to 1, got 1.5$"),
        ({"reorder": -0.5}, ValueError, r"^reorder must be a share from 0 to 1, got -0.5$"),
        ({"timeout": 0}, ValueError, r"^timeout must be a number of seconds > 0, got 0$"),
        ({"timeout": float("inf")}, ValueError, r"^timeout must be a number of seconds > 0, got inf$"),
        ({"tries": 0}, ValueError, r"^tries must be an int >= 1, got 0$"),
        ({"tries": 2.0}, ValueError, r"^tries must be an int >= 1, got 2.0$"),
        ({"seed": "7"}, TypeError, r"^seed must be an int, got '7'$"),
        ({"seed": True}, TypeError, r"^seed must be an int, got True$"),
        ({"duplicate": True}, ValueError, r"^duplicate must be a share from 0 to 1, got True$"),
        ({"timeout": True}, ValueError, r"^timeout must be a number of seconds > 0, got True$"),
        ({"tries": True}, ValueError, r"^tries must be an int >= 1, got True$"),
        ({"failover": 3}, TypeError, r"^failover must be an http\(s\) URL or an ASGI or WSGI app, got int$"),
        (
            {"to": "http:///hooks"},
            ValueError,
            r"^to must be an http\(s\) URL or an ASGI or WSGI app, got 'http:///hooks'$",
        ),
        ({"path": "hooks"}, ValueError, r"^path must start with '/', got 'hooks'$"),
        ({"interface": "cgi"}, ValueError, r"^interface must be 'asgi', 'wsgi' or None \(guessed\), got 'cgi'$"),
        ({"outcomes": {"delivered": 1}}, TypeError, r"^outcomes must be an Outcomes, got dict$"),
        ({"messages": ["no-such-id"]}, ValueError, r"^messages: the fake accepted no message 'no-such-id'$"),
        ({"messages": "no-such-id"}, TypeError, r"^messages must be a list of messages \(or ids\), not one str$"),
        ({"messages": [3]}, ValueError, r"^messages: the fake accepted no message 3$"),
        ({"failover": "ftp://127.0.0.1/"}, ValueError, r"^failover must be an http\(s\) URL or an ASGI or WSGI app"),
        ({"to": "127.0.0.1:8000"}, ValueError, r"^to must be an http\(s\) URL or an ASGI or WSGI app, got '127"),
        ({"to": 8000}, TypeError, r"^to must be an http\(s\) URL or an ASGI or WSGI app, got int$"),
    ],
)
def test_bad_delivery_settings_are_refused_before_anything_is_posted(
    settings: dict[str, Any], error: type[Exception], message: str
) -> None:
    fake = FakeTelnyx()
    _send(fake, 2)
    posted = Script(_ok)
    settings = dict(settings)  # the parameter itself stays whole for a rerun
    to = settings.pop("to", posted)
    with pytest.raises(error, match=message):
        fake.deliver_receipts(to, **settings)
    assert posted.posts == []
    report = fake.deliver_receipts(posted)  # nothing was made: the receipts are all still to deliver
    assert len(report.events) == 4 and len(posted.posts) == 4


def test_a_status_the_fakes_spec_lacks_is_refused_before_anything_is_posted() -> None:
    fake = FakeTelnyx()
    _send(fake, 1)
    _drop_status(fake, "expired")
    posted = Script(_ok)
    expired = Failure("expired", 40006)
    with pytest.raises(ValueError, match=r"^Failure status 'expired' is not a recipient status the spec lists"):
        fake.deliver_receipts(posted, outcomes=Outcomes(failed={expired: 1}))
    with pytest.raises(ValueError, match=r"^Failure status 'expired' is not"):
        fake.deliver_receipts(posted, outcomes=Outcomes(numbers={_number(0): expired}))
    _drop_status(fake, "delivered")
    with pytest.raises(ValueError, match=r"^the delivered status 'delivered' is not a recipient status"):
        fake.deliver_receipts(posted)
    assert posted.posts == []


def _drop_status(fake: FakeTelnyx, status: str) -> None:
    """The fake on a spec whose recipients' statuses (the enums that list `sent`) lack `status`."""
    document = copy.deepcopy(fake.spec.document)
    for value in _walk(document):
        if isinstance(value, dict) and isinstance(value.get("enum"), list) and {status, "sent"} <= set(value["enum"]):
            value["enum"].remove(status)
    fake.spec = Spec(document)


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_an_app_is_told_asgi_or_wsgi_by_its_call_and_interface_says_so_where_that_fails() -> None:
    fake = FakeTelnyx()
    _send(fake, 1)
    seen: list[str] = []

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        seen.append(f"asgi {scope['path']}")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    class Wrapped:  # an ASGI app behind a plain __call__ (a trampoline, a decorator): not told apart
        def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
            return asgi(scope, receive, send)

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(f"wsgi {environ['PATH_INFO']}")
        start_response("200 OK", [])
        return [b""]

    class Mounted:  # an app object whose __call__ is a coroutine function: ASGI
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await asgi({**scope, "path": "/m"}, receive, send)

    assert fake.deliver_receipts(Mounted(), messages=fake.sent).ok
    assert fake.deliver_receipts(asgi, messages=fake.sent, path="/a").ok
    assert fake.deliver_receipts(wsgi, messages=fake.sent, path="/w").ok
    assert fake.deliver_receipts(Wrapped(), messages=fake.sent, interface="asgi").ok
    assert seen == ["asgi /m"] * 2 + ["asgi /a"] * 2 + ["wsgi /w"] * 2 + ["asgi /"] * 2


def test_the_package_docstrings_receipts_example_runs(tmp_path: Path) -> None:
    import telnyx_messages.testing

    doc = telnyx_messages.testing.__doc__ or ""
    example = doc.split("when the test calls it:", 1)[1].split("\n\nFailure statuses", 1)[0]
    scope: dict[str, Any] = {"tmp_path": tmp_path}
    exec(textwrap.dedent(example), scope)  # the example as a user would paste it in a test
    report: ReceiptReport = scope["report"]
    assert len(report.events) == 20 and len(report.tries) == 22  # a tenth of the 20 events twice
    scope["receiver"].close()


# --- what an app and a receiver are given ----------------------------------------------------------


def test_a_group_message_gives_each_recipient_its_outcome_and_the_message_its_errors_once(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    numbers = [_number(n) for n in range(3)]
    group = fake.client().messages.send_group_mms(from_=_number(9), to=numbers, text="Team update").data
    assert group is not None and group.id is not None
    other = Failure("delivery_failed", 40008, title="Undeliverable", detail="the carrier refused it")
    outcomes = Outcomes(numbers={numbers[0]: FAILED, numbers[1]: other, numbers[2]: "delivered"})
    with _receiver(tmp_path, fake) as receiver:
        report = fake.deliver_receipts(WSGIReceiver(receiver), outcomes=outcomes)
        recorded = _recorded(receiver)
    sent, finalized = report.events
    assert sent.statuses == dict.fromkeys(numbers, "sent")
    assert finalized.statuses == {numbers[0]: "delivery_failed", numbers[1]: "delivery_failed", numbers[2]: "delivered"}
    assert {key: outcome.status for key, outcome in recorded.items()} == {
        key: outcome.status for key, outcome in report.outcomes.items()
    }
    assert report.outcomes[(group.id, numbers[0])] == RecipientOutcome("delivery_failed", ("40008",))
    assert report.outcomes[(group.id, numbers[2])] == RecipientOutcome("delivered", ())
    read = fake.client().messages.retrieve(group.id).data
    assert read is not None and read.errors is not None and len(read.errors) == 1  # the same error once


def test_a_failure_without_a_code_gives_no_error_and_a_default_title_names_the_status() -> None:
    assert Failure("delivery_unconfirmed").errors() == []
    assert UNSENT.errors() == [{"code": "40002", "title": "Sending failed"}]
    assert FAILED.errors() == [{"code": "40008", "title": "Undeliverable", "detail": "the carrier refused it"}]
    assert Outcomes(failed={UNSENT: 0, FAILED: 1.0}).failed == {UNSENT: 0.0, FAILED: 1.0}
    assert Outcomes(delivered=1, failed={UNSENT: 0}).delivered == 1.0


def test_an_in_process_wsgi_call_is_a_valid_wsgi_request() -> None:
    import wsgiref.validate

    fake = FakeTelnyx()
    _send(fake, 1)
    environs: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environs.append({**environ, "body": environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))})
        start_response("202 Accepted", [("Content-Type", "text/plain")])
        return [b"ok"]

    report = fake.deliver_receipts(wsgiref.validate.validator(app), path="/hooks/telnyx")
    assert report.ok and [t.status for t in report.tries] == [202, 202]
    environ = environs[0]
    cgi = {k: v for k, v in environ.items() if k.isupper() and not k.startswith("HTTP_")}
    assert cgi == {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/hooks/telnyx",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(environ["body"])),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    assert "HTTP_CONTENT_TYPE" not in environ and "HTTP_CONTENT_LENGTH" not in environ
    assert environ["HTTP_TELNYX_TIMESTAMP"].isdigit() and environ["HTTP_TELNYX_SIGNATURE_ED25519"]
    assert environ["wsgi.url_scheme"] == "https" and environ["wsgi.multithread"] is True
    assert environ["wsgi.multiprocess"] is False and environ["wsgi.run_once"] is False


def test_an_in_process_wsgi_answers_iterable_is_closed_and_a_written_body_is_taken() -> None:
    fake = FakeTelnyx()
    _send(fake, 1)
    closed: list[bool] = []

    class Answer:
        def __iter__(self) -> Iterator[bytes]:
            yield b"ok"

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Answer:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written")  # the legacy way to send a body
        return Answer()

    report = fake.deliver_receipts(app)
    assert report.ok and closed == [True, True]


def test_an_in_process_asgi_call_is_an_http_request_and_then_a_disconnect() -> None:
    fake = FakeTelnyx()
    _send(fake, 1)
    scopes: list[dict[str, Any]] = []
    heard: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scopes.append(scope)
        heard.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"o", "more_body": True})
        try:  # the answer is not over: no disconnect yet
            heard.append(await asyncio.wait_for(receive(), 0.05))
        except TimeoutError:
            heard.append("waiting")
        await send({"type": "http.response.body", "body": b"k"})
        heard.append(await receive())

    report = fake.deliver_receipts(app, path="/in", messages=fake.sent[:1])
    assert report.ok and len(scopes) == 2
    scope = dict(scopes[0])
    headers = dict(scope.pop("headers"))
    body = heard[0]["body"]
    assert scope == {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/in",
        "raw_path": b"/in",
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 443),
    }
    assert headers[b"content-length"] == str(len(body)).encode() and headers[b"content-type"] == b"application/json"
    assert webhooks.verify(body, {k.decode(): v.decode() for k, v in headers.items()}, key=fake.public_key)
    assert heard[:3] == [
        {"type": "http.request", "body": body, "more_body": False},
        "waiting",
        {"type": "http.disconnect"},
    ]


def test_an_answer_trickled_past_the_timeout_is_a_failure_though_it_says_200() -> None:
    fake = FakeTelnyx()
    _send(fake, 1)

    async def trickle(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(3):  # each part well within the timeout, all of them past it
            await asyncio.sleep(0.12)
            await send({"type": "http.response.body", "body": b".", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    with _uvicorn(trickle) as port:
        report = fake.deliver_receipts(f"http://127.0.0.1:{port}/", timeout=0.25, tries=1)
    assert [t.status for t in report.tries] == [200, 200] and not report.ok
    for attempt in report.tries:
        assert attempt.seconds > 0.25
        assert attempt.error == f"answered 200 after {attempt.seconds:.3f} s, past the 0.25 s timeout"


def test_a_spec_without_the_delivery_updates_cannot_make_receipts() -> None:
    fake = FakeTelnyx()
    _send(fake, 1)
    document = copy.deepcopy(fake.spec.document)
    for value in _walk(document):
        if isinstance(value, dict) and {SENT, FINALIZED} <= set(value.get("enum") or ()):
            value["enum"].remove(SENT)
    fake.spec = Spec(document)
    with pytest.raises(ValueError, match=r"^the fake's spec lists no delivery update 'message.sent': it cannot"):
        fake.deliver_receipts(_ok)


def test_every_kind_of_message_the_fake_accepts_gets_receipts(tmp_path: Path) -> None:
    """Each send the spec has whose answer is a message with recipients (SMS, MMS, RCS, WhatsApp, as
    the spec's examples make them): a message.sent and a message.finalized, recorded as set."""
    import httpx2

    fake = FakeTelnyx()
    with httpx2.Client(transport=fake.transport()) as http:
        for operation in fake.spec.operations:
            if operation.method == "POST" and operation.body_schema is not None:
                body = fake.spec.example(operation.body_schema)
                if "send_at" in body:  # scheduled: never sent, no receipts (tested on its own)
                    continue
                url = f"https://api.telnyx.com{fake.spec.base_path}{operation.path}"
                http.post(url, json=body, headers={"Authorization": "Bearer k"})
    accepted = [m.id for m in fake.sent]
    assert len(accepted) >= 3
    with _receiver(tmp_path, fake) as receiver:
        report = fake.deliver_receipts(WSGIReceiver(receiver), outcomes=Outcomes(failed={FAILED: 0.5}))
        recorded = _recorded(receiver)
    assert report.ok and {e.message_id for e in report.events} == set(accepted)
    assert {key[0] for key in report.outcomes} == set(accepted)
    assert {k: o.status for k, o in recorded.items()} == {k: o.status for k, o in report.outcomes.items()}


def test_delivering_leaves_no_event_loop_or_connection_open() -> None:
    import gc
    import warnings

    fake = FakeTelnyx()
    _send(fake, 1)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with _uvicorn(app) as port, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert fake.deliver_receipts(app).ok  # in process: on an event loop of its own
        assert fake.deliver_receipts(f"http://127.0.0.1:{port}/", messages=fake.sent).ok
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_event_times_are_utc_whatever_the_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTelnyx(clock=FakeClock(START))
    (message_id,) = _send(fake, 1)
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        posted: list[Any] = []

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            posted.append(json.loads(environ["wsgi.input"].read()))
            start_response("200 OK", [])
            return [b""]

        fake.deliver_receipts(app, outcomes=Outcomes(final_after=2))
    finally:
        monkeypatch.undo()
        time.tzset()
    stamps = [(d["data"]["occurred_at"], d["data"]["payload"]["sent_at"]) for d in posted]
    assert stamps == [("2026-03-02T09:00:00.000Z",) * 2, ("2026-03-02T09:00:02.000Z", "2026-03-02T09:00:00.000Z")]
    assert fake.client().messages.retrieve(message_id).data is not None


# --- apportioning, ordering and duplicating, exactly ------------------------------------------------


def test_shares_are_apportioned_by_their_floors_and_the_largest_remainders() -> None:
    two, three = [_number(0), _number(1)], [_number(0), _number(1), _number(2)]
    for seed in range(12):
        # 2 recipients, 30% failed: 1.4 and 0.6, floors 1 and 0: the one left goes to the larger remainder
        pair = Outcomes(failed={FAILED: 0.3}).assign(two, random.Random(seed))
        assert sorted(pair, key=str) == sorted(["delivered", FAILED], key=str)
        # 3 recipients, 10% failed: 2.7 and 0.3, floors 2 and 0: the one left is delivered's (0.7 > 0.3)
        assert Outcomes(failed={FAILED: 0.1}).assign(three, random.Random(seed)) == ["delivered"] * 3
    fake = FakeTelnyx()
    _send(fake, 2)
    assert fake.deliver_receipts(_ok, outcomes=Outcomes(failed={FAILED: 0.3})).counts() == {
        "delivered": 1,
        "delivery_failed": 1,
    }
    _send(fake, 3)
    assert fake.deliver_receipts(_ok, outcomes=Outcomes(failed={FAILED: 0.1})).counts() == {"delivered": 3}


def test_events_go_in_the_order_they_occurred_and_at_the_same_moment_in_the_order_sent() -> None:
    # Queues of a million a second: the messages sent microseconds apart, in the millisecond events are stamped to
    fast = Throughput(account_mps={"SMS": 1e6}, sender_mps={"toll_free": 1e6})
    fake = FakeTelnyx(clock=FakeClock(START), throughput=fast)
    ids = _send(fake, 6)
    half = fake.deliver_receipts(_ok, outcomes=Outcomes(final_after=0.5))
    posted = [(t.message_id, t.event_type) for t in half.tries]
    assert posted == [(m, SENT) for m in ids] + [(m, FINALIZED) for m in ids]
    times = [e.occurred_at for e in half.events]
    assert times == [START] * 6 + [START + datetime.timedelta(seconds=0.5)] * 6
    # final_after=0: a message's two events at the same moment, its message.sent first
    more = _send(fake, 3)
    at_once = fake.deliver_receipts(_ok, outcomes=Outcomes(final_after=0))
    assert [(t.message_id, t.event_type) for t in at_once.tries] == [(m, e) for m in more for e in (SENT, FINALIZED)]
    assert {e.occurred_at for e in at_once.events} == {START}


def test_each_duplicate_comes_after_its_first_which_keeps_its_place() -> None:
    """Every event twice: its second delivery anywhere after its first (right behind it, as Telnyx's
    can come at the same time, or later); the first deliveries in the order without duplicates."""
    fake = FakeTelnyx()
    _send(fake, 4)
    right_behind = 0
    for seed in range(6):
        twice = fake.deliver_receipts(_ok, messages=fake.sent, seed=seed, duplicate=1.0, reorder=0.5)
        once = fake.deliver_receipts(_ok, messages=fake.sent, seed=seed, reorder=0.5)
        posted = [t.event_id for t in twice.tries]
        assert sorted(posted) == sorted([t.event_id for t in once.tries] * 2)
        assert list(dict.fromkeys(posted)) == [t.event_id for t in once.tries] == [e.event_id for e in twice.events]
        right_behind += sum(1 for i in range(1, len(posted)) if posted[i] == posted[i - 1])
    assert right_behind > 0  # some copy came right behind its first


def test_outcomes_are_their_own_copy_of_the_shares_and_numbers_given() -> None:
    failed: dict[Failure, float] = {FAILED: 0.5}
    numbers: dict[str, Any] = {_number(0): UNSENT}
    outcomes = Outcomes(failed=failed, numbers=numbers, final_after=2)
    failed[UNSENT] = 0.5
    numbers[_number(1)] = "delivered"
    assert outcomes.failed == {FAILED: 0.5} and outcomes.numbers == {_number(0): UNSENT}
    with pytest.raises(TypeError):
        _any(outcomes.failed)[UNSENT] = 0.1
    with pytest.raises(TypeError):
        _any(outcomes.numbers)[_number(2)] = "delivered"
    assert type(outcomes.final_after) is float and outcomes.final_after == 2.0
    assert all(type(share) is float for share in Outcomes(failed={FAILED: 1}).failed.values())


def test_shares_a_rounding_error_over_one_are_taken_and_final_after_may_be_any_finite_seconds() -> None:
    # 1 + 1e-9 is the tolerance for shares written as decimals (0.1 + 0.2 is not 0.3 in floats)
    assert Outcomes(failed={FAILED: 1.0, UNSENT: 1e-9}).delivered == 0.0
    assert Outcomes(failed={FAILED: 0.1, UNSENT: 0.2}, delivered=0.7).delivered == 0.7
    assert Outcomes(final_after=0).final_after == 0.0
    assert Outcomes(final_after=0.5).final_after == 0.5
    for refused in (True, float("inf"), float("nan"), "1"):
        with pytest.raises(ValueError, match=r"^Outcomes final_after must be a number of seconds >= 0, got "):
            Outcomes(final_after=_any(refused))


def test_a_refused_status_is_told_with_the_final_statuses_the_spec_lists() -> None:
    for status, lead in (
        ("bogus", "is not a recipient status the spec lists (final: "),
        ("queued", "is not a final status: a message.finalized gives one of "),
    ):
        with pytest.raises(ValueError, match=rf"^Failure status '{status}' ") as raised:
            Failure(status)
        listed = str(raised.value).partition(lead)[2].removesuffix(")").split(", ")
        assert {"delivered", "delivery_failed"} <= set(listed) <= set(DELIVERY_STATUSES)
        assert "sent" not in listed and "queued" not in listed


# --- where receipts go, checked --------------------------------------------------------------------


def test_an_https_url_is_taken_and_posted_to() -> None:
    fake = FakeTelnyx()
    _send(fake, 1)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    report = fake.deliver_receipts(f"https://127.0.0.1:{port}/hooks", tries=1)  # nothing listens there
    assert [t.target for t in report.tries] == [f"https://127.0.0.1:{port}/hooks"] * 2
    assert all(t.status is None and (t.error or "").startswith("ConnectError") for t in report.tries)


def test_a_failover_app_is_called_at_the_path_and_by_the_interface_given() -> None:
    fake = FakeTelnyx()
    _send(fake, 1)
    paths: list[str] = []

    async def down(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def backup(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    class Wrapped:  # an ASGI app not told apart by its call: interface says so
        def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
            return backup(scope, receive, send)

    report = fake.deliver_receipts(down, failover=Wrapped(), path="/hooks", interface="asgi", tries=1)
    assert report.ok and [t.target for t in report.tries] == ["asgi:/hooks"] * 4
    assert [t.status for t in report.tries] == [503, 503, 200, 200] and paths == ["/hooks"] * 2


def test_meta_fields_besides_attempt_and_delivered_to_are_delivered_as_the_spec_makes_them() -> None:
    """A later spec's event may carry more in `meta`: each try sets attempt (and delivered_to, a
    URL's), and keeps the rest."""
    fake = FakeTelnyx()
    _send(fake, 1)
    document = copy.deepcopy(fake.spec.document)
    found = 0
    for value in _walk(document):
        properties = value.get("properties") if isinstance(value, dict) else None
        if isinstance(properties, dict) and {"attempt", "delivered_to"} <= set(properties):
            properties["region"] = {"type": "string", "example": "us-central"}
            found += 1
    assert found == 1  # the delivery update's meta
    fake.spec = Spec(document)
    script = Script(_ok, replies={SENT: [Reply(503)]})
    assert fake.deliver_receipts(script).ok
    metas = [(json.loads(body)["data"]["event_type"], json.loads(body)["meta"]) for body, _ in script.posts]
    assert metas == [
        (SENT, {"attempt": 1, "region": "us-central"}),
        (FINALIZED, {"attempt": 1, "region": "us-central"}),
        (SENT, {"attempt": 2, "region": "us-central"}),
    ]
