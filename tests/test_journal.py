"""The campaign journal (telnyx_messages._journal): its file, its campaign record, a row's life."""

from __future__ import annotations

import contextlib
import datetime
import json
import sqlite3
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from telnyx_messages import _journal
from telnyx_messages._journal import SCHEMA_VERSION, Journal, JournalError, Known

NOW = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=datetime.UTC)


def test_a_new_journal_is_a_versioned_wal_file_of_this_package(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    Journal(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA application_id").fetchone()[0] != 0
    db.close()


def test_another_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match="not a campaign journal"):
        Journal(path)
    db = sqlite3.connect(path)
    assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]
    db.close()


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("to,text\n+13125550001,hello\n" * 100)
    with pytest.raises(JournalError, match="not a campaign journal"):
        Journal(path)


def test_a_journal_of_a_later_schema_is_refused_naming_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    Journal(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(JournalError) as refused:
        Journal(path)
    assert str(refused.value) == (
        f"{path} was written by a later telnyx-messages (journal schema {SCHEMA_VERSION + 1}, this one reads up to "
        f"{SCHEMA_VERSION}): upgrade to continue it"
    )


def test_opening_without_create_needs_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no campaign journal"):
        Journal(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_the_campaign_is_made_once_and_kept_by_later_runs(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with Journal(path) as journal:
        assert journal.campaign() is None
        first = journal.begin("reminders", {"rate": 10.0}, NOW)
    with Journal(path) as journal:
        again = journal.begin(None, {"rate": 5.0}, NOW + datetime.timedelta(hours=1))
        kept = journal.campaign()
    assert again.campaign_id == first.campaign_id and len(first.campaign_id) == 32
    assert again.name == "reminders" and again.created_at == NOW
    assert kept is not None and kept.parameters == {"rate": 5.0}  # the last run's


def test_a_journal_refuses_a_campaign_of_another_name(tmp_path: Path) -> None:
    with Journal(tmp_path / "run.db") as journal:
        journal.begin("reminders", {}, NOW)
        with pytest.raises(JournalError) as refused:
            journal.begin("codes", {}, NOW)
    assert str(refused.value) == (
        f"{tmp_path / 'run.db'} is the journal of campaign 'reminders', not 'codes': "
        "give another journal for another campaign"
    )


def test_a_row_goes_from_pending_through_sending_to_accepted(tmp_path: Path) -> None:
    with Journal(tmp_path / "run.db") as journal:
        journal.add("row-1", "sha256:x", "key-1", "+13125550001", "+18445550001")
        known = journal.known("row-1")
        assert known is not None and (known.state, known.attempts, known.first_attempt_at) == ("pending", 0, None)
        journal.sending(["row-1"], 1000.0)
        journal.sending(["row-1"], 1005.0)
        known = journal.known("row-1")
        assert known is not None and (known.state, known.attempts, known.first_attempt_at) == ("sending", 2, 1000.0)
        journal.accepted("row-1", "msg-1", 2.5)
        (row,) = journal.rows()
    assert (row.state, row.message_id, row.wait_seconds, row.idempotency_key) == ("accepted", "msg-1", 2.5, "key-1")
    assert (row.recipient, row.sender, row.attempts) == ("+13125550001", "+18445550001", 2)
    assert row.first_attempt_at == datetime.datetime.fromtimestamp(1000.0, datetime.UTC)
    assert row.last_attempt_at == datetime.datetime.fromtimestamp(1005.0, datetime.UTC)


def test_failed_pending_and_unknown_rows_keep_why(tmp_path: Path) -> None:
    with Journal(tmp_path / "run.db") as journal:
        for identity in ("a", "b", "c", "d"):
            journal.add(identity, identity, f"key-{identity}", None, None)
        journal.failed("a", "40002", "blocked")
        journal.pending("b", "10011", "too many requests")
        journal.unknown("c", "first sent 30 hours ago")
        journal.sending(["d"], 1.0)
        journal.unanswered("d", None, "connection dropped")
        rows = {row.identity: row for row in journal.rows()}
        counts = journal.counts()
    assert (rows["a"].state, rows["a"].error_code, rows["a"].error_detail) == ("failed", "40002", "blocked")
    assert (rows["b"].state, rows["b"].error_code) == ("pending", "10011")
    assert (rows["c"].state, rows["c"].error_detail) == ("unknown", "first sent 30 hours ago")
    assert (rows["d"].state, rows["d"].error_detail) == ("sending", "connection dropped")
    assert counts == {"pending": 1, "sending": 1, "accepted": 0, "failed": 1, "unknown": 1}


def test_rows_are_listed_in_the_order_first_read(tmp_path: Path) -> None:
    with Journal(tmp_path / "run.db") as journal:
        for identity in ("z", "a", "m"):
            journal.add(identity, identity, identity, None, None)
        assert [row.identity for row in journal.rows()] == ["z", "a", "m"]


def test_an_identity_is_recorded_once(tmp_path: Path) -> None:
    with Journal(tmp_path / "run.db") as journal:
        journal.add("a", "a", "k", None, None)
        with pytest.raises(sqlite3.IntegrityError):
            journal.add("a", "a", "k", None, None)


def test_a_sending_mark_is_committed_before_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with Journal(path) as journal:
        journal.add("a", "a", "k", None, None)
        journal.add("b", "b", "k2", None, None)
        journal.sending(["a", "b"], 5.0)
        journal.accepted("a", "msg", None)  # not yet committed: another reader sees it sending
        other = sqlite3.connect(path)
        assert other.execute("SELECT identity, state FROM rows ORDER BY seq").fetchall() == [
            ("a", "sending"),
            ("b", "sending"),
        ]
        journal.commit()
        assert other.execute("SELECT state FROM rows WHERE identity = 'a'").fetchone() == ("accepted",)
        other.close()


def test_writes_are_committed_when_the_journal_closes(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with Journal(path) as journal:
        journal.add("a", "a", "k", None, None)
    with Journal(path) as journal:
        assert journal.known("a") is not None


def test_sending_refuses_one_identity_given_as_text(tmp_path: Path) -> None:
    with (
        Journal(tmp_path / "run.db") as journal,
        pytest.raises(TypeError, match=r"^sending\(\) takes the identities of the rows: a list, not one str$"),
    ):
        journal.sending("row-1", 1.0)


def test_a_write_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with Journal(path) as journal:
        journal.add("a", "a", "k", None, None)
        journal.commit()
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process writing: `campaign status` never does, a rerun might
        release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
        release.start()
        started = time.monotonic()
        journal.sending(["a"], 1.0)  # waits for the lock (busy_timeout), then commits
        waited = time.monotonic() - started
        release.join()
        other.close()
        assert 0.3 < waited < 4.0
        assert journal.known("a") == Known("sending", "a", 1.0, 1)


def test_the_journal_is_marked_as_this_packages_and_durable_for_a_killed_process(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with Journal(path) as journal:
        assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL: in WAL, no commit lost to a kill
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA application_id").fetchone()[0] == int.from_bytes(b"TNXC", "big")
    db.close()


def test_writes_after_an_answer_are_committed_once_the_last_commit_is_older_than_asked(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with Journal(path) as journal:
        journal.add("a", "a", "k", None, None)
        journal.commit()
        journal.accepted("a", "m-1", 0.5)
        journal.commit_if_older(60.0)  # committed just now: kept in the transaction
        other = sqlite3.connect(path)
        assert other.execute("SELECT state FROM rows").fetchone() == ("pending",)
        time.sleep(0.05)
        journal.commit_if_older(0.01)
        assert other.execute("SELECT state, message_id, wait_seconds FROM rows").fetchone() == ("accepted", "m-1", 0.5)
        other.close()


def test_a_journal_without_tables_of_another_application_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with Journal(path) as journal:
        assert journal.campaign() is None  # made, no campaign yet
    with pytest.raises(JournalError, match=r"run\.db is an SQLite file, but not a campaign journal"):
        db = sqlite3.connect(path)
        db.execute("PRAGMA application_id=7")
        db.close()
        Journal(path)


def _snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


@pytest.mark.parametrize("made", ["zero bytes", "tables dropped"])
def test_opening_without_create_refuses_an_empty_sqlite_file_writing_nothing(tmp_path: Path, made: str) -> None:
    path = tmp_path / "run.db"
    path.touch()
    if made == "tables dropped":  # an SQLite header and pages, no tables
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE t (x)")
        db.execute("DROP TABLE t")
        db.commit()
        db.close()
    before = _snapshot(path)
    time.sleep(0.01)
    with pytest.raises(JournalError) as refused:
        Journal(path, create=False)
    assert str(refused.value) == f"{path} is an empty SQLite file, not a campaign journal (nothing was written to it)"
    assert _snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.db"]  # no -wal or -shm left beside it


def test_opening_without_create_refuses_another_applications_file_writing_nothing(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.execute("INSERT INTO t VALUES (1)")
    db.commit()
    db.close()
    before = _snapshot(path)
    time.sleep(0.01)
    with pytest.raises(JournalError) as refused:
        Journal(path, create=False)
    assert str(refused.value) == f"{path} is an SQLite file, but not a campaign journal"
    assert _snapshot(path) == before


def test_an_empty_sqlite_file_of_another_application_is_refused_even_when_creating(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA application_id=7")
    db.close()
    before = _snapshot(path)
    with pytest.raises(JournalError, match=r"other\.db is an SQLite file, but not a campaign journal"):
        Journal(path)
    assert _snapshot(path) == before


def test_a_refused_file_keeps_its_unmerged_write_ahead_log(tmp_path: Path) -> None:
    """Another application killed mid-work leaves a -wal file; a read-write connection that closes
    last would merge it into the database. A refusal reads only, so both files stay as they were."""
    path = tmp_path / "other.db"
    writer = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1])\n"
        "db.execute('PRAGMA journal_mode=WAL')\n"
        "db.execute('CREATE TABLE t (x)')\n"
        "db.execute('INSERT INTO t VALUES (1)')\n"
        "db.commit()\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(path)], check=True)
    wal = tmp_path / "other.db-wal"
    assert wal.stat().st_size > 0
    before, wal_before = _snapshot(path), _snapshot(wal)
    time.sleep(0.01)
    for create in (False, True):
        with pytest.raises(JournalError, match="but not a campaign journal"):
            Journal(path, create=create)
    assert (_snapshot(path), _snapshot(wal)) == (before, wal_before)


def test_a_journal_left_by_a_killed_run_opens_without_create(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    writer = (
        "import datetime, os, sys\n"
        "from telnyx_messages._journal import Journal\n"
        "journal = Journal(sys.argv[1])\n"
        "journal.begin('reminders', {}, datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC))\n"
        "journal.add('a', 'a', 'k', None, None)\n"
        "journal.commit()\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(path)], check=True)
    assert (tmp_path / "run.db-wal").exists()
    with Journal(path, create=False) as journal:
        record = journal.campaign()
        assert record is not None and record.name == "reminders"
        assert journal.counts()["pending"] == 1


def test_the_first_run_records_its_campaign_whole_and_a_later_run_its_parameters(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with Journal(path) as journal:
        first = journal.begin("reminders", {"rate": 10.0, "max_queue_wait": 60.0}, NOW)
    assert (first.name, first.created_at, first.parameters) == (
        "reminders",
        NOW,
        {"rate": 10.0, "max_queue_wait": 60.0},
    )
    with Journal(path) as journal:
        kept = journal.campaign()
        later = journal.begin("reminders", {"sender_rate": 1.0, "rate": 5.0}, NOW + datetime.timedelta(days=1))
    assert kept == first
    assert later.parameters == {"sender_rate": 1.0, "rate": 5.0} and later.created_at == NOW
    with contextlib.closing(sqlite3.connect(path)) as db:  # written with sorted keys: the same run, the same text
        assert db.execute("SELECT value FROM campaign WHERE key = 'parameters'").fetchone() == (
            '{"rate": 5.0, "sender_rate": 1.0}',
        )
    with Journal(tmp_path / "unnamed.db") as journal:
        journal.begin(None, {"b": 2, "a": 1}, NOW)
        stored = journal._db.execute("SELECT value FROM campaign WHERE key = 'parameters'").fetchone()[0]
        unnamed = journal.campaign()
    assert stored == '{"a": 1, "b": 2}'
    assert unnamed is not None and unnamed.name is None and list(unnamed.parameters) == ["a", "b"]


def test_a_campaign_recorded_without_parameters_reads_as_none_given(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with Journal(path) as journal:
        journal._db.executemany(
            "INSERT INTO campaign (key, value) VALUES (?, ?)",
            [("campaign_id", "c" * 32), ("name", ""), ("created_at", NOW.isoformat())],
        )
        record = journal.campaign()
    assert record is not None and (record.campaign_id, record.name, record.parameters) == ("c" * 32, None, {})


def test_an_identity_not_recorded_is_not_known_and_rows_carry_their_order(tmp_path: Path) -> None:
    with Journal(tmp_path / "run.db") as journal:
        assert journal.known("missing") is None
        for identity in ("x", "y"):
            journal.add(identity, identity, identity, None, None)
        assert [row.seq for row in journal.rows()] == [1, 2]


def test_a_zero_byte_file_is_made_a_journal_when_creating(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    path.touch()
    with Journal(path) as journal:
        assert journal.campaign() is None
        journal.add("a", "a", "k", None, None)
    with Journal(path, create=False) as journal:
        assert journal.known("a") == Known("pending", "a", None, 0)


def test_a_path_sqlite_cannot_open_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "run.db"
    with pytest.raises(JournalError) as refused:
        Journal(missing)
    assert str(refused.value) == f"{missing}: cannot open it as SQLite (unable to open database file)"
    with pytest.raises(JournalError) as probed:
        Journal(tmp_path, create=False)  # a folder: there, but no file
    assert str(probed.value).startswith(f"{tmp_path}: cannot open it as SQLite (")  # SQLite's words vary


def test_writes_right_after_opening_wait_for_commit_if_older(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "run.db"
    with Journal(path) as journal:
        journal.add("a", "a", "k", None, None)
        journal.commit_if_older(60.0)  # opened just now: the open counts as the last commit
        with contextlib.closing(sqlite3.connect(path)) as other:
            assert other.execute("SELECT count(*) FROM rows").fetchone() == (0,)
        monkeypatch.setattr(_journal.time, "monotonic", lambda: 1000.0)
        journal.commit()
        journal.add("b", "b", "k2", None, None)
        journal.commit_if_older(0.0)  # exactly 0 s old: not older than 0 s
        with contextlib.closing(sqlite3.connect(path)) as other:
            assert other.execute("SELECT count(*) FROM rows").fetchone() == (1,)


# --- the receiver's outcomes, in the same file ----------------------------------------------------------

R1, R2 = "+13125550001", "+13125550002"


def _delivered(path: Path, message_id: str, outcomes: list[tuple[str, str]], errors: list[dict[str, str]]) -> None:
    """A delivery update recorded as the receiver records one (telnyx_messages._receipts), in `path`."""
    from telnyx_messages import _receipts

    order = _receipts.status_order()
    document = {
        "data": {
            "id": f"event-{message_id}-{outcomes}",
            "event_type": "message.finalized",
            "occurred_at": "2026-12-07T08:00:01+00:00",
            "payload": {
                "id": message_id,
                "to": [{"phone_number": number, "status": status} for number, status in outcomes],
                "errors": errors,
            },
        },
        "meta": {"attempt": 1},
    }
    with contextlib.closing(_receipts.connect(str(path))) as db:
        assert _receipts.record(db, [_receipts.incoming(document, b"{}", order)], order, 1.0) == [True]


def _journal_of(path: Path, rows: list[tuple[str, str | None, str | None]]) -> None:
    """A journal whose rows (identity, recipient, message id) were accepted, or failed without an id."""
    with Journal(path) as journal:
        journal.begin(None, {}, NOW)
        for identity, recipient, message_id in rows:
            journal.add(identity, identity, f"key-{identity}", recipient, "+18445550001")
            if message_id is None:
                journal.failed(identity, "40310", "refused")
            else:
                journal.accepted(identity, message_id, None)


def test_before_any_receiver_ran_there_are_no_delivery_counts_and_no_row_has_a_delivery(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    _journal_of(path, [("a", R1, "m-a"), ("b", R2, None)])
    with Journal(path, create=False) as journal:
        assert not journal.has_deliveries()
        assert journal.delivery_counts() == {}
        assert list(journal.rows_delivered()) == [(row, None) for row in journal.rows()]
    with contextlib.closing(sqlite3.connect(path)) as db:  # reading made no table
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'deliveries'").fetchone() == (0,)


def test_delivery_counts_count_the_recipients_of_the_campaigns_messages_only(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    _journal_of(path, [("a", R1, "m-a"), ("b", R1, "m-b"), ("c", R1, "m-c"), ("d", R1, None), ("e", R1, "m-e")])
    with Journal(path, create=False) as journal:
        assert journal.delivery_counts() == {}  # the table made by a receiver, nothing in it yet
    _delivered(path, "m-a", [(R1, "delivered")], [])
    _delivered(path, "m-b", [(R1, "delivery_failed")], [{"code": "40008", "detail": "unreachable"}])
    _delivered(path, "m-c", [(R1, "sent"), (R2, "delivered")], [])
    _delivered(path, "outside", [(R1, "delivered")], [])  # no row of the campaign sent it
    with Journal(path, create=False) as journal:
        assert journal.has_deliveries()
        assert journal.delivery_counts() == {"delivered": 2, "delivery_failed": 1, "sent": 1}
        journal.add("f", "f", "key-f", R1, None)
        journal.accepted("f", "m-a", None)  # a second row naming a message: its recipient counted once
        assert journal.delivery_counts() == {"delivered": 2, "delivery_failed": 1, "sent": 1}


def test_each_row_has_the_delivery_of_its_message_to_its_recipient(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    _journal_of(
        path,
        [
            ("plain", R1, "m-1"),
            ("failed-delivery", R2, "m-2"),
            ("written-otherwise", "13125550001", "m-3"),  # the API's +13125550001: the message's one delivery
            ("one-of-two", R2, "m-4"),
            ("none-of-two", "+13125550009", "m-5"),
            ("refused", R1, None),
            ("not-yet", R1, "m-6"),
        ],
    )
    errors = [{"code": "40008", "title": "Undeliverable", "detail": "unreachable"}, {"code": "40300"}]
    _delivered(path, "m-1", [(R1, "delivered")], [])
    _delivered(path, "m-2", [(R2, "delivery_failed")], errors)
    _delivered(path, "m-3", [(R1, "delivered")], [])
    _delivered(path, "m-4", [(R1, "sent"), (R2, "delivery_unconfirmed")], [])
    _delivered(path, "m-5", [(R1, "sent"), (R2, "delivered")], [])
    with Journal(path, create=False) as journal:
        found = list(journal.rows_delivered())
        assert [row for row, _ in found] == list(journal.rows())
    by_identity = {row.identity: delivery for row, delivery in found}
    assert by_identity["plain"] == _journal.RowDelivery("delivered", None, None, "2026-12-07T08:00:01+00:00")
    failed = by_identity["failed-delivery"]
    assert failed is not None and (failed.status, failed.error_codes) == ("delivery_failed", "40008,40300")
    assert failed.errors is not None and json.loads(failed.errors) == errors
    assert by_identity["written-otherwise"] is not None and by_identity["written-otherwise"].status == "delivered"
    assert by_identity["one-of-two"] is not None and by_identity["one-of-two"].status == "delivery_unconfirmed"
    assert by_identity["none-of-two"] is None and by_identity["refused"] is None and by_identity["not-yet"] is None


def test_rows_with_their_deliveries_are_read_as_they_go_never_held_whole(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    count = 20_000
    with Journal(path) as journal:
        for n in range(count):
            journal.add(f"r-{n}", "d", f"key-{n}", R1, None)
            journal.accepted(f"r-{n}", f"message-{n:040d}", None)
    _delivered(path, f"message-{0:040d}", [(R1, "delivered")], [])
    with Journal(path, create=False) as journal:
        tracemalloc.start()
        try:
            seen = delivered = 0
            for row, delivery in journal.rows_delivered():
                seen += 1
                delivered += delivery is not None and row.seq == 1
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert (seen, delivered) == (count, 1)
    # Held whole, the rows alone would take some megabytes; read as they go, a few rows at a time.
    assert peak < 500_000, peak


# --- migrations -------------------------------------------------------------------------------------

TNXC = int.from_bytes(b"TNXC", "big")

# A journal as the first version of the package wrote it (e9636a3: schema 1, the campaign and its
# rows), with a campaign and three rows, written here as SQL so that it stays that version's whatever
# the package's schema becomes.
FIRST_JOURNAL = f"""
BEGIN;
CREATE TABLE campaign (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE rows (
    seq INTEGER PRIMARY KEY,
    identity TEXT NOT NULL UNIQUE,
    digest TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'accepted', 'failed', 'unknown')),
    idempotency_key TEXT NOT NULL,
    recipient TEXT,
    sender TEXT,
    message_id TEXT,
    wait_seconds REAL,
    error_code TEXT,
    error_detail TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    first_attempt_at REAL,
    last_attempt_at REAL
);
CREATE INDEX rows_state ON rows (state);
INSERT INTO campaign VALUES ('campaign_id', 'c0ffee'), ('name', 'reminders'),
    ('created_at', '2026-12-07T08:00:00+00:00'), ('parameters', '{{"rate": 2.0}}');
INSERT INTO rows (identity, digest, state, idempotency_key, recipient, sender, message_id, wait_seconds,
    error_code, error_detail, attempts, first_attempt_at, last_attempt_at) VALUES
    ('a', 'da', 'accepted', 'key-a', '+13125550001', '+18445550001', 'm-a', 0.5, NULL, NULL, 1, 1796630400.0,
     1796630400.0),
    ('b', 'db', 'pending', 'key-b', '+13125550002', '+18445550001', NULL, NULL, NULL, NULL, 0, NULL, NULL),
    ('c', 'dc', 'failed', 'key-c', '+13125550003', NULL, NULL, NULL, '40310', 'refused', 1, 1796630401.0,
     1796630402.0);
PRAGMA user_version=1;
PRAGMA application_id={TNXC};
COMMIT;
"""
FIRST_ROWS = [
    _journal.JournalRow(
        1,
        "a",
        "accepted",
        "key-a",
        "+13125550001",
        "+18445550001",
        "m-a",
        0.5,
        None,
        None,
        1,
        datetime.datetime(2026, 12, 7, 8, 0, tzinfo=datetime.UTC),
        datetime.datetime(2026, 12, 7, 8, 0, tzinfo=datetime.UTC),
    ),
    _journal.JournalRow(
        2, "b", "pending", "key-b", "+13125550002", "+18445550001", None, None, None, None, 0, None, None
    ),
    _journal.JournalRow(
        3,
        "c",
        "failed",
        "key-c",
        "+13125550003",
        None,
        None,
        None,
        "40310",
        "refused",
        1,
        datetime.datetime(2026, 12, 7, 8, 0, 1, tzinfo=datetime.UTC),
        datetime.datetime(2026, 12, 7, 8, 0, 2, tzinfo=datetime.UTC),
    ),
]

# A step a later version of the package might add.
LATER = _journal.Migration(
    SCHEMA_VERSION + 1,
    "a column a later version adds",
    ("ALTER TABLE rows ADD COLUMN later TEXT DEFAULT 'made later'",),
)


def first_journal(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(FIRST_JOURNAL)


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _header(db: sqlite3.Connection) -> tuple[int, int, list[tuple[str, str]]]:
    """The file's version and application id, and its tables and indexes (type, name)."""
    names = db.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    return db.execute("PRAGMA user_version").fetchone()[0], db.execute("PRAGMA application_id").fetchone()[0], names


def _columns(db: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def test_a_new_journal_gets_the_schema_once(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with contextlib.closing(_connect(path)) as db:
        assert _journal.migrate(db, str(path)) == [step.version for step in _journal.MIGRATIONS] == [1]
        assert _journal.migrate(db, str(path)) == []
        assert _header(db) == (
            SCHEMA_VERSION,
            TNXC,
            [("table", "campaign"), ("table", "rows"), ("index", "rows_state")],
        )
        assert not db.in_transaction
    with contextlib.closing(_connect(tmp_path / "first.db")) as first:
        first.executescript(FIRST_JOURNAL)
        assert _header(first) == _header(_connect(path))  # the schema the first version made
        assert _journal.migrate(first, str(tmp_path / "first.db")) == []  # a first version's journal is at 1


def test_a_later_version_migrates_an_older_journal_keeping_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run.db"
    first_journal(path)
    with Journal(path, create=False) as journal:  # this version reads the first version's journal as it is
        assert list(journal.rows()) == FIRST_ROWS
    monkeypatch.setattr(_journal, "MIGRATIONS", (*_journal.MIGRATIONS, LATER))
    with Journal(path, create=False) as journal:
        record = journal.campaign()
        assert record is not None
        assert (record.campaign_id, record.name, record.created_at, record.parameters) == (
            "c0ffee",
            "reminders",
            NOW,
            {"rate": 2.0},
        )
        assert list(journal.rows()) == FIRST_ROWS
        assert journal.counts() == {"pending": 1, "sending": 0, "accepted": 1, "failed": 1, "unknown": 0}
        assert journal.known("b") == Known("pending", "db", None, 0)
        journal.sending(["b"], 1796630500.0)
        journal.accepted("b", "m-b", None)
    with contextlib.closing(_connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LATER.version
        found = db.execute("SELECT identity, state, later FROM rows ORDER BY seq").fetchall()
    assert found == [("a", "accepted", "made later"), ("b", "accepted", "made later"), ("c", "failed", "made later")]


_MIGRATE_AT_ONCE = """
import sqlite3, sys
from telnyx_messages import _journal
later = _journal.Migration(2, "a later column", ("ALTER TABLE rows ADD COLUMN later TEXT",))
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA busy_timeout=30000")
print("ready", flush=True)
sys.stdin.readline()
print(_journal.migrate(db, sys.argv[1], (*_journal.MIGRATIONS, later)), flush=True)
"""


def at_once(script: str, path: Path, count: int) -> list[str]:
    """What `count` processes running `script` on `path` print last, let go together once all are ready."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline() == "ready\n"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        found = [process.communicate(timeout=60)[0].strip() for process in processes]
    finally:
        for process in processes:
            process.kill()
            process.wait()
    assert [process.returncode for process in processes] == [0] * count
    return found


@pytest.mark.slow  # real processes, started together
@pytest.mark.parametrize("file", ["new", "older"])
def test_processes_opening_a_journal_at_once_migrate_it_once(tmp_path: Path, file: str) -> None:
    path = tmp_path / "run.db"
    if file == "older":
        first_journal(path)
    found = at_once(_MIGRATE_AT_ONCE, path, 3)
    assert sorted(found) == ["[1, 2]" if file == "new" else "[2]", "[]", "[]"]
    with contextlib.closing(_connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert _columns(db, "rows")[-1] == "later"
        assert db.execute("SELECT count(*) FROM rows").fetchone()[0] == (3 if file == "older" else 0)


_OPEN_AT_ONCE = """
import datetime, sys
from telnyx_messages._journal import Journal
print("ready", flush=True)
sys.stdin.readline()
with Journal(sys.argv[1]) as journal:
    journal.begin("reminders", {}, datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC))
    print(journal.counts()["pending"], flush=True)
"""


@pytest.mark.slow  # real processes, started together
def test_processes_making_one_journal_at_once_each_open_it(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    assert at_once(_OPEN_AT_ONCE, path, 6) == ["0"] * 6
    with Journal(path, create=False) as journal:
        record = journal.campaign()
        assert record is not None and record.name == "reminders"


def test_a_journal_another_process_migrated_while_this_one_waited_is_left_as_it_made_it(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    first_journal(path)
    with contextlib.closing(_connect(path)) as other:
        other.execute("BEGIN IMMEDIATE")  # another process, mid-migration: the version this one reads is 1
        other.execute(LATER.statements[0])
        other.execute(f"PRAGMA user_version={LATER.version}")
        waiting = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        waiting.execute("PRAGMA busy_timeout=10000")
        applied: list[object] = []
        worker = threading.Thread(
            target=lambda: applied.append(_journal.migrate(waiting, str(path), (*_journal.MIGRATIONS, LATER)))
        )
        worker.start()
        time.sleep(0.3)  # the worker has read version 1, and waits for the write lock
        other.execute("COMMIT")
        worker.join(15)
        waiting.close()
        assert applied == [[]]
        assert _columns(other, "rows").count("later") == 1


def test_a_journal_a_later_version_migrates_while_this_one_opens_it_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the read-only look at the file and the connection that migrates it, another process
    (of a later version) migrates it: the migration refuses it, as the look would have."""
    path = tmp_path / "run.db"
    first_journal(path)
    probe = Journal._probe

    def then_a_later_version_migrates(journal: Journal, create: bool) -> None:
        probe(journal, create)
        with contextlib.closing(_connect(path)) as other:
            _journal.migrate(other, str(path), (*_journal.MIGRATIONS, LATER))

    monkeypatch.setattr(Journal, "_probe", then_a_later_version_migrates)
    with pytest.raises(JournalError) as refused:
        Journal(path, create=False)
    assert str(refused.value) == (
        f"{path} was written by a later telnyx-messages (journal schema 2, this one reads up to 1): "
        "upgrade to continue it"
    )


def test_a_journal_of_a_later_version_is_refused_untouched_by_the_migration_too(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    first_journal(path)
    with contextlib.closing(_connect(path)) as db:
        _journal.migrate(db, str(path), (*_journal.MIGRATIONS, LATER))
        before = _header(db), _columns(db, "rows"), db.execute("SELECT * FROM rows").fetchall()
        with pytest.raises(JournalError) as refused:
            _journal.migrate(db, str(path))
        assert str(refused.value) == (
            f"{path} was written by a later telnyx-messages (journal schema 2, this one reads up to 1): "
            "upgrade to continue it"
        )
        assert not db.in_transaction
    with pytest.raises(JournalError, match=r"\(journal schema 2, this one reads up to 1\)"):
        Journal(path)
    with contextlib.closing(_connect(path)) as db:
        assert (_header(db), _columns(db, "rows"), db.execute("SELECT * FROM rows").fetchall()) == before


def test_a_failed_migration_applies_none_of_its_steps(tmp_path: Path) -> None:
    broken = _journal.Migration(
        LATER.version, "fails halfway", (*LATER.statements, "ALTER TABLE no_such_table ADD COLUMN x TEXT")
    )
    path = tmp_path / "run.db"
    first_journal(path)
    with contextlib.closing(_connect(path)) as db:
        before = _header(db), _columns(db, "rows"), db.execute("SELECT * FROM rows").fetchall()
        with pytest.raises(sqlite3.OperationalError, match="no such table: no_such_table"):
            _journal.migrate(db, str(path), (*_journal.MIGRATIONS, broken))
        assert not db.in_transaction
        assert (_header(db), _columns(db, "rows"), db.execute("SELECT * FROM rows").fetchall()) == before
    new = tmp_path / "new.db"
    with contextlib.closing(_connect(new)) as db:  # the first step, then the broken one: neither
        with pytest.raises(sqlite3.OperationalError, match="no such table: no_such_table"):
            _journal.migrate(db, str(new), (*_journal.MIGRATIONS, broken))
        assert _header(db) == (0, 0, [])
    with Journal(new) as journal:  # and the file is made a journal by the next opening
        assert journal.campaign() is None


@pytest.mark.parametrize(
    "steps", [(_journal.MIGRATIONS[0], _journal.MIGRATIONS[0]), (), (LATER,), (LATER, _journal.MIGRATIONS[0])]
)
def test_migration_steps_must_rise_from_1(tmp_path: Path, steps: tuple[_journal.Migration, ...]) -> None:
    path = tmp_path / "run.db"
    versions = [step.version for step in steps]
    with contextlib.closing(_connect(path)) as db:
        with pytest.raises(ValueError) as refused:
            _journal.migrate(db, str(path), steps)
        assert str(refused.value) == f"migration versions must be 1, 2, ... in order, got {versions}"
        assert _header(db) == (0, 0, [])


def test_a_journal_at_this_version_opens_without_waiting_for_a_writer(tmp_path: Path) -> None:
    """`campaign status` while a campaign sends: only a file to migrate takes the write lock."""
    path = tmp_path / "run.db"
    with Journal(path) as journal:
        journal.add("a", "a", "k", None, None)
    with contextlib.closing(_connect(path)) as other:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE rows SET state = 'sending'")
        started = time.monotonic()
        with Journal(path, create=False) as journal:
            assert journal.counts()["pending"] == 1  # the writer's change is not committed
        assert time.monotonic() - started < 2.5  # the journal's busy_timeout is 5 s
        other.execute("COMMIT")


def test_a_journal_s_file_with_tables_but_no_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    first_journal(path)
    with contextlib.closing(_connect(path)) as db:
        db.execute("PRAGMA user_version=0")
    before = _snapshot(path)
    for create in (False, True):
        with pytest.raises(JournalError) as refused:
            Journal(path, create=create)
        assert str(refused.value) == (
            f"{path} has tables but no journal schema version: not a campaign journal this package wrote "
            "(nothing was written to it)"
        )
    assert _snapshot(path) == before
