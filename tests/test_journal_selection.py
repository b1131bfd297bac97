"""Which journal a campaign runs on (telnyx_messages._journals): a PostgreSQL URL selects the shared
journal, anything else the SQLite file; and the SQLite journal answers the shared journal's questions
as one sender would (its rows all its own, nothing to claim, no shared slots)."""

from __future__ import annotations

import datetime
import math
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from telnyx_messages import _journals, _pacing, _postgres
from telnyx_messages._journal import Journal, JournalError, Known

from .support.postgres import postgres_server, postgres_url, require_psycopg

__all__ = ["postgres_server", "postgres_url"]  # the fixtures, used by the tests below

NOW = datetime.datetime(2026, 12, 7, 18, 0, tzinfo=datetime.UTC)

NOW_ROWS = [("SMS", "+18445550001"), ("MMS", None)]


def test_a_path_or_a_non_postgres_url_selects_the_sqlite_journal(tmp_path: Path) -> None:
    for given in (tmp_path / "a.db", str(tmp_path / "b.db")):
        with _journals.open_journal(given, "ignored") as journal:
            assert type(journal) is _journals.SQLiteCampaignJournal
            assert journal.path == str(given)
            assert Path(given).exists()


def test_the_sqlite_journal_answers_as_its_campaign_s_only_sender(tmp_path: Path) -> None:
    with _journals.open_journal(tmp_path / "one.db", None) as journal:
        assert isinstance(journal, _journals.SQLiteCampaignJournal)
        assert journal.read_ahead == 1
        assert journal.batch == 1
        assert journal.slots(NOW_ROWS) is None  # type: ignore[arg-type]
        assert journal.claim(10) == []
        assert journal.claim(10, resend_unknown=True) == []
        assert journal.release() == 0
        assert journal.release(["r-1"]) == 0
        assert journal.others_sending() is False
        journal.expect(["r-1"])  # nothing to look up ahead
        journal.hold(5.0)  # the engine's own gates hold it: nothing kept in the journal
        journal.hold(5.0, "+18445550001", everyone=False)
        pacer = journal.pacer(7.0, 3.0, 12.0)
        assert type(pacer) is _pacing.Pacer
        assert (pacer.rate, pacer.sender_rate, pacer.max_queue_wait) == (7.0, 3.0, 12.0)
        unlimited = journal.pacer(math.inf, None, 1.0)
        assert (unlimited.rate, unlimited.sender_rate, unlimited.max_queue_wait) == (math.inf, None, 1.0)


def test_the_sqlite_journal_keeps_a_row_as_added_but_its_arguments(tmp_path: Path) -> None:
    with _journals.open_journal(tmp_path / "one.db", None) as journal:
        journal.begin("reminders", {}, NOW)
        journal.add("r-1", "sha256:1", "key-1", "+13125550001", "+18445550001", arguments={"text": "hi"})
        journal.add(
            "r-2", "sha256:2", "key-2", None, None, state="failed", error_code="10002", error_detail="bad number"
        )
        journal.commit()
        rows = [
            (row.identity, row.state, row.idempotency_key, row.recipient, row.sender, row.error_code, row.error_detail)
            for row in journal.rows()
        ]
        assert journal.known("r-1") == Known("pending", "sha256:1", None, 0)
        assert journal.known("r-2") == Known("failed", "sha256:2", None, 0)
    assert rows == [
        ("r-1", "pending", "key-1", "+13125550001", "+18445550001", None, None),
        ("r-2", "failed", "key-2", None, None, "10002", "bad number"),
    ]


def test_an_sqlite_journal_to_read_must_exist(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no campaign journal at"):
        _journals.open_existing(tmp_path / "missing.db", None)
    assert not (tmp_path / "missing.db").exists()
    Journal(tmp_path / "there.db").close()
    opened = _journals.open_existing(tmp_path / "there.db", "any name")
    try:
        assert type(opened) is Journal
        assert opened.path == str(tmp_path / "there.db")
    finally:
        opened.close()


# --- a PostgreSQL URL: the shared journal -----------------------------------------------------------


def _gates(url: str) -> dict[str, tuple[float | None, float, float]]:
    """The campaign's gates as stored: name -> (rate, next_at, held_until)."""
    with require_psycopg().connect(url, autocommit=True) as db:
        found = db.execute(f"SELECT gate, rate, next_at, held_until FROM {_postgres.SCHEMA}.gates").fetchall()
    return {gate: (rate, next_at, held) for gate, rate, next_at, held in found}


def _visible(url: str) -> set[str]:
    """The rows another connection sees (committed)."""
    with require_psycopg().connect(url, autocommit=True) as db:
        return {row[0] for row in db.execute(f"SELECT identity FROM {_postgres.SCHEMA}.rows").fetchall()}


@pytest.fixture
def shared(postgres_url: str) -> Iterator[_journals.SharedCampaignJournal]:
    opened = _journals.open_journal(postgres_url, "reminders")
    assert isinstance(opened, _journals.SharedCampaignJournal)
    with opened:
        opened.begin(None, {"rate": 10}, NOW)
        yield opened


def test_a_postgres_url_of_either_scheme_selects_the_shared_journal(postgres_url: str) -> None:
    for url in (postgres_url, "postgres://" + postgres_url.split("://", 1)[1]):
        with _journals.open_journal(url, "reminders") as journal:
            assert type(journal) is _journals.SharedCampaignJournal
            assert journal.name == "reminders"
            assert journal.lease == _journals.LEASE == _postgres.DEFAULT_LEASE
            assert journal.read_ahead == 100
            assert journal.batch == 8


def test_a_postgresql_journal_to_read_needs_its_campaign_s_name_and_the_campaign(postgres_url: str) -> None:
    shown = _postgres.redacted(postgres_url)
    for name in (None, ""):
        with pytest.raises(JournalError, match=re.escape(f"{shown} can hold many campaigns: name the campaign")):
            _journals.open_existing(postgres_url, name)
    with pytest.raises(JournalError, match=re.escape(f"{shown} holds no campaign 'reminders'")):
        _journals.open_existing(postgres_url, "reminders")
    with _postgres.PostgresJournal(postgres_url, "reminders") as made:
        made.begin(None, {}, NOW)
    opened = _journals.open_existing(postgres_url, "reminders")
    try:
        assert type(opened) is _postgres.PostgresJournal
        record = opened.campaign()
        assert record is not None and record.name == "reminders"
    finally:
        opened.close()


def test_rows_added_wait_for_the_next_write_and_are_known_at_once(shared: _journals.SharedCampaignJournal) -> None:
    url = shared._url
    shared.add("r-1", "sha256:1", "key-1", "+13125550001", "+18445550001", arguments={"text": "hi"})
    assert shared.known("r-1") == Known("pending", "sha256:1", None, 0)  # from this process, not the database
    assert _visible(url) == set()
    shared.flush()
    shared.commit()
    assert _visible(url) == {"r-1"}
    shared.add("r-2", "sha256:2", "key-2", None, None, state="failed", error_code="10002", error_detail="bad")
    shared.commit()  # a commit flushes the adds first
    assert _visible(url) == {"r-1", "r-2"}
    rows = {row.identity: row for row in shared.rows()}
    assert (rows["r-2"].state, rows["r-2"].error_code, rows["r-2"].error_detail) == ("failed", "10002", "bad")
    with require_psycopg().connect(url, autocommit=True) as db:
        found = db.execute(f"SELECT identity, arguments FROM {_postgres.SCHEMA}.rows ORDER BY seq").fetchall()
    assert found == [("r-1", {"text": "hi"}), ("r-2", None)]


def test_rows_expected_are_looked_up_together_after_the_adds_are_committed(
    shared: _journals.SharedCampaignJournal,
) -> None:
    url = shared._url
    shared.add("r-1", "sha256:1", "key-1", None, None, arguments={})
    shared.expect(["r-1", "r-2"])
    assert _visible(url) == {"r-1"}  # committed before the lookup
    assert shared.known("r-1") == Known("pending", "sha256:1", None, 0)
    assert shared.known("r-2") is None
    # Another sender adds r-2 meanwhile: the expected answer stands for the rows looked up together,
    # a row not looked up is read from the database.
    with _postgres.PostgresJournal(url, "reminders") as other:
        other.campaign()
        other.add("r-2", "sha256:2", "key-2", None, None)
        other.add("r-3", "sha256:3", "key-3", None, None)
        other.commit()
    assert shared.known("r-2") is None
    assert shared.known("r-3") == Known("pending", "sha256:3", None, 0)
    shared.expect(["r-2"])
    assert shared.known("r-2") == Known("pending", "sha256:2", None, 0)


def test_the_engine_s_gates_are_unpaced_and_the_campaign_s_rates_go_to_the_database(
    shared: _journals.SharedCampaignJournal,
) -> None:
    own = shared.pacer(None, None, 30.0)
    assert (own.rate, own.sender_rate, own.max_queue_wait) == (math.inf, math.inf, 30.0)
    assert shared.slots([("SMS", "+18445550001"), ("MMS", "+18445550002")]) == [0.0, 0.0]
    gates = _gates(shared._url)
    assert sorted(gates) == ["sender:+18445550001", "sender:+18445550002", "type:MMS", "type:SMS"]
    assert gates["type:SMS"][0] == _pacing.DEFAULT_TYPE_RATES["SMS"]
    assert gates["type:MMS"][0] == _pacing.DEFAULT_TYPE_RATES["MMS"]
    assert gates["sender:+18445550001"][0] == _pacing.SENDER_KIND_RATES["toll_free"]


def test_a_campaign_rate_is_one_gate_for_every_type_and_a_sender_s_rate_its_own(
    postgres_url: str,
) -> None:
    with _journals.open_journal(postgres_url, "reminders") as shared:
        assert isinstance(shared, _journals.SharedCampaignJournal)
        shared.begin(None, {}, NOW)
        shared.pacer(10.0, math.inf, 60.0)
        delays = shared.slots([("SMS", None), ("MMS", None), ("SMS", None)])
        gates = _gates(postgres_url)
        assert sorted(gates) == ["sender:", "type:all"]
        assert gates["type:all"][0] == 10.0 and gates["sender:"][0] is None
        # One gate at 10/s: the three slots 0.1 s apart, in the rows' order within each group.
        assert delays[0] == 0.0
        assert sorted(delays) == pytest.approx([0.0, 0.1, 0.2], abs=0.02)
        assert delays[2] == pytest.approx(delays[0] + 0.1, abs=1e-6)
        assert delays[1] >= 0.1 - 0.02


def test_a_held_up_gate_delays_the_slots_and_a_sender_s_hold_only_its_own(
    shared: _journals.SharedCampaignJournal,
) -> None:
    shared.pacer(1000.0, 1000.0, 60.0)
    rows = [("SMS", "+18445550001"), ("SMS", "+18445550002"), ("SMS", None)]
    assert shared.slots(rows) == pytest.approx([0.0, 0.0, 0.0], abs=0.05)  # type: ignore[arg-type]
    shared.hold(2.0, "+18445550001", everyone=False)
    gates = _gates(shared._url)
    assert gates["sender:+18445550001"][2] > time.time() + 1.0
    assert gates["sender:+18445550002"][2] == gates["type:all"][2] == gates["sender:"][2] == 0
    # The profile's sender (None) has a gate of its own, "sender:", held alone too.
    shared.hold(1.5, None, everyone=False)
    gates = _gates(shared._url)
    assert gates["sender:"][2] > time.time() + 0.5
    assert gates["sender:+18445550002"][2] == gates["type:all"][2] == 0
    # The free sender first: the held one's slot, 2 s on, moves the shared type gate past it too.
    second, first = shared.slots([("SMS", "+18445550002"), ("SMS", "+18445550001")])
    assert first == pytest.approx(2.0, abs=0.5) and second < 0.5
    shared.hold(3.0)  # everyone: every gate
    assert all(held > time.time() + 2.0 for _, _, held in _gates(shared._url).values())
    (third,) = shared.slots([("SMS", "+18445550002")])
    assert third == pytest.approx(3.0, abs=0.5)


def test_outcomes_are_committed_within_a_tenth_of_a_second_and_leases_renewed_as_asked(
    shared: _journals.SharedCampaignJournal,
) -> None:
    url = shared._url
    shared.add("r-1", "sha256:1", "key-1", None, None, arguments={})
    shared.commit()
    assert [c.identity for c in shared.claim(5)] == ["r-1"]
    assert _lease_of(url, "r-1") is not None
    shared.failed("r-1", "10002", "bad")
    shared.commit_if_older(60.0)  # just committed: nothing yet
    assert _visible_states(url) == {"r-1": "pending"}
    time.sleep(0.15)
    shared.commit_if_older(60.0)  # older than a tenth of a second: committed, however long `seconds`
    assert _visible_states(url) == {"r-1": "failed"}
    assert _lease_of(url, "r-1") is None  # a failed row's lease is given back
    # Renewal: leases are renewed once `seconds` have passed since the last renewal.
    shared.add("r-2", "sha256:2", "key-2", None, None, arguments={})
    shared.commit()
    shared.claim(5)
    claimed = _lease_of(url, "r-2")
    time.sleep(0.3)
    shared.commit_if_older(60.0)
    assert _lease_of(url, "r-2") == claimed
    shared.commit_if_older(0.2)
    renewed = _lease_of(url, "r-2")
    assert renewed is not None and claimed is not None and renewed > claimed + 0.2
    shared.commit_if_older(0.2)  # renewed just now: not again
    assert _lease_of(url, "r-2") == renewed


def _visible_states(url: str) -> dict[str, str]:
    with require_psycopg().connect(url, autocommit=True) as db:
        return dict(db.execute(f"SELECT identity, state FROM {_postgres.SCHEMA}.rows").fetchall())


def _lease_of(url: str, identity: str) -> float | None:
    with require_psycopg().connect(url, autocommit=True) as db:
        found = db.execute(
            f"SELECT extract(epoch FROM lease_until)::float8 FROM {_postgres.SCHEMA}.rows WHERE identity = %s",
            (identity,),
        ).fetchone()
    return None if found is None or found[0] is None else float(found[0])


def test_a_gate_s_rate_is_set_once_by_a_sender_so_a_later_sender_s_rate_stands(
    shared: _journals.SharedCampaignJournal,
) -> None:
    shared.pacer(10.0, math.inf, 60.0)
    shared.slots([("SMS", None)])
    assert _gates(shared._url)["type:all"][0] == 10.0
    with _postgres.PostgresJournal(shared._url, "reminders") as later:  # a sender started since, at 20/s
        later.campaign()
        later.set_gate("type:all", 20.0)
    shared.slots([("SMS", None), ("MMS", None)])
    assert _gates(shared._url)["type:all"][0] == 20.0  # the last to set it: for every sender


def test_the_shared_journal_s_lease_is_the_module_s_and_a_row_needs_the_campaign_begun(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_journals, "LEASE", 2.5)
    with _journals.open_journal(postgres_url, "reminders") as shared:
        assert isinstance(shared, _journals.SharedCampaignJournal)
        assert shared.lease == 2.5
        shared.add("r-1", "sha256:1", "key-1", None, None)  # held for the next write
        with pytest.raises(JournalError, match=re.escape("begin() the campaign first")):
            shared.flush()
    assert _visible(postgres_url) == set()
