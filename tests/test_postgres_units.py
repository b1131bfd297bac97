"""The parts of the PostgreSQL journal (telnyx_messages._postgres) one at a time, against the real
server the tests start (tests/support/postgres.py) where they reach the database: what the other
PostgreSQL tests reach only through a whole campaign, or not at all."""

from __future__ import annotations

import datetime
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath
from typing import Any

import pytest
from telnyx_messages import _postgres, _receipts
from telnyx_messages._receipts import Incoming, Outcome

from .support.postgres import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]  # the fixtures, used by the tests below


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", True),
        ("postgres://u@h/db", True),
        ("PostgreSQL://u@h/db", True),
        ("POSTGRES://h", True),
        ("postgresql:relative.db", False),  # a file name with a colon, no authority
        ("postgresqlx://h/db", False),
        ("xpostgres://h/db", False),
        ("sqlite:///x.db", False),
        ("journal.db", False),
        ("", False),
    ],
)
def test_a_postgres_url_is_told_from_a_file_name(given: str, expected: bool) -> None:
    assert _postgres.is_postgres_url(given) is expected


def test_a_path_object_is_a_file_even_when_it_reads_like_a_url() -> None:
    assert _postgres.is_postgres_url(PurePosixPath("postgresql://h/db")) is False


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://alice:s3cret@db.example:5432/j", "postgresql://alice:***@db.example:5432/j"),
        ("postgresql://alice:p@ss@db.example/j?sslmode=require", "postgresql://alice:***@db.example/j?sslmode=require"),
        ("postgresql://alice@db.example/j", "postgresql://alice@db.example/j"),
        ("postgresql://db.example/j", "postgresql://db.example/j"),
        ("postgresql://:s3cret@db.example/j", "postgresql://:***@db.example/j"),
    ],
)
def test_a_url_is_named_without_its_password(url: str, shown: str) -> None:
    assert _postgres.redacted(url) == shown


# --- the receiver's deliveries: which outcome stands ------------------------------------------------


def _update(event_id: str, status: str, occurred_at: str | None) -> Incoming:
    """A delivery update of message m-1 to one recipient."""
    body = f'{{"id": "{event_id}"}}'.encode()
    outcome = Outcome("+13125550001", status, None, None)
    return Incoming(event_id, "message.finalized", "m-1", occurred_at, 1, body, (outcome,), None)


def test_an_outcome_as_late_in_the_order_replaces_the_recorded_one_only_if_it_occurred_after(
    postgres_url: str,
) -> None:
    order = _receipts.status_order()
    with _postgres.connect(postgres_url, autocommit=True) as db:

        def recorded() -> tuple[str, str | None]:
            found = db.execute(f"SELECT event_id, occurred_at FROM {_postgres.SCHEMA}.deliveries").fetchall()
            assert len(found) == 1
            event_id, occurred_at = found[0]
            return str(event_id), occurred_at

        at = "2026-12-07T18:00:0{}+00:00".format
        assert _postgres.record_events(db, [_update("e-1", "delivered", at(1))], order, time.time()) == [True]
        assert recorded() == ("e-1", at(1))
        _postgres.record_events(db, [_update("e-2", "delivered", at(3))], order, time.time())
        assert recorded() == ("e-2", at(3))  # the same status, later: it stands
        _postgres.record_events(db, [_update("e-3", "delivered", at(2))], order, time.time())
        assert recorded() == ("e-2", at(3))  # earlier: the recorded one stays
        _postgres.record_events(db, [_update("e-4", "delivered", None)], order, time.time())
        assert recorded() == ("e-2", at(3))  # no time: not known to be later


def test_an_event_id_recorded_before_writes_nothing_again(postgres_url: str) -> None:
    order = _receipts.status_order()
    at = "2026-12-07T18:00:01+00:00"
    with _postgres.connect(postgres_url, autocommit=True) as db:
        assert _postgres.record_events(db, [_update("e-1", "sent", at)], order, time.time()) == [True]
        # The same id again, whatever it says: not new, and its outcome is not applied.
        assert _postgres.record_events(db, [_update("e-1", "delivered", at)], order, time.time()) == [False]
        found = db.execute(f"SELECT event_id, status FROM {_postgres.SCHEMA}.deliveries").fetchall()
    assert found == [("e-1", "sent")]


def _waiting_for_a_lock(db: Any, pid: int) -> None:
    """Until the backend `pid` waits for a lock (else the test fails after 20 s)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = db.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        if found is not None and found[0] == "Lock":
            return
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} never waited for a lock")


def test_a_batch_takes_its_locks_in_one_order_so_that_another_writer_never_waits_in_a_circle(
    postgres_url: str,
) -> None:
    """Events by id, then deliveries by message and recipient: another transaction holding the
    first lock of the batch (the lowest id, the lowest message) waits for nothing of the batch's when
    it takes the next ones, since the batch waits for the first before it takes any other. (Taken in
    another order, the batch would hold one and wait for the first: the other's next insert would wait
    for the batch, a deadlock, found only after deadlock_timeout.)"""
    order = _receipts.status_order()
    late = "2026-12-07T18:00:01+00:00"
    events = [_update("e-b", "sent", late), _update("e-a", "sent", late)]  # received b, then a
    outcome = [
        Incoming("e-x", "message.sent", "m-2", late, 1, b"{}", (Outcome("+13125550001", "sent", None, None),), None),
        Incoming("e-y", "message.sent", "m-1", late, 1, b"{}", (Outcome("+13125550002", "sent", None, None),), None),
    ]
    events_sql = f"INSERT INTO {_postgres.SCHEMA}.events (event_id, received_at, body) VALUES (%s, now(), '')"
    deliveries_sql = (
        f"INSERT INTO {_postgres.SCHEMA}.deliveries (message_id, recipient, status, event_id, updated_at)"
        " VALUES (%s, %s, 'sent', 'other', now())"
    )
    cases = [
        (events, events_sql, ("e-a",), ("e-b",), [False, False]),
        (outcome, deliveries_sql, ("m-1", "+13125550002"), ("m-2", "+13125550001"), [True, True]),
    ]
    with (
        _postgres.connect(postgres_url, autocommit=True) as batch,
        _postgres.connect(postgres_url, autocommit=True) as other,
        _postgres.connect(postgres_url, autocommit=True) as watch,
        ThreadPoolExecutor(1) as pool,
    ):
        other.execute("SET lock_timeout = '500ms'")  # less than the batch's deadlock_timeout (1 s)
        for items, sql, first, second, new in cases:
            with other.transaction():
                other.execute(sql, first)
                recording = pool.submit(_postgres.record_events, batch, items, order, time.time())
                _waiting_for_a_lock(watch, batch.info.backend_pid)
                other.execute(sql, second)  # a lock the batch does not hold while it waits
            assert recording.result(timeout=20) == new


# --- the campaign's record ---------------------------------------------------------------------------


def test_a_journal_opened_without_a_name_begins_the_campaign_named_and_reads_its_time_in_utc(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/Chicago")  # this process's local time is not UTC
    time.tzset()
    try:
        made = datetime.datetime(2026, 12, 7, 18, 0, tzinfo=datetime.UTC)
        with _postgres.PostgresJournal(postgres_url) as journal:
            assert journal.campaign() is None
            record = journal.begin("reminders", {"rate": 5}, made)
            assert (journal.name, record.name, record.parameters) == ("reminders", "reminders", {"rate": 5})
            assert record.created_at == made and record.created_at.utcoffset() == datetime.timedelta(0)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_journal_opened_for_a_campaign_there_records_outcomes_before_any_other_write(postgres_url: str) -> None:
    with _postgres.PostgresJournal(postgres_url, "reminders") as made:
        made.begin(None, {}, datetime.datetime(2026, 12, 7, 18, 0, tzinfo=datetime.UTC))
        made.add("r-1", "sha256:1", "key-1", None, None)
        made.commit()
    with _postgres.PostgresJournal(postgres_url, "reminders") as journal:
        assert journal.campaign() is not None  # the campaign read, not begun: nothing written yet
        journal.accepted("r-1", "m-1", 0.5)
        journal.commit()
        assert [(row.identity, row.state, row.message_id) for row in journal.rows()] == [("r-1", "accepted", "m-1")]
