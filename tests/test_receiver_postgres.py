"""The webhook receiver recording into PostgreSQL (telnyx_messages._receipts_postgres), against the
machine's PostgreSQL server the tests start (tests/support/postgres.py: skipped where it or psycopg
is missing, failing under CI).

Many receivers, one store: four receiver processes, each uvicorn serving the ASGI app on a port of
its own (tests/support/receiver_server.py), take 2,000 signed events (a fifth of them twice,
shuffled, finalized updates before sent ones; a hundred of the duplicates posted to two workers at
the same moment, behind a barrier). Four processes on four ports rather than `uvicorn --workers 4`
on one: the kernel spreads one socket's connections as it likes, so the test could not say which
worker gets which copy; with a port each, the two copies of a duplicate go to two workers for sure.
Each is a separate process with its own connections and group commit, as uvicorn's workers are.

The receiver's ordinary behaviour on PostgreSQL, in the test's process: a refused event stores
nothing, a duplicate is recorded once, a status never goes back, reading page by page in order, 503
while a lock is held past the answer's time or when the connection is lost (then recorded once,
delivered again), a URL named without its password.
"""

from __future__ import annotations

import collections
import json
import logging
import random
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from telnyx_messages import _postgres, _receipts, _receipts_postgres, receiver
from telnyx_messages._journal import JournalError
from telnyx_messages.receiver import FINAL_STATUSES, Receiver, StoreError
from telnyx_messages.testing import FakeTelnyx

from .support.postgres import free_port, postgres_server, postgres_url, require_psycopg
from .support.receiver_events import FINALIZED, SENT, Event, Stream, make_stream, post_to
from .support.receiver_process import served_many

__all__ = ["postgres_server", "postgres_url"]  # the fixtures, used by the tests below

SCHEMA = _postgres.SCHEMA
WORKERS = 4
MESSAGES = 1000  # two events each: 2,000 events
DUPLICATES = 0.2
AT_ONCE = 100  # duplicated events whose two copies go to two workers at the same moment
STREAM_TOLERANCE = 3600  # the stream is signed once for the module


@pytest.fixture(scope="module")
def fake() -> FakeTelnyx:
    return FakeTelnyx()


@pytest.fixture(scope="module")
def stream(fake: FakeTelnyx) -> Stream:
    return make_stream(fake, MESSAGES)


def _db(url: str) -> Any:
    return require_psycopg().connect(url, autocommit=True)


def _event_ids(url: str) -> list[str]:
    with _db(url) as db:
        return [row[0] for row in db.execute(f"SELECT event_id FROM {SCHEMA}.events")]


def _deliveries(url: str) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    with _db(url) as db:
        rows = db.execute(f"SELECT message_id, recipient, status, error_codes FROM {SCHEMA}.deliveries").fetchall()
    return {(m, r): (s, tuple(c.split(",")) if c else ()) for m, r, s, c in rows}


def _event_id(event: Event) -> str:
    return str(json.loads(event.body)["data"]["id"])


def _finalized_first(posts: list[Event]) -> int:
    seen_sent: set[str] = set()
    early: set[str] = set()
    for event in posts:
        if event.event_type == SENT:
            seen_sent.add(event.message_id)
        elif event.event_type == FINALIZED and event.message_id not in seen_sent:
            early.add(event.message_id)
    return len(early)


@pytest.mark.slow  # 2,400 posts to four processes: about 6 s on the loaded 2-core machine
def test_2000_events_at_four_uvicorn_workers_are_each_recorded_once_statuses_right(
    fake: FakeTelnyx, stream: Stream, postgres_url: str
) -> None:
    posts = stream.posts(DUPLICATES, seed=43)
    assert len(posts) == 2 * MESSAGES + 400 and _finalized_first(posts) > 300
    twice = [index for index, count in collections.Counter(e.index for e in posts).items() if count == 2]
    at_once = set(random.Random(43).sample(sorted(twice), AT_ONCE))
    # The rest round-robin over the workers (a duplicate's copies wherever they fall); each of the
    # others' two copies to two workers, behind one barrier.
    spread = [event for event in posts if event.index not in at_once]
    pairs = [event for index in sorted(at_once) for event in (stream.events[index],) * 2]
    with served_many("asgi", postgres_url, fake.public_key, WORKERS, tolerance=STREAM_TOLERANCE) as servers:
        ports = [server.port for server in servers]
        spread_jobs = [(ports[n % WORKERS], event) for n, event in enumerate(spread)]
        pair_jobs = [(ports[(n // 2 + n % 2) % WORKERS], event) for n, event in enumerate(pairs)]
        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            spreading = pool.submit(post_to, spread_jobs, threads=24)
            paired = pool.submit(post_to, pair_jobs, threads=8, together=2)
            results = spreading.result() + paired.result()
        seconds = time.perf_counter() - started
    assert [r for r in results if r.status != 200] == []
    answers = collections.Counter(r.text for r in results)
    assert answers == {"recorded": 2 * MESSAGES, "duplicate: recorded before": 400}  # each event once
    # Each duplicate sent at once to two workers: recorded by one, a duplicate to the other.
    by_event: dict[int, list[tuple[int, str]]] = collections.defaultdict(list)
    for result in results:
        if result.event.index in at_once:
            by_event[result.event.index].append((result.port, result.text))
    assert len(by_event) == AT_ONCE
    for answered in by_event.values():
        assert len({port for port, _ in answered}) == 2
        assert sorted(text for _, text in answered) == ["duplicate: recorded before", "recorded"]
    # Every worker recorded events of its own: four writers into one store.
    recorded_by = collections.Counter(r.port for r in results if r.text == "recorded")
    assert set(recorded_by) == set(ports) and min(recorded_by.values()) > 300, recorded_by
    ids = _event_ids(postgres_url)
    assert sorted(ids) == sorted(_event_id(event) for event in stream.events)
    assert _deliveries(postgres_url) == stream.expected
    print(f"\n{len(results)} posts to {WORKERS} uvicorn workers on PostgreSQL in {seconds:.2f} s")


# --- the receiver's ordinary behaviour on PostgreSQL ------------------------------------------------


def _message(fake: FakeTelnyx) -> dict[str, Any]:
    sent = fake.client().messages.send(to="+13125550002", from_="+18445550001", text="Hi")
    assert sent.data is not None
    return sent.data.to_dict(mode="json")


def _update(
    fake: FakeTelnyx, message: dict[str, Any], event_type: str, status: str, message_id: str | None = None
) -> tuple[bytes, dict[str, str]]:
    document = {
        **message,
        "id": message_id or message["id"],
        "to": [{"phone_number": "+13125550002", "status": status}],
    }
    if status in FINAL_STATUSES and status != "delivered":
        document["errors"] = [{"code": "40008", "title": "Undeliverable", "detail": "carrier said so"}]
    return fake.webhook(event_type, document)


@pytest.fixture
def fake_here() -> FakeTelnyx:
    return FakeTelnyx()


@pytest.fixture
def pg_receiver(fake_here: FakeTelnyx, postgres_url: str) -> Iterator[Receiver]:
    with Receiver(postgres_url, public_key=fake_here.public_key) as made:
        yield made


def test_a_refused_event_stores_nothing_a_duplicate_is_recorded_once_a_status_never_goes_back(
    fake_here: FakeTelnyx, pg_receiver: Receiver, postgres_url: str
) -> None:
    message = _message(fake_here)
    finalized = _update(fake_here, message, FINALIZED, "delivery_failed")
    body, headers = finalized
    tampered = pg_receiver.receive(body.replace(b"delivery_failed", b"delivered"), headers)
    assert (tampered.status, tampered.new) == (401, False)
    assert _event_ids(postgres_url) == [] and _deliveries(postgres_url) == {}
    first = pg_receiver.receive(*finalized)
    assert (first.status, first.text, first.new) == (200, "recorded", True)
    again = pg_receiver.receive(*finalized)
    assert (again.status, again.text, again.new, again.event_id) == (
        200,
        "duplicate: recorded before",
        False,
        first.event_id,
    )
    late_sent = pg_receiver.receive(*_update(fake_here, message, SENT, "sent"))
    assert late_sent.new  # recorded, but the final status stays
    key = (str(message["id"]), "+13125550002")
    assert _deliveries(postgres_url) == {key: ("delivery_failed", ("40008",))}
    (delivery,) = pg_receiver.deliveries()
    assert (delivery.status, delivery.final, delivery.error_codes, delivery.event_id) == (
        "delivery_failed",
        True,
        ("40008",),
        first.event_id,
    )
    assert delivery.errors[0]["code"] == "40008" and delivery.event_type == FINALIZED
    assert abs(delivery.recorded_at.timestamp() - time.time()) < 60 and delivery.recorded_at.tzinfo is not None
    assert list(pg_receiver.event_ids()) == [first.event_id, late_sent.event_id]
    counts = pg_receiver.delivery_counts()
    assert counts["delivery_failed"] == 1 and sum(counts.values()) == 1


def test_what_was_recorded_reads_page_by_page_in_order(
    fake_here: FakeTelnyx, pg_receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(receiver, "_PAGE_ROWS", 3)
    message = _message(fake_here)
    ids = sorted(f"00000000-0000-4000-8000-{n:012d}" for n in range(7))
    posted = []
    for message_id in reversed(ids):  # recorded in the reverse of the ids' order
        document = {
            **message,
            "id": message_id,
            "to": [{"phone_number": "+13125550002", "status": "delivered"}, {"phone_number": "+1", "status": "sent"}],
        }
        answer = pg_receiver.receive(*fake_here.webhook(FINALIZED, document))
        assert answer.new
        posted.append(answer.event_id)
    assert list(pg_receiver.event_ids()) == posted  # 7 events, pages of 3
    read = [(d.message_id, d.recipient, d.status) for d in pg_receiver.deliveries()]
    assert read == sorted([(i, "+1", "sent") for i in ids] + [(i, "+13125550002", "delivered") for i in ids])
    assert [d.recipient for d in pg_receiver.deliveries(ids[2])] == ["+1", "+13125550002"]
    counts = pg_receiver.delivery_counts()
    assert (counts["delivered"], counts["sent"], sum(counts.values())) == (7, 7, 14)


def test_503_while_another_holds_the_events_lock_then_recorded_once_delivered_again(
    fake_here: FakeTelnyx, postgres_url: str
) -> None:
    message = _message(fake_here)
    update = _update(fake_here, message, FINALIZED, "delivered")
    with Receiver(postgres_url, public_key=fake_here.public_key, answer_within=0.9) as made:
        for store in (made._reader, made._writer_db):
            assert isinstance(store, _receipts_postgres.PostgresStore)
            assert store._db.execute("SHOW lock_timeout").fetchone() == ("600ms",)  # 2/3 of answer_within
        with _db(postgres_url) as holder, holder.transaction():
            holder.execute(f"LOCK TABLE {SCHEMA}.events IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            answer = made.receive(*update)
            waited = time.monotonic() - started
        assert (answer.status, answer.text) == (503, "not recorded: deliver it again")
        assert 0.5 < waited < 1.5  # the lock waited for 2/3 of answer_within, then given up
        again = made.receive(*update)  # Telnyx delivers it again
        assert (again.status, again.text) == (200, "recorded")
        assert list(made.event_ids()) == [again.event_id]


def test_the_store_s_own_lock_timeout_is_1_s_unless_told(postgres_url: str) -> None:
    store = _receipts_postgres.PostgresStore(postgres_url)
    try:
        assert store._db.execute("SHOW lock_timeout").fetchone() == ("1s",)
        assert store.name == postgres_url and store._db.autocommit
    finally:
        store.close()
    assert store._db.closed


def test_503_when_the_connection_is_lost_then_the_next_batch_connects_again(
    fake_here: FakeTelnyx, pg_receiver: Receiver, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    message = _message(fake_here)
    first, second = (_update(fake_here, message, FINALIZED, "delivered", f"{n}" * 8) for n in (1, 2))
    writer = pg_receiver._writer_db
    assert isinstance(writer, _receipts_postgres.PostgresStore)
    with _db(postgres_url) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (writer._db.info.backend_pid,))
    lost = pg_receiver.receive(*first)
    assert (lost.status, lost.text) == (503, "not recorded: deliver it again")
    # The batch given up whole, as a store that cannot take it now (not one event's fault).
    assert [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records if r.levelno >= logging.WARNING] == [
        ("WARNING", "could not record 1 event(s)"),
        ("WARNING", f"event {lost.event_id} not recorded (terminating connection due to administrator command)"),
    ]
    after = pg_receiver.receive(*second)
    assert (after.status, after.text) == (200, "recorded")  # connected again
    assert pg_receiver.receive(*first).text == "recorded"  # delivered again: recorded now, once
    assert _event_ids(postgres_url) == [after.event_id, lost.event_id]


def _with_password(url: str, password: str) -> str:
    parts = urllib.parse.urlsplit(url)
    user, host = parts.netloc.split("@")
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def test_a_url_is_named_without_its_password(fake_here: FakeTelnyx, postgres_url: str) -> None:
    # The tests' server trusts loopback: the password is taken and not checked.
    with Receiver(_with_password(postgres_url, "s3cret"), public_key=fake_here.public_key) as made:
        assert "s3cret" not in repr(made) and made.path == _with_password(postgres_url, "***")
        assert repr(made) == f"<Receiver {made.path!r}>"
    nowhere = f"postgres://someone:s3cret@127.0.0.1:{free_port()}/receipts"
    with pytest.raises(
        StoreError, match=r"^postgres://someone:\*\*\*@127\.0\.0\.1:\d+/receipts: cannot connect"
    ) as caught:
        Receiver(nowhere, public_key=fake_here.public_key)
    assert "s3cret" not in str(caught.value)


def test_events_recorded_before_the_order_column_keep_their_order_once_migrated(
    fake_here: FakeTelnyx, postgres_url: str
) -> None:
    order = _receipts.status_order()
    message = _message(fake_here)
    items = []
    for n in range(3):
        body, _ = _update(fake_here, message, FINALIZED, "delivered", f"m{n}" * 4)
        items.append(_receipts.incoming(json.loads(body), body, order))
    with _db(postgres_url) as db:
        # A database made by a version of the schema before the order column: its events recorded.
        assert _postgres.migrate(db, _postgres.MIGRATIONS[:1]) == [1]
        assert "seq" not in _columns(db, "events")
        for item in items:
            assert _postgres.record_events(db, [item], order, time.time()) == [True]
    connections = [_db(postgres_url) for _ in range(4)]
    barrier = threading.Barrier(4)

    def migrate(db: Any) -> list[int]:
        barrier.wait(10)
        return _postgres.migrate(db)

    try:
        with ThreadPoolExecutor(4) as pool:
            applied = list(pool.map(migrate, connections))
    finally:
        for db in connections:
            db.close()
    assert sorted(applied) == [[], [], [], [2]]  # four workers starting at once: migrated once
    with Receiver(postgres_url, public_key=fake_here.public_key) as made:
        assert list(made.event_ids()) == [item.event_id for item in items]
        later = made.receive(*_update(fake_here, message, FINALIZED, "delivered", "later-id"))
        assert list(made.event_ids()) == [*(item.event_id for item in items), later.event_id]


def _columns(db: Any, table: str) -> set[str]:
    found = db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (SCHEMA, table),
    ).fetchall()
    return {name for (name,) in found}


def test_503_while_the_database_refuses_connections_then_recorded(
    fake_here: FakeTelnyx, pg_receiver: Receiver, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    message = _message(fake_here)
    update = _update(fake_here, message, FINALIZED, "delivered")
    writer = pg_receiver._writer_db
    assert isinstance(writer, _receipts_postgres.PostgresStore)
    parts = urllib.parse.urlsplit(postgres_url)
    name = parts.path.lstrip("/")
    with _db(urllib.parse.urlunsplit(parts._replace(path="/postgres"))) as admin:  # from another database
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            admin.execute("SELECT pg_terminate_backend(%s)", (writer._db.info.backend_pid,))
            assert pg_receiver.receive(*update).status == 503  # the connection lost
            refused = pg_receiver.receive(*update)  # connecting again refused: the store unavailable
            assert (refused.status, refused.text) == (503, "not recorded: deliver it again")
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 4 and warnings[2].startswith("could not record 1 event(s): ")
    assert "cannot connect to PostgreSQL" in warnings[2] and "ERROR" not in {r.levelname for r in caplog.records}
    assert pg_receiver.receive(*update).text == "recorded"
    assert _event_ids(postgres_url) == [refused.event_id]


def test_the_order_column_s_migration_waits_for_a_lock_a_bounded_time_then_changes_nothing(postgres_url: str) -> None:
    with _db(postgres_url) as db:
        _postgres.migrate(db, _postgres.MIGRATIONS[:1])
        with _db(postgres_url) as reader, reader.transaction():
            reader.execute(f"LOCK TABLE {SCHEMA}.events IN ACCESS SHARE MODE")  # an older worker's open transaction
            started = time.monotonic()
            with pytest.raises(JournalError) as caught:
                _postgres.migrate(db, lock_timeout=0.3)
            waited = time.monotonic() - started
        assert str(caught.value) == (
            "the journal's schema could not be migrated: a lock was held more than 0.3 s (another process has"
            " the tables open: an older telnyx-messages still running?); nothing was changed"
        )
        assert 0.25 < waited < 2.0
        assert _postgres.schema_version(db) == 1 and "seq" not in _columns(db, "events")
        assert _postgres.migrate(db, lock_timeout=1.0) == [2] and "seq" in _columns(db, "events")
        assert _postgres.migrate(db, lock_timeout=1.0) == []  # there already: nothing to apply


def test_a_database_whose_receiver_added_the_order_column_itself_keeps_its_numbers(postgres_url: str) -> None:
    with _db(postgres_url) as db:
        _postgres.migrate(db, _postgres.MIGRATIONS[:1])
        # As the receiver added it before the migration held it: schema 1, the column there, numbered.
        db.execute(f"ALTER TABLE {SCHEMA}.events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY")
        db.execute(f"CREATE UNIQUE INDEX events_order ON {SCHEMA}.events (seq)")
        db.execute(
            f"INSERT INTO {SCHEMA}.events (event_id, received_at, body) VALUES ('e-1', now(), ''), ('e-2', now(), '')"
        )
        assert _postgres.migrate(db) == [2]
        found = db.execute(f"SELECT seq, event_id FROM {SCHEMA}.events ORDER BY seq").fetchall()
        assert found == [(1, "e-1"), (2, "e-2")]
