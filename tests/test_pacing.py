"""Pacing decisions (telnyx_messages._pacing): sender kinds, the gates' spacing and holds, the
queue feedback, the time a dry run implies."""

from __future__ import annotations

import bisect
import collections
import datetime
import json
import math
from pathlib import Path
from typing import Any

import httpx2
import pytest
from telnyx_messages import AsyncTelnyx
from telnyx_messages._pacing import DEFAULT_MAX_QUEUE_WAIT, Gate, Pacer, implied_seconds, ready_at, sender_kind, take
from telnyx_messages.campaign import Campaign
from telnyx_messages.testing import FakeClock, FakeTelnyx, RequestLimit, SpendLimit, Throughput

from .support import API_KEY


@pytest.mark.parametrize(
    ("from_", "kind"),
    [
        ("12345", "short_code"),
        ("123456", "short_code"),
        ("+18005550001", "toll_free"),
        ("+18335550001", "toll_free"),
        ("+18445550001", "toll_free"),
        ("+18555550001", "toll_free"),
        ("+18665550001", "toll_free"),
        ("+18775550001", "toll_free"),
        ("+18885550001", "toll_free"),
        ("+18995550001", "us_long_code"),
        ("+13125550001", "us_long_code"),
        ("+447700900123", "long_code"),
        ("+44770090012", "long_code"),  # 11 digits, not +1
        ("+1800555000", "long_code"),  # +1, not 11 digits
        ("+12345", "short_code"),
        ("1234567", "long_code"),  # 7 digits: no short code
        ("+4915112345678", "long_code"),
        ("ACME", "alphanumeric"),
        ("Acme 2", "alphanumeric"),
        (None, "profile"),
    ],
)
def test_the_kind_of_a_sender_is_read_off_its_from(from_: str | None, kind: str) -> None:
    assert sender_kind(from_) == kind


def test_a_gate_spaces_its_sends_by_its_rate() -> None:
    gate = Gate(4.0)
    assert gate.ready_at() == -math.inf
    gate.take(10.0)
    assert gate.ready_at() == 10.25
    gate.take(10.25)
    assert gate.ready_at() == 10.5


def test_a_gate_after_a_pause_starts_from_the_send() -> None:
    gate = Gate(4.0)
    gate.take(10.0)
    gate.take(20.0)
    assert gate.ready_at() == 20.25


def test_a_send_late_by_less_than_half_an_interval_keeps_the_schedule() -> None:
    gate = Gate(4.0)
    gate.take(10.0)
    gate.take(10.35)  # due 10.25, sent 0.1 late
    assert gate.ready_at() == 10.5
    gate.take(10.75)  # due 10.5, sent 0.25 late: more than half an interval (0.125)
    assert gate.ready_at() == 11.0
    gate.take(11.125)  # due 11.0, sent exactly half an interval late: still on schedule
    assert gate.ready_at() == 11.25


def test_a_gate_without_a_rate_is_held_only_by_its_hold() -> None:
    gate = Gate(None)
    gate.take(5.0)
    assert gate.ready_at() == -math.inf
    gate.hold(7.0)
    gate.hold(6.0)  # a shorter hold does not shorten it
    assert gate.ready_at() == 7.0


def test_the_slowest_gate_sets_when_a_send_may_go() -> None:
    fast, slow = Gate(100.0), Gate(1.0)
    take((fast, slow), 0.0)
    assert ready_at((fast, slow)) == 1.0


def test_the_default_rates_are_the_documented_ones() -> None:
    pacer = Pacer()
    assert pacer.type_gate("SMS").rate == 50.0
    assert pacer.type_gate("MMS").rate == 15.0
    assert pacer.sender_gate("12345").rate == 1000.0
    assert pacer.sender_gate("+18445550001").rate == 20.0
    assert pacer.sender_gate("ACME").rate == 0.1
    assert pacer.sender_gate("+447700900123").rate == 0.1
    assert pacer.sender_gate("+13125550001").rate is None
    assert pacer.sender_gate(None).rate is None


def test_a_set_rate_is_one_gate_for_every_message_type() -> None:
    pacer = Pacer(rate=10.0)
    assert pacer.type_gate("SMS") is pacer.type_gate("MMS")
    assert pacer.type_gate("MMS").rate == 10.0


def test_a_set_sender_rate_replaces_every_kinds_default() -> None:
    pacer = Pacer(sender_rate=2.0)
    assert pacer.sender_gate("12345").rate == 2.0
    assert pacer.sender_gate("+13125550001").rate == 2.0


def test_an_infinite_rate_is_no_limit() -> None:
    pacer = Pacer(rate=math.inf, sender_rate=math.inf)
    assert pacer.type_gate("SMS").rate is None
    assert pacer.sender_gate("ACME").rate is None


def test_each_sender_has_its_own_gate() -> None:
    pacer = Pacer()
    assert pacer.sender_gate("+18445550001") is pacer.sender_gate("+18445550001")
    assert pacer.sender_gate("+18445550001") is not pacer.sender_gate("+18445550002")
    assert pacer.gates("SMS", "ACME") == (pacer.type_gate("SMS"), pacer.sender_gate("ACME"))
    # Rows with no `from` (the messaging profile picks the number) share one gate: a hold on it holds them all.
    assert pacer.sender_gate(None) is pacer.sender_gate(None)
    assert pacer.queue_wait(None, DEFAULT_MAX_QUEUE_WAIT + 5.0, now=10.0)
    assert pacer.sender_gate(None).ready_at() == 15.0
    assert pacer.all_gates().count(pacer.sender_gate(None)) == 1


def test_a_queue_wait_over_the_most_holds_the_sender_until_its_queue_is_back_under_it() -> None:
    pacer = Pacer(max_queue_wait=60.0)
    assert not pacer.queue_wait("+13125550001", 60.0, now=100.0)
    assert pacer.sender_gate("+13125550001").ready_at() == -math.inf
    assert pacer.queue_wait("+13125550001", 90.0, now=100.0)
    assert pacer.sender_gate("+13125550001").ready_at() == 130.0
    assert pacer.sender_gate("+13125550002").ready_at() == -math.inf  # another sender goes on
    assert pacer.type_gate("SMS").ready_at() == -math.inf


def test_the_request_limit_holds_every_message_type() -> None:
    pacer = Pacer()
    sms, mms = pacer.type_gate("SMS"), pacer.type_gate("MMS")
    pacer.hold_all(42.0)
    assert sms.ready_at() == mms.ready_at() == 42.0


def test_the_default_max_queue_wait_is_well_under_the_four_hour_drop() -> None:
    assert 0 < DEFAULT_MAX_QUEUE_WAIT <= 4 * 3600 / 10


def test_the_implied_time_is_the_slowest_gates() -> None:
    sms, sender, unlimited = Gate(50.0), Gate(0.1), Gate(None)
    sms.planned, sender.planned, unlimited.planned = 100, 3, 1000
    assert implied_seconds([sms, sender, unlimited]) == 30.0
    assert implied_seconds([unlimited]) == 0.0
    assert implied_seconds([]) == 0.0


# --- a campaign's pace, on the fake's virtual time -------------------------------------------------


def recording_client(fake: FakeTelnyx, clock: FakeClock, arrivals: list[tuple[float, str]]) -> AsyncTelnyx:
    """An AsyncTelnyx on `fake` that notes when (by `clock`) each send arrives, and from whom."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        arrivals.append((clock.now(), json.loads(request.content).get("from", "")))
        return fake.handle(request)

    base_url = fake.async_client().base_url
    return AsyncTelnyx(
        api_key=API_KEY, base_url=base_url, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handle))
    )


def rows_from(senders: list[str], count: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"id": n, "to": f"+1312555{n:04d}", "from": senders[n % len(senders)], "text": f"m{n}", **extra}
        for n in range(count)
    ]


# Sends 1/rate apart sum to whole seconds with a float's rounding: a window's edge on a send is
# taken this much inside, so that the rounding does not count a send in or out.
EDGE = 1e-6


def per_second(times: list[float]) -> tuple[int, int]:
    """The fewest and the most sends in any 1 s window that lies within the sends: windows from each
    send on, and from just after each (where the fewest fall)."""
    last = times[-1]
    within = [t for t in times if t + 1.0 <= last + EDGE]
    counts = [bisect.bisect_left(times, t + 1.0 - EDGE) - bisect.bisect_left(times, t) for t in within]
    counts += [bisect.bisect_right(times, t + 1.0 + EDGE) - bisect.bisect_right(times, t + EDGE) for t in within]
    return min(counts), max(counts)


async def test_a_campaign_keeps_its_set_rate_within_ten_percent_over_every_second(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeTelnyx(clock=clock, throughput=None)
    arrivals: list[tuple[float, str]] = []
    client = recording_client(fake, clock, arrivals)
    rows = rows_from(["+18445550001", "+18445550002"], 200)
    report = await Campaign(client, rows, tmp_path / "run.db", rate=20.0, sender_rate=math.inf, clock=clock).run()
    assert report.accepted == 200
    times = [at for at, _ in arrivals]
    fewest, most = per_second(times)
    assert fewest >= 18 and most <= 22, (fewest, most)
    assert times[-1] - times[0] == pytest.approx(199 / 20.0, rel=0.02)


async def test_each_sender_keeps_its_own_rate(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeTelnyx(clock=clock, throughput=None)
    arrivals: list[tuple[float, str]] = []
    senders = ["+18445550001", "+18445550002", "+18445550003"]
    rows = rows_from(senders, 90)
    client = recording_client(fake, clock, arrivals)
    await Campaign(client, rows, tmp_path / "run.db", rate=math.inf, sender_rate=5.0, clock=clock).run()
    for sender in senders:
        times = [at for at, sent_by in arrivals if sent_by == sender]
        assert len(times) == 30
        fewest, most = per_second(times)
        assert fewest >= 4.5 and most <= 5.5, (sender, fewest, most)
    fewest, most = per_second([at for at, _ in arrivals])
    assert fewest >= 13.5 and most <= 16.5  # three senders at 5/s each, side by side


@pytest.mark.parametrize(
    ("sender", "extra", "rate"),
    [
        ("+18445550001", {}, 20.0),  # a toll-free sender's 20/s, under the account's 50 SMS/s
        ("12345", {}, 50.0),  # a short code's 1,000/s: the account's 50 SMS/s
        ("12345", {"media_urls": ["https://example.com/a.png"]}, 15.0),  # the account's 15 MMS/s
    ],
)
async def test_the_documented_rates_pace_a_campaign_by_default(
    tmp_path: Path, sender: str, extra: dict[str, Any], rate: float
) -> None:
    clock = FakeClock()
    fake = FakeTelnyx(clock=clock, throughput=None)
    arrivals: list[tuple[float, str]] = []
    rows = rows_from([sender], int(rate * 4), **extra)
    await Campaign(recording_client(fake, clock, arrivals), rows, tmp_path / "run.db", clock=clock).run()
    fewest, most = per_second([at for at, _ in arrivals])
    assert 0.9 * rate <= fewest and most <= 1.1 * rate, (fewest, most)


async def test_queue_waits_over_the_most_hold_the_sender_so_its_queue_stays_bounded(tmp_path: Path) -> None:
    # A US long code: no rate of its own here; the fake's queue sends its 10DLC class's 4 a second.
    # 120 rows and a 5 s bound (400 and 20 s before, 3.3 s of CPU): unheld, the queue would grow to
    # 27.6 s (120 / 4 less the 2.4 s the account's 50/s takes to send them), over five times the bound.
    rows = rows_from(["+13125550001"], 120)
    clock = FakeClock()
    fake = FakeTelnyx(clock=clock)
    report = await Campaign(fake.async_client(), rows, tmp_path / "held.db", max_queue_wait=5.0, clock=clock).run()
    assert report.accepted == 120
    assert fake.max_wait_seconds <= 6.0
    assert report.max_wait_seconds is not None and 5.0 <= report.max_wait_seconds <= 6.0
    # The same rows with a far looser bound: the queue grows as the account's 50/s outpaces 4/s.
    clock = FakeClock()
    fake = FakeTelnyx(clock=clock)
    await Campaign(fake.async_client(), rows, tmp_path / "loose.db", max_queue_wait=3600.0, clock=clock).run()
    assert fake.max_wait_seconds > 20.0


async def test_the_request_limit_holds_the_campaign_until_its_window_resets(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeTelnyx(clock=clock, throughput=None, request_limit=RequestLimit(10))
    arrivals: list[tuple[float, str]] = []
    rows = rows_from(["+18445550001"], 60)
    client = recording_client(fake, clock, arrivals)
    report = await Campaign(client, rows, tmp_path / "run.db", rate=20.0, sender_rate=math.inf, clock=clock).run()
    assert (report.accepted, report.pending, report.failed) == (60, 0, 0)
    assert len(fake.sent) == 60
    windows = collections.Counter(math.floor(at) for at, _ in arrivals)
    # Each window: its 10 sends, and one refused (10011) that holds every send until the next window.
    assert len(arrivals) - 60 <= len(windows)
    assert max(windows.values()) <= 11 and len(windows) >= 6


async def test_the_spend_limit_stops_at_once_and_a_rerun_after_midnight_finishes(tmp_path: Path) -> None:
    clock = FakeClock(datetime.datetime(2026, 12, 7, 21, 30, tzinfo=datetime.UTC))
    fake = FakeTelnyx(clock=clock, throughput=None, spend_limit=SpendLimit(60))
    rows = rows_from(["+18445550001"], 100)
    journal = tmp_path / "run.db"
    report = await Campaign(fake.async_client(), rows, journal, clock=clock).run()
    assert (report.accepted, report.pending, report.failed, len(fake.sent)) == (60, 40, 0, 60)
    assert report.stop is not None and report.stop.reason == "spend_limit"
    assert report.stop.resets_at == datetime.datetime(2026, 12, 8, tzinfo=datetime.UTC)
    assert len(fake.requests) == 61  # stopped at the first refusal: the sends go one at a time at 20/s
    clock.advance(3 * 3600)  # past 00:00 UTC
    again = await Campaign(fake.async_client(), rows, journal, clock=clock).run()
    assert (again.accepted, again.pending, again.stop) == (100, 0, None)
    assert sorted(message.text for message in fake.sent) == sorted(row["text"] for row in rows)


async def test_a_full_queue_holds_its_sender_and_the_rows_go_later(tmp_path: Path) -> None:
    clock = FakeClock()
    throughput = Throughput(number_mps={"+18445550001": 1.0}, max_queue_seconds=10.0)
    fake = FakeTelnyx(clock=clock, throughput=throughput)
    rows = rows_from(["+18445550001"], 40)
    # A bound past the fake's 10 s queue: its 429 40318 answers hold the sender instead.
    report = await Campaign(
        fake.async_client(), rows, tmp_path / "run.db", rate=math.inf, sender_rate=math.inf, clock=clock
    ).run()
    assert (report.accepted, report.pending, report.failed) == (40, 0, 0)
    assert fake.max_wait_seconds < 10.0


# A volume run (slow, as pyproject's marker says): 10,000 rows took 26-38 s of CPU when it was written,
# most of it the fake's checks against the spec; since those are quick tests made once per schema,
# 11.5 s (17.9 s before, side by side at load 3-6), of which 7.7 s is the engine and the client (the
# same campaign against canned answers, no fake). 2,000 rows keep 40 s of pacing to measure at a
# fifth of that; no wall-time bound (the pacing passes on the fake's clock in a fraction of its time,
# but a loaded machine's wall time says little).
@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_two_thousand_rows_keep_the_account_rate_over_every_second_of_the_fakes_clock(tmp_path: Path) -> None:
    """2,000 rows from two short codes (1,000/s each), paced by the account's 50 SMS a second: every
    1 s window of the fake's virtual clock holds 45 to 55 sends (50, but for a float's rounding at a
    window's edge), none waits in the fake's queues, and the last leaves 1,999 / 50 s after the first."""
    clock = FakeClock()
    fake = FakeTelnyx(clock=clock)  # Telnyx's documented throughput: its queues report any send too fast
    arrivals: list[tuple[float, str]] = []
    rows = rows_from(["12345", "67890"], 2_000)
    client = recording_client(fake, clock, arrivals)
    report = await Campaign(client, rows, tmp_path / "run.db", clock=clock).run()
    assert (report.accepted, report.pending, report.failed, len(fake.sent)) == (2_000, 0, 0, 2_000)
    times = [at for at, _ in arrivals]
    assert times == sorted(times) and len(times) == 2_000
    fewest, most = per_second(times)
    assert fewest >= 45 and most <= 55, (fewest, most)  # within 10% of 50 in every second
    assert times[-1] - times[0] == pytest.approx(1_999 / 50.0, rel=0.001)
    assert fake.max_wait_seconds == 0.0  # never faster than the account's queue sends
    assert report.elapsed == pytest.approx(clock.now()) and clock.now() == pytest.approx(1_999 / 50.0, rel=0.001)
