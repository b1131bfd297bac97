"""Which journal a campaign runs on (telnyx_messages._journals): a PostgreSQL URL selects the shared
journal, anything else the SQLite file; and the SQLite journal answers the shared journal's questions
as one sender would (its rows all its own, nothing to claim, no shared slots)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from telnyx_messages import _journals, _pacing
from telnyx_messages._journal import Journal

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
