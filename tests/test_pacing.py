"""Pacing decisions (telnyx_messages._pacing): sender kinds, the gates' spacing and holds, the
queue feedback, the time a dry run implies."""

from __future__ import annotations

import math

import pytest
from telnyx_messages._pacing import DEFAULT_MAX_QUEUE_WAIT, Gate, Pacer, implied_seconds, ready_at, sender_kind, take


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
