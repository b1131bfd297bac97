"""The campaign engine (telnyx_messages.campaign): each row sent once across failures and reruns,
bad rows refused before sending, the request and spend limits, streaming, the report and progress."""

from __future__ import annotations

import datetime
import hashlib
import inspect
import itertools
import json
import math
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from telnyx_messages import AsyncTelnyx, Telnyx
from telnyx_messages import campaign as campaign_module
from telnyx_messages._journal import Journal, JournalError
from telnyx_messages.campaign import (
    MAX_ATTEMPTS,
    REPLAY_WINDOW,
    Campaign,
    CampaignError,
    LocatedRow,
    Plan,
    Progress,
    RowConflictError,
    Stop,
    idempotency_key,
    journal_rows,
    status,
)
from telnyx_messages.testing import FakeClock, FakeTelnyx

from .support import API_KEY
from .support.edge import EdgeServer
from .support.loopback import loopback
from .support.server import Received, Reply
from .test_campaign_receive import Forked, forked, run_forked

UNPACED: dict[str, Any] = {"rate": math.inf, "sender_rate": math.inf}
SENDER = "+18445550001"


class SkippingClock:
    """A clock whose sleeps pass at once (the engine's backoffs, in tests of what follows them)."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def now(self) -> float:
        return time.monotonic() + self.skipped

    def utc(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=self.skipped)

    async def sleep(self, seconds: float) -> None:
        self.skipped += max(seconds, 0.0)
        await anyio.sleep(0)


def rows_of(count: int, *, prefix: str = "m", ids: bool = True) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"to": f"+1312555{n:04d}", "from": SENDER, "text": f"{prefix}{n}"} for n in range(count)
    ]
    if ids:
        for n, row in enumerate(rows):
            row["id"] = f"{prefix}-{n}"
    return rows


def texts_sent(fake: FakeTelnyx) -> list[str]:
    return [message.text for message in fake.sent]


def states(journal: Path) -> dict[str, str]:
    return {row.identity: row.state for row in journal_rows(journal)}


def message(n: int = 0) -> dict[str, Any]:
    return {"data": {"id": f"00000000-0000-4000-8000-{n:012d}", "type": "SMS"}}


def error(status_code: int, code: str, headers: dict[str, str] | None = None) -> Reply:
    body = {"errors": [{"code": code, "title": "refused", "detail": f"error {code}"}]}
    return Reply(status_code, body, headers or {})


# --- each row once ---------------------------------------------------------------------------------


async def test_every_row_is_accepted_once_and_a_rerun_sends_none(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    journal = tmp_path / "run.db"
    rows = rows_of(30)
    first = await Campaign(fake.async_client(), rows, journal, **UNPACED).run()
    assert (first.rows, first.accepted, first.pending, first.failed, first.unknown) == (30, 30, 0, 0, 0)
    assert (first.sent, first.accepted_now, first.stop, first.complete) == (30, 30, None, True)
    again = await Campaign(fake.async_client(), rows, journal, **UNPACED).run()
    assert (again.accepted, again.sent, again.accepted_now) == (30, 0, 0)
    assert sorted(texts_sent(fake)) == sorted(row["text"] for row in rows)
    recorded = list(journal_rows(journal))
    assert [row.identity for row in recorded] == [row["id"] for row in rows]
    assert {row.message_id for row in recorded} == {str(message.id) for message in fake.sent}
    assert all(row.attempts == 1 and row.first_attempt_at is not None for row in recorded)


async def test_a_row_is_sent_with_the_key_of_its_campaign_and_identity(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    report = await Campaign(fake.async_client(), rows_of(3), tmp_path / "a.db", **UNPACED).run()
    sent_keys = [request.headers["idempotency-key"] for request in fake.requests]
    assert sent_keys == [idempotency_key(report.campaign_id, f"m-{n}") for n in range(3)]
    assert [row.idempotency_key for row in journal_rows(tmp_path / "a.db")] == sent_keys
    other = await Campaign(fake.async_client(), rows_of(3), tmp_path / "b.db", **UNPACED).run()
    assert other.campaign_id != report.campaign_id  # another journal is another campaign: other keys
    assert not set(sent_keys) & {request.headers["idempotency-key"] for request in fake.requests[3:]}


def test_a_key_is_a_uuid_form_the_api_takes_and_depends_on_both_parts() -> None:
    key = idempotency_key("c1", "row-1")
    assert len(key) == 36 and key[14] == "8" and key[19] in "89ab"
    assert key == idempotency_key("c1", "row-1")
    assert len({key, idempotency_key("c2", "row-1"), idempotency_key("c1", "row-2")}) == 3


@pytest.mark.parametrize(("campaign_id", "identity"), [("c1", "row-1"), ("6f1c", "sha256:00ff"), ("c", "é\n7")])
def test_a_key_is_the_uuid_version_8_of_the_sha256_of_campaign_and_identity(campaign_id: str, identity: str) -> None:
    # RFC 9562's version 8 from the first 16 bytes of SHA-256("campaign\nidentity"): the same key in every
    # release, so a journal resumed by a later version sends each row with the key its first run sent.
    digest = bytearray(hashlib.sha256(f"{campaign_id}\n{identity}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8
    digest[8] = (digest[8] & 0x3F) | 0x80  # variant 10 (RFC 9562)
    expected = uuid.UUID(bytes=bytes(digest))
    key = idempotency_key(campaign_id, identity)
    assert key == str(expected)
    assert (uuid.UUID(key).version, uuid.UUID(key).variant) == (8, uuid.RFC_4122)


async def test_rows_without_an_id_are_known_by_their_content(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    rows = rows_of(4, ids=False)
    await Campaign(fake.async_client(), rows, tmp_path / "run.db", **UNPACED).run()
    changed = [*rows[:3], {**rows[3], "text": "m3 changed"}]
    again = await Campaign(fake.async_client(), changed, tmp_path / "run.db", **UNPACED).run()
    assert again.sent == 1 and again.rows == 5  # the changed row is another row
    assert texts_sent(fake)[-1] == "m3 changed"
    assert all(identity.startswith("sha256:") for identity in states(tmp_path / "run.db"))


async def test_a_duplicate_row_is_sent_once(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    rows = rows_of(3, ids=False)
    report = await Campaign(fake.async_client(), [*rows, rows[1]], tmp_path / "run.db", **UNPACED).run()
    assert (report.rows, report.sent) == (3, 3)
    assert sorted(texts_sent(fake)) == ["m0", "m1", "m2"]


async def test_a_changed_row_under_a_journaled_id_is_refused(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    rows = rows_of(3)
    await Campaign(fake.async_client(), rows, tmp_path / "run.db", **UNPACED).run()
    changed = [rows[0], {**rows[1], "text": "other"}, rows[2]]
    with pytest.raises(RowConflictError, match=r"row 2: the journal .* holds row id 'm-1' with other content"):
        await Campaign(fake.async_client(), changed, tmp_path / "run.db", **UNPACED).run()
    assert len(fake.sent) == 3


async def test_a_journal_of_another_campaign_is_refused_before_sending(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    await Campaign(fake.async_client(), rows_of(1), tmp_path / "run.db", name="reminders", **UNPACED).run()
    with pytest.raises(JournalError, match="journal of campaign 'reminders', not 'codes'"):
        await Campaign(fake.async_client(), rows_of(2), tmp_path / "run.db", name="codes", **UNPACED).run()
    assert len(fake.requests) == 1


async def test_failures_after_acceptance_never_double_a_message(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    fake.fail_next("disconnect", after_accept=True)
    fake.fail_next(status=500, after_accept=True)
    fake.fail_next("timeout", after_accept=True)
    fake.fail_next(status=503)
    report = await Campaign(fake.async_client(), rows_of(10), tmp_path / "run.db", **UNPACED).run()
    assert (report.accepted, report.pending, report.failed) == (10, 0, 0)
    assert sorted(texts_sent(fake)) == sorted(f"m{n}" for n in range(10))  # each once
    assert report.sent == 14  # four rows answered on a second attempt, with their key
    attempts = sorted(row.attempts for row in journal_rows(tmp_path / "run.db"))
    assert attempts == [1] * 6 + [2] * 4


def test_an_edge_that_fails_after_accepting_still_takes_each_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaign_module, "_BACKOFF_FIRST", 0.01)  # retried at once: the backoff is not tested here
    with EdgeServer(fail_rate=0.3, faults=("drop", "500"), seed=7) as edge:
        client = Telnyx(api_key=API_KEY, base_url=edge.base_url)
        report = Campaign(client, rows_of(60), tmp_path / "run.db", **UNPACED).run_sync()
        client.close()
    assert (report.accepted, report.pending) == (60, 0)
    assert edge.statuses["fault drop"] + edge.statuses["fault 500"] > 0
    assert edge.accepted == {f"m{n}": 1 for n in range(60)}


async def test_a_run_cancelled_midway_is_finished_by_the_next_with_each_row_accepted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaign_module, "_BACKOFF_FIRST", 0.01)  # retried at once: the backoff is not tested here
    journal = tmp_path / "run.db"
    rows = rows_of(80)
    with EdgeServer(fail_rate=0.2, faults=("drop", "500"), seed=3) as edge:
        async with AsyncTelnyx(api_key=API_KEY, base_url=edge.base_url) as client:
            with anyio.CancelScope() as scope:

                def cancel_at_twenty(progress: Progress) -> None:
                    if progress.accepted >= 20:
                        scope.cancel()

                await Campaign(client, rows, journal, progress=cancel_at_twenty, max_in_flight=8, **UNPACED).run()
            assert scope.cancelled_caught
            midway = status(journal)
            assert 20 <= midway.accepted < 80 and midway.pending > 0
            report = await Campaign(client, rows, journal, **UNPACED).run()
    assert (report.accepted, report.pending) == (80, 0)
    assert edge.accepted == {f"m{n}": 1 for n in range(80)}


# --- the edge's replay window ------------------------------------------------------------------------


async def test_a_row_left_sending_past_the_replay_window_becomes_unknown_and_is_not_sent(tmp_path: Path) -> None:
    row = rows_of(1)[0]
    journal = tmp_path / "run.db"
    fake = FakeTelnyx()
    fake.fail_next("disconnect", times=MAX_ATTEMPTS)  # never answered: left `sending`
    first = await Campaign(fake.async_client(), [row], journal, clock=SkippingClock(), **UNPACED).run()
    assert first.pending == 1 and fake.sent == []
    (recorded,) = journal_rows(journal)
    assert recorded.state == "sending" and "Server disconnected without sending a response" in (
        recorded.error_detail or ""
    )
    with Journal(journal) as opened:  # its first attempt, moved back 1,000 hours
        opened._db.execute("UPDATE rows SET first_attempt_at = first_attempt_at - ?", (1000 * 3600,))
    fake = FakeTelnyx()
    report = await Campaign(fake.async_client(), [row], journal, **UNPACED).run()
    assert (report.unknown, report.pending, report.sent) == (1, 0, 0)
    assert fake.requests == []
    (recorded,) = journal_rows(journal)
    assert recorded.state == "unknown" and recorded.error_detail == (
        "first sent 1000.0 hours ago and never confirmed; the API's edge keeps a key 24 hours, so a new send could "
        "double it: re-sent only with resend_unknown"
    )
    resent = await Campaign(fake.async_client(), [row], journal, resend_unknown=True, **UNPACED).run()
    assert (resent.accepted, resent.unknown) == (1, 0)
    assert [request.headers["idempotency-key"] for request in fake.requests] == [recorded.idempotency_key]
    refused = {"id": "bad", "to": "nope", "text": "x"}  # failed
    again = await Campaign(fake.async_client(), [row, refused], journal, resend_unknown=True, **UNPACED).run()
    assert (again.sent, again.accepted, again.failed, len(fake.requests)) == (0, 1, 1, 1)  # only unknown rows resent
    once_more = await Campaign(fake.async_client(), [row, refused], journal, resend_unknown=True, **UNPACED).run()
    assert (once_more.sent, len(fake.requests)) == (0, 1)


async def test_a_row_that_exhausts_its_attempts_leaves_the_window_to_the_rows_after_it(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    fake.fail_next(status=503, times=MAX_ATTEMPTS)  # the first row: a 503 each time
    journal = tmp_path / "run.db"
    campaign = Campaign(fake.async_client(), rows_of(4), journal, clock=SkippingClock(), window=1, **UNPACED)
    with anyio.fail_after(30):  # a row kept in the window would hold the others back for ever
        report = await campaign.run()
    assert (report.accepted, report.pending, report.sent) == (3, 1, MAX_ATTEMPTS + 3)
    first = next(iter(journal_rows(journal)))
    assert (first.state, first.attempts, first.error_code) == ("sending", MAX_ATTEMPTS, "10000")
    assert first.error_detail is not None and first.error_detail.startswith("503 Service Unavailable: 10000")


async def test_a_row_first_sent_24_hours_ago_is_past_the_replay_window_less_its_margin(tmp_path: Path) -> None:
    row = rows_of(1)[0]
    journal = tmp_path / "run.db"
    fake = FakeTelnyx()
    fake.fail_next("disconnect", times=MAX_ATTEMPTS)
    await Campaign(fake.async_client(), [row], journal, clock=SkippingClock(), **UNPACED).run()
    with Journal(journal) as opened:  # 24 hours: within the edge's window, not within its 15-minute margin
        opened._db.execute("UPDATE rows SET first_attempt_at = first_attempt_at - ?", (24 * 3600,))
    report = await Campaign(fake.async_client(), [row], journal, **UNPACED).run()
    assert (report.unknown, report.sent) == (1, 0)


async def test_a_row_left_sending_within_the_replay_window_is_re_sent_with_its_key(tmp_path: Path) -> None:
    row = rows_of(1)[0]
    journal = tmp_path / "run.db"
    fake = FakeTelnyx()
    fake.fail_next("disconnect", after_accept=True, times=MAX_ATTEMPTS)  # taken, never answered
    first = await Campaign(fake.async_client(), [row], journal, clock=SkippingClock(), **UNPACED).run()
    assert first.pending == 1 and len(fake.sent) == 1
    with Journal(journal) as opened:
        opened._db.execute("UPDATE rows SET first_attempt_at = first_attempt_at - ?", (REPLAY_WINDOW - 3600,))
    report = await Campaign(fake.async_client(), [row], journal, **UNPACED).run()
    assert (report.accepted, report.pending) == (1, 0)
    assert len(fake.sent) == 1  # the edge answered the same key from what it stored
    (recorded,) = journal_rows(journal)
    assert recorded.message_id == str(fake.sent[0].id)


# --- refused rows ------------------------------------------------------------------------------------


async def test_bad_rows_are_failed_with_their_reason_and_never_sent(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    good = rows_of(2)
    bad: list[Any] = [
        {"id": "no-plus", "to": "13125550001", "text": "x"},
        {"id": "letters", "to": "+1312555ABCD", "text": "x"},
        {"id": "no-to", "text": "x"},
        {"id": "unknown-argument", "to": "+13125550001", "colour": "red"},
        {"id": "text-type", "to": "+13125550001", "text": 42},
        {"id": "too-long", "to": "+13125550001", "text": "x" * 153 * 11},
        {"id": "own-key", "to": "+13125550001", "text": "x", "idempotency_key": "k"},
        {"id": "both-froms", "to": "+13125550001", "text": "x", "from": SENDER, "from_": SENDER},
        ["+13125550001", "x"],
    ]
    report = await Campaign(fake.async_client(), [good[0], *bad, good[1]], tmp_path / "run.db", **UNPACED).run()
    assert (report.accepted, report.failed, report.sent) == (2, len(bad), 2)
    assert len(fake.requests) == 2
    reasons = {row.identity: row.error_detail or "" for row in journal_rows(tmp_path / "run.db")}
    assert "to must be an E.164 number" in reasons["no-plus"]
    assert "to must be an E.164 number" in reasons["letters"]
    assert "has no `to`" in reasons["no-to"]
    assert "takes no argument 'colour'" in reasons["unknown-argument"]
    assert "text must be str" in reasons["text-type"]
    assert "11 parts" in reasons["too-long"] and "at most 10" in reasons["too-long"]
    assert "idempotency_key is set by the campaign" in reasons["own-key"]
    assert "gives from_ twice" in reasons["both-froms"]
    assert any("is a list, not a dict" in reason for reason in reasons.values())
    assert {row.error_code for row in journal_rows(tmp_path / "run.db") if row.state == "failed"} == {"refused"}
    recorded = {row.identity: row for row in journal_rows(tmp_path / "run.db")}
    assert (recorded["no-plus"].recipient, recorded["no-to"].recipient, recorded["m-0"].recipient) == (
        "13125550001",
        None,
        "+13125550000",
    )
    assert recorded["m-0"].sender == SENDER
    assert recorded["no-plus"].idempotency_key == idempotency_key(report.campaign_id, "no-plus")
    seen: list[Progress] = []
    again = await Campaign(fake.async_client(), [good[0], *bad, good[1]], tmp_path / "run.db", progress=seen.append,
                           **UNPACED).run()  # fmt: skip
    assert (again.rows, again.failed, again.sent) == (2 + len(bad), len(bad), 0)  # each refused row recorded once
    assert seen[-1].failed == 0  # refused by an earlier run: not counted again


@pytest.mark.parametrize(
    "column", ["idempotency_key", "extra_headers", "extra_query", "extra_body", "timeout", "max_retries"]
)
def test_a_row_cannot_set_what_the_campaign_sets(column: str) -> None:
    plan = Campaign(None, [{"id": "r", "to": "+13125550001", "text": "x", column: 1}]).dry_run_sync()
    assert plan.refused == 1 and plan.refusals[0].reason == f"row 1: {column} is set by the campaign, not by a row"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"id": True, "to": "+13125550001"}, "row 1: id must be non-empty text or an integer, got True"),
        ({"id": "", "to": "+13125550001"}, "row 1: id must be non-empty text or an integer, got ''"),
        ({"id": 1.5, "to": "+13125550001"}, "row 1: id must be non-empty text or an integer, got 1.5"),
        ({"to": "+13125550001", 7: "x"}, "row 1 has a column 7 that is not text"),
        ({"to": "+13125550001", "text": "x" * 1_100_000}, "over the 1,048,576 the client sends"),
        ({"to": "+13125550001", "text": "x", "type": "FAX"}, "row 1: "),
    ],
)
def test_a_row_is_refused_with_what_is_wrong_before_anything_is_sent(row: dict[Any, Any], reason: str) -> None:
    plan = Campaign(None, [row]).dry_run_sync()
    assert (plan.refused, plan.messages) == (1, 0)
    assert reason in plan.refusals[0].reason


def test_a_refused_row_is_known_by_its_id_else_its_content() -> None:
    rows: list[Any] = [{"id": 5, "to": "bad"}, {"to": "bad"}, ["+13125550001"], {"id": "", "to": "bad"}]
    plan = Campaign(None, rows).dry_run_sync()
    identities = [refusal.identity for refusal in plan.refusals]
    assert identities[0] == "5" and identities[1].startswith("sha256:") and len(identities[1]) == 71
    assert identities[2] == "(not a row)"
    assert identities[3].startswith("sha256:") and identities[3] != identities[1]  # an empty id: its content
    assert [refusal.position for refusal in plan.refusals] == [1, 2, 3, 4]
    assert [refusal.where for refusal in plan.refusals] == ["row 1", "row 2", "row 3", "row 4"]
    assert [refusal.reason.split(" ")[:2] for refusal in plan.refusals] == [
        ["row", "1:"],
        ["row", "2:"],
        ["row", "3"],
        ["row", "4:"],
    ]


def test_a_located_row_is_named_by_its_own_words_and_known_by_its_items_alone(tmp_path: Path) -> None:
    rows: list[Any] = [
        LocatedRow({"id": "a", "to": "+13125550001", "text": "x"}, "line 2"),
        LocatedRow({"id": "b", "to": "bad", "text": "x"}, "line 5"),
        {"id": "c", "to": "bad", "text": "x"},
        LocatedRow({"id": "a", "to": "+13125550001", "text": "other"}, "lines 7-8"),
    ]
    plan = Campaign(None, rows).dry_run_sync()
    assert [(r.position, r.where, r.identity) for r in plan.refusals] == [
        (2, "line 5", "b"),
        (3, "row 3", "c"),
        (4, "lines 7-8", "a"),
    ]
    assert plan.refusals[0].reason == "line 5: to must be an E.164 number (+ and up to 15 digits), got 'bad'"
    assert plan.refusals[1].reason == "row 3: to must be an E.164 number (+ and up to 15 digits), got 'bad'"
    assert plan.refusals[2].reason.startswith("lines 7-8: id 'a' was given before with other content")
    located = LocatedRow({"to": "+13125550001", "text": "x"}, "line 9")
    assert located == {"to": "+13125550001", "text": "x"} and located.where == "line 9"
    assert not hasattr(located, "__dict__")  # a dict and its one slot
    fake = FakeTelnyx()
    journal = tmp_path / "run.db"
    Campaign(fake.async_client(), [{"to": "+13125550001", "text": "x"}], journal, **UNPACED).run_sync()
    again = Campaign(fake.async_client(), [located], journal, **UNPACED).run_sync()  # the same row: not sent again
    assert (again.rows, again.sent, len(fake.sent)) == (1, 0, 1)
    with pytest.raises(RowConflictError, match=r"^lines 7-8: the journal .* holds row id 'a' with other content"):
        Campaign(fake.async_client(), [rows[0], rows[3]], tmp_path / "other.db", **UNPACED).run_sync()


def test_a_dry_run_names_each_sender_and_counts_an_mms_as_one_part() -> None:
    rows: list[dict[str, Any]] = [
        {"to": "+13125550001", "from": SENDER, "text": "a" * 161},  # 2 GSM-7 parts
        {"to": "+13125550002", "messaging_profile_id": "p-1", "text": "b"},
        {"to": "+13125550003", "text": "c", "type": "MMS", "subject": "s"},  # MMS by its type: one part
        {"to": "+13125550004", "from": SENDER, "text": "d" * 400, "media_urls": ["https://example.com/a.png"]},
    ]
    plan = Campaign(None, rows, rate=2.0, sender_rate=math.inf).dry_run_sync()
    assert plan.senders == {SENDER: 2, "messaging profile p-1": 1, "(no sender)": 1}
    assert plan.by_type == {"SMS": 2, "MMS": 2}
    assert (plan.parts, plan.seconds) == (2 + 1 + 1 + 1, 4 / 2.0)


async def test_a_row_the_api_refuses_is_failed_with_its_code(tmp_path: Path) -> None:
    with loopback() as server:
        server.replies = [Reply(200, message(1)), error(422, "40310")]
        server.default = Reply(200, message(3))
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            report = await Campaign(client, rows_of(3), tmp_path / "run.db", max_in_flight=1, **UNPACED).run()
    assert (report.accepted, report.failed) == (2, 1)
    failed = [row for row in journal_rows(tmp_path / "run.db") if row.state == "failed"]
    assert [(row.identity, row.error_code) for row in failed] == [("m-1", "40310")]
    assert "error 40310" in (failed[0].error_detail or "")


# --- the request limit and the spend limit ------------------------------------------------------------


async def test_the_request_limit_holds_the_whole_campaign_until_its_reset(tmp_path: Path) -> None:
    arrivals: list[float] = []

    def answer(received: Received) -> Reply:
        arrivals.append(time.monotonic())
        if len(arrivals) == 3:
            return error(
                429, "10011", {"x-ratelimit-limit": "3", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1"}
            )
        return Reply(200, message(len(arrivals)))

    with loopback() as server:
        server.default = answer
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            report = await Campaign(client, rows_of(5), tmp_path / "run.db", max_in_flight=1, **UNPACED).run()
    assert (report.accepted, report.pending, report.failed, report.sent) == (5, 0, 0, 6)
    assert arrivals[3] - arrivals[2] >= 0.95  # nothing went out before the reset
    assert all(later - earlier < 0.9 for earlier, later in itertools.pairwise(arrivals[3:]))
    (third,) = [row for row in journal_rows(tmp_path / "run.db") if row.identity == "m-2"]
    assert (third.state, third.attempts) == ("accepted", 2)


@pytest.mark.parametrize(
    ("headers", "held"),
    [
        ({"x-ratelimit-reset": "3"}, 3.0),  # the request limit's reset
        ({"x-ratelimit-reset": "0", "retry-after": "5"}, 0.0),  # reset already: no wait
        ({"x-ratelimit-reset": "-2", "retry-after": "5"}, 5.0),  # no count of seconds (as the client reads it)
        ({"x-ratelimit-reset": "2.5", "x-ratelimit-limit": "x"}, 2.5),  # a malformed limit: the reset still read
        ({"retry-after": "7"}, 7.0),  # no x-ratelimit-* headers: Retry-After
        ({"retry-after": "soon"}, 1.0),  # neither readable: a second
        ({"x-ratelimit-reset": "inf", "retry-after": "nan"}, 1.0),
        ({}, 1.0),
    ],
)
async def test_a_429_holds_every_send_for_the_time_its_answer_gives(
    tmp_path: Path, headers: dict[str, str], held: float
) -> None:
    clock = FakeClock()
    arrivals: list[float] = []
    seen: list[Progress] = []

    def answer(received: Received) -> Reply:
        arrivals.append(clock.now())
        return error(429, "10011", headers) if len(arrivals) == 2 else Reply(200, message(len(arrivals)))

    with loopback() as server:
        server.default = answer
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            campaign = Campaign(client, rows_of(4), tmp_path / "run.db", max_in_flight=1, clock=clock,
                                progress=seen.append, **UNPACED)  # fmt: skip
            report = await campaign.run()
        texts = [received.json()["text"] for received in server.received]
    assert [progress.held_until for progress in seen] == [None] * 4  # the row held settles once the hold is over
    assert (report.accepted, report.sent) == (4, 5)
    assert texts == ["m0", "m1", "m1", "m2", "m3"]  # the refused row goes first again
    assert arrivals[2] - arrivals[1] == pytest.approx(held, abs=0.05)
    assert arrivals[3] - arrivals[2] < 0.05 and arrivals[4] - arrivals[3] < 0.05


@pytest.mark.parametrize(("max_queue_wait", "held"), [(None, 60.0), (10.0, 10.0)])
async def test_a_full_queue_holds_its_sender_only(tmp_path: Path, max_queue_wait: float | None, held: float) -> None:
    """429 40318: the sender's queue holds 4 hours already; that sender waits a minute (or
    max_queue_wait, if shorter), and the other senders go on."""
    clock = FakeClock()
    arrivals: list[tuple[str, float]] = []

    def answer(received: Received) -> Reply:
        body = received.json()
        arrivals.append((body["text"], clock.now()))
        if body["text"] == "a0" and sum(text == "a0" for text, _ in arrivals) == 1:
            return error(429, "40318")
        return Reply(200, message(len(arrivals)))

    rows = [*rows_of(2, prefix="a"), *[{**row, "from": "+18445550002"} for row in rows_of(3, prefix="b")]]
    for n, row in enumerate(rows):
        row["id"] = f"r-{n}"
    options: dict[str, Any] = {} if max_queue_wait is None else {"max_queue_wait": max_queue_wait}
    with loopback() as server:
        server.default = answer
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            campaign = Campaign(client, rows, tmp_path / "run.db", max_in_flight=1, clock=clock, **UNPACED, **options)
            report = await campaign.run()
    assert (report.accepted, report.sent) == (5, 6)
    first, again = [at for text, at in arrivals if text == "a0"]
    assert again - first == pytest.approx(held, abs=0.05)
    # The other sender's rows go meanwhile (their arrival times are the server thread's reading of a
    # virtual clock the engine's wait moves on at once: the order is what tells).
    assert [text for text, _ in arrivals] == ["a0", "b0", "b1", "b2", "a0", "a1"]
    assert [at for text, at in arrivals if text == "a1"] == pytest.approx([held], abs=0.05)  # behind a0


async def test_the_spend_limit_stops_the_campaign_with_the_rows_left_pending(tmp_path: Path) -> None:
    answers = 0

    def answer(received: Received) -> Reply:
        nonlocal answers
        answers += 1
        return Reply(200, message(answers)) if answers <= 4 else error(429, "40333")

    with loopback() as server:
        server.default = answer
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            report = await Campaign(client, rows_of(50), tmp_path / "run.db", max_in_flight=1, **UNPACED).run()
        requests = len(server.received)
    assert requests == 5  # stopped at the first 40333
    assert (report.rows, report.accepted, report.pending, report.failed) == (50, 4, 46, 0)
    assert report.stop is not None and report.stop.reason == "spend_limit"
    assert "daily spend limit" in report.stop.message and "00:00 UTC" in report.stop.message
    assert [row.error_code for row in journal_rows(tmp_path / "run.db")][3:6] == [None, "40333", None]
    assert "error 40333" in (list(journal_rows(tmp_path / "run.db"))[4].error_detail or "")  # the answer's words
    resets = report.stop.resets_at
    now = datetime.datetime.now(datetime.UTC)
    assert resets is not None and resets > now and resets - now <= datetime.timedelta(days=1)
    assert (resets.hour, resets.minute, resets.second, resets.utcoffset()) == (0, 0, 0, datetime.timedelta(0))
    assert not report.complete
    assert status(tmp_path / "run.db").pending == 46


async def test_the_spend_limit_records_the_rows_not_read_yet_as_pending_or_refused(tmp_path: Path) -> None:
    from telnyx_messages.testing import SpendLimit

    fake = FakeTelnyx(clock=FakeClock(), throughput=None, spend_limit=SpendLimit(3))
    rows: list[Any] = [*rows_of(30), {"id": "bad", "to": "nope", "text": "x"}, {"to": "nope"}, ["not a row"]]
    journal = tmp_path / "run.db"
    report = await Campaign(fake.async_client(), rows, journal, window=4, max_in_flight=1, **UNPACED).run()
    assert report.stop is not None and report.stop.reason == "spend_limit"
    assert (report.rows, report.accepted, report.pending, report.failed) == (33, 3, 27, 3)
    recorded = {row.identity: row for row in journal_rows(journal)}
    assert [recorded[f"m-{n}"].state for n in range(30)] == ["accepted"] * 3 + ["pending"] * 27
    assert recorded["m-29"].idempotency_key == idempotency_key(report.campaign_id, "m-29")
    assert recorded["m-29"].recipient == "+13125550029" and recorded["m-29"].sender == SENDER
    assert (recorded["bad"].state, recorded["bad"].error_code) == ("failed", "refused")
    assert recorded["bad"].error_detail == "row 31: to must be an E.164 number (+ and up to 15 digits), got 'nope'"
    assert recorded["bad"].idempotency_key == idempotency_key(report.campaign_id, "bad")
    assert len(fake.sent) == 3
    again = await Campaign(fake.async_client(), rows, journal, window=4, max_in_flight=1, **UNPACED).run()
    assert (again.rows, again.failed, again.sent) == (33, 3, 1)  # the limit holds; no row recorded twice


async def test_the_spend_limit_resets_at_the_midnight_after_the_campaigns_clock(tmp_path: Path) -> None:
    from decimal import Decimal

    clock = FakeClock(datetime.datetime(2026, 12, 7, 23, 58, 30, tzinfo=datetime.UTC))
    fake = FakeTelnyx(clock=clock, throughput=None, price=Decimal("0.01"), spend_amount=Decimal("0.03"))
    report = await Campaign(fake.async_client(), rows_of(5), tmp_path / "run.db", clock=clock, **UNPACED).run()
    assert (report.accepted, report.pending) == (3, 2)
    assert report.stop is not None and report.stop.reason == "spend_limit"
    assert report.stop.resets_at == datetime.datetime(2026, 12, 8, tzinfo=datetime.UTC)
    assert "it resets at 00:00 UTC (2026-12-08 00:00 UTC): run again then" in report.stop.message


async def test_a_rerun_after_the_spend_limit_sends_the_rows_left(tmp_path: Path) -> None:
    limited = True

    def answer(received: Received) -> Reply:
        if limited and len(server.received) > 2:
            return error(429, "40333")
        return Reply(200, message(len(server.received)))

    rows = rows_of(6)
    with loopback() as server:
        server.default = answer
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            stopped = await Campaign(client, rows, tmp_path / "run.db", max_in_flight=1, **UNPACED).run()
            limited = False
            report = await Campaign(client, rows, tmp_path / "run.db", max_in_flight=1, **UNPACED).run()
        texts = [json.loads(received.body)["text"] for received in server.received]
    assert (stopped.accepted, stopped.pending) == (2, 4)
    assert (report.accepted, report.pending, report.stop) == (6, 0, None)
    assert texts == ["m0", "m1", "m2", "m2", "m3", "m4", "m5"]  # m2, refused by the limit, sent again


# --- stopping --------------------------------------------------------------------------------------


async def test_stop_sends_nothing_more_and_reports_the_interruption(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    campaign: Campaign

    def stop_at_five(progress: Progress) -> None:
        if progress.accepted == 5:
            campaign.stop()

    campaign = Campaign(
        fake.async_client(), rows_of(40), tmp_path / "run.db", progress=stop_at_five, max_in_flight=1, **UNPACED
    )
    report = await campaign.run()
    assert report.stop is not None and report.stop.reason == "interrupted"
    assert (report.accepted, len(fake.sent)) == (5, 5)
    assert report.pending == report.rows - 5


def _interrupting(presses: int, at: int = 5) -> Callable[[Progress], None]:
    """A progress callback that sends this process `presses` SIGINTs (Ctrl-C) once `at` rows are accepted."""
    sent = False

    def press(progress: Progress) -> None:
        nonlocal sent
        if progress.accepted >= at and not sent:
            sent = True
            for _ in range(presses):
                os.kill(os.getpid(), signal.SIGINT)

    return press


def test_ctrl_c_stops_run_sync_cleanly_with_a_report(tmp_path: Path) -> None:
    assert threading.current_thread() is threading.main_thread()  # where a loop takes signals
    fake = FakeTelnyx()
    campaign = Campaign(
        fake.client(), rows_of(40), tmp_path / "run.db", progress=_interrupting(1), max_in_flight=1, **UNPACED
    )
    try:
        report = campaign.run_sync()
    except KeyboardInterrupt:
        pytest.fail("one Ctrl-C stops the run with a Report, not KeyboardInterrupt")
    assert report.stop == Stop("interrupted", "interrupted: the rows not sent are pending; run again to send them")
    assert 5 <= report.accepted == len(fake.sent) < 40 and report.pending == 40 - report.accepted
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler given back


def test_a_second_ctrl_c_raises_keyboard_interrupt_leaving_the_journal_consistent(tmp_path: Path) -> None:
    assert threading.current_thread() is threading.main_thread()
    fake = FakeTelnyx()
    journal = tmp_path / "run.db"
    campaign = Campaign(fake.client(), rows_of(40), journal, progress=_interrupting(2), max_in_flight=1, **UNPACED)
    with pytest.raises(KeyboardInterrupt):
        campaign.run_sync()
    counts = status(journal)
    assert counts.accepted == len(fake.sent) >= 5 and counts.accepted + counts.pending == counts.rows
    again = Campaign(fake.client(), rows_of(40), journal, **UNPACED).run_sync()
    assert (again.accepted, len(fake.sent)) == (40, 40)  # each row once


def test_without_stop_on_interrupt_ctrl_c_raises_keyboard_interrupt_at_once(tmp_path: Path) -> None:
    assert threading.current_thread() is threading.main_thread()
    fake = FakeTelnyx()
    journal = tmp_path / "run.db"
    campaign = Campaign(fake.client(), rows_of(40), journal, progress=_interrupting(1), max_in_flight=1, **UNPACED)
    with pytest.raises(KeyboardInterrupt):
        campaign.run_sync(stop_on_interrupt=False)
    assert status(journal).accepted == len(fake.sent) < 40


async def test_stop_during_a_pacing_wait_ends_the_wait(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    campaign = Campaign(fake.async_client(), rows_of(3), tmp_path / "run.db", rate=0.2, sender_rate=math.inf)
    started = time.monotonic()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(campaign.run)
        await anyio.sleep(0.5)  # the first row sent, the second 5 s away
        campaign.stop()
    assert time.monotonic() - started < 3.0 and len(fake.sent) == 1


async def test_stop_after_pacing_waits_have_passed_stops_cleanly(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    campaign: Campaign

    def stop_at_five(progress: Progress) -> None:
        if progress.accepted == 5:
            campaign.stop()

    clock = FakeClock()
    campaign = Campaign(fake.async_client(), rows_of(20), tmp_path / "run.db", rate=10.0, sender_rate=math.inf,
                        clock=clock, progress=stop_at_five, max_in_flight=1)  # fmt: skip
    report = await campaign.run()
    assert report.stop is not None and report.stop.reason == "interrupted"
    assert (report.accepted, clock.now()) == (5, pytest.approx(0.4))  # four waits of 0.1 s passed before


async def test_an_unauthorized_client_stops_the_run_with_its_error(tmp_path: Path) -> None:
    from telnyx_messages import AuthenticationError

    with loopback() as server:
        server.default = error(401, "10009")
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            with pytest.raises(AuthenticationError):
                await Campaign(client, rows_of(20), tmp_path / "run.db", max_in_flight=1, **UNPACED).run()
        assert len(server.received) == 1
    assert status(tmp_path / "run.db").pending == status(tmp_path / "run.db").rows
    (first, *_) = journal_rows(tmp_path / "run.db")
    assert (first.state, first.error_code) == ("pending", "10009")
    assert first.error_detail is not None and first.error_detail.startswith("401 Unauthorized: 10009")


@pytest.mark.parametrize(("status_code", "retried"), [(408, True), (410, False), (422, False)])
async def test_a_408_is_tried_again_with_the_key_and_another_4xx_fails_the_row(
    tmp_path: Path, status_code: int, retried: bool
) -> None:
    """(A 409, "request in progress", the client itself waits out; the engine sees one that outlasted it.)"""
    with loopback() as server:
        server.replies = [error(status_code, "10000")]
        server.default = lambda received: Reply(200, message(len(server.received)))
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            campaign = Campaign(client, rows_of(1), tmp_path / "run.db", clock=SkippingClock(), **UNPACED)
            report = await campaign.run()
        keys = {received.headers["Idempotency-Key"] for received in server.received}
    assert (report.accepted, report.failed, report.sent) == ((1, 0, 2) if retried else (0, 1, 1))
    assert len(keys) == 1


async def test_a_row_the_api_refuses_is_counted_failed_and_leaves_the_window(tmp_path: Path) -> None:
    seen: list[Progress] = []
    with loopback() as server:
        server.replies = [error(422, "40310"), Reply(200, message(1)), error(400, "40002")]
        server.default = lambda received: Reply(200, message(len(server.received)))
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            campaign = Campaign(client, rows_of(5), tmp_path / "run.db", window=1, progress=seen.append, **UNPACED)
            with anyio.fail_after(30):  # a failed row kept in the window would hold the others back for ever
                report = await campaign.run()
    assert (report.accepted, report.failed, report.sent) == (3, 2, 5)
    assert [progress.failed for progress in seen] == [1, 1, 2, 2, 2]


async def test_a_row_read_again_after_it_exhausted_its_attempts_is_sent_again_with_its_key(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    fake.fail_next(status=503, times=MAX_ATTEMPTS)
    rows = rows_of(2)
    campaign = Campaign(fake.async_client(), [*rows, rows[0]], tmp_path / "run.db", clock=SkippingClock(), window=1,
                        **UNPACED)  # fmt: skip
    report = await campaign.run()
    assert (report.accepted, report.pending, report.sent) == (2, 0, MAX_ATTEMPTS + 2)
    assert len({request.headers["idempotency-key"] for request in fake.requests}) == 2


# --- streaming and memory ----------------------------------------------------------------------------


async def test_rows_are_read_as_the_sends_go_never_more_than_the_window_ahead(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    ahead: list[int] = []

    def rows() -> Iterator[dict[str, Any]]:
        for n, row in enumerate(rows_of(120)):
            ahead.append(n - len(fake.sent))
            yield row

    report = await Campaign(
        fake.async_client(), rows(), tmp_path / "run.db", window=10, max_in_flight=4, **UNPACED
    ).run()
    assert report.accepted == 120
    assert max(ahead) == 9  # rows 0-9, the window, read before the first answer; never one more


async def test_async_iterables_of_rows_are_read_too(tmp_path: Path) -> None:
    fake = FakeTelnyx()

    async def rows() -> Any:
        for row in rows_of(5):
            await anyio.sleep(0)
            yield row

    report = await Campaign(fake.async_client(), rows(), tmp_path / "run.db", **UNPACED).run()
    assert report.accepted == 5


def generated_rows(count: int) -> Iterator[dict[str, Any]]:
    for n in range(count):
        sender = SENDER if n % 2 else "ACME"
        yield {"id": n, "to": f"+1312{n:07d}", "from": sender, "text": "ж" * 80 if n % 10 == 0 else "hello"}


def dry_run_peak(count: int) -> tuple[Plan, int]:
    """A dry run of `count` generated rows, and the most memory Python held during it."""
    # What a first run imports, imported: past 256 rows, the yield to the event loop (anyio's backend).
    Campaign(None, generated_rows(300)).dry_run_sync()
    tracemalloc.start()
    try:
        plan = Campaign(None, generated_rows(count)).dry_run_sync()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return plan, peak


def _peak_probe(then: str) -> list[str]:
    """`python -c` arguments: a process that has generated_rows and dry_run_peak (their source, not
    this module: the test module's imports, pytest's among them, cost a third of a second) runs `then`."""
    code = "\n".join([
        "from __future__ import annotations", "import json", "import tracemalloc",
        "from collections.abc import Iterator", "from typing import Any",
        "from telnyx_messages.campaign import Campaign, Plan", f"SENDER = {SENDER!r}",
        inspect.getsource(generated_rows), inspect.getsource(dry_run_peak), then,
    ])  # fmt: skip
    return ["-c", code]


# A memory probe (slow, as pyproject's marker says: `make test` runs it, FAST=1 and mutation runs do not):
# under mutmut every call goes through its recording wrappers, which hold about 50 KB more.
@pytest.mark.slow
def test_a_dry_run_of_generated_rows_holds_no_more_than_a_few_rows_at_once() -> None:
    # In a process of its own (a fork), as the next test: in the session's, tracemalloc also counted other
    # threads' allocations (a fresh-clone CI run saw a peak of 1,111,935 bytes).
    probe = _peak_probe(
        "plan, peak = dry_run_peak(2_000)\n"
        "print(json.dumps([plan.rows, plan.messages, plan.refused, plan.parts, plan.senders, plan.seconds, peak]))"
    )
    run = run_forked(*probe, env=dict(os.environ), timeout=240)
    assert run.returncode == 0, run.stderr
    rows, messages, refused, parts, senders, seconds, peak = json.loads(run.stdout)
    assert (rows, messages, refused) == (2_000, 2_000, 0)
    assert parts == 1_800 + 200 * 2  # 80 UCS-2 characters take 2 parts
    assert senders == {SENDER: 1_000, "ACME": 1_000}
    assert seconds == 1_000 / 0.1  # the alphanumeric sender, at 0.1/s, sets the pace
    assert peak < 200_000, f"peak {peak:,} bytes"  # the 2,000 rows as a list: about 550 KB


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_dry_runs_peak_memory_is_the_same_for_8000_rows_as_for_2000() -> None:
    # In a process of its own (a fork): tracemalloc counts every thread's allocations, and the session's
    # background jobs (tests/support/background.py) read their subprocesses' output meanwhile.
    # Bounded: 6,000 rows more add nothing to the peak. Anything kept per row would: a reference alone
    # (8 bytes in a list) adds 48 KB, a row's identity over 300 KB, against the 10 KB allowed. Both
    # counts above DUPLICATES_TRACKED (1,000), so that both runs hold its full table of first rows.
    # The bench's 1,000,000-row dry run gives the peak RSS at scale.
    probe = _peak_probe(
        "for count in (2_000, 8_000):\n    plan, peak = dry_run_peak(count)\n"
        "    print(plan.rows, plan.messages, plan.parts, peak)"
    )
    run = run_forked(*probe, env=dict(os.environ), timeout=240)
    assert run.returncode == 0, run.stderr
    (rows, messages, parts, small), (more_rows, more_messages, more_parts, large) = (
        tuple(map(int, line.split())) for line in run.stdout.splitlines()
    )
    assert (rows, messages, parts) == (2_000, 2_000, 2_200)
    assert (more_rows, more_messages, more_parts) == (8_000, 8_000, 8_800)
    assert small < 200_000 and abs(large - small) < 10_000, f"peaks {small:,} and {large:,} bytes"


def test_a_dry_run_counts_types_refusals_and_the_pacing_time_and_sends_nothing() -> None:
    rows: list[Any] = [
        *rows_of(100),
        {"to": "+13125550001", "from": SENDER, "media_urls": ["https://example.com/a.png"]},
        {"to": "bad", "text": "x"},
    ]
    plan = Campaign(None, rows, rate=10.0).dry_run_sync()
    assert (plan.rows, plan.messages, plan.refused) == (102, 101, 1)
    assert plan.by_type == {"SMS": 100, "MMS": 1}
    assert plan.refusals[0].position == 102 and "E.164" in plan.refusals[0].reason
    assert plan.seconds == 101 / 10.0  # the set rate, over both types
    assert Campaign(None, rows_of(100)).dry_run_sync().seconds == 100 / 20.0  # the toll-free sender's 20/s


def test_a_dry_run_counts_a_repeated_row_once_as_a_run_sends_it() -> None:
    rows = [*rows_of(5), rows_of(5)[2], {**rows_of(5)[4], "text": "changed"}, *rows_of(2, prefix="n", ids=False)]
    rows.append(rows_of(2, prefix="n", ids=False)[0])
    plan = Campaign(None, rows, **UNPACED).dry_run_sync()
    assert (plan.rows, plan.messages, plan.duplicates, plan.refused) == (10, 7, 2, 1)
    assert (plan.parts, plan.senders, plan.by_type) == (7, {SENDER: 7}, {"SMS": 7})
    assert [(r.position, r.identity) for r in plan.refusals] == [(7, "m-4")]
    assert plan.refusals[0].reason == (
        "row 7: id 'm-4' was given before with other content (a run stops at it: RowConflictError)"
    )


async def test_a_row_repeating_an_earlier_rows_id_with_other_content_stops_the_run(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    rows = [*rows_of(3), {**rows_of(3)[1], "text": "other"}]
    with pytest.raises(RowConflictError, match=r"row 4: the journal .* holds row id 'm-1' with other content"):
        await Campaign(fake.async_client(), rows, tmp_path / "run.db", **UNPACED).run()
    assert "other" not in texts_sent(fake)
    assert [row.identity for row in journal_rows(tmp_path / "run.db")] == ["m-0", "m-1", "m-2"]


def test_a_dry_run_looks_for_repeats_among_its_first_rows_only() -> None:
    from telnyx_messages.campaign import DUPLICATES_TRACKED

    rows = [*rows_of(DUPLICATES_TRACKED + 1), rows_of(1)[0], rows_of(DUPLICATES_TRACKED + 1)[-1]]
    plan = Campaign(None, rows, **UNPACED).dry_run_sync()
    assert (plan.messages, plan.duplicates) == (DUPLICATES_TRACKED + 2, 1)


# --- the client, progress, the journal's contents -----------------------------------------------------


def test_a_sync_client_runs_a_campaign_from_sync_code(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    report = Campaign(fake.client(), rows_of(12), tmp_path / "run.db", **UNPACED).run_sync()
    assert (report.accepted, len(fake.sent)) == (12, 12)


async def test_progress_reports_done_of_total_and_the_counts(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    seen: list[Progress] = []
    rows = [*rows_of(10), {"to": "bad", "text": "x"}]
    await Campaign(fake.async_client(), rows, tmp_path / "run.db", progress=seen.append, **UNPACED).run()
    assert [p.done for p in seen] == list(range(1, 12))
    assert {p.total for p in seen} == {11}
    assert (seen[-1].accepted, seen[-1].failed) == (10, 1)
    assert seen[-1].rate > 0 and seen[-1].elapsed >= 0


async def test_progress_gives_the_rate_of_the_last_seconds_sends(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeTelnyx()
    seen: list[Progress] = []
    rows = rows_of(100)
    await Campaign(
        fake.async_client(),
        rows,
        tmp_path / "run.db",
        rate=10.0,
        sender_rate=math.inf,
        clock=clock,
        progress=seen.append,
    ).run()
    assert [p.done for p in seen] == list(range(1, 101))
    assert seen[-1].elapsed == pytest.approx(9.9, abs=0.01)  # 100 sends 0.1 s apart, on the campaign's clock
    for progress in seen[20:]:  # past the first 2 s: sends of the last 5 s (or since the start) over that span
        assert progress.rate == pytest.approx(10.0, rel=0.1), (progress.done, progress.rate)
    assert all(p.held_until is None and p.max_wait_seconds is None for p in seen)


async def test_progress_during_a_request_limit_gives_how_long_it_holds(tmp_path: Path) -> None:
    def answer(received: Received) -> Reply:
        text = json.loads(received.body)["text"]
        if text == "m0" and not answered:
            answered.append(text)
            return error(429, "10011", {"x-ratelimit-reset": "2"})
        if text == "m1":
            time.sleep(0.5)  # answered while the limit holds the campaign
        return Reply(200, message(1))

    answered: list[str] = []
    seen: list[Progress] = []
    with loopback() as server:
        server.default = answer
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            report = await Campaign(
                client, rows_of(2), tmp_path / "run.db", max_in_flight=2, progress=seen.append, **UNPACED
            ).run()
    assert report.accepted == 2
    first, last = seen
    assert first.held_until is not None and 1.0 < first.held_until <= 1.6, first
    assert last.held_until is None


async def test_progress_shows_the_longest_hold_when_a_shorter_request_limit_answers_after_it(tmp_path: Path) -> None:
    def answer(received: Received) -> Reply:
        text = json.loads(received.body)["text"]
        if text in answered:
            return Reply(200, message(1))
        answered.append(text)
        if text == "m0":
            return error(429, "10011", {"x-ratelimit-reset": "3"})
        if text == "m1":
            time.sleep(0.2)
            return error(429, "10011", {"x-ratelimit-reset": "1"})  # resets before the first's
        time.sleep(0.5)  # answered while both holds are on
        return Reply(200, message(1))

    answered: list[str] = []
    seen: list[Progress] = []
    with loopback() as server:
        server.default = answer
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            report = await Campaign(
                client, rows_of(3), tmp_path / "run.db", max_in_flight=3, progress=seen.append, **UNPACED
            ).run()
    assert report.accepted == 3
    first = seen[0]
    assert first.accepted == 1 and first.held_until is not None and 2.0 < first.held_until <= 2.6, first


async def test_the_journal_never_holds_the_api_key(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    client = fake.async_client(api_key=API_KEY)
    await Campaign(client, rows_of(5), tmp_path / "run.db", **UNPACED).run()
    for path in tmp_path.iterdir():
        assert API_KEY.encode() not in path.read_bytes(), path.name


def test_a_campaign_refuses_bad_settings_before_anything_runs(tmp_path: Path) -> None:
    client = FakeTelnyx().async_client()
    with pytest.raises(ValueError, match="rate must be a number of messages per second above 0"):
        Campaign(client, [], tmp_path / "run.db", rate=0)
    with pytest.raises(ValueError, match="sender_rate must be"):
        Campaign(client, [], tmp_path / "run.db", sender_rate=-1.0)
    with pytest.raises(ValueError, match="max_queue_wait must be"):
        Campaign(client, [], tmp_path / "run.db", max_queue_wait=0)
    with pytest.raises(ValueError, match="window must be an int of at least 1"):
        Campaign(client, [], tmp_path / "run.db", window=0)
    with pytest.raises(TypeError, match="rows must be an iterable of dicts"):
        Campaign(client, "+13125550001", tmp_path / "run.db")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="client must be an AsyncTelnyx or a Telnyx"):
        Campaign(object(), [], tmp_path / "run.db")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="rows must be an iterable of dicts of send arguments, got dict"):
        Campaign(client, {"to": "+13125550001"}, tmp_path / "run.db")
    with pytest.raises(TypeError, match="name must be a str, got int"):
        Campaign(client, [], tmp_path / "run.db", name=5)  # type: ignore[arg-type]
    for bad in (True, "5", math.nan):
        with pytest.raises(ValueError, match=r"^rate must be a number of messages per second above 0 \(math.inf: no"):
            Campaign(client, [], tmp_path / "run.db", rate=bad)  # type: ignore[arg-type]
    for bad in (True, "5", -1, math.nan):
        with pytest.raises(ValueError, match=r"^max_queue_wait must be a number of seconds above 0, got"):
            Campaign(client, [], tmp_path / "run.db", max_queue_wait=bad)  # type: ignore[arg-type]
    for bad in (True, 1.0, 0):
        with pytest.raises(ValueError, match=r"^max_in_flight must be an int of at least 1, got"):
            Campaign(client, [], tmp_path / "run.db", max_in_flight=bad)  # type: ignore[arg-type]
    for bad in (True, 1.0, -1):
        with pytest.raises(ValueError, match=r"^total must be an int of at least 0, got"):
            Campaign(client, [], tmp_path / "run.db", total=bad)  # type: ignore[arg-type]
    assert not (tmp_path / "run.db").exists()
    assert Campaign(client, [], tmp_path / "run.db", window=1, max_in_flight=1, total=0)._total == 0
    with pytest.raises(CampaignError, match="a run needs a client"):
        Campaign(None, [], tmp_path / "run.db").run_sync()
    with pytest.raises(CampaignError, match="a run needs a journal"):
        Campaign(client, []).run_sync()
    assert not (tmp_path / "run.db").exists()


async def test_a_campaign_runs_once(tmp_path: Path) -> None:
    campaign = Campaign(FakeTelnyx().async_client(), rows_of(1), tmp_path / "run.db", **UNPACED)
    await campaign.run()
    with pytest.raises(CampaignError, match="reads its rows once"):
        await campaign.run()


async def test_status_gives_the_campaign_its_settings_and_every_state_count(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    fake = FakeTelnyx()
    fake.fail_next("disconnect", times=MAX_ATTEMPTS)  # the first row never answered: left `sending`
    rows = [*rows_of(4), {"id": "bad", "to": "13125550001", "text": "x"}]
    clock = SkippingClock()
    before = datetime.datetime.now(datetime.UTC)
    report = await Campaign(
        fake.async_client(), rows, journal, name="codes", rate=math.inf, sender_rate=7.0, max_in_flight=1, clock=clock
    ).run()
    found = status(journal)
    assert (found.campaign_id, found.name) == (report.campaign_id, "codes")
    assert before - datetime.timedelta(seconds=1) <= found.created_at <= clock.utc()
    assert found.parameters == {"rate": math.inf, "sender_rate": 7.0, "max_queue_wait": 600.0, "resend_unknown": False}
    assert (found.rows, found.accepted, found.pending, found.failed, found.unknown) == (5, 3, 1, 1, 0)
    assert (report.rows, report.accepted, report.pending, report.failed, report.unknown) == (5, 3, 1, 1, 0)
    assert (report.sent, report.accepted_now, report.complete) == (MAX_ATTEMPTS + 3, 3, False)
    backoffs = sum(0.5 * 2**n for n in range(MAX_ATTEMPTS - 1))  # 0.5, 1, 2, 4, 8 s, skipped on its clock
    assert backoffs <= report.elapsed < backoffs + 10
    (first, *_) = journal_rows(journal)
    assert (first.state, first.attempts) == ("sending", MAX_ATTEMPTS)


def test_status_of_a_missing_journal_makes_none(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        status(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_the_campaign_module_lists_only_its_public_names() -> None:
    from telnyx_messages import campaign

    assert set(dir(campaign)) == set(campaign.__all__)
    assert all(not name.startswith("_") and getattr(campaign, name) is not None for name in dir(campaign))


# --- killed at any instant, interrupted -----------------------------------------------------------------


def _journal_counts(journal: Path) -> dict[str, int]:
    """The rows of each state in a journal another process writes (none before it has its tables)."""
    if not journal.exists():
        return {}
    db = sqlite3.connect(journal, timeout=10)
    try:
        return dict(db.execute("SELECT state, count(*) FROM rows GROUP BY state").fetchall())
    except sqlite3.OperationalError:  # the tables not made yet
        return {}
    finally:
        db.close()


# The campaign in a process of its own (started as a fork by forked()).
CHILD_MODULE = "tests.support.campaign_child"


def _child_rows(count: int) -> Iterator[dict[str, Any]]:
    """The rows tests/support/campaign_child.py sends."""
    return ({"id": f"r-{n}", "to": f"+1312{n:07d}", "text": f"t{n}"} for n in range(count))


def _finished_here(base_url: str, journal: Path, count: int) -> dict[str, Any]:
    """The child's campaign run to its end in this process, as its next run would (with its settings;
    a failed row tried again a hundredth later): the report's counts and stop, as the child prints them."""
    with Telnyx(api_key=API_KEY, base_url=base_url, timeout=5.0) as client:
        campaign = Campaign(client, _child_rows(count), journal, rate=200.0, sender_rate=math.inf, max_in_flight=16)
        backoff = campaign_module._BACKOFF_FIRST
        campaign_module._BACKOFF_FIRST = 0.01
        try:
            report = campaign.run_sync()
        finally:
            campaign_module._BACKOFF_FIRST = backoff
    counts: dict[str, Any] = {
        field: getattr(report, field) for field in ("rows", "accepted", "pending", "failed", "unknown")
    }
    return {**counts, "stop": None if report.stop is None else report.stop.reason}


def until(done: Callable[[], bool], child: Forked, seconds: float = 120) -> None:
    """Back as soon as `done()` holds or the child has ended, looked at every millisecond (what the
    loopback edge counts is in this process: no file read per look)."""
    deadline = time.monotonic() + seconds
    while not done() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)


def killed_at_random_points(
    start: Callable[[], Forked],
    edge: EdgeServer,
    journal: Path,
    count: int,
    chooser: random.Random,
    counts: Callable[[Path], dict[str, int]],
) -> list[dict[str, Any]]:
    """Runs of a campaign of `count` rows (each started by `start`) SIGKILLed each at a random point
    of its own: while starting (a random instant after its journal file appears, at the latest as its
    first request arrives), twice once the edge has had a random number of its requests, and once the
    edge has accepted every row (the answers not all journaled yet: the rerun has them replayed, not
    sent again). For each kill: where, whether the run was still running, its requests, what the edge
    had accepted and the journal's `counts` of rows by state."""
    kills: list[dict[str, Any]] = []
    for point in ("starting", "sending", "sending", "every row accepted"):
        sent_before = edge.requests
        child = start()
        if point == "starting":
            until(lambda sent=sent_before: journal.exists() or edge.requests > sent, child)
            at = time.monotonic() + chooser.uniform(0.0, 0.3)
            until(lambda sent=sent_before, at=at: time.monotonic() >= at or edge.requests > sent, child)
        elif point == "sending":
            target = sent_before + chooser.randint(5, 45)
            until(lambda target=target: edge.requests >= target, child)
        else:
            until(lambda: len(edge.accepted) == count, child)
        running = child.poll() is None
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills.append({
            "at": point, "running": running, "requests": edge.requests - sent_before,
            "edge accepted": sum(edge.accepted.values()), **counts(journal),
        })  # fmt: skip
    return kills


def assert_the_kills_landed_midway(kills: list[dict[str, Any]], count: int) -> None:
    assert sum(kill["running"] for kill in kills) >= 3, kills  # killed midway, not after it ended
    assert any(0 < kill.get("accepted", 0) < count for kill in kills), kills
    # A kill left rows sent and not yet answered in the journal, and answers the edge gave not yet
    # journaled as accepted: the rerun sent those with their keys and had them replayed.
    assert any(kill.get("sending", 0) > 0 for kill in kills), kills
    assert any(kill["edge accepted"] > kill.get("accepted", 0) for kill in kills), kills


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_campaign_killed_at_random_points_and_rerun_has_each_row_accepted_exactly_once(tmp_path: Path) -> None:
    count = 120
    journal = tmp_path / "run.db"
    chooser = random.Random(41)
    environment = {**os.environ, "TELNYX_API_KEY": API_KEY}
    with EdgeServer(fail_rate=0.15, faults=("drop", "500"), seed=41) as edge:
        # A failed row is tried again a hundredth later, not after the engine's 0.5 s doubling: not what this tests.
        arguments = [edge.base_url, str(journal), str(count), "200", "0.01"]
        start = lambda: forked(CHILD_MODULE, *arguments, env=environment)  # noqa: E731
        kills = killed_at_random_points(start, edge, journal, count, chooser, _journal_counts)
        finished = _finished_here(edge.base_url, journal, count)
        accepted = dict(edge.accepted)
        statuses = dict(edge.statuses)
    assert_the_kills_landed_midway(kills, count)
    assert finished == {"rows": count, "accepted": count, "pending": 0, "failed": 0, "unknown": 0, "stop": None}
    assert accepted == {f"t{n}": 1 for n in range(count)}, statuses  # none twice, none lost
    assert statuses.get("fault drop", 0) > 0 and statuses.get("fault 500", 0) > 0, statuses
    assert statuses.get("replay", 0) > 0, statuses
    assert set(_journal_counts(journal)) == {"accepted"}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ctrl_c_stops_a_campaign_with_the_rows_left_pending_and_a_rerun_finishes_it(tmp_path: Path) -> None:
    count = 100
    journal = tmp_path / "run.db"
    environment = {**os.environ, "TELNYX_API_KEY": API_KEY}
    with EdgeServer() as edge:
        child = forked(
            CHILD_MODULE, edge.base_url, str(journal), str(count), "25", env=environment,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        until(lambda: sum(edge.accepted.values()) >= 20, child)  # the rest take 3.2 s more at 25/s
        child.send_signal(signal.SIGINT)
        output, errors = child.communicate(timeout=60)
        assert child.returncode == 0, errors
        interrupted = json.loads(output)
        left = _journal_counts(journal)
        rerun = _finished_here(edge.base_url, journal, count)
        accepted = dict(edge.accepted)
    assert interrupted["stop"] == "interrupted"
    assert 20 <= interrupted["accepted"] < count and interrupted["pending"] > 0
    assert interrupted["rows"] == interrupted["accepted"] + interrupted["pending"]
    # The requests in flight were answered and recorded: nothing left `sending`, the rest `pending`.
    assert left == {"accepted": interrupted["accepted"], "pending": interrupted["pending"]}
    assert rerun == {"rows": count, "accepted": count, "pending": 0, "failed": 0, "unknown": 0, "stop": None}
    assert accepted == {f"t{n}": 1 for n in range(count)}


def test_status_and_journal_rows_need_a_journal_and_make_none(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    with pytest.raises(FileNotFoundError, match="no campaign journal at"):
        status(missing)
    with pytest.raises(FileNotFoundError, match="no campaign journal at"):
        list(journal_rows(missing))
    assert not missing.exists()
    made = tmp_path / "made.db"
    Journal(made).close()  # a journal, no campaign begun in it
    with pytest.raises(JournalError) as refused:
        status(made)
    assert str(refused.value) == f"{made} holds no campaign yet"


def test_a_dry_run_counts_every_refused_row_and_lists_the_first_twenty() -> None:
    bad = [{"id": f"b-{n}", "to": "nope", "text": "x"} for n in range(25)]
    changed = [{**row, "text": "changed"} for row in rows_of(25)]
    plan = Campaign(None, [*bad, *rows_of(25), *changed], **UNPACED).dry_run_sync()
    assert (plan.refused, len(plan.refusals), plan.messages) == (50, 20, 25)
    conflicts = Campaign(None, [*rows_of(25), *changed], **UNPACED).dry_run_sync()
    assert (conflicts.refused, len(conflicts.refusals)) == (25, 20)


def test_a_dry_run_paces_each_sender_at_the_sender_rate_given() -> None:
    plan = Campaign(None, rows_of(10), rate=math.inf, sender_rate=2.0).dry_run_sync()
    assert plan.seconds == 10 / 2.0


async def test_an_error_answer_without_errors_fails_the_row_with_no_code(tmp_path: Path) -> None:
    with loopback() as server:
        server.default = Reply(422, {"message": "unprocessable"})
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            report = await Campaign(client, rows_of(1), tmp_path / "run.db", **UNPACED).run()
    (row,) = journal_rows(tmp_path / "run.db")
    assert (report.failed, row.state, row.error_code) == (1, "failed", None)


async def test_no_more_requests_than_max_in_flight_are_out_at_once(tmp_path: Path) -> None:
    out = most = 0
    lock = threading.Lock()

    def answer(received: Received) -> Reply:
        nonlocal out, most
        with lock:
            out += 1
            most = max(most, out)
        time.sleep(0.05)
        with lock:
            out -= 1
        return Reply(200, message(1))

    with loopback() as server:
        server.default = answer
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            report = await Campaign(client, rows_of(12), tmp_path / "run.db", max_in_flight=3, **UNPACED).run()
    assert report.accepted == 12 and most == 3


async def test_progress_gives_the_elapsed_time_the_rate_and_the_largest_queue_wait(tmp_path: Path) -> None:
    clock = FakeClock()
    clock.advance(1000.0)  # the campaign starts at 1000 s on its clock
    fake = FakeTelnyx(clock=clock)
    seen: list[Progress] = []
    campaign = Campaign(fake.async_client(), rows_of(8), tmp_path / "run.db", rate=1.0, sender_rate=math.inf,
                        clock=clock, progress=seen.append, max_in_flight=1)  # fmt: skip
    await campaign.run()
    assert [p.elapsed for p in seen] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    # sends over the last 5 s (a send exactly 5 s old still in), over the time run so far if shorter
    assert [p.rate for p in seen] == pytest.approx([0.0, 2 / 1, 3 / 2, 4 / 3, 5 / 4, 6 / 5, 6 / 5, 6 / 5])
    assert seen[-1].max_wait_seconds == fake.max_wait_seconds
    assert all(p.held_until is None for p in seen)


class _DayPassingClock(SkippingClock):
    """A clock whose every wait lasts 25 hours (a backoff that outlives the edge's replay window)."""

    async def sleep(self, seconds: float) -> None:
        self.skipped += 25 * 3600.0
        await anyio.sleep(0)


async def test_a_row_whose_first_attempt_this_run_is_older_than_the_replay_window_is_not_sent_again(
    tmp_path: Path,
) -> None:
    fake = FakeTelnyx()
    fake.fail_next(status=503)  # the first attempt unanswered; the retry comes 25 hours later
    journal = tmp_path / "run.db"
    campaign = Campaign(fake.async_client(), rows_of(2), journal, clock=_DayPassingClock(), window=1, **UNPACED)
    with anyio.fail_after(30):  # the row gone unknown leaves the window to the next
        report = await campaign.run()
    assert (report.unknown, report.accepted, report.sent) == (1, 1, 2)
    assert [row.state for row in journal_rows(journal)] == ["unknown", "accepted"]
    assert [message.text for message in fake.sent] == ["m1"]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_engine_retries_a_send_itself_the_client_never_does(tmp_path: Path, kind: str) -> None:
    fake = FakeTelnyx()
    fake.fail_next(status=503)
    client = fake.client() if kind == "sync" else fake.async_client()
    report = Campaign(client, rows_of(1), tmp_path / "run.db", clock=SkippingClock(), **UNPACED).run_sync()
    assert (report.accepted, report.sent, len(fake.requests)) == (1, 2, 2)  # each request one of the engine's
    (row,) = journal_rows(tmp_path / "run.db")
    assert row.attempts == 2


def test_rows_of_senders_ready_at_once_go_in_the_order_their_senders_were_first_read(tmp_path: Path) -> None:
    rows = [
        {"id": f"r-{n}", "to": f"+1312555{n:04d}", "from": sender, "text": f"{sender[-1]}{n}"}
        for n, sender in enumerate(["+18445550001", "+18445550002", "+18445550001", "+18445550002"])
    ]
    fake = FakeTelnyx()
    Campaign(fake.async_client(), rows, tmp_path / "run.db", max_in_flight=1, **UNPACED).run_sync()
    assert [message.text for message in fake.sent] == ["10", "12", "21", "23"]


async def test_the_queue_waits_answered_are_recorded_and_hold_the_sender_under_max_queue_wait(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeTelnyx(clock=clock)  # Telnyx's rates: the toll-free sender's queue drains 20 a second
    journal = tmp_path / "run.db"
    campaign = Campaign(fake.async_client(), rows_of(200), journal, rate=math.inf, sender_rate=math.inf,
                        max_queue_wait=2.0, clock=clock, max_in_flight=1)  # fmt: skip
    report = await campaign.run()
    waits = [row.wait_seconds for row in journal_rows(journal)]
    assert report.accepted == 200 and None not in waits
    assert waits == pytest.approx(fake.waits)  # each answer's wait_seconds, recorded
    assert 1.9 < max(waits) < 2.1  # the queue used, and held under max_queue_wait (one send over at most)
    assert report.max_wait_seconds == max(waits) == fake.max_wait_seconds


async def test_refused_rows_count_failed_in_progress_and_a_recipient_not_text_is_not_recorded(tmp_path: Path) -> None:
    seen: list[Progress] = []
    rows: list[Any] = [{"id": f"bad-{n}", "to": 13125550000 + n, "text": "x"} for n in range(3)]
    report = await Campaign(FakeTelnyx().async_client(), rows, tmp_path / "run.db", progress=seen.append).run()
    assert (report.failed, seen[-1].failed, seen[-1].done) == (3, 3, 3)
    assert [row.recipient for row in journal_rows(tmp_path / "run.db")] == [None, None, None]


async def test_a_row_conflict_says_which_row_which_journal_and_what_to_do(tmp_path: Path) -> None:
    rows = [*rows_of(2), {**rows_of(2)[1], "text": "changed"}]
    with pytest.raises(RowConflictError) as raised:
        await Campaign(FakeTelnyx().async_client(), rows, tmp_path / "run.db", **UNPACED).run()
    assert str(raised.value) == (
        f"row 3: the journal {tmp_path / 'run.db'} holds row id 'm-1' with other content; a journal belongs to one "
        "list of rows (give the changed row another id, or use another journal)"
    )


async def test_an_accepted_answer_without_data_is_recorded_accepted_without_id_or_wait(tmp_path: Path) -> None:
    with loopback() as server:
        server.default = Reply(200, {})
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            report = await Campaign(client, rows_of(1), tmp_path / "run.db", **UNPACED).run()
    (row,) = journal_rows(tmp_path / "run.db")
    assert (report.accepted, row.state, row.message_id, row.wait_seconds) == (1, "accepted", None, None)


async def test_rows_without_a_sender_all_wait_in_one_queue_and_all_go(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    rows = [
        {"id": f"p-{n}", "to": f"+1312555{n:04d}", "text": f"p{n}", "messaging_profile_id": "profile-1"}
        for n in range(6)
    ]
    report = await Campaign(fake.async_client(), rows, tmp_path / "run.db", **UNPACED).run()
    assert (report.accepted, report.pending) == (6, 0)
    assert sorted(texts_sent(fake)) == sorted(row["text"] for row in rows)


async def test_stop_reads_no_more_rows_and_stop_after_the_run_is_harmless(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    read = 0
    campaign: Campaign

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal read
        for row in rows_of(200):
            read += 1
            yield row

    def stop_at_three(progress: Progress) -> None:
        if progress.accepted == 3:
            campaign.stop()

    campaign = Campaign(
        fake.async_client(),
        counted(),
        tmp_path / "run.db",
        progress=stop_at_three,
        window=2,
        max_in_flight=1,
        **UNPACED,
    )
    report = await campaign.run()
    assert report.stop is not None and report.stop.reason == "interrupted"
    assert read <= 6 and report.rows == read  # the rows left are neither read nor recorded
    campaign.stop()  # after the run: nothing to wake, no error
    assert status(tmp_path / "run.db").rows == report.rows


async def test_an_accepted_message_without_an_id_is_recorded_without_one(tmp_path: Path) -> None:
    with loopback() as server:
        server.default = Reply(200, {"data": {"type": "SMS"}})
        async with AsyncTelnyx(api_key=API_KEY, base_url=server.base_url) as client:
            report = await Campaign(client, rows_of(1), tmp_path / "run.db", **UNPACED).run()
    (row,) = journal_rows(tmp_path / "run.db")
    assert (report.accepted, row.state, row.message_id, row.wait_seconds) == (1, "accepted", None, None)


def test_the_report_gives_the_campaigns_name_as_the_journal_keeps_it(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    first = Campaign(fake.client(), rows_of(2), tmp_path / "run.db", name="reminders", **UNPACED).run_sync()
    again = Campaign(fake.client(), rows_of(2), tmp_path / "run.db", **UNPACED).run_sync()  # no name: the journal's
    assert (first.name, again.name, again.campaign_id) == ("reminders", "reminders", first.campaign_id)


def test_a_long_list_read_from_a_sync_iterable_lets_the_event_loops_other_tasks_run_every_256_rows() -> None:
    read = 0
    seen: list[int] = []

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal read
        for row in rows_of(1000):
            read += 1
            yield row

    async def main() -> Plan:
        done = False

        async def other_task() -> None:  # a progress bar's refresh, a signal handler's stop()
            while not done:
                seen.append(read)
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(other_task)
            plan = await Campaign(None, rows(), **UNPACED).dry_run()
            done = True
        return plan

    plan = anyio.run(main)
    assert plan.messages == 1000
    assert [count for count in seen if 0 < count < 1000] == [256, 512, 768]


async def test_progress_of_rows_without_a_length_has_no_total(tmp_path: Path) -> None:
    seen: list[Progress] = []
    rows = iter(rows_of(3))
    await Campaign(FakeTelnyx().async_client(), rows, tmp_path / "run.db", progress=seen.append, **UNPACED).run()
    assert [(p.done, p.total) for p in seen] == [(1, None), (2, None), (3, None)]


async def test_stop_before_the_run_reads_no_row_and_sends_nothing(tmp_path: Path) -> None:
    fake = FakeTelnyx()
    campaign = Campaign(fake.async_client(), rows_of(5), tmp_path / "run.db", **UNPACED)
    campaign.stop()
    report = await campaign.run()
    assert report.stop == Stop("interrupted", "interrupted: the rows not sent are pending; run again to send them")
    assert (report.rows, report.sent, fake.requests) == (0, 0, [])
