"""The PostgreSQL journal (telnyx_messages._postgres) against a real server (tests/support/postgres.py):
migrations applied once under a lock and refused when later; rows recorded as the SQLite journal
records them; rows claimed by many workers, never two at once, a killed worker's rows claimed again
after its lease with the same key; one rate across processes; events recorded once across workers.

Run as a module, it is a worker in a process of its own (for the tests that kill one, or time several):
  python -m tests.test_postgres_journal claim URL NAME COUNT LEASE   claims COUNT rows, marks them
      sending, prints their identities and keys as JSON, then waits to be killed;
  python -m tests.test_postgres_journal record URL - BODIES   records the events whose bodies the
      JSON file BODIES lists in one transaction, prints "recorded, not committed", then waits to be
      killed before it commits;
  python -m tests.test_postgres_journal slots URL NAME SECONDS   prints "ready", reads a start
      (epoch time) from stdin, then for SECONDS from it takes slots through the campaign's gate
      `all` and "sends" at each, printing the times (time.time()) as JSON.
"""

from __future__ import annotations

import bisect
import datetime
import json
import math
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from telnyx_messages import _pacing, _postgres, _receipts
from telnyx_messages._journal import Journal, JournalError, Known
from telnyx_messages._postgres import Migration, PostgresJournal

from .support import ROOT
from .support.postgres import postgres_server, postgres_url, require_psycopg

__all__ = ["postgres_server", "postgres_url"]  # the fixtures, used by the tests below

NOW = datetime.datetime(2026, 12, 7, 18, 0, tzinfo=datetime.UTC)
SLOTS_PER_TAKE = 5  # the rate test's workers take slots five at a time


def _at_once(work: Callable[..., Any], arguments: list[tuple[Any, ...]]) -> list[Any]:
    """work(*each) in a thread of its own, all at once; their results (a failure raised here)."""
    with ThreadPoolExecutor(len(arguments)) as pool:
        futures = [pool.submit(work, *each) for each in arguments]
        return [future.result() for future in futures]


def _connect(url: str) -> Any:
    return require_psycopg().connect(url, autocommit=True)


@pytest.fixture
def journal(postgres_url: str) -> Iterator[PostgresJournal]:
    with PostgresJournal(postgres_url, "reminders") as opened:
        opened.begin(None, {"rate": 10}, NOW)
        yield opened


def _add(journal: PostgresJournal, count: int, prefix: str = "r") -> list[str]:
    identities = [f"{prefix}-{n}" for n in range(count)]
    for n, identity in enumerate(identities):
        journal.add(identity, f"sha256:{n}", f"key-{identity}", f"+1312{n:07d}", "+18445550001", arguments={"n": n})
    journal.commit()
    return identities


# --- migrations -------------------------------------------------------------------------------------


def _tables(db: Any) -> set[str]:
    found = db.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (_postgres.SCHEMA,))
    return {row[0] for row in found.fetchall()}


def test_a_new_database_gets_the_schema_once(postgres_url: str) -> None:
    with _connect(postgres_url) as db:
        assert _postgres.schema_version(db) == 0
        assert _postgres.migrate(db) == [step.version for step in _postgres.MIGRATIONS]
        assert _postgres.migrate(db) == []
        assert _postgres.schema_version(db) == _postgres.SCHEMA_VERSION
        assert _tables(db) == {"schema_version", "campaigns", "rows", "gates", "events", "deliveries"}
        versions = db.execute(f"SELECT version FROM {_postgres.SCHEMA}.schema_version").fetchall()
    assert versions == [(step.version,) for step in _postgres.MIGRATIONS]


def test_processes_starting_at_once_migrate_once(postgres_url: str) -> None:
    connections = [_connect(postgres_url) for _ in range(4)]
    start = threading.Barrier(len(connections))
    applied: list[list[int]] = []

    def migrate(db: Any) -> None:
        start.wait()
        applied.append(_postgres.migrate(db))

    _at_once(migrate, [(db,) for db in connections])
    for db in connections:
        db.close()
    assert sorted(applied) == [[], [], [], [step.version for step in _postgres.MIGRATIONS]]


_LATER = Migration(
    _postgres.SCHEMA_VERSION + 1,
    "a column a later version adds",
    (f"ALTER TABLE {_postgres.SCHEMA}.campaigns ADD COLUMN later text NOT NULL DEFAULT 'made later'",),
)


def test_a_later_version_migrates_an_older_database_keeping_its_rows(journal: PostgresJournal) -> None:
    _add(journal, 3)
    with _connect(journal._url) as db:
        assert _postgres.migrate(db, (*_postgres.MIGRATIONS, _LATER)) == [_LATER.version]
        assert db.execute(f"SELECT later FROM {_postgres.SCHEMA}.campaigns").fetchall() == [("made later",)]
    assert journal.counts()["pending"] == 3


def test_a_database_of_a_later_version_is_refused_untouched(postgres_url: str) -> None:
    with _connect(postgres_url) as db:
        _postgres.migrate(db, (*_postgres.MIGRATIONS, _LATER))
    known = _postgres.SCHEMA_VERSION
    with pytest.raises(
        JournalError, match=rf"later telnyx-messages \(schema {known + 1}, this one knows up to {known}\)"
    ):
        PostgresJournal(postgres_url, "reminders")
    with _connect(postgres_url) as db:
        assert _postgres.schema_version(db) == _LATER.version


def test_a_failed_migration_applies_none_of_its_steps(postgres_url: str) -> None:
    broken = Migration(
        _LATER.version, "fails halfway", (*_LATER.statements, "ALTER TABLE no_such_table ADD COLUMN x int")
    )
    with _connect(postgres_url) as db:
        _postgres.migrate(db)
        with pytest.raises(require_psycopg().errors.UndefinedTable):
            _postgres.migrate(db, (*_postgres.MIGRATIONS, broken))
        assert _postgres.schema_version(db) == _postgres.SCHEMA_VERSION
        columns = db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'campaigns'",
            (_postgres.SCHEMA,),
        ).fetchall()
    assert ("later",) not in columns


def test_a_migration_an_open_transaction_blocks_is_refused_in_time(journal: PostgresJournal) -> None:
    assert journal.campaign() is not None  # the journal's transaction, open, has read the campaigns
    with _connect(journal._url) as db:
        started = time.monotonic()
        with pytest.raises(JournalError, match=r"a lock was held more than 0\.5 s .*nothing was changed"):
            _postgres.migrate(db, (*_postgres.MIGRATIONS, _LATER), lock_timeout=0.5)
        assert time.monotonic() - started < 5
        assert _postgres.schema_version(db) == _postgres.SCHEMA_VERSION
        journal.commit()
        assert _postgres.migrate(db, (*_postgres.MIGRATIONS, _LATER), lock_timeout=0.5) == [_LATER.version]


def test_migration_steps_must_rise(postgres_url: str) -> None:
    with _connect(postgres_url) as db:
        with pytest.raises(ValueError, match=r"must be 1, 2, \.\.\. in order, got \[1, 1\]"):
            _postgres.migrate(db, (_postgres.MIGRATIONS[0], _postgres.MIGRATIONS[0]))
        assert _postgres.schema_version(db) == 0


# --- the journal, as SQLite's -------------------------------------------------------------------------


def _script(journal: Any) -> dict[str, Any]:
    """The same writes through either journal; what it then reads."""
    record = journal.begin("reminders", {"rate": 5}, NOW)
    for n in range(5):
        journal.add(f"r-{n}", f"sha256:{n}", f"key-{n}", f"+1312000000{n}", "+18445550001")
    journal.add("bad", "bad", "key-bad", None, None, state="failed", error_code="refused", error_detail="no to")
    marked = journal.sending(["r-0", "r-1", "r-2", "r-3"], NOW.timestamp())
    journal.accepted("r-0", "m-0", 1.5)
    journal.failed("r-1", "40300", "blocked")
    journal.pending("r-2", "10011", "rate limited")
    journal.unanswered("r-3", None, "no answer")
    journal.commit()
    rows = list(journal.rows())  # every field: seq, recipient, sender, errors, attempts, times
    return {
        "marked": None if marked is None else sorted(marked),
        "name": record.name,
        "parameters": dict(record.parameters),
        "counts": journal.counts(),
        "rows": rows,
        "known": journal.known("r-2"),
        "unknown": journal.known("r-9"),
    }


def test_the_journal_records_rows_as_the_sqlite_journal_does(postgres_url: str, tmp_path: Path) -> None:
    with Journal(tmp_path / "run.db") as sqlite_journal:
        expected = _script(sqlite_journal)
    with PostgresJournal(postgres_url, "reminders") as journal:
        found = _script(journal)
        assert journal.campaign() == journal.begin("reminders", {"rate": 5}, NOW)
        record = journal.campaign()
        assert record is not None and record.created_at == NOW and record.created_at.tzinfo is not None
    assert found["marked"] == ["r-0", "r-1", "r-2", "r-3"]
    assert {**found, "marked": None} == expected
    assert found["counts"] == {"pending": 2, "sending": 1, "accepted": 1, "failed": 2, "unknown": 0}
    r3 = found["rows"][3]
    assert (r3.seq, r3.recipient, r3.sender, r3.error_detail) == (4, "+13120000003", "+18445550001", "no answer")
    assert r3.first_attempt_at == r3.last_attempt_at == NOW and found["rows"][4].first_attempt_at is None


def _pg_columns(db: Any, table: str) -> set[str]:
    found = db.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (_postgres.SCHEMA, table),
    )
    return {row[0] for row in found.fetchall()}


def _sqlite_columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})").fetchall()}


def test_the_tables_have_the_sqlite_journal_s_and_store_s_columns(postgres_url: str, tmp_path: Path) -> None:
    """The same schema: a column the SQLite journal or receiver store gains needs its migration here."""
    Journal(tmp_path / "run.db").close()
    _receipts.connect(str(tmp_path / "run.db")).close()
    with sqlite3.connect(tmp_path / "run.db") as lite, _postgres.connect(postgres_url, autocommit=True) as db:
        # The many-worker columns: the campaign of a row (a database holds many), its send's
        # arguments (any worker sends any row), its lease.
        shared = {"campaign_id", "arguments", "lease_owner", "lease_until"}
        assert _pg_columns(db, "rows") == _sqlite_columns(lite, "rows") | shared
        assert _pg_columns(db, "deliveries") == _sqlite_columns(lite, "deliveries")
        # The events' order: SQLite's rowid, PostgreSQL's `seq` column (it keeps no row order of its own).
        assert "seq" in _pg_columns(db, "events")
        assert _pg_columns(db, "events") - {"seq"} == _sqlite_columns(lite, "events") - {"seq"}
    lite.close()


def test_rows_are_added_and_looked_up_many_at_a_time(journal: PostgresJournal) -> None:
    journal.add_many(
        [_postgres.NewRow(f"r-{n}", f"sha256:{n}", f"key-{n}", None, None, arguments={"n": n}) for n in range(500)]
    )
    journal.add_many([_postgres.NewRow("r-1", "sha256:other", "key-other", None, None)])  # added first: kept
    journal.add_many([])
    journal.commit()
    journal.sending(["r-1"], NOW.timestamp())
    found = journal.known_many(["r-1", "r-499", "r-500"])
    assert sorted(found) == ["r-1", "r-499"]
    assert found["r-1"] == journal.known("r-1") == Known("sending", "sha256:1", NOW.timestamp(), 1)
    assert (journal.counts()["pending"], journal.counts()["sending"]) == (499, 1)
    assert [row.idempotency_key for row in journal.rows()][:3] == ["key-0", "key-1", "key-2"]


def test_outcomes_are_read_back_at_once_and_seen_by_others_once_committed(journal: PostgresJournal) -> None:
    _add(journal, 3)
    journal.sending(["r-0", "r-1"], NOW.timestamp())
    journal.accepted("r-0", "m-0", 0.5)
    journal.failed("r-1", "40300", "blocked")
    assert journal.known("r-0") == Known("accepted", "sha256:0", NOW.timestamp(), 1)
    assert journal.counts() == {"pending": 1, "sending": 0, "accepted": 1, "failed": 1, "unknown": 0}
    with _connect(journal._url) as other:
        states = f"SELECT identity, state FROM {_postgres.SCHEMA}.rows ORDER BY seq"
        assert [state for _, state in other.execute(states).fetchall()] == ["sending", "sending", "pending"]
        journal.commit_if_older(60)  # younger: not yet
        assert [state for _, state in other.execute(states).fetchall()] == ["sending", "sending", "pending"]
        journal.commit_if_older(0)
        assert [state for _, state in other.execute(states).fetchall()] == ["accepted", "failed", "pending"]


def test_campaigns_share_a_database_each_by_its_name(postgres_url: str) -> None:
    with PostgresJournal(postgres_url, "a") as first, PostgresJournal(postgres_url, "b") as second:
        one, two = first.begin(None, {}, NOW), second.begin(None, {}, NOW)
        assert one.campaign_id != two.campaign_id
        _add(first, 3)
        _add(second, 2)
        assert first.counts()["pending"] == 3 and second.counts()["pending"] == 2
        # Joined by its name, a campaign is the same one: its id, so its keys.
        with PostgresJournal(postgres_url, "a") as again:
            assert again.begin("a", {"rate": 1}, NOW).campaign_id == one.campaign_id
            with pytest.raises(JournalError, match="opened for campaign 'a', not 'b'"):
                again.begin("b", {}, NOW)
    with PostgresJournal(postgres_url) as unnamed, pytest.raises(JournalError, match="name the campaign"):
        unnamed.begin(None, {}, NOW)


def test_the_journal_names_its_url_without_the_password(postgres_url: str) -> None:
    secret = postgres_url.replace("postgres@", "postgres:hunter2@")
    assert _postgres.redacted(secret) == postgres_url.replace("postgres@", "postgres:***@")
    with PostgresJournal(secret, "reminders") as journal:
        assert "hunter2" not in journal.path and "hunter2" not in repr(journal)
    refused = secret.rsplit(":", 1)[0] + ":1/none"  # nothing listens at port 1
    with pytest.raises(JournalError, match="cannot connect to PostgreSQL") as raised:
        PostgresJournal(refused, "reminders")
    assert "hunter2" not in str(raised.value)
    # psycopg's reason, its first line (the error names the server and port), on one line.
    assert str(raised.value).startswith(_postgres.redacted(refused) + ": cannot connect to PostgreSQL (")
    assert "port 1 failed" in str(raised.value) and "\n" not in str(raised.value)
    assert _postgres._first_line(OSError("  first\nsecond ")) == "first"
    assert _postgres._first_line(OSError(" ")) == "OSError"
    with pytest.raises(ValueError, match=r"a postgresql:// URL, got 'run\.db'"):
        PostgresJournal("run.db")
    assert _postgres.redacted(postgres_url) == postgres_url
    colons = postgres_url.replace("postgres@", "postgres:a:b@")  # a password with colons in it
    assert _postgres.redacted(colons) == postgres_url.replace("postgres@", "postgres:***@")
    assert _postgres.is_postgres_url("postgres://h/db") and _postgres.is_postgres_url("PostgreSQL://h/db")
    for not_one in ("postgresql.db", "postgresql:db", "sqlite:///run.db", Path("postgresql://h/db")):
        assert not _postgres.is_postgres_url(not_one), not_one


def test_bad_arguments_are_named_before_anything_is_written(journal: PostgresJournal) -> None:
    for lease in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="lease must be a number of seconds above 0"):
            PostgresJournal(journal._url, "reminders", lease=lease)
    for rate in (0.0, -5.0, True):
        with pytest.raises(ValueError, match="a gate's rate must be above 0"):
            journal.set_gate("all", rate)
    journal.set_gate("all", 10.0)
    for count in (0, True, 1.5):
        with pytest.raises(ValueError, match="count must be an int of at least 1"):
            journal.take(["all"], count=count)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a list, not one str"):
        journal.sending("r-0", time.time())
    assert journal.worker.startswith(f"{socket.gethostname()}:{os.getpid()}:")
    with PostgresJournal(journal._url, "reminders") as fresh:
        fresh.commit_if_older(60)  # just opened: nothing to commit, and no error
        # Its connections say whose they are (pg_stat_activity, for the database's operators).
        found = fresh._db.execute("SELECT current_setting('application_name')").fetchone()
        assert found == ("telnyx-messages",)
    with _connect(journal._url) as db:
        assert db.execute(f"SELECT count(*) FROM {_postgres.SCHEMA}.gates").fetchone() == (1,)
        for steps in ((), (Migration(0, "zero", ()),), (_LATER,)):
            with pytest.raises(ValueError, match=r"must be 1, 2, \.\.\. in order"):
                _postgres.migrate(db, steps)


# --- claims and leases ----------------------------------------------------------------------------------


def test_workers_claiming_at_once_never_hold_the_same_row(journal: PostgresJournal) -> None:
    identities = _add(journal, 300)
    claimed: dict[str, list[str]] = {}
    start = threading.Barrier(3)

    def work(number: int) -> None:
        with PostgresJournal(journal._url, "reminders", worker=f"w{number}") as worker:
            worker.begin(None, {}, NOW)
            mine = claimed[worker.worker] = []
            start.wait()
            while batch := worker.claim(7):
                held = [row.identity for row in batch]
                assert worker.sending(held, time.time()) == held
                for identity in held:
                    worker.accepted(identity, f"m-{identity}", None)
                mine += held

    _at_once(work, [(n,) for n in range(3)])
    every = [identity for held in claimed.values() for identity in held]
    assert sorted(every) == sorted(identities), "a row claimed twice, or never"
    assert all(claimed.values()), f"a worker claimed nothing: {[len(v) for v in claimed.values()]}"
    assert journal.counts()["accepted"] == 300
    assert {row.attempts for row in journal.rows()} == {1}


def test_claims_come_in_the_campaign_s_order_with_what_sending_takes(journal: PostgresJournal) -> None:
    _add(journal, 5)
    journal.failed("r-1", "refused", "no")
    batch = journal.claim(3)
    assert [row.identity for row in batch] == ["r-0", "r-2", "r-3"]
    assert batch[1].idempotency_key == "key-r-2" and batch[1].arguments == {"n": 2}
    assert batch[1].state == "pending" and batch[1].attempts == 0 and batch[1].first_attempt_at is None
    # Held: not claimed again by its own worker either.
    assert [row.identity for row in journal.claim(10)] == ["r-4"]
    assert journal.claim(10) == []
    for limit in (0, True):
        with pytest.raises(ValueError, match=f"limit must be an int of at least 1, got {limit}"):
            journal.claim(limit)
    # Arguments as JSON, a value JSON lacks as its text (a datetime).
    journal.add("r-9", "sha256:9", "key-r-9", None, None, arguments={"send_at": NOW, "media_urls": ["a", "b"]})
    (claimed,) = journal.claim(1)
    assert claimed.arguments == {"send_at": str(NOW), "media_urls": ["a", "b"]}


def test_a_claim_skips_rows_another_worker_is_claiming_instead_of_waiting(journal: PostgresJournal) -> None:
    _add(journal, 3)
    journal._db.execute("SET lock_timeout = '2s'")  # a claim that waited would fail, not hang
    journal.commit()
    with _connect(journal._url) as other, other.transaction():
        # Another worker's claim in progress: its row lock on r-0, not committed yet.
        other.execute(f"SELECT 1 FROM {_postgres.SCHEMA}.rows WHERE identity = 'r-0' FOR UPDATE")
        assert [row.identity for row in journal.claim(2)] == ["r-1", "r-2"]
    assert [row.identity for row in journal.claim(2)] == ["r-0"]


def test_unknown_rows_are_claimed_only_to_resend_them_and_settled_rows_stay(journal: PostgresJournal) -> None:
    _add(journal, 3)
    journal.claim(3)
    journal.sending(["r-0", "r-1", "r-2"], NOW.timestamp())
    journal.accepted("r-2", "m-2", None)
    for identity in ("r-0", "r-2"):
        journal.unknown(identity, "first sent 23.9 hours ago and never confirmed")
    journal.commit()
    rows = {row.identity: row for row in journal.rows()}
    assert [rows[i].state for i in ("r-0", "r-1", "r-2")] == ["unknown", "sending", "accepted"]
    assert rows["r-0"].error_detail == "first sent 23.9 hours ago and never confirmed"
    assert _leases(journal)["r-0"] == (None, None)  # given back
    journal.release()
    assert [row.identity for row in journal.claim(5)] == ["r-1"]
    assert [row.identity for row in journal.claim(5, resend_unknown=True)] == ["r-0"]


def _claimer(url: str, count: int, lease: float) -> tuple[subprocess.Popen[str], list[list[str]]]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.test_postgres_journal", "claim", url, "reminders", str(count), str(lease)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    return child, json.loads(child.stdout.readline())


def test_a_killed_worker_s_rows_are_claimed_after_its_lease_with_the_same_keys(journal: PostgresJournal) -> None:
    _add(journal, 8)
    lease = 2.5  # the time a loaded machine may take between the child's claim and this test's
    child, held = _claimer(journal._url, 5, lease)
    killed_at = time.monotonic()
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert [identity for identity, _ in held] == [f"r-{n}" for n in range(5)]
    # Within its lease: the others only.
    assert [row.identity for row in journal.claim(10)] == ["r-5", "r-6", "r-7"]
    journal.release()
    time.sleep(max(0.0, lease + 0.2 - (time.monotonic() - killed_at)))
    again = journal.claim(10)
    assert [(row.identity, row.idempotency_key) for row in again[:5]] == [tuple(pair) for pair in held]
    assert {(row.state, row.attempts) for row in again[:5]} == {("sending", 1)}
    assert journal.sending([identity for identity, _ in held], time.time()) == [identity for identity, _ in held]
    assert {row.attempts for row in journal.rows() if row.identity in dict(held)} == {2}


def test_a_live_lease_keeps_others_from_sending_and_a_clean_close_gives_it_back(postgres_url: str) -> None:
    with PostgresJournal(postgres_url, "reminders", worker="a", lease=60) as first:
        first.begin(None, {}, NOW)
        _add(first, 3)
        assert len(first.claim(2)) == 2
        with PostgresJournal(postgres_url, "reminders", worker="b") as second:
            second.begin(None, {}, NOW)
            assert second.sending(["r-0", "r-1", "r-2"], time.time()) == ["r-2"]
            assert second.claim(5) == []
            first.close()
            assert [row.identity for row in second.claim(5)] == ["r-0", "r-1"]


def _leases(journal: PostgresJournal) -> dict[str, tuple[str | None, float | None]]:
    found = journal._db.execute(
        f"SELECT identity, lease_owner, extract(epoch FROM lease_until - clock_timestamp())::float8"
        f" FROM {_postgres.SCHEMA}.rows ORDER BY seq"
    ).fetchall()
    journal.commit()
    return {identity: (owner, left) for identity, owner, left in found}


def test_a_renewed_lease_runs_from_the_renewal_and_a_lapsed_one_is_not_renewed(postgres_url: str) -> None:
    with (
        PostgresJournal(postgres_url, "reminders", worker="a", lease=30) as first,
        PostgresJournal(postgres_url, "reminders", worker="b") as second,
    ):
        first.begin(None, {}, NOW)
        second.begin(None, {}, NOW)
        _add(first, 3)
        assert len(first.claim(2)) == 2
        left = _leases(first)
        assert left["r-2"] == (None, None)
        assert left["r-0"][0] == "a" and 29 < (left["r-0"][1] or 0) <= 30
        time.sleep(0.3)
        assert first.renew() == 2
        assert all(29.5 < (_leases(first)[identity][1] or 0) <= 30 for identity in ("r-0", "r-1"))
        # r-0's lease lapsed (its term over, by the database's clock): another worker may claim it,
        # and a renewal does not bring it back.
        first._db.execute(
            f"UPDATE {_postgres.SCHEMA}.rows SET lease_until = clock_timestamp() - interval '1 second'"
            " WHERE identity = 'r-0'"
        )
        first.commit()
        assert first.renew() == 1
        assert [row.identity for row in second.claim(5)] == ["r-0", "r-2"]
        assert [owner for owner, _ in _leases(first).values()] == ["b", "a", "b"]


def test_a_late_worker_s_outcomes_do_not_undo_the_row_s(postgres_url: str) -> None:
    with (
        PostgresJournal(postgres_url, "reminders", worker="late", lease=0.2) as late,
        PostgresJournal(postgres_url, "reminders", worker="next") as other,
    ):
        late.begin(None, {}, NOW)
        other.begin(None, {}, NOW)
        _add(late, 1)
        late.claim(1)
        assert late.sending(["r-0"], time.time()) == ["r-0"]
        time.sleep(0.3)
        assert [row.identity for row in other.claim(1)] == ["r-0"]
        assert late.sending(["r-0"], time.time()) == []  # the lease is the other's now
        other.sending(["r-0"], time.time())
        other.accepted("r-0", "m-1", None)
        other.commit()
        late.failed("r-0", "500", "late")
        late.pending("r-0", "10011", "late")
        late.commit()
        (row,) = other.rows()
    assert (row.state, row.message_id, row.error_code, row.attempts) == ("accepted", "m-1", None, 2)


def test_leases_given_back_are_this_worker_s_of_the_rows_named_or_all(postgres_url: str) -> None:
    with (
        PostgresJournal(postgres_url, "reminders", worker="a") as mine,
        PostgresJournal(postgres_url, "reminders", worker="b") as other,
    ):
        mine.begin(None, {}, NOW)
        other.begin(None, {}, NOW)
        _add(mine, 6)
        assert [row.identity for row in mine.claim(4)] == ["r-0", "r-1", "r-2", "r-3"]
        assert [row.identity for row in other.claim(1)] == ["r-4"]
        assert mine.release(["r-1", "r-2", "r-4", "r-9"]) == 2  # r-4 is b's, r-9 no row: not a's to give
        owners = {identity: owner for identity, (owner, _) in _leases(mine).items()}
        assert owners == {"r-0": "a", "r-1": None, "r-2": None, "r-3": "a", "r-4": "b", "r-5": None}
        assert mine.release([]) == 0
        with pytest.raises(TypeError, match=r"^takes the identities of the rows: a list, not one str$"):
            mine.release("r-0")
        assert mine.release() == 2 and mine.release() == 0
        assert [owner for owner, _ in _leases(mine).values()] == [None, None, None, None, "b", None]


def test_rows_still_to_send_are_those_of_a_live_lease_elsewhere_or_of_none(postgres_url: str) -> None:
    with (
        PostgresJournal(postgres_url, "reminders", worker="a", lease=30) as mine,
        PostgresJournal(postgres_url, "reminders", worker="b", lease=30) as other,
    ):
        mine.begin(None, {}, NOW)
        other.begin(None, {}, NOW)
        _add(mine, 3)
        mine.add("bare", "sha256:bare", "key-bare", None, None)  # no arguments: no sender can send it
        assert mine.others_sending()  # free rows: claim() takes them
        assert len(mine.claim(3)) == 3
        assert not mine.others_sending() and other.others_sending()  # a's own, in a's hands
        mine.sending(["r-0", "r-1", "r-2"], time.time())
        for identity in ("r-0", "r-1"):
            mine.accepted(identity, f"m-{identity}", None)
        mine.commit()
        mine._db.execute(  # r-2 given up on: attempted as often as a run tries a row
            f"UPDATE {_postgres.SCHEMA}.rows SET attempts = %s WHERE identity = 'r-2'", (_postgres.GIVEN_UP_ATTEMPTS,)
        )
        mine.commit()
        assert not other.others_sending()
        assert other.others_sending(_postgres.GIVEN_UP_ATTEMPTS + 1)
        mine._db.execute(f"UPDATE {_postgres.SCHEMA}.rows SET attempts = 1 WHERE identity = 'r-2'")
        mine.commit()
        assert other.others_sending() and not mine.others_sending()
        mine._db.execute(  # a's lease lapsed (a dead sender's): free again, for a as for any other
            f"UPDATE {_postgres.SCHEMA}.rows SET lease_until = clock_timestamp() - interval '1 second'"
        )
        mine.commit()
        assert mine.others_sending() and other.others_sending()
        assert [row.identity for row in other.claim(5)] == ["r-2", "bare"]
        assert mine.others_sending() and not other.others_sending()


def test_a_rate_of_no_limit_is_kept_and_read_back_as_no_limit(postgres_url: str) -> None:
    parameters = {"rate": math.inf, "sender_rate": None, "max_queue_wait": math.inf, "resend_unknown": False}
    with PostgresJournal(postgres_url, "reminders") as journal:
        assert journal.begin(None, parameters, NOW).parameters == parameters
        stored = journal._db.execute(f"SELECT parameters FROM {_postgres.SCHEMA}.campaigns").fetchone()
        assert stored == ({"sender_rate": None, "resend_unknown": False, "no_limit": ["max_queue_wait", "rate"]},)
        journal.commit()
    with PostgresJournal(postgres_url, "reminders") as journal:
        record = journal.campaign()
        assert record is not None and record.parameters == parameters
        assert journal.begin(None, {"rate": 5.0}, NOW).parameters == {"rate": 5.0}  # a later run's, as given
        assert journal._db.execute(f"SELECT parameters FROM {_postgres.SCHEMA}.campaigns").fetchone() == (
            {"rate": 5.0},
        )
        journal.commit()
        for bad, message in (
            ({"rate": math.nan}, "parameter 'rate' is nan: a PostgreSQL journal keeps finite numbers and inf"),
            ({"rate": -math.inf}, "parameter 'rate' is -inf"),
            ({"no_limit": 1}, "a parameter may not be named 'no_limit'"),
            ({"rates": [1.0, math.nan]}, "Out of range float values are not JSON compliant"),  # within a value: json's
        ):
            with pytest.raises(ValueError, match=re.escape(message)):
                journal.begin(None, bad, NOW)
        record = journal.campaign()
        assert record is not None and record.parameters == {"rate": 5.0}


# --- the campaign's rate, across processes --------------------------------------------------------------


def test_slots_are_spaced_by_the_slowest_gate_and_wait_for_holds(journal: PostgresJournal) -> None:
    journal.set_gate("all", 100.0)
    journal.set_gate("sender", 10.0)
    journal.set_gate("profile", None)
    first = journal.take(["all", "sender"])
    second = journal.take(["sender", "all"])
    assert first.delay == pytest.approx(0.0, abs=0.05)
    assert second.at - first.at == pytest.approx(0.1)  # by the database's clock: however long between takes
    assert journal.take(["profile"]).delay == pytest.approx(0.0, abs=0.05)  # no rate of its own
    several = journal.take(["all"], count=4)
    assert several.spacing == pytest.approx(0.01)
    assert several.delays() == pytest.approx([several.delay + n * 0.01 for n in range(4)])
    journal.set_gate("sender", 20.0)  # a later run's rate: the campaign's from now on
    assert journal.take(["sender"], count=2).spacing == pytest.approx(0.05)
    journal.hold(2.0, ["all"])
    assert journal.take(["all"]).delay == pytest.approx(2.0, abs=0.1)
    journal.hold(3.0)  # every gate
    assert journal.take(["profile"]).delay == pytest.approx(3.0, abs=0.1)
    with pytest.raises(JournalError, match=r"no gate \['mms'\]"):
        journal.take(["all", "mms"])


def test_a_take_tells_its_slots_by_the_database_s_clock(journal: PostgresJournal) -> None:
    journal.set_gate("all", 10.0)
    journal.take(["all"], count=3)  # the next free slot 0.3 s on
    before = time.time()
    taken = journal.take(["all"], count=2)
    after = time.time()
    # `now` is the database's clock at the take (this machine's: the same server), `at` the first slot.
    assert before - 0.05 <= taken.now <= after + 0.05
    assert taken.at - taken.now == pytest.approx(taken.delay) and 0.2 < taken.delay <= 0.3


def test_another_clock_is_mapped_to_this_one_by_its_narrowest_exchanges() -> None:
    clock = _pacing.ClockOffset(drift=0.0)
    with pytest.raises(ValueError, match="no exchange observed yet"):
        clock.local(5.0)
    clock.observe(100.0, 1100.3, 100.5)  # a slow answer: the offset is 999.8 to 1000.3
    assert (clock.low, clock.high, clock.offset) == pytest.approx((999.8, 1000.3, 1000.05))
    clock.observe(101.0, 1101.02, 101.04)  # a quick one: 999.98 to 1000.02
    assert clock.offset == pytest.approx(1000.0) and clock.local(1102.5) == pytest.approx(102.5)
    clock.observe(102.0, 1102.9, 103.0)  # a slow one again changes nothing
    assert (clock.low, clock.high) == pytest.approx((999.98, 1000.02))
    clock.observe(104.0, 1109.0, 104.01)  # the other clock was set forward 5 s: its reading alone
    assert (clock.low, clock.high, clock.at) == pytest.approx((1004.99, 1005.0, 104.01))
    with pytest.raises(ValueError, match=r"an answer received \(1.0\) before it was asked \(2.0\)"):
        clock.observe(2.0, 0.0, 1.0)


def test_the_clocks_may_drift_apart_by_the_allowance_between_exchanges() -> None:
    clock = _pacing.ClockOffset(drift=0.001)
    clock.observe(0.0, 1000.0, 0.0)  # offset exactly 1000
    clock.observe(10.0, 1010.02, 10.0)  # 0.02 in 10 s: past the allowance (0.01): this reading alone
    assert (clock.low, clock.high) == pytest.approx((1000.02, 1000.02))
    clock.observe(20.0, 1020.01, 20.05)  # 999.96 to 1000.01, the last (1000.02) widened by 0.01
    assert (clock.low, clock.high) == pytest.approx((1000.01, 1000.01))
    assert _pacing.ClockOffset().drift == 1e-4


def _windows(times: list[float], start: float, end: float) -> list[int]:
    """The count of sends in every 1 s window within [start, end] that opens or closes at a send."""
    counts = []
    for at in times:
        if start <= at and at + 1.0 <= end:
            counts.append(bisect.bisect_left(times, at + 1.0) - bisect.bisect_left(times, at))  # [at, at + 1)
            counts.append(bisect.bisect_right(times, at + 1.0) - bisect.bisect_right(times, at))  # (at, at + 1]
    return counts


def _slot_takers(url: str, count: int, seconds: float) -> tuple[float, list[list[float]]]:
    """`count` processes taking slots through the gate `all` for `seconds` from one start, told
    them once every one is ready: the start (epoch time) and each one's sends."""
    command = [sys.executable, "-m", "tests.test_postgres_journal", "slots", url, "reminders", repr(seconds)]
    children = [
        subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
        start = time.time() + 0.2
        for child in children:
            assert child.stdin is not None
            child.stdin.write(f"{start!r}\n")
            child.stdin.close()
        sends = []
        for child in children:
            assert child.stdout is not None
            sends.append(json.loads(child.stdout.read()))
            assert child.wait(30) == 0
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    return start, sends


def test_three_processes_share_the_campaign_s_rate(journal: PostgresJournal) -> None:
    rate, seconds = 100.0, 3.0
    journal.set_gate("all", rate)
    start, shares = _slot_takers(journal._url, 3, seconds)
    assert all(len(mine) > 0.2 * rate * seconds for mine in shares), [len(mine) for mine in shares]
    sends = sorted(at for mine in shares for at in mine)
    counts = _windows(sends, start, start + seconds - 0.05)
    assert len(counts) > 100
    # The ceiling, always: slots spaced by the gate are never taken twice.
    assert max(counts) <= 1.1 * rate, (min(counts), max(counts))
    # The floor needs the CPU for it: a fresh-clone CI run (three test workers on 2 cores) saw a
    # window of 88 at 100/s, slots going by while the takers were starved. As the three-sender
    # campaign's band (test_campaign_postgres), an expected failure naming the figures, not a pass.
    if min(counts) < 0.9 * rate or len(sends) != pytest.approx(rate * seconds, rel=0.1):
        pytest.xfail(f"#43: fewest {min(counts)} in 1 s at {rate:g}/s, {len(sends)} sends in {seconds:g} s")


# --- the receiver's events, across workers --------------------------------------------------------------


def _stream(messages: int) -> Any:
    """A stream of signed delivery updates (tests/support/receiver_events.py; imported here, not in
    the workers' processes)."""
    from telnyx_messages.testing import FakeTelnyx

    from .support.receiver_events import make_stream

    return make_stream(FakeTelnyx(), messages)


def test_a_duplicate_event_is_recorded_once(postgres_url: str) -> None:
    order = _receipts.status_order()
    stream = _stream(2)
    items = [_receipts.incoming(json.loads(event.body), event.body, order) for event in stream.events]
    with _connect(postgres_url) as db:
        _postgres.migrate(db)
        assert _postgres.record_events(db, items[:1], order, time.time()) == [True]
        assert _postgres.record_events(db, [items[0], items[1], items[1]], order, time.time()) == [False, True, False]
        assert db.execute(f"SELECT count(*) FROM {_postgres.SCHEMA}.events").fetchone() == (2,)


def test_a_batch_a_lock_conflict_aborted_is_tried_again_five_times_in_all(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """record_events alone (its one transaction stood in for): a deadlock or a serialization failure
    (another worker's lock order) rolls the batch back and it is tried again, up to five times."""
    errors = require_psycopg().errors
    order = _receipts.status_order()
    items = [_receipts.incoming(json.loads(event.body), event.body, order) for event in _stream(1).events]
    record = _postgres._record
    failures: list[type[Exception]] = []
    tries: list[int] = []

    def conflicting(db: Any, *arguments: Any) -> list[bool]:
        tries.append(1)
        if failures:
            raise failures.pop(0)("conflict")
        return record(db, *arguments)

    monkeypatch.setattr(_postgres, "_record", conflicting)
    with _connect(postgres_url) as db:
        _postgres.migrate(db)
        failures[:] = [errors.DeadlockDetected, errors.SerializationFailure] * 2
        assert _postgres.record_events(db, items, order, time.time()) == [True] * len(items)
        assert len(tries) == 5
        tries.clear()
        failures[:] = [errors.DeadlockDetected] * 5
        with pytest.raises(errors.DeadlockDetected):
            _postgres.record_events(db, items, order, time.time())
        assert len(tries) == 5
        tries.clear()
        failures[:] = [errors.UniqueViolation]  # not a lock conflict: raised at once
        with pytest.raises(errors.UniqueViolation):
            _postgres.record_events(db, items, order, time.time())
        assert len(tries) == 1
        db.close()
        with pytest.raises(errors.OperationalError):  # a lost connection: raised as it is
            _postgres.record_events(db, items, order, time.time())


def test_events_are_recorded_as_the_sqlite_store_records_them(postgres_url: str, tmp_path: Path) -> None:
    order = _receipts.status_order()
    stream = _stream(20)
    items = [_receipts.incoming(json.loads(event.body), event.body, order) for event in stream.events]
    items = items[::-1] + items[:5]  # finalized before sent for some, and duplicates
    columns = "message_id, recipient, status, occurred_at, event_id, event_type, error_codes, errors"
    lite = _receipts.connect(str(tmp_path / "store.db"))
    expected_new = _receipts.record(lite, items, order, time.time())
    expected = sorted(lite.execute(f"SELECT {columns} FROM deliveries").fetchall())
    lite.close()
    with _postgres.connect(postgres_url, autocommit=True) as db:
        assert _postgres.record_events(db, items, order, time.time()) == expected_new
        found = sorted(db.execute(f"SELECT {columns} FROM {_postgres.SCHEMA}.deliveries").fetchall())
    assert found == expected
    assert any(row[7] for row in found) and any(row[6] for row in found)  # errors recorded, with codes


def test_events_at_four_workers_at_once_are_each_recorded_once_statuses_right(postgres_url: str) -> None:
    order = _receipts.status_order()
    stream = _stream(60)
    items = [_receipts.incoming(json.loads(event.body), event.body, order) for event in stream.events]
    connections = [_postgres.connect(postgres_url, autocommit=True) for _ in range(4)]
    start = threading.Barrier(len(connections))
    new: list[str] = []
    lock = threading.Lock()

    def worker(number: int, db: Any) -> None:
        # Every event reaches every worker (in its own order, and some twice), in batches.
        posts = items + random.Random(number).sample(items, len(items) // 5)
        random.Random(number).shuffle(posts)
        start.wait()
        for batch in (posts[at : at + 16] for at in range(0, len(posts), 16)):
            for item, fresh in zip(batch, _postgres.record_events(db, batch, order, time.time()), strict=True):
                if fresh:
                    with lock:
                        new.append(item.event_id)

    _at_once(worker, list(enumerate(connections)))
    db = connections[0]
    assert sorted(new) == sorted(item.event_id for item in items), "an event recorded twice, or never"
    found = db.execute(f"SELECT message_id, recipient, status, error_codes FROM {_postgres.SCHEMA}.deliveries")
    outcomes = {(m, r): (s, tuple(c.split(",")) if c else ()) for m, r, s, c in found.fetchall()}
    assert outcomes == stream.expected
    for connection in connections:
        connection.close()


def test_a_receiver_killed_mid_batch_records_nothing_and_another_records_it_all(
    postgres_url: str, tmp_path: Path
) -> None:
    order = _receipts.status_order()
    stream = _stream(10)
    bodies = tmp_path / "bodies.json"
    bodies.write_text(json.dumps([event.body.decode() for event in stream.events]))
    items = [_receipts.incoming(json.loads(event.body), event.body, order) for event in stream.events]
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.test_postgres_journal", "record", postgres_url, "-", str(bodies)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "recorded, not committed\n"
        with ThreadPoolExecutor(1) as pool, _postgres.connect(postgres_url, autocommit=True) as db:
            # The same events at another worker: it waits for the first's transaction...
            recording = pool.submit(_postgres.record_events, db, items, order, time.time())
            time.sleep(0.5)
            assert not recording.done()
            child.send_signal(signal.SIGKILL)  # ... which dies: rolled back, so every event is new here
            assert recording.result(timeout=30) == [True] * len(items)
            found = db.execute(f"SELECT message_id, recipient, status FROM {_postgres.SCHEMA}.deliveries").fetchall()
        assert {(m, r): s for m, r, s in found} == {key: status for key, (status, _) in stream.expected.items()}
    finally:
        child.kill()
        child.wait()


def test_the_journal_imports_without_psycopg() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "import telnyx_messages._postgres as p\n"
        "try:\n    p.PostgresJournal('postgresql://127.0.0.1:1/x', 'c')\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert "needs psycopg 3" in out and "pip install 'telnyx-messages[postgres]'" in out


# --- the workers in processes of their own --------------------------------------------------------------


def _claim_and_wait(url: str, name: str, count: int, lease: float) -> None:
    journal = PostgresJournal(url, name, lease=lease)
    journal.begin(None, {}, NOW)
    batch = journal.claim(count)
    journal.sending([row.identity for row in batch], time.time())
    print(json.dumps([[row.identity, row.idempotency_key] for row in batch]), flush=True)
    time.sleep(60)  # until killed


def _take_slots(url: str, name: str, seconds: float) -> None:
    sends = []
    with PostgresJournal(url, name, worker=f"slots-{uuid.uuid4().hex[:6]}") as journal:
        journal.begin(None, {}, NOW)
        journal._gates()  # its connection open before the start
        print("ready", flush=True)
        start = float(sys.stdin.readline())
        time.sleep(max(0.0, start - time.time()))
        while time.time() < start + seconds:
            # Slots a few at a time, as the engine takes them for a batch of sends: a worker's
            # reservation runs ahead of the clock, so a pause shorter than that costs no slot.
            slots = journal.take(["all"], count=SLOTS_PER_TAKE)
            taken = time.monotonic()
            for delay in slots.delays():
                time.sleep(max(0.0, taken + delay - time.monotonic()))
                sends.append(time.time())
    print(json.dumps(sends), flush=True)


def _record_and_wait(url: str, bodies: str) -> None:
    order = _receipts.status_order()
    texts = json.loads(Path(bodies).read_text())
    items = [_receipts.incoming(json.loads(text), text.encode(), order) for text in texts]
    with _postgres.connect(url, autocommit=True) as db, db.transaction():
        _postgres._record(db, items, order, time.time())
        print("recorded, not committed", flush=True)
        time.sleep(60)  # until killed


if __name__ == "__main__":
    command, url, name, *rest = sys.argv[1:]
    if command == "claim":
        _claim_and_wait(url, name, int(rest[0]), float(rest[1]))
    elif command == "record":
        _record_and_wait(url, rest[0])
    elif command == "slots":
        _take_slots(url, name, float(rest[0]))
    else:
        raise SystemExit(f"unknown command {command!r}")
