"""The receiver's core and its store (telnyx_messages.receiver, telnyx_messages._receipts): the
statuses and their order as the spec gives them, outcomes arriving in any order, what is refused
where the receiver is set up, a campaign journal as the store, 503 while the store is locked, and the
callback after the answer. Requests go over HTTP to real servers on 127.0.0.1 (waitress, uvicorn) in
the test's process, so that the test can hold the store's lock or give the callback."""

from __future__ import annotations

import contextlib
import copy
import datetime
import http.client
import itertools
import json
import locale
import logging
import math
import sqlite3
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from telnyx_messages import _journal, _receipts, webhooks
from telnyx_messages._journal import Journal
from telnyx_messages.receiver import (
    DELIVERY_STATUSES,
    FINAL_STATUSES,
    ASGIReceiver,
    Receiver,
    StoreClosedError,
    StoreError,
    WSGIReceiver,
)
from telnyx_messages.testing import FakeTelnyx
from telnyx_messages.types import OutboundMessageEvent

from .support.receiver_events import FINALIZED, SENT, Event, post_all, sign
from .support.receiver_inprocess import asgi_serving, wsgi_serving
from .support.spec import SPEC, resolve
from .test_journal import FIRST_ROWS, at_once, first_journal

RECIPIENT = "+13125550002"
# Message ids as the API writes them (the spec's format: uuid), by the names the tests give them.
M = {name: str(uuid.uuid5(uuid.NAMESPACE_URL, name)) for name in ("m-0", "m-1", "m-2", "outside")}


def _spec_statuses(document: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(event types, recipient statuses) of the spec's delivery update, read here on its own: the
    webhook whose event types name message.finalized."""
    for item in document["webhooks"].values():
        schema = resolve(document, item["post"]["requestBody"]["content"]["application/json"]["schema"])
        data = resolve(document, schema["properties"]["data"])
        types = resolve(document, data["properties"]["event_type"])["enum"]
        if FINALIZED in types:
            payload = resolve(document, data["properties"]["payload"])
            to = resolve(document, resolve(document, payload["properties"]["to"])["items"])
            return types, resolve(document, to["properties"]["status"])["enum"]
    raise AssertionError("the spec has no delivery update")


def test_the_statuses_and_their_order_are_the_specs() -> None:
    types, statuses = _spec_statuses(SPEC)
    assert tuple(statuses) == DELIVERY_STATUSES
    assert set(statuses[statuses.index("sent") + 1 :]) == FINAL_STATUSES
    order = _receipts.status_order()
    assert order.event_types == set(types)
    in_flight = statuses[: statuses.index("sent") + 1]
    assert [order.rank(s) for s in in_flight] == list(range(len(in_flight)))
    assert {order.rank(s) for s in FINAL_STATUSES} == {len(in_flight)}
    assert order.rank("a status no spec lists") == len(in_flight) and order.is_final("a status no spec lists")


def test_a_later_spec_s_statuses_take_their_place_by_its_order() -> None:
    document = copy.deepcopy(SPEC)
    _, statuses = _spec_statuses(document)
    statuses.insert(statuses.index("sent"), "handed_over")
    statuses.append("undeliverable")
    order = _receipts.StatusOrder.of(document)
    assert order.statuses == tuple(statuses)
    assert order.rank("handed_over") == order.rank("sent") - 1 and not order.is_final("handed_over")
    assert "undeliverable" in order.final and order.rank("undeliverable") == order.rank("sent") + 1
    # Without `sent` every status is final: the later event decides.
    statuses.remove("sent")
    assert _receipts.StatusOrder.of(document).final == set(statuses)


def _incoming(status: str, minute: int, codes: str | None = None) -> _receipts.Incoming:
    event_id = str(uuid.uuid4())
    outcome = _receipts.Outcome(RECIPIENT, status, codes, f'[{{"code": "{codes}"}}]' if codes else None)
    occurred = f"2026-12-07T10:{minute:02d}:00.000Z"
    return _receipts.Incoming(event_id, SENT, "m-1", occurred, 1, b"{}", (outcome,), {})


def test_outcomes_in_any_order_end_at_the_latest_status_by_the_api_s_order(tmp_path: Path) -> None:
    order = _receipts.status_order()
    in_flight = [s for s in DELIVERY_STATUSES if s not in FINAL_STATUSES]
    first_final, last_final = sorted(FINAL_STATUSES)[:2]
    # The in-flight statuses in their order, each a minute later; then two final ones, the second later.
    updates = [_incoming(s, n) for n, s in enumerate(in_flight[-2:])]
    updates += [_incoming(first_final, 30, "1"), _incoming(last_final, 40, "2")]
    db = _receipts.connect(str(tmp_path / "store.db"))
    for number, permutation in enumerate(itertools.permutations(updates)):
        message = f"m-{number}"
        for update in permutation:  # one transaction each, in this order
            _receipts.record(db, [_with_message(update, message)], order, time.time())
        found = db.execute("SELECT status, error_codes FROM deliveries WHERE message_id = ?", (message,)).fetchall()
        assert found == [(last_final, "2")], permutation
    # Two final statuses that occurred at the same time: the first recorded stays.
    for first, second in ((first_final, last_final), (last_final, first_final)):
        message = f"same-time-{first}"
        for status in (first, second):
            _receipts.record(db, [_with_message(_incoming(status, 50), message)], order, time.time())
        assert db.execute("SELECT status FROM deliveries WHERE message_id = ?", (message,)).fetchall() == [(first,)]
    db.close()


def _with_message(item: _receipts.Incoming, message_id: str) -> _receipts.Incoming:
    return _receipts.Incoming(
        str(uuid.uuid4()), item.event_type, message_id, item.occurred_at, 1, b"{}", item.outcomes, {}
    )


# --- set-up -----------------------------------------------------------------------------------------


def test_a_receiver_without_a_usable_public_key_is_refused_before_its_store_is_made(tmp_path: Path) -> None:
    store = tmp_path / "receipts.db"
    with pytest.raises(webhooks.PublicKeyError, match="TELNYX_PUBLIC_KEY"):
        Receiver(store)
    with pytest.raises(webhooks.PublicKeyError, match="not valid base64"):
        Receiver(store, public_key="not a key!")
    with pytest.raises(webhooks.PublicKeyError, match="of 3 bytes"):
        Receiver(store, public_key="YWJj")
    assert not store.exists()


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"tolerance": -1}, ValueError, "tolerance must be an int of seconds >= 0, got -1"),
        ({"tolerance": True}, ValueError, "tolerance must be an int"),
        ({"tolerance": 1.5}, ValueError, "tolerance must be an int"),
        ({"answer_within": 0}, ValueError, "answer_within must be a number of seconds > 0, got 0"),
        ({"answer_within": math.inf}, ValueError, "answer_within must be a number"),
        ({"answer_within": math.nan}, ValueError, "answer_within must be a number"),
        ({"answer_within": "1"}, ValueError, "answer_within must be a number"),
        ({"answer_within": False}, ValueError, "answer_within must be a number"),
        ({"synchronous": "OFF"}, ValueError, "synchronous must be 'FULL' or 'NORMAL', got 'OFF'"),
        ({"on_event": 5}, TypeError, "on_event must be callable, got int"),
    ],
)
def test_a_receiver_s_bad_arguments_are_named(
    arguments: dict[str, Any], error: type[Exception], message: str, tmp_path: Path
) -> None:
    fake = FakeTelnyx()
    with pytest.raises(error, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        Receiver(tmp_path / "receipts.db", public_key=fake.public_key, **arguments)
    assert not (tmp_path / "receipts.db").exists()


def test_a_store_path_that_is_not_one_is_named(tmp_path: Path) -> None:
    key = FakeTelnyx().public_key
    with pytest.raises(TypeError, match="the store is a file path"):
        Receiver(b"receipts.db", public_key=key)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="the store path is empty"):
        Receiver("", public_key=key)
    text = tmp_path / "notes.txt"
    text.write_text("not a database, but long enough to be read as one's header " * 20)
    with pytest.raises(StoreError, match=r"notes\.txt is not a receiver store or campaign journal"):
        Receiver(text, public_key=key)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE customers (name TEXT)")
    with pytest.raises(StoreError, match=r"other\.db is an SQLite file, but neither a receiver store nor a campaign"):
        Receiver(other, public_key=key)
    with sqlite3.connect(other) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("customers",)]  # left as it was
    later = tmp_path / "later.db"
    Receiver(later, public_key=key).close()
    with sqlite3.connect(later) as db:
        db.execute("UPDATE receiver SET value = '2' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="receiver schema 2, this one reads up to 1"):
        Receiver(later, public_key=key)


def test_the_apps_take_a_receiver_and_a_path_from_the_root(tmp_path: Path) -> None:
    receiver = Receiver(tmp_path / "receipts.db", public_key=FakeTelnyx().public_key)
    for app in (ASGIReceiver, WSGIReceiver):
        with pytest.raises(TypeError, match="receiver must be a Receiver, got str"):
            app("receipts.db")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="path must start with '/', got 'hooks'"):
            app(receiver, path="hooks")
        with pytest.raises(ValueError, match="max_body must be an int of bytes > 0, got 0"):
            app(receiver, max_body=0)
        with pytest.raises(ValueError, match="max_body must be an int of bytes > 0, got True"):
            app(receiver, max_body=True)
        assert app(receiver, max_body=1).max_body == 1  # the least there is
    receiver.close()


# --- a campaign journal as the store ------------------------------------------------------------------


def _event(fake: FakeTelnyx, event_type: str, message: dict[str, Any], message_id: str, status: str) -> Event:
    document = {**message, "id": message_id, "to": [{"phone_number": RECIPIENT, "status": status}]}
    return Event(0, message_id, event_type, *fake.webhook(event_type, document))


def _message(fake: FakeTelnyx) -> dict[str, Any]:
    sent = fake.client().messages.send(to=RECIPIENT, from_="+18445550001", text="Hi")
    assert sent.data is not None
    return sent.data.to_dict(mode="json")


def test_a_campaign_journal_is_the_store_its_rows_joined_by_message_id(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    message = _message(fake)
    path = tmp_path / "run.db"
    with Journal(path) as journal:
        journal.begin("spring", {}, datetime.datetime.now(datetime.UTC))
        for n in range(3):
            journal.add(f"r-{n}", "digest", f"key-{n}", RECIPIENT, "+18445550001")
            journal.accepted(f"r-{n}", M[f"m-{n}"], None)
    with Receiver(path, public_key=fake.public_key) as receiver:
        for n, status in ((0, "delivered"), (1, "sent")):
            assert receiver.receive(
                *_signed(_event(fake, FINALIZED if n == 0 else SENT, message, M[f"m-{n}"], status))
            ).ok
        outside = receiver.receive(*_signed(_event(fake, FINALIZED, message, M["outside"], "delivered")))
        assert outside.ok and outside.new  # kept without a campaign
    with sqlite3.connect(path) as db:
        joined = db.execute(
            "SELECT rows.identity, deliveries.status FROM rows LEFT JOIN deliveries USING (message_id) ORDER BY seq"
        ).fetchall()
    assert joined == [("r-0", "delivered"), ("r-1", "sent"), ("r-2", None)]
    with Journal(path, create=False) as journal:  # still the campaign's journal
        record = journal.campaign()
        assert record is not None and record.name == "spring"
        assert [(row.identity, row.state, row.message_id) for row in journal.rows()] == [
            (f"r-{n}", "accepted", M[f"m-{n}"]) for n in range(3)
        ]
    with Receiver(path, public_key=fake.public_key) as receiver:  # opened again: what it recorded is there
        assert sorted((d.message_id, d.status) for d in receiver.deliveries()) == sorted(
            [(M["m-0"], "delivered"), (M["m-1"], "sent"), (M["outside"], "delivered")]
        )


def _signed(event: Event) -> tuple[bytes, dict[str, str]]:
    return event.body, event.headers


# --- answering ---------------------------------------------------------------------------------------


def _serving(kind: str, receiver: Receiver) -> Any:
    return asgi_serving(ASGIReceiver(receiver)) if kind == "asgi" else wsgi_serving(WSGIReceiver(receiver))


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_503_while_the_store_is_locked_then_recorded_once_delivered_again(kind: str, tmp_path: Path) -> None:
    fake = FakeTelnyx()
    event = _event(fake, FINALIZED, _message(fake), M["m-1"], "delivered")
    store = tmp_path / "receipts.db"
    receiver = Receiver(store, public_key=fake.public_key, answer_within=0.6)
    with _serving(kind, receiver) as port:
        holder = sqlite3.connect(store, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer (a campaign) holds the file
        (locked,) = post_all(port, [event], threads=1, path="/")
        time.sleep(1.0)  # past the writer's wait for the lock (0.4 s), however late the answer came
        holder.execute("ROLLBACK")
        holder.close()
        assert (locked.status, locked.text) == (503, "not recorded: deliver it again")
        assert locked.seconds < 2
        assert list(receiver.event_ids()) == []
        (again,) = post_all(port, [event], threads=1, path="/")
        assert (again.status, again.text) == (200, "recorded")
    assert [(d.message_id, d.status) for d in receiver.deliveries()] == [(M["m-1"], "delivered")]
    assert len(list(receiver.event_ids())) == 1
    receiver.close()


def test_the_callback_runs_after_the_answer_once_per_new_event_its_failure_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTelnyx()
    message = _message(fake)
    events = [_event(fake, FINALIZED, message, M[f"m-{n}"], "delivered") for n in range(3)]
    called: list[tuple[str | None, str]] = []
    first_call = threading.Event()

    def on_event(event: webhooks.WebhookEvent) -> None:
        assert isinstance(event, OutboundMessageEvent) and event.data is not None and event.data.payload is not None
        called.append((event.data.payload.id, threading.current_thread().name))
        if not first_call.is_set():
            first_call.set()
            time.sleep(2.5)  # slow work: never in the answer's way
        if event.data.payload.id == M["m-1"]:
            raise RuntimeError("the user's code failed")

    receiver = Receiver(tmp_path / "receipts.db", public_key=fake.public_key, on_event=on_event)
    with wsgi_serving(WSGIReceiver(receiver)) as port:
        results = [r for event in [*events, events[1]] for r in post_all(port, [event], threads=1, path="/")]
    assert [(r.status, r.text) for r in results] == [(200, "recorded")] * 3 + [(200, "duplicate: recorded before")]
    assert max(r.seconds for r in results) < 1.0
    receiver.close()  # waits for the callbacks
    assert [payload for payload, _ in called] == [M["m-0"], M["m-1"], M["m-2"]]
    assert {thread for _, thread in called} == {"telnyx-receiver-callbacks"}
    failures = [r for r in caplog.records if r.name == "telnyx_messages.receiver" and r.levelno == logging.ERROR]
    assert [r.getMessage() for r in failures] == [
        f"the receiver's callback failed on event {_id(events[1])} (message.finalized)"
    ]


def _id(event: Event) -> str:
    return str(json.loads(event.body)["data"]["id"])


def test_a_verified_event_its_model_refuses_or_of_a_type_the_spec_lacks_is_kept(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    got: list[webhooks.WebhookEvent] = []
    receiver = Receiver(tmp_path / "receipts.db", public_key=fake.public_key, on_event=got.append)
    unreadable = {"data": {"id": "e-1", "event_type": FINALIZED, "payload": {"id": "m-1", "to": "+13125550002"}}}
    unknown = {"data": {"id": "e-2", "event_type": "message.unheard_of", "payload": {"id": "m-2"}}}
    no_id = {"data": {"event_type": "message.unheard_of"}, "meta": {"attempt": 2}}
    answers = [receiver.receive(*sign(fake, document)) for document in (unreadable, unknown, no_id)]
    assert [(a.status, a.new) for a in answers] == [(200, True)] * 3
    assert answers[2].event_id is not None and answers[2].event_id.startswith("sha256:")
    assert receiver.receive(*sign(fake, no_id)).text == "duplicate: recorded before"  # the same body
    receiver.close()
    assert [type(e).__name__ for e in got] == ["UnknownWebhookEvent"] * 3
    assert [e.event_type for e in got if isinstance(e, webhooks.UnknownWebhookEvent)] == [
        FINALIZED,
        "message.unheard_of",
        "message.unheard_of",
    ]
    with sqlite3.connect(tmp_path / "receipts.db") as db:
        assert db.execute("SELECT event_id, message_id, attempt FROM events ORDER BY rowid").fetchall() == [
            ("e-1", "m-1", None),
            ("e-2", "m-2", None),
            (answers[2].event_id, None, 2),
        ]
        assert db.execute("SELECT count(*) FROM deliveries").fetchone() == (0,)


def test_a_closed_receiver_answers_503_and_reads_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeTelnyx()
    event = _event(fake, FINALIZED, _message(fake), M["m-1"], "delivered")
    receiver = Receiver(tmp_path / "receipts.db", public_key=fake.public_key)
    receiver.close()
    receiver.close()  # twice: nothing more
    answer = receiver.receive(*_signed(event))
    assert (answer.status, answer.text, answer.event_id) == (503, "not recorded: deliver it again", _id(event))
    warnings = [r.getMessage() for r in caplog.records if r.name == "telnyx_messages.receiver"]
    assert warnings == [f"event {_id(event)} not recorded (the receiver is closed): answered 503"]
    for read in (receiver.deliveries, receiver.event_ids, receiver.delivery_counts):
        with pytest.raises(StoreClosedError, match=r"^the receiver is closed$"):
            list(read())
    assert "receipts.db" in repr(receiver) and fake.public_key not in repr(receiver)


def test_what_a_delivery_shows(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeTelnyx()
    message = _message(fake)
    errors = [
        {"code": "40008", "title": "Undeliverable", "detail": "the handset is off"},
        {"code": "40300", "title": "Blocked", "detail": "the carrier refused it"},
    ]
    document = {**message, "id": M["m-1"], "to": [{"phone_number": RECIPIENT, "status": "delivery_failed"}]}
    body, headers = fake.webhook(FINALIZED, {**document, "errors": errors})
    untimed = {"data": {"id": "e-1", "event_type": SENT, "payload": {"id": M["m-2"], "to": [_to("sent")]}}}
    with Receiver(tmp_path / "receipts.db", public_key=fake.public_key) as receiver:  # no callback
        answer = receiver.receive(body, headers)
        assert receiver.receive(*sign(fake, untimed)).new
        (delivery,) = receiver.deliveries(M["m-1"])
        (without_time,) = receiver.deliveries(M["m-2"])
        assert list(receiver.deliveries(M["m-0"])) == []
        counts = receiver.delivery_counts()
    assert (without_time.status, without_time.occurred_at, without_time.event_id) == ("sent", None, "e-1")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert (delivery.message_id, delivery.recipient, delivery.status, delivery.final) == (
        M["m-1"],
        RECIPIENT,
        "delivery_failed",
        True,
    )
    assert delivery.error_codes == ("40008", "40300") and delivery.errors == tuple(errors)
    assert delivery.event_id == answer.event_id and delivery.event_type == FINALIZED
    assert delivery.occurred_at is not None and delivery.occurred_at.tzinfo is datetime.UTC
    assert abs((delivery.recorded_at - datetime.datetime.now(datetime.UTC)).total_seconds()) < 60
    assert list(counts) == list(DELIVERY_STATUSES) and counts["delivery_failed"] == counts["sent"] == 1
    assert sum(counts.values()) == 2


def test_http_client_sees_the_receiver_s_content_type(tmp_path: Path) -> None:
    receiver = Receiver(tmp_path / "receipts.db", public_key=FakeTelnyx().public_key)
    with wsgi_serving(WSGIReceiver(receiver)) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/", body=b"{}")
        answer = connection.getresponse()
        assert (answer.status, answer.reason, answer.getheader("content-type")) == (
            400,
            "Bad Request",
            "text/plain; charset=utf-8",
        )
        answer.read()
        connection.close()
    receiver.close()


def test_the_receiver_module_shows_only_its_public_names() -> None:
    from telnyx_messages import receiver

    assert dir(receiver) == sorted(receiver.__all__)
    assert all(getattr(receiver, name) is not None for name in receiver.__all__)


def test_the_order_is_read_from_the_spec_the_package_ships_past_webhooks_not_in_its_form() -> None:
    types, statuses = _spec_statuses(SPEC)
    shipped = _receipts.StatusOrder.of(_receipts._spec())
    assert shipped == _receipts.StatusOrder.of(SPEC)
    assert (shipped.statuses, shipped.event_types) == (tuple(statuses), set(types))
    document = copy.deepcopy(SPEC)
    name = _delivery_webhook_name(document)
    # Before the delivery update: a webhook with a text beside its operations, and one without a body;
    # in the delivery update's own item, a text and an operation without a body before its post.
    document["webhooks"] = {
        "aaa": {"summary": "not an operation", "post": {"operationId": "NoBody"}},
        **document["webhooks"],
    }
    document["webhooks"][name] = {"summary": "a text", "get": {"operationId": "NoBody"}, **document["webhooks"][name]}
    assert _receipts.StatusOrder.of(document) == shipped


def _delivery_webhook_name(document: dict[str, Any]) -> str:
    """The name of the spec's delivery update among its webhooks."""
    for name, item in document["webhooks"].items():
        try:
            _spec_statuses({**document, "webhooks": {name: item}})
        except (AssertionError, KeyError):
            continue
        return str(name)
    raise AssertionError("the spec has no delivery update")


def _webhook(types: list[str], statuses: list[str] | None) -> dict[str, Any]:
    """A delivery update's webhook written inline: its event types, and its recipients' statuses (None:
    a status the schema does not list)."""
    status: dict[str, Any] = {"type": "string"} if statuses is None else {"type": "string", "enum": statuses}
    to = {"type": "array", "items": {"type": "object", "properties": {"status": status}}}
    data = {"properties": {"event_type": {"enum": types}, "payload": {"properties": {"to": to}}}}
    body = {"content": {"application/json": {"schema": {"properties": {"data": data}}}}}
    return {"post": {"requestBody": body}}


def test_a_later_spec_s_delivery_updates_in_two_webhooks_or_with_statuses_not_listed() -> None:
    types, statuses = _spec_statuses(SPEC)
    document = copy.deepcopy(SPEC)
    # A second delivery update: its statuses the spec had not listed go after the first's, in its order.
    document["webhooks"]["zzz"] = _webhook([FINALIZED, "message.handed_over"], ["handed_over", "delivered", "gone"])
    order = _receipts.StatusOrder.of(document)
    assert order.statuses == (*statuses, "handed_over", "gone")
    assert order.event_types == {*types, "message.handed_over"}
    # A delivery update whose statuses are free text: its events are still delivery updates, every status final.
    free = _receipts.StatusOrder.of({"webhooks": {"deliveryUpdate": _webhook([SENT, FINALIZED], None)}})
    assert (free.statuses, free.event_types) == ((), {SENT, FINALIZED})
    assert free.is_final("sent") and free.is_final("delivered")


def test_a_receiver_s_final_status_stays_when_the_sent_update_comes_after_it(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    message = _message(fake)
    with Receiver(tmp_path / "receipts.db", public_key=fake.public_key) as receiver:
        final = receiver.receive(*fake.webhook(FINALIZED, {**message, "to": [_to("delivered")]}))
        late = receiver.receive(*fake.webhook(SENT, {**message, "to": [_to("sent")]}))
        assert (final.text, late.text) == ("recorded", "recorded")
        (delivery,) = receiver.deliveries()
    assert (delivery.status, delivery.event_id) == ("delivered", final.event_id)


def test_in_flight_statuses_in_any_order_end_at_the_latest(tmp_path: Path) -> None:
    order = _receipts.status_order()
    in_flight = [s for s in DELIVERY_STATUSES if s not in FINAL_STATUSES]
    db = _receipts.connect(str(tmp_path / "store.db"))
    for number, permutation in enumerate(itertools.permutations(range(len(in_flight)))):
        message = f"in-flight-{number}"
        for place in permutation:  # each a minute earlier than the one after it in the API's order
            _receipts.record(db, [_with_message(_incoming(in_flight[place], 10 - place), message)], order, 1.0)
        found = db.execute("SELECT status FROM deliveries WHERE message_id = ?", (message,)).fetchall()
        assert found == [(in_flight[-1],)], permutation
    db.close()


def test_times_without_a_zone_are_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _receipts.epoch("2026-12-07T10:00:00") == _receipts.epoch("2026-12-07T10:00:00Z")
    assert _receipts.epoch("2026-12-07T12:00:00+02:00") == _receipts.epoch("2026-12-07T10:00:00Z")
    assert _receipts.epoch("2026-12-07T10:00:00Z") == 1796637600.0
    assert _receipts.epoch("yesterday") is None and _receipts.epoch(None) is None
    # Also on a machine whose clock is not at UTC (five hours behind it).
    monkeypatch.setenv("TZ", "EST5")
    time.tzset()
    try:
        assert _receipts.epoch("2026-12-07T10:00:00") == 1796637600.0
    finally:
        monkeypatch.undo()
        time.tzset()


def test_each_recipient_of_an_update_takes_its_outcome_on_its_own(tmp_path: Path) -> None:
    order = _receipts.status_order()

    def update(minute: int, outcomes: list[tuple[str, str]]) -> _receipts.Incoming:
        recipients = tuple(_receipts.Outcome(number, status, None, None) for number, status in outcomes)
        occurred = f"2026-12-07T10:{minute:02d}:00Z"
        return _receipts.Incoming(str(uuid.uuid4()), FINALIZED, M["m-1"], occurred, 1, b"{}", recipients, {})

    first = update(10, [("+1", "delivered"), ("+2", "sent")])
    later = update(20, [("+1", "sent"), ("+2", "delivered")])  # +1's sent comes late; +2's delivered counts
    db = _receipts.connect(str(tmp_path / "store.db"))
    for item in (first, later):
        _receipts.record(db, [item], order, 1.0)
    found = db.execute("SELECT recipient, status, event_id FROM deliveries ORDER BY recipient").fetchall()
    db.close()
    assert found == [("+1", "delivered", first.event_id), ("+2", "delivered", later.event_id)]


def test_the_spec_is_read_as_utf_8_whatever_the_locale() -> None:
    previous = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")  # its files' encoding: ASCII; the spec has em dashes
    try:
        document = _receipts._spec()
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)
    shipped = resources.files("telnyx_messages._api").joinpath("spec.json").read_bytes()
    assert document == json.loads(shipped)  # as UTF-8 reads it (the spec's texts are not all ASCII)
    assert _receipts.StatusOrder.of(document).statuses == DELIVERY_STATUSES


def test_what_is_recorded_of_an_event_read_leniently(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    order = _receipts.status_order()
    received = {
        "data": {"id": "e-1", "event_type": "message.received", "payload": {"id": M["m-1"], "to": [_to("delivered")]}},
        "meta": {"attempt": True},
    }
    incoming = _receipts.incoming(received, b"{}", order)
    assert (incoming.event_id, incoming.message_id, incoming.attempt, incoming.outcomes) == ("e-1", M["m-1"], None, ())
    errors = [{"code": "40008", "title": "a"}, {"title": "no code"}, {"title": "b", "code": 40300}, "not an error"]
    update = {
        "data": {
            "id": "",
            "event_type": FINALIZED,
            "payload": {"id": M["m-2"], "errors": errors, "to": [_to("delivered"), {"phone_number": "+1"}, "x"]},
        },
        "meta": {"attempt": 3},
    }
    incoming = _receipts.incoming(update, b"the body", order)
    assert incoming.event_id == "sha256:" + __import__("hashlib").sha256(b"the body").hexdigest()
    assert incoming.attempt == 3
    (outcome,) = incoming.outcomes
    assert (outcome.recipient, outcome.status, outcome.error_codes) == (RECIPIENT, "delivered", "40008,40300")
    assert json.loads(outcome.errors or "") == errors[:3]
    assert [list(error) for error in json.loads(outcome.errors or "")] == [
        ["code", "title"],
        ["title"],
        ["title", "code"],
    ]
    # Values that are not text, or empty, are none; an update without errors records none; `to` not a list.
    odd_values = {
        "data": {"id": 7, "event_type": FINALIZED, "occurred_at": 5, "payload": {"id": 9, "to": [_to("sent")]}}
    }
    incoming = _receipts.incoming(odd_values, b"odd", order)
    assert (incoming.event_id, incoming.message_id, incoming.occurred_at, incoming.outcomes) == (
        "sha256:" + __import__("hashlib").sha256(b"odd").hexdigest(),
        None,
        None,
        (),
    )
    empty = _receipts.incoming({"data": {"id": "e-2", "event_type": "", "payload": {"id": ""}}}, b"{}", order)
    assert (empty.event_type, empty.message_id) == (None, None)
    no_errors = {
        "data": {"id": "e-3", "event_type": SENT, "payload": {"id": M["m-1"], "errors": [], "to": [_to("sent")]}}
    }
    (outcome,) = _receipts.incoming(no_errors, b"{}", order).outcomes
    assert (outcome.status, outcome.error_codes, outcome.errors) == ("sent", None, None)
    for document in ([1, 2], {"data": "x"}, {"data": {"payload": "x", "event_type": FINALIZED}}):
        odd = _receipts.incoming(document, b"[1]", order)
        assert (odd.event_type, odd.message_id, odd.outcomes) == (
            FINALIZED if isinstance(document, dict) and isinstance(document["data"], dict) else None,
            None,
            (),
        )
    no_recipients = {"data": {"id": "e-4", "event_type": FINALIZED, "payload": {"id": M["m-1"], "to": None}}}
    with Receiver(tmp_path / "receipts.db", public_key=fake.public_key) as receiver:
        assert receiver.receive(*sign(fake, [1, 2])).new  # a signed body that is no event: kept
        assert receiver.receive(*sign(fake, no_recipients)).new
        assert list(receiver.deliveries()) == []  # nothing of them is a delivery
    with Receiver(tmp_path / "receipts.db", public_key=fake.public_key) as receiver:
        document = {**_message(fake), "id": M["m-2"], "to": [_to("sent")], "errors": []}
        assert receiver.receive(*fake.webhook(SENT, document)).new
        with sqlite3.connect(receiver.path) as db:
            assert db.execute("SELECT status, error_codes, errors FROM deliveries").fetchall() == [("sent", None, None)]


def _to(status: str) -> dict[str, str]:
    return {"phone_number": RECIPIENT, "status": status}


def test_the_store_s_connections_are_as_asked(tmp_path: Path) -> None:
    key = FakeTelnyx().public_key
    with Receiver(tmp_path / "full.db", public_key=key, answer_within=0.9) as receiver:
        for store in (receiver._reader, receiver._writer_db):
            assert isinstance(store, _receipts.SQLiteStore)
            db = store.db
            assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
            assert db.execute("PRAGMA busy_timeout").fetchone() == (600,)  # 2/3 of answer_within
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        names = {thread.name for thread in threading.enumerate()}
        assert "telnyx-receiver-writer" in names
    with Receiver(tmp_path / "normal.db", public_key=key, synchronous="NORMAL") as receiver:
        for store in (receiver._reader, receiver._writer_db):
            assert isinstance(store, _receipts.SQLiteStore)
            db = store.db
            assert db.execute("PRAGMA synchronous").fetchone() == (1,)
            assert db.execute("PRAGMA busy_timeout").fetchone() == (1000,)
    db = _receipts.connect(str(tmp_path / "defaults.db"))
    assert db.execute("PRAGMA synchronous").fetchone() == (2,) and db.execute("PRAGMA busy_timeout").fetchone() == (
        1000,
    )
    assert db.execute("PRAGMA application_id").fetchone() == (_receipts.RECEIVER_APPLICATION_ID,)
    db.close()
    with pytest.raises(StoreError, match=r"cannot open it as SQLite \(unable to open database file\)$"):
        Receiver(tmp_path, public_key=key)
    with pytest.raises(TypeError, match=r"^the store is a file path \(str or os.PathLike\), got int$"):
        Receiver(5, public_key=key)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^the store path is empty$"):
        Receiver("", public_key=key)


def test_what_was_recorded_reads_in_order(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    message = _message(fake)
    ids = sorted(M.values())
    with Receiver(tmp_path / "receipts.db", public_key=fake.public_key) as receiver:
        posted = []
        for message_id in reversed(ids):
            document = {**message, "id": message_id, "to": [_to("delivered"), {**_to("sent"), "phone_number": "+1"}]}
            body, headers = fake.webhook(FINALIZED, document)
            posted.append(receiver.receive(body, headers).event_id)
        later = {**message, "id": ids[0], "to": [{**_to("not_in_the_spec"), "phone_number": "+2"}]}
        posted.append(receiver.receive(*sign_webhook(fake, later)).event_id)
        assert list(receiver.event_ids()) == posted  # in the order recorded
        assert [(d.message_id, d.recipient) for d in receiver.deliveries()] == sorted(
            [(i, r) for i in ids for r in ("+1", RECIPIENT)] + [(ids[0], "+2")]
        )
        assert [d.recipient for d in receiver.deliveries(ids[1])] == ["+1", RECIPIENT]
        assert [(d.status, d.final) for d in receiver.deliveries(ids[0])] == [
            ("sent", False),  # +1
            ("delivered", True),  # +13125550002
            ("not_in_the_spec", True),  # +2
        ]
        counts = receiver.delivery_counts()
    assert list(counts) == [*DELIVERY_STATUSES, "not_in_the_spec"]
    assert (counts["delivered"], counts["sent"], counts["not_in_the_spec"]) == (len(ids), len(ids), 1)


def sign_webhook(fake: FakeTelnyx, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A delivery update the fake's own webhook() would refuse (a status its spec lacks), signed."""
    body, _ = fake.webhook(FINALIZED, {**payload, "to": [_to("delivered")]})
    document = json.loads(body)
    document["data"]["payload"]["to"] = payload["to"]
    return sign(fake, document)


def _until_logged(caplog: pytest.LogCaptureFixture, message: str, *, times: int, within: float = 10.0) -> None:
    """Wait (at most `within` seconds) until `message` has been logged `times` times: the lock is held
    until the writer has given up, however slowly a loaded machine runs it, not for a fixed time."""
    deadline = time.monotonic() + within
    while sum(r.getMessage() == message for r in list(caplog.records)) < times and time.monotonic() < deadline:
        time.sleep(0.02)


def test_503_names_why_and_a_request_queued_behind_a_locked_write_times_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTelnyx()
    message = _message(fake)
    first, second = (_event(fake, FINALIZED, message, M[name], "delivered") for name in ("m-1", "m-2"))
    store = tmp_path / "receipts.db"
    receiver = Receiver(store, public_key=fake.public_key, answer_within=1.5)  # waits 1 s for the lock
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    answers: dict[str, Any] = {}
    threads = [threading.Thread(target=lambda: answers.__setitem__("first", receiver.receive(*_signed(first))))]
    threads.append(threading.Thread(target=lambda: answers.__setitem__("second", receiver.receive(*_signed(second)))))
    threads[0].start()
    time.sleep(0.1)
    threads[1].start()  # queued behind the first: the writer takes it at 1 s, it waits 1 s more, past its 1.5 s
    for thread in threads:
        thread.join(10)
    _until_logged(caplog, "could not record 1 event(s): database is locked", times=2)  # the writer gave up on both
    holder.execute("ROLLBACK")
    holder.close()
    assert [(answers[n].status, answers[n].event_id) for n in ("first", "second")] == [
        (503, _id(first)),
        (503, _id(second)),
    ]
    warnings = [r.getMessage() for r in caplog.records if r.name == "telnyx_messages.receiver" and r.levelno == 30]
    assert f"event {_id(first)} not recorded (database is locked): answered 503" in warnings
    assert f"event {_id(second)} not recorded in time: answered 503 (Telnyx delivers it again)" in warnings
    assert "could not record 1 event(s): database is locked" in warnings
    receiver.close()
    assert list(Receiver(store, public_key=fake.public_key).event_ids()) == []


def test_close_records_what_is_queued_and_waits_a_bounded_time_for_callbacks(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    message = _message(fake)
    events = [_event(fake, FINALIZED, message, str(uuid.uuid4()), "delivered") for _ in range(40)]
    done: list[str] = []

    def slow(event: webhooks.WebhookEvent) -> None:
        time.sleep(0.05)
        done.append("x")

    receiver = Receiver(tmp_path / "receipts.db", public_key=fake.public_key, on_event=slow)
    futures = [receiver._writer.submit(receiver._check(*_signed(e))) for e in events]  # type: ignore[arg-type]
    started = time.monotonic()
    receiver.close(callback_timeout=0.2)
    assert time.monotonic() - started < 1.0  # 40 callbacks of 0.05 s would take 2 s
    assert [f.result(0) for f in futures] == [True] * 40  # every queued event recorded before the close
    assert 0 < len(done) < 40
    again = Receiver(tmp_path / "receipts.db", public_key=fake.public_key)
    assert len(list(again.event_ids())) == 40
    started = time.monotonic()
    again.close()
    assert again.receive(*_signed(events[0])).status == 503 and time.monotonic() - started < 0.5


def test_a_verified_event_its_model_refuses_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeTelnyx()
    got: list[webhooks.WebhookEvent] = []
    unreadable = {"data": {"id": "e-1", "event_type": FINALIZED, "payload": {"id": M["m-1"], "to": "+1"}}}
    with Receiver(tmp_path / "receipts.db", public_key=fake.public_key, on_event=got.append) as receiver:
        assert receiver.receive(*sign(fake, unreadable)).new
    (event,) = got
    assert isinstance(event, webhooks.UnknownWebhookEvent) and event.document == unreadable
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith("a verified event does not parse as its model, kept as delivered: the event does not")


def test_the_receiver_s_threads_never_keep_the_process_from_exiting(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    receiver = Receiver(tmp_path / "receipts.db", public_key=FakeTelnyx().public_key, on_event=print)
    started = {thread.name: thread.daemon for thread in set(threading.enumerate()) - before}
    receiver.close()
    # Daemon threads: a program that never closes its receiver still ends.
    assert started == {"telnyx-receiver-writer": True, "telnyx-receiver-callbacks": True}


def test_a_timestamp_may_be_300_s_off_by_default_else_as_given(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    document = {**_message(fake), "id": M["m-1"], "to": [_to("delivered")]}
    if time.time() % 1 > 0.7:  # the signing and the checks within one second of the clock
        time.sleep(1.05 - time.time() % 1)
    now = int(time.time())
    just_over, older = (fake.webhook(FINALIZED, document, timestamp=now - age) for age in (300, 350))
    with Receiver(tmp_path / "default.db", public_key=fake.public_key) as receiver:
        answer = receiver.receive(*just_over)  # 300 s and a fraction of a second old
        assert answer.status == 401 and answer.text.endswith(" s old, beyond the 300 s tolerance"), answer.text
    with Receiver(tmp_path / "wide.db", public_key=fake.public_key, tolerance=400) as receiver:
        assert receiver.receive(*older).text == "recorded"
    with Receiver(tmp_path / "none.db", public_key=fake.public_key, tolerance=0) as receiver:
        answer = receiver.receive(*fake.webhook(FINALIZED, document))  # signed now: a fraction of a second old
        assert (answer.status, answer.text.endswith("beyond the 0 s tolerance")) == (401, True), answer.text


def test_the_key_from_the_environment_is_read_once_at_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, other = FakeTelnyx(), FakeTelnyx()
    monkeypatch.setenv(webhooks.PUBLIC_KEY_ENV, fake.public_key)
    event = _event(fake, FINALIZED, _message(fake), M["m-1"], "delivered")
    with Receiver(tmp_path / "receipts.db") as receiver:
        monkeypatch.setenv(webhooks.PUBLIC_KEY_ENV, other.public_key)
        assert receiver.receive(*_signed(event)).text == "recorded"


def test_what_is_refused_is_logged_with_why_and_a_body_not_bytes_is_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="telnyx_messages.receiver")
    fake = FakeTelnyx()
    event = _event(fake, FINALIZED, _message(fake), M["m-1"], "delivered")
    with Receiver(tmp_path / "receipts.db", public_key=fake.public_key) as receiver:
        assert receiver.receive(event.body.replace(b"delivered", b"delivery_failed"), event.headers).status == 401
        assert receiver.receive(event.body, {}).status == 400
        with pytest.raises(TypeError, match=r"^body must be the raw bytes of the request, got str$"):
            receiver.receive(event.body.decode(), event.headers)  # type: ignore[arg-type]
        assert list(receiver.event_ids()) == []
    assert [r.getMessage() for r in caplog.records if r.name == "telnyx_messages.receiver"] == [
        "refused a webhook: the signature does not match the payload",
        "refused a webhook: missing header telnyx-signature-ed25519",
    ]


def test_an_event_that_cannot_be_stored_is_answered_503_and_the_rest_of_its_batch_recorded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTelnyx()
    message = _message(fake)
    first, good, after = (_event(fake, FINALIZED, message, M[name], "delivered") for name in ("m-0", "m-1", "m-2"))
    # Signed with Telnyx's key, but its id is no text SQLite stores (a lone surrogate, which JSON allows).
    bad_id = "\ud800-e"
    bad = sign(fake, {"data": {"id": bad_id, "event_type": FINALIZED, "payload": {"id": M["outside"], "to": []}}})
    store = tmp_path / "receipts.db"
    receiver = Receiver(store, public_key=fake.public_key, answer_within=3.0)  # waits 2 s for the lock
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    answers: dict[str, Any] = {}

    def post(name: str, body: bytes, headers: dict[str, str]) -> None:
        answers[name] = receiver.receive(body, headers)

    threads = []
    for name, request in (("first", _signed(first)), ("bad", bad), ("good", _signed(good))):
        threads.append(threading.Thread(target=post, args=(name, *request)))
        threads[-1].start()
        time.sleep(0.15)  # the writer takes the first and waits for the lock; the others queue, in this order
    holder.execute("ROLLBACK")  # the first is recorded, then the two queued behind it in one transaction
    holder.close()
    for thread in threads:
        thread.join(10)
    assert [(answers[n].status, answers[n].text) for n in ("first", "bad", "good")] == [
        (200, "recorded"),
        (503, "not recorded: deliver it again"),
        (200, "recorded"),
    ]
    assert receiver.receive(*_signed(after)).text == "recorded"  # the writer goes on
    assert list(receiver.event_ids()) == [_id(first), _id(good), _id(after)]
    receiver.close()
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == "could not record event \\ud800-e"  # escaped: a log line in UTF-8 carries it
    assert error.exc_info is not None and isinstance(error.exc_info[1], UnicodeEncodeError)


def test_close_waits_5_s_for_the_callbacks_unless_told_otherwise(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    release = threading.Event()
    receiver = Receiver(tmp_path / "receipts.db", public_key=fake.public_key, on_event=lambda _: release.wait(30))
    assert receiver.receive(*_signed(_event(fake, FINALIZED, _message(fake), M["m-1"], "delivered"))).new
    started = time.monotonic()
    receiver.close()  # the callback is still running
    waited = time.monotonic() - started
    release.set()
    assert 4.9 < waited < 5.9


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_a_campaign_s_open_transaction_on_its_journal_gets_503_within_2_s(kind: str, tmp_path: Path) -> None:
    fake = FakeTelnyx()
    message = _message(fake)
    events = [_event(fake, FINALIZED, message, M[f"m-{n}"], "delivered") for n in range(3)]
    path = tmp_path / "run.db"
    journal = Journal(path)
    journal.begin("spring", {}, datetime.datetime.now(datetime.UTC))
    receiver = Receiver(path, public_key=fake.public_key)  # answers within 1.5 s, the default
    answers: list[Any] = []

    def post_while(event: Event, hold: Callable[[], None]) -> Any:
        poster = threading.Thread(target=lambda: answers.extend(post_all(port, [event], threads=1, path="/")))
        poster.start()
        hold()  # on this thread: the journal's connection is the campaign's, used where it was made
        poster.join(10)
        return answers.pop()

    with _serving(kind, receiver) as port:
        # The campaign's transaction held past the receiver's wait (a stalled campaign): 503, nothing stored.
        journal.add("r-0", "digest", "key-0", RECIPIENT, "+18445550001")

        def stall() -> None:
            time.sleep(1.3)
            journal.commit()

        stalled = post_while(events[0], stall)
        assert (stalled.status, stalled.text) == (503, "not recorded: deliver it again") and stalled.seconds < 2
        assert list(receiver.event_ids()) == []
        # As a campaign writes: commit_if_older(1.0) between its sends, its transaction up to a second long.
        journal.commit()
        journal.add("r-1", "digest", "key-1", RECIPIENT, "+18445550001")

        def campaign_rhythm() -> None:
            last_commit = journal.committed_at
            while journal.committed_at == last_commit:
                time.sleep(0.02)
                journal.commit_if_older(1.0)

        during = post_while(events[1], campaign_rhythm)
        assert during.seconds < 2 and (during.status, list(receiver.event_ids())) in (
            (200, [_id(events[1])]),
            (503, []),
        ), during
        # Delivered again once the campaign committed: recorded.
        for event in events:
            (again,) = post_all(port, [event], threads=1, path="/")
            assert again.status == 200 and again.seconds < 2
    assert sorted(receiver.event_ids()) == sorted(_id(event) for event in events)
    receiver.close()
    assert [row.identity for row in journal.rows()] == ["r-0", "r-1"]  # the campaign's writes kept
    journal.close()


def test_asgi_a_request_queued_behind_a_locked_write_is_answered_503_in_its_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeTelnyx()
    message = _message(fake)
    first, second = (_event(fake, FINALIZED, message, M[name], "delivered") for name in ("m-1", "m-2"))
    store = tmp_path / "receipts.db"
    receiver = Receiver(store, public_key=fake.public_key, answer_within=1.2)  # waits 0.8 s for the lock
    answers: dict[str, Any] = {}
    with asgi_serving(ASGIReceiver(receiver)) as port:
        holder = sqlite3.connect(store, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")

        def post(name: str, event: Event) -> None:
            (answers[name],) = post_all(port, [event], threads=1, path="/")

        threads = [threading.Thread(target=post, args=("first", first))]
        threads[0].start()
        time.sleep(0.15)
        threads.append(threading.Thread(target=post, args=("second", second)))
        threads[1].start()  # queued behind the first: the writer takes it at 0.8 s; its 1.2 s end at 1.35 s
        for thread in threads:
            thread.join(10)
        _until_logged(caplog, "could not record 1 event(s): database is locked", times=2)  # the writer gave up
        holder.execute("ROLLBACK")
        holder.close()
    assert [(answers[n].status, answers[n].text) for n in ("first", "second")] == [
        (503, "not recorded: deliver it again"),
        (503, "not recorded: deliver it again"),
    ]
    assert answers["second"].seconds < 1.5
    warnings = [r.getMessage() for r in caplog.records if r.name == "telnyx_messages.receiver" and r.levelno == 30]
    assert f"event {_id(first)} not recorded (database is locked): answered 503" in warnings
    assert f"event {_id(second)} not recorded in time: answered 503 (Telnyx delivers it again)" in warnings
    assert list(receiver.event_ids()) == []
    receiver.close()


def _bulk(store: Path, messages: int) -> list[str]:
    """`messages` finalized updates of two recipients each recorded in `store` by the store's own write,
    in one transaction (their events' ids e-N, counting down); their message ids."""
    ids = [str(uuid.uuid4()) for _ in range(messages)]
    items = [
        _receipts.Incoming(
            f"e-{messages - n:06d}",
            FINALIZED,
            message_id,
            "2026-12-07T10:00:00Z",
            1,
            b"{}",
            (_receipts.Outcome(RECIPIENT, "delivered", None, None), _receipts.Outcome("+1", "sent", None, None)),
            {},
        )
        for n, message_id in enumerate(ids)
    ]
    db = _receipts.connect(str(store))
    _receipts.record(db, items, _receipts.status_order(), time.time())
    db.close()
    return ids


def test_what_was_recorded_reads_page_by_page_each_once_in_order(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    store = tmp_path / "receipts.db"
    ids = _bulk(store, 700)  # 1,400 deliveries, 700 events: pages of 500
    message = _message(fake)
    # A message of one recipient, first by its id: a page ends between the two recipients of another.
    lone = {**message, "id": "00000000-0000-4000-8000-000000000001", "to": [_to("sent")]}
    with Receiver(store, public_key=fake.public_key) as receiver:
        lone_id = receiver.receive(*fake.webhook(SENT, lone)).event_id
        read = list(itertools.islice(receiver.deliveries(), 2000))  # bounded: a reading that never ends fails
        assert [(d.message_id, d.recipient, d.status) for d in read] == sorted(
            [(i, "+1", "sent") for i in ids]
            + [(i, RECIPIENT, "delivered") for i in ids]
            + [(lone["id"], RECIPIENT, "sent")]
        )
        events = list(itertools.islice(receiver.event_ids(), 2000))
        assert events == [f"e-{700 - n:06d}" for n in range(700)] + [lone_id]  # as recorded
        assert [d.recipient for d in receiver.deliveries(ids[0])] == ["+1", RECIPIENT]
        # Recorded while a reading runs: every recipient still comes once.
        reading = receiver.deliveries()
        head = list(itertools.islice(reading, 600))
        new = {**message, "id": "00000000-0000-4000-8000-000000000000", "to": [_to("sent")]}
        assert receiver.receive(*fake.webhook(SENT, new)).new
        keys = [(d.message_id, d.recipient) for d in [*head, *itertools.islice(reading, 2000)]]
    assert len(keys) == len(set(keys)) == 1401


def test_reading_the_deliveries_holds_a_page_not_the_table(tmp_path: Path) -> None:
    store = tmp_path / "receipts.db"
    _bulk(store, 5000)  # 10,000 deliveries
    with Receiver(store, public_key=FakeTelnyx().public_key) as receiver:
        tracemalloc.start()
        try:
            read = sum(1 for _ in receiver.deliveries())
            streamed = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            kept = list(receiver.deliveries())
            listed = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert read == len(kept) == 10_000
    assert streamed * 5 < listed, (streamed, listed)  # the list holds the table; the reading, a page


# --- migrations -------------------------------------------------------------------------------------

TNXR, TNXC = _receipts.RECEIVER_APPLICATION_ID, int.from_bytes(b"TNXC", "big")
RECEIVER_TABLES = [
    ("table", "deliveries"),
    ("table", "events"),
    ("index", "events_message"),
    ("table", "receiver"),
]
# A step a later version of the package might add.
LATER = _journal.Migration(
    _receipts.SCHEMA_VERSION + 1, "a column a later version adds", ("ALTER TABLE events ADD COLUMN later TEXT",)
)


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _header(db: sqlite3.Connection) -> tuple[int, int, list[tuple[str, str]], list[tuple[str, str]]]:
    """The file's user_version and application id, its tables and indexes (type, name), and the receiver's table."""
    names = db.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    found = db.execute("SELECT key, value FROM receiver").fetchall() if ("table", "receiver") in names else []
    return (
        db.execute("PRAGMA user_version").fetchone()[0],
        db.execute("PRAGMA application_id").fetchone()[0],
        names,
        found,
    )


def _finalized(message_id: str, recipient: str, status: str) -> _receipts.Incoming:
    document = {
        "data": {
            "id": f"event-{message_id}",
            "event_type": "message.finalized",
            "occurred_at": "2026-12-07T08:00:01+00:00",
            "payload": {"id": message_id, "to": [{"phone_number": recipient, "status": status}]},
        }
    }
    return _receipts.incoming(document, json.dumps(document).encode(), _receipts.status_order())


def test_a_new_store_gets_the_receiver_s_schema_once_and_a_journal_stays_the_journal_s(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with contextlib.closing(_connect(path)) as db:
        assert _receipts.migrate(db, str(path)) == [step.version for step in _receipts.MIGRATIONS] == [1]
        assert _receipts.migrate(db, str(path)) == []
        assert _header(db) == (0, TNXR, RECEIVER_TABLES, [("schema_version", "1")])
        assert _receipts.schema_version(db) == _receipts.SCHEMA_VERSION
        assert not db.in_transaction
    journal = tmp_path / "run.db"
    Journal(journal).close()
    with contextlib.closing(_connect(journal)) as db:
        assert _receipts.schema_version(db) == 0
        assert _receipts.migrate(db, str(journal)) == [1]
        journal_tables = [("table", "campaign"), ("table", "rows"), ("index", "rows_state")]
        assert _header(db) == (
            _journal.SCHEMA_VERSION,
            TNXC,
            sorted(RECEIVER_TABLES + journal_tables, key=lambda item: item[1]),
            [("schema_version", "1")],
        )


def test_an_older_journal_gets_the_receiver_s_tables_keeping_its_rows(tmp_path: Path) -> None:
    """A journal made before the receiver existed (the first version's, as SQL): a receiver opening
    it adds its tables; the journal reads its rows as before, now with their deliveries."""
    path = tmp_path / "run.db"
    first_journal(path)
    with contextlib.closing(_receipts.connect(str(path))) as db:
        order = _receipts.status_order()
        assert _receipts.record(db, [_finalized("m-a", "+13125550001", "delivered")], order, 1.0) == [True]
    with Journal(path, create=False) as journal:
        assert list(journal.rows()) == FIRST_ROWS
        assert journal.delivery_counts() == {"delivered": 1}
        delivered = [(row, delivery and delivery.status) for row, delivery in journal.rows_delivered()]
    assert delivered == [(FIRST_ROWS[0], "delivered"), (FIRST_ROWS[1], None), (FIRST_ROWS[2], None)]
    with contextlib.closing(_connect(path)) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == TNXC


def test_a_later_version_migrates_an_older_store_keeping_its_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    store = _receipts.SQLiteStore(str(path), synchronous="FULL", busy_timeout=1.0)
    order = _receipts.status_order()
    assert store.record([_finalized("m-a", "+1", "delivered"), _finalized("m-b", "+2", "failed")], order, 1.0)
    store.close()
    monkeypatch.setattr(_receipts, "MIGRATIONS", (*_receipts.MIGRATIONS, LATER))
    store = _receipts.SQLiteStore(str(path), synchronous="FULL", busy_timeout=1.0)
    try:
        assert store.event_ids(0, 10) == [(1, "event-m-a"), (2, "event-m-b")]
        assert sorted(store.delivery_counts()) == [("delivered", 1), ("failed", 1)]
        assert store.record([_finalized("m-c", "+3", "delivered")], order, 2.0) == [True]
        assert store.db.execute("SELECT value FROM receiver WHERE key = 'schema_version'").fetchone() == ("2",)
        assert _receipts.schema_version(store.db) == 2
        assert store.db.execute("SELECT event_id, later FROM events ORDER BY rowid").fetchall() == [
            ("event-m-a", None),
            ("event-m-b", None),
            ("event-m-c", None),
        ]
    finally:
        store.close()


_MIGRATE_AT_ONCE = """
import sqlite3, sys
from telnyx_messages import _receipts
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA busy_timeout=30000")
print("ready", flush=True)
sys.stdin.readline()
print(_receipts.migrate(db, sys.argv[1]), flush=True)
"""


@pytest.mark.slow  # real processes, started together
def test_receivers_opening_an_older_journal_at_once_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    first_journal(path)
    assert sorted(at_once(_MIGRATE_AT_ONCE, path, 3)) == ["[1]", "[]", "[]"]
    with Journal(path, create=False) as journal:
        assert list(journal.rows()) == FIRST_ROWS
        assert journal.has_deliveries()


def test_a_store_of_a_later_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with contextlib.closing(_connect(path)) as db:
        _receipts.migrate(db, str(path), (*_receipts.MIGRATIONS, LATER))
        before = _header(db), db.execute("PRAGMA table_info(events)").fetchall()
        with pytest.raises(StoreError) as refused:
            _receipts.migrate(db, str(path))
        assert str(refused.value) == (
            f"{path} was written by a later telnyx-messages (receiver schema 2, this one reads up to 1): "
            "upgrade to use it"
        )
        assert not db.in_transaction
    with pytest.raises(StoreError) as refused:
        _receipts.SQLiteStore(str(path), synchronous="FULL", busy_timeout=1.0)
    assert str(refused.value).startswith(f"{path} was written by a later telnyx-messages (receiver schema 2,")
    with contextlib.closing(_connect(path)) as db:
        assert (_header(db), db.execute("PRAGMA table_info(events)").fetchall()) == before


def test_a_failed_receiver_migration_applies_none_of_its_steps(tmp_path: Path) -> None:
    broken = _journal.Migration(
        LATER.version, "fails halfway", (*LATER.statements, "ALTER TABLE no_such_table ADD COLUMN x TEXT")
    )
    path = tmp_path / "store.db"
    with contextlib.closing(_connect(path)) as db:
        _receipts.migrate(db, str(path))
        before = _header(db), db.execute("PRAGMA table_info(events)").fetchall()
        with pytest.raises(sqlite3.OperationalError, match="no such table: no_such_table"):
            _receipts.migrate(db, str(path), (*_receipts.MIGRATIONS, broken))
        assert not db.in_transaction
        assert (_header(db), db.execute("PRAGMA table_info(events)").fetchall()) == before
    journal = tmp_path / "run.db"
    first_journal(journal)
    with contextlib.closing(_connect(journal)) as db:  # the first step and the broken one: neither
        untouched = _header(db)
        with pytest.raises(sqlite3.OperationalError, match="no such table: no_such_table"):
            _receipts.migrate(db, str(journal), (*_receipts.MIGRATIONS, broken))
        assert _header(db) == untouched


def test_receiver_migration_steps_must_rise_from_1(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with contextlib.closing(_connect(path)) as db:
        for steps in ((), (LATER,), (*_receipts.MIGRATIONS, _receipts.MIGRATIONS[0])):
            with pytest.raises(ValueError) as refused:
                _receipts.migrate(db, str(path), steps)
            versions = [step.version for step in steps]
            assert str(refused.value) == f"migration versions must be 1, 2, ... in order, got {versions}"
        assert _header(db) == (0, 0, [], [])


def test_a_store_at_this_version_opens_without_waiting_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _receipts.SQLiteStore(str(path), synchronous="FULL", busy_timeout=1.0).close()
    with contextlib.closing(_connect(path)) as other:
        other.execute("BEGIN IMMEDIATE")
        other.execute("DELETE FROM receiver")
        store = _receipts.SQLiteStore(str(path), synchronous="FULL", busy_timeout=5.0)
        try:
            assert store.delivery_counts() == []
        finally:
            store.close()
        other.execute("ROLLBACK")
