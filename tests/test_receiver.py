"""The webhook receiver (telnyx_messages.receiver) in real servers, over real HTTP: its ASGI app under
uvicorn and its WSGI app under waitress, each in a process of its own (tests/support/receiver_server.py),
fed events the fake signed with its key (tests/support/receiver_events.py).

2,000 events posted at once from 32 threads (a fifth of them twice, shuffled, so that finalized
updates come before sent ones) end in exactly the status each recipient must have; what fails
verification is refused and changes nothing; a receiver killed (SIGKILL) mid-stream (1,000 events,
a fifth of them twice) has stored every
event it acknowledged, and once restarted, with the unacknowledged events delivered again, holds each
event once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from telnyx_messages.testing import FakeTelnyx

from .support.receiver_events import FINALIZED, SENT, Event, Posted, Stream, make_stream, percentile, post_all
from .support.receiver_process import served

KINDS = ["asgi", "wsgi"]
MESSAGES = 1000  # two events each: 2,000 events
# The killed receiver's stream: what it proves (each acknowledged event stored, none twice once
# redelivered) holds for any stream the kill cuts with 32 requests in flight; half the volume's.
KILLED_MESSAGES = 500
DUPLICATES = 0.2
# The stream is signed once for the module: its timestamps must hold however long the module runs.
STREAM_TOLERANCE = 3600


@pytest.fixture(scope="module")
def fake() -> FakeTelnyx:
    return FakeTelnyx()


@pytest.fixture(scope="module")
def stream(fake: FakeTelnyx) -> Stream:
    return make_stream(fake, MESSAGES)


@pytest.fixture(scope="module")
def killed_stream(fake: FakeTelnyx) -> Stream:
    return make_stream(fake, KILLED_MESSAGES)


def _event_ids(store: Path) -> list[str]:
    with sqlite3.connect(store) as db:
        return [row[0] for row in db.execute("SELECT event_id FROM events")]


def _deliveries(store: Path) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT message_id, recipient, status, error_codes FROM deliveries").fetchall()
    return {(m, r): (s, tuple(c.split(",")) if c else ()) for m, r, s, c in rows}


def _snapshot(store: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with sqlite3.connect(store) as db:
        events = db.execute("SELECT * FROM events ORDER BY event_id").fetchall()
        deliveries = db.execute("SELECT * FROM deliveries ORDER BY message_id, recipient").fetchall()
    return events, deliveries


def _event_id(event: Event) -> str:
    return str(json.loads(event.body)["data"]["id"])


def _finalized_first(posts: list[Event]) -> int:
    """How many messages have their finalized update posted before their sent one."""
    seen_sent: set[str] = set()
    early: set[str] = set()
    for event in posts:
        if event.event_type == SENT:
            seen_sent.add(event.message_id)
        elif event.event_type == FINALIZED and event.message_id not in seen_sent:
            early.add(event.message_id)
    return len(early)


@pytest.mark.slow  # volume and a killed process: run by make test, not again under the later document
@pytest.mark.parametrize("kind", KINDS)
def test_2000_events_posted_at_once_end_in_each_recipients_status(
    kind: str, fake: FakeTelnyx, stream: Stream, tmp_path: Path
) -> None:
    posts = stream.posts(DUPLICATES, seed=42)
    assert len(stream.events) == 2 * MESSAGES and len(posts) == 2 * MESSAGES + 400
    assert _finalized_first(posts) > 300  # the order the receiver must not be misled by
    store = tmp_path / "receipts.db"
    with served(kind, store, fake.public_key, tolerance=STREAM_TOLERANCE) as server:
        results = post_all(server.port, posts, threads=32)
    assert [r for r in results if r.status != 200] == []
    answers = [r.text for r in results]
    assert answers.count("recorded") == 2 * MESSAGES  # each event recorded once
    assert answers.count("duplicate: recorded before") == 400
    ids = _event_ids(store)
    assert sorted(ids) == sorted(_event_id(event) for event in stream.events)
    assert _deliveries(store) == stream.expected
    p99 = percentile([r.seconds for r in results], 0.99)
    print(
        f"\n{kind}: {len(results)} posts, answer time p50 {percentile([r.seconds for r in results], 0.5):.3f} s,"
        f" p99 {p99:.3f} s"
    )
    assert p99 < 2.0


Refusal = tuple[str, bytes, dict[str, str], int]


def _refused(fake: FakeTelnyx, other: FakeTelnyx, message: dict[str, object]) -> tuple[Event, list[Refusal]]:
    """An event giving `message`'s recipient a final status, signed; and (what is wrong, body,
    headers, the status it must get) for ways of it that fail verification."""
    final = {**message, "to": [{"phone_number": "+13125550002", "status": "delivery_failed"}]}
    body, headers = fake.webhook(FINALIZED, final)
    signed = Event(1, str(message["id"]), FINALIZED, body, headers)
    other_body, other_headers = other.webhook(FINALIZED, final)
    now = int(time.time())
    stale_body, stale_headers = fake.webhook(FINALIZED, final, timestamp=now - 310)
    ahead_body, ahead_headers = fake.webhook(FINALIZED, final, timestamp=now + 310)
    no_signature = {k: v for k, v in headers.items() if k != "telnyx-signature-ed25519"}
    mismatched = {**headers, "telnyx-signature-ed25519": other_headers["telnyx-signature-ed25519"]}
    return signed, [
        ("the body changed after signing", body.replace(b"delivery_failed", b"delivered"), headers, 401),
        ("another key's signature", other_body, other_headers, 401),
        ("a signature over another body", body, mismatched, 401),
        ("a timestamp 310 s old", stale_body, stale_headers, 401),
        ("a timestamp 310 s ahead", ahead_body, ahead_headers, 401),
        ("no signature", body, no_signature, 400),
        ("a signature not base64", body, {**headers, "telnyx-signature-ed25519": "not*base64"}, 400),
        ("a timestamp not unix seconds", body, {**headers, "telnyx-timestamp": "yesterday"}, 400),
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_what_fails_verification_is_refused_and_changes_nothing(kind: str, fake: FakeTelnyx, tmp_path: Path) -> None:
    other = FakeTelnyx()
    sent = fake.client().messages.send(to="+13125550002", from_="+18445550001", text="Hi")
    assert sent.data is not None
    message = sent.data.to_dict(mode="json")
    on_its_way = {**message, "to": [{"phone_number": "+13125550002", "status": "sent"}]}
    first = Event(0, str(message["id"]), SENT, *fake.webhook(SENT, on_its_way))
    store = tmp_path / "receipts.db"
    with served(kind, store, fake.public_key) as server:
        assert [r.status for r in post_all(server.port, [first])] == [200]
        before = _snapshot(store)
        signed, refusals = _refused(fake, other, message)
        for what, body, headers, status in refusals:
            (answer,) = post_all(server.port, [Event(0, str(message["id"]), FINALIZED, body, headers)], threads=1)
            assert (what, answer.status) == (what, status), answer.text
        assert _snapshot(store) == before
        assert _deliveries(store) == {(str(message["id"]), "+13125550002"): ("sent", ())}
        # The refused event itself, as signed: never recorded, so taken now.
        assert [r.text for r in post_all(server.port, [signed])] == ["recorded"]
        assert _deliveries(store) == {(str(message["id"]), "+13125550002"): ("delivery_failed", ())}
        (wrong_path,) = post_all(server.port, [signed], path="/elsewhere")
        assert wrong_path.status == 404


@pytest.mark.slow  # volume and a killed process: run by make test, not again under the later document
@pytest.mark.parametrize("kind", KINDS)
def test_a_receiver_killed_mid_stream_loses_no_acknowledged_event_and_records_none_twice(
    kind: str, fake: FakeTelnyx, killed_stream: Stream, tmp_path: Path
) -> None:
    stream = killed_stream
    posts = stream.posts(DUPLICATES, seed=7)
    store = tmp_path / "receipts.db"
    acknowledged: set[int] = set()
    lock = threading.Lock()
    with served(kind, store, fake.public_key, tolerance=STREAM_TOLERANCE) as server:

        def on_answer(posted: Posted) -> None:
            with lock:
                if posted.status == 200:
                    acknowledged.add(posted.event.index)
                if len(acknowledged) == len(stream.events) * 2 // 5:
                    server.kill()  # in the middle of 32 requests in flight

        results = post_all(server.port, posts, threads=32, on_answer=on_answer)
    assert server.process.returncode == -9
    unanswered = {r.event.index for r in results if r.status is None} - acknowledged
    assert len(unanswered) > len(stream.events) // 2  # the kill cut the stream
    stored = set(_event_ids(store))
    # Every event answered 200 was stored before its answer.
    assert {_event_id(stream.events[i]) for i in acknowledged} <= stored
    assert len(stored) < len(stream.events)
    # Telnyx delivers what was not acknowledged again (some of it stored before the kill).
    redelivered = [event for event in stream.events if event.index not in acknowledged]
    with served(kind, store, fake.public_key, tolerance=STREAM_TOLERANCE) as server:
        results = post_all(server.port, redelivered, threads=32)
    assert [r for r in results if r.status != 200] == []
    recorded_now = sum(r.text == "recorded" for r in results)
    assert len(stored) + recorded_now == len(stream.events)  # none recorded twice, none lost
    ids = _event_ids(store)
    assert sorted(ids) == sorted(_event_id(event) for event in stream.events)
    assert _deliveries(store) == stream.expected
