"""The fake's throughput on virtual time: FakeClock; the queues of the account and of each sender at
Telnyx's documented rates (each message's wait, 40318 past the queue's maximum), the request limit
(429 10011 with x-ratelimit-* headers) and the daily spend limit (429 40333 until 00:00 UTC)."""

from __future__ import annotations

import asyncio
import datetime
import json
import math
import pydoc
import textwrap
import time
from decimal import Decimal
from typing import Any

import anyio
import httpx2
import pytest
import telnyx_messages.testing
from telnyx_messages import RateLimitError
from telnyx_messages.testing import (
    ACCOUNT_MPS,
    MAX_QUEUE_SECONDS,
    SENDER_MPS,
    FakeClock,
    FakeTelnyx,
    RequestLimit,
    SpendLimit,
    Throughput,
    sender_type,
)
from telnyx_messages.testing._throughput import QueueFull, Queues

from .support.spec import at, message_pointer, resolve

URL = "https://api.telnyx.com/v2"
AUTHORIZED = {"Authorization": "Bearer k"}
TOLL_FREE = "+18445550001"
US = "+13125550002"
START = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)


def _post(http: httpx2.Client, **body: Any) -> httpx2.Response:
    return http.post("/messages", json={"to": US, "from": TOLL_FREE, "text": "Hi", **body}, headers=AUTHORIZED)


def _http(fake: FakeTelnyx) -> httpx2.Client:
    return httpx2.Client(transport=fake.transport(), base_url=URL)


def _message_fields(fake: FakeTelnyx) -> set[str]:
    """The fields of the message a send answers with, in the fake's spec."""
    document = fake.spec.document
    return set(resolve(document, at(document, message_pointer(document))).get("properties") or {})


# --- FakeClock ------------------------------------------------------------------------------------


def test_fake_clock_moves_only_when_advanced_or_slept_and_its_wall_time_with_it() -> None:
    clock = FakeClock(START)
    assert clock.now() == 0.0 and clock.utc() == START
    clock.advance(1.5)
    clock.sleep_sync(2)
    clock.sleep_sync(-3)  # as asyncio.sleep: no time at all
    assert clock.now() == 3.5 and clock.utc() == START + datetime.timedelta(seconds=3.5)
    assert clock.utc().tzinfo is datetime.UTC
    eastern = datetime.timezone(datetime.timedelta(hours=-5))
    assert (
        FakeClock(START.astimezone(eastern)).utc() == START
        and FakeClock(START.astimezone(eastern)).utc().tzinfo is datetime.UTC
    )
    before = datetime.datetime.now(datetime.UTC)
    assert before <= FakeClock().utc() <= datetime.datetime.now(datetime.UTC)  # by default, from now
    assert repr(FakeClock(START)) == "FakeClock(now=0.0, utc='2026-12-07T12:00:00+00:00')"


async def test_fake_clock_sleep_advances_at_once_and_lets_other_tasks_run() -> None:
    clock = FakeClock(START)
    ran: list[float] = []

    async def other() -> None:
        ran.append(clock.now())

    task = asyncio.create_task(other())
    started = time.monotonic()
    await clock.sleep(3600)
    assert time.monotonic() - started < 1.0
    assert clock.now() == 3600.0 and ran == [3600.0]  # the other task ran during the sleep, once
    await task


def test_fake_clock_sleep_runs_under_trio_as_a_checkpoint() -> None:
    clock = FakeClock(START)
    ran: list[float] = []
    seen: list[object] = []

    async def other() -> None:
        ran.append(clock.now())

    async def main() -> None:
        with anyio.CancelScope() as scope:
            scope.cancel()
            await clock.sleep(5)  # a checkpoint: the cancellation lands here
            seen.append("not cancelled")
        async with anyio.create_task_group() as group:
            group.start_soon(other)
            await clock.sleep(1)  # trio runs a batch's tasks in any order: after two, the other has run
            await clock.sleep(1)
            seen.append(len(ran))

    anyio.run(main, backend="trio")
    assert seen == [1] and clock.now() == 7.0 and ran[0] in (6.0, 7.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.advance(-1), "FakeClock.advance cannot go back in time, got -1.0"),
        (lambda c: c.advance(math.nan), "FakeClock.advance takes a finite number of seconds, got nan"),
        (lambda c: c.advance(math.inf), "FakeClock.advance takes a finite number of seconds, got inf"),
        (lambda c: c.advance("1"), "FakeClock.advance takes a finite number of seconds, got '1'"),
        (lambda c: c.advance(True), "FakeClock.advance takes a finite number of seconds, got True"),
        (lambda c: c.sleep_sync(math.nan), "FakeClock.sleep takes a finite number of seconds, got nan"),
    ],
)
def test_fake_clock_refuses_a_time_that_is_not_a_forward_finite_number(call: Any, message: str) -> None:
    clock = FakeClock(START)
    with pytest.raises(ValueError, match=f"^{message}$"):
        call(clock)
    assert clock.now() == 0.0


def test_fake_clock_refuses_a_start_without_a_zone() -> None:
    with pytest.raises(ValueError, match=r"^FakeClock start must be an aware datetime \(with a tzinfo\), got "):
        FakeClock(datetime.datetime(2026, 12, 7))
    with pytest.raises(ValueError, match=r"got '2026-12-07'$"):
        FakeClock("2026-12-07")  # type: ignore[arg-type]


# --- the queues -----------------------------------------------------------------------------------


def test_a_burst_waits_its_place_in_the_senders_queue_and_each_answer_says_so() -> None:
    clock = FakeClock(START)
    fake = FakeTelnyx(clock=clock)
    fields = _message_fields(fake)
    with _http(fake) as http:
        answers = [_post(http).json()["data"] for _ in range(5)]
    rate = SENDER_MPS["toll_free"]  # below the account's SMS rate: the sender's queue holds them
    assert fake.waits == [i / rate for i in range(5)] and fake.max_wait_seconds == 4 / rate
    for i, data in enumerate(answers):
        if "wait_seconds" in fields:
            assert data["wait_seconds"] == i / rate
        if "valid_until" in fields:  # when it must leave the queue by: 4 hours after it came
            expected = None if i == 0 else "2026-12-07T16:00:00.000Z"
            assert data["valid_until"] == expected
    clock.advance(4 / rate)  # the queue has sent all but the last
    with _http(fake) as http:
        _post(http)
    assert fake.waits[-1] == pytest.approx(1 / rate)


def test_the_account_queue_holds_a_sender_faster_than_the_account() -> None:
    fake = FakeTelnyx(clock=FakeClock(START))
    with _http(fake) as http:
        for _ in range(3):
            assert _post(http, **{"from": "12345"}).status_code == 200  # a short code: 1,000 a second
        for _ in range(2):
            media = {"media_urls": ["https://example.com/a.png"]}
            assert _post(http, **{"from": "123456"}, **media).status_code == 200  # an MMS: its own queue
    sms, mms = ACCOUNT_MPS["SMS"], ACCOUNT_MPS["MMS"]
    assert fake.waits == [0.0, 1 / sms, 2 / sms, 0.0, 1 / mms]


def test_a_paced_sender_sees_no_wait() -> None:
    clock = FakeClock(START)
    fake = FakeTelnyx(clock=clock)
    client = fake.client()
    for _ in range(100):
        client.messages.send(to=US, from_=TOLL_FREE, text="Hi")
        clock.sleep_sync(1 / SENDER_MPS["toll_free"])
    assert fake.max_wait_seconds < 1e-9
    assert clock.now() == pytest.approx(100 / SENDER_MPS["toll_free"])


async def test_a_paced_async_sender_sees_no_wait_and_a_faster_one_does() -> None:
    clock = FakeClock(START)
    fake = FakeTelnyx(clock=clock, throughput=Throughput(number_mps={TOLL_FREE: 2}))
    client = fake.async_client()
    for _ in range(10):
        await client.messages.send(to=US, from_=TOLL_FREE, text="Hi")
        await clock.sleep(0.5)
    assert fake.max_wait_seconds < 1e-9
    for _ in range(4):
        await client.messages.send(to=US, from_=TOLL_FREE, text="Hi")
        await clock.sleep(0.25)  # twice the rate: each waits 0.25 s more than the one before
    assert fake.waits[-4:] == pytest.approx([0.0, 0.25, 0.5, 0.75])


def test_a_message_that_would_wait_four_hours_is_refused_as_the_queue_full() -> None:
    clock = FakeClock(START)
    sender = "+442071234567"  # a non-US long code: 0.1 a second, 1,440 messages in 4 hours
    rate = 0.01  # its own rate, so that its 4 hours hold 144
    fake = FakeTelnyx(clock=clock, throughput=Throughput(number_mps={sender: rate}))
    held = round(MAX_QUEUE_SECONDS * rate)
    with _http(fake) as http:
        accepted = [_post(http, **{"from": sender}) for _ in range(held)]
        refused = _post(http, **{"from": sender})
        assert {answer.status_code for answer in accepted} == {200}
        assert refused.status_code == 429 and "retry-after" not in refused.headers
        error = refused.json()["errors"][0]
        assert error["code"] == "40318" and error["title"] == "Message queue full"
        assert error["detail"] == (
            f"the queue of sender {sender} is full: the message would wait 14400.0 s, past its 14400 s"
        )
        assert len(fake.sent) == held and fake.max_wait_seconds == (held - 1) / rate
        clock.advance(1 / rate)  # one has left the queue: room for one more
        assert _post(http, **{"from": sender}).status_code == 200
        assert _post(http, **{"from": sender}).status_code == 429


def test_the_client_sees_the_full_queue_as_a_rate_limit_error() -> None:
    fake = FakeTelnyx(clock=FakeClock(START), throughput=Throughput(max_queue_seconds=1))
    client = fake.client(max_retries=0)
    for _ in range(round(SENDER_MPS["toll_free"])):
        client.messages.send(to=US, from_=TOLL_FREE, text="Hi")
    with pytest.raises(RateLimitError, match="40318"):
        client.messages.send(to=US, from_=TOLL_FREE, text="Hi")


@pytest.mark.parametrize(
    ("sender", "destination", "kind"),
    [
        ("12345", US, "short_code"),
        ("123456", "+442071234567", "short_code"),
        ("+18005550100", US, "toll_free"),
        ("+18885550100", "+442071234567", "toll_free"),
        ("+13125550001", US, "us_long_code"),
        ("+13125550001", "+442071234567", "long_code"),
        ("+442071234567", US, "long_code"),
        ("+18125550100", US, "us_long_code"),  # 812: an area code, not toll-free
        ("Acme", US, "alphanumeric"),
        ("1234", US, "alphanumeric"),
        ("1234567", US, "alphanumeric"),
    ],
)
def test_a_senders_type_is_read_off_its_number_and_sets_its_documented_rate(
    sender: str, destination: str, kind: str
) -> None:
    assert sender_type(sender, destination) == kind
    fake = FakeTelnyx(clock=FakeClock(START), throughput=Throughput(account_mps={"SMS": 10_000}))
    with _http(fake) as http:
        for _ in range(2):
            answer = http.post("/messages", json={"to": destination, "from": sender, "text": "Hi"}, headers=AUTHORIZED)
            assert answer.status_code == 200, answer.text
    assert fake.waits == [0.0, 1 / SENDER_MPS[kind]]


def test_the_documented_rates_are_telnyxs() -> None:
    assert dict(ACCOUNT_MPS) == {"SMS": 50, "MMS": 15, "RCS": 1}
    assert dict(SENDER_MPS) == {
        "long_code": 0.1,
        "us_long_code": 4,
        "toll_free": 20,
        "short_code": 1000,
        "alphanumeric": 0.1,
    }
    assert MAX_QUEUE_SECONDS == 4 * 3600
    throughput = Throughput(account_mps={"MMS": 5}, sender_mps={"toll_free": 1}, number_mps={"Acme": 3})
    assert dict(throughput.account_mps) == {"SMS": 50, "MMS": 5, "RCS": 1}
    assert throughput.sender_rate(TOLL_FREE, US) == 1 and throughput.sender_rate("+18445550002", US) == 1
    assert throughput.sender_rate("Acme", US) == 3 and throughput.sender_rate("Brand", US) == 0.1
    # The settings are copied, read-only: the caller's dicts changed later change nothing.
    given = {"Acme": 3}
    copied = Throughput(number_mps=given)
    given["Acme"] = 100
    assert copied.sender_rate("Acme", US) == 3 and dict(copied.number_mps) == {"Acme": 3.0}
    with pytest.raises(TypeError):
        copied.number_mps["Acme"] = 1  # type: ignore[index]
    # Seconds and rates are kept as floats, whatever numbers were given.
    assert "max_queue_seconds=60.0)" in repr(Throughput(max_queue_seconds=60))
    assert type(Throughput(max_queue_seconds=60).max_queue_seconds) is float


def test_without_a_clock_the_fake_has_no_queue_unless_given_one() -> None:
    fake = FakeTelnyx()
    with _http(fake) as http:
        answers = [_post(http, **{"from": "+442071234567"}).json()["data"] for _ in range(3)]
    assert fake.waits == [0.0, 0.0, 0.0] and all("wait_seconds" not in data for data in answers)
    queued = FakeTelnyx(throughput=Throughput())  # on the system's clock: time.monotonic()
    with _http(queued) as http:
        # Each send's arrival bracketed on that clock: the second waits the non-US long code's 10 s
        # less the real time between the two arrivals (however slow a loaded machine makes them).
        first_before = time.monotonic()
        _post(http, **{"from": "+442071234567"})
        first_after = time.monotonic()
        second_before = time.monotonic()
        _post(http, **{"from": "+442071234567"})
        second_after = time.monotonic()
    interval = 1 / SENDER_MPS["long_code"]
    assert queued.waits[0] == 0.0
    assert interval - (second_after - first_before) <= queued.waits[1] <= interval - (second_before - first_after)
    unqueued = FakeTelnyx(clock=FakeClock(START), throughput=None)
    with _http(unqueued) as http:
        for _ in range(2):
            _post(http, **{"from": "+442071234567"})
    assert unqueued.waits == [0.0, 0.0]


def test_a_replayed_send_takes_no_second_place_in_the_queue() -> None:
    fake = FakeTelnyx(clock=FakeClock(START))
    with _http(fake) as http:
        for _ in range(3):
            body = {"to": US, "from": TOLL_FREE, "text": "Hi"}
            answer = http.post("/messages", json=body, headers={**AUTHORIZED, "Idempotency-Key": "k1"})
            assert answer.status_code == 200
        assert _post(http).status_code == 200
    assert fake.waits == [0.0, 1 / SENDER_MPS["toll_free"]]


def test_a_webhook_and_a_read_back_show_the_message_out_of_the_queue() -> None:
    fake = FakeTelnyx(clock=FakeClock(START))
    client = fake.client()
    client.messages.send(to=US, from_=TOLL_FREE, text="Hi")
    sent = client.messages.send(to=US, from_=TOLL_FREE, text="Hi").data
    assert sent is not None
    with _http(fake) as http:
        read = http.get(f"/messages/{sent.id}", headers=AUTHORIZED).json()["data"]
    assert "wait_seconds" not in read and read.get("valid_until") is None
    body, _ = fake.webhook("message.sent", sent)
    payload = json.loads(body)["data"]["payload"]
    assert "wait_seconds" not in payload and payload.get("valid_until") is None


def test_which_queues_a_message_waits_in_by_its_type_and_sender() -> None:
    """The account's queue for its type; a sender's queue for an SMS or MMS only; none for a type the
    documented rates do not name."""
    queues = Queues(Throughput())
    # RCS from a long code: the account's RCS queue (1 a second), not the long code's (0.1).
    assert [queues.admit(0.0, "RCS", "+442071234567", US) for _ in range(2)] == [0.0, 1.0]
    # An SMS with no sender: the account's SMS queue alone.
    assert [queues.admit(0.0, "SMS", None, None) for _ in range(2)] == [0.0, 1 / ACCOUNT_MPS["SMS"]]
    # A type with no documented rate, without a sender: no queue, no wait.
    assert [queues.admit(0.0, "WHATSAPP", None, None) for _ in range(2)] == [0.0, 0.0]


def test_a_full_queue_says_which_and_how_long_the_message_would_wait() -> None:
    full = QueueFull("the account's SMS queue", 14400.04)
    assert str(full) == "the account's SMS queue: 14400.0 s"
    assert (full.queue, full.wait) == ("the account's SMS queue", 14400.04)


# --- the request limit ----------------------------------------------------------------------------


def test_past_the_request_limit_the_api_answers_10011_with_its_headers_until_the_window_ends() -> None:
    clock = FakeClock(START)
    fake = FakeTelnyx(clock=clock, request_limit=RequestLimit(3, window=10))
    with _http(fake) as http:
        clock.advance(2.5)
        answers = [_post(http) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
        assert {(a.headers["x-ratelimit-limit"], a.headers["x-ratelimit-reset"]) for a in answers} == {("3", "8")}
        refused = http.get(f"/messages/{fake.sent[0].id}", headers=AUTHORIZED)  # every request counts
        assert refused.status_code == 429 and "retry-after" not in refused.headers
        assert refused.json()["errors"][0]["code"] == "10011"
        assert refused.headers["x-ratelimit-remaining"] == "0" and refused.headers["x-ratelimit-reset"] == "8"
        clock.advance(7.4)  # 0.1 s left: rounded up
        assert _post(http).headers["x-ratelimit-reset"] == "1"
        clock.advance(0.1)
        again = _post(http)
        assert again.status_code == 200 and again.headers["x-ratelimit-remaining"] == "2"
        assert again.headers["x-ratelimit-reset"] == "10"
    assert len(fake.sent) == 4


def test_the_request_limits_windows_run_from_the_fakes_start_on_its_clock() -> None:
    clock = FakeClock(START)
    clock.advance(6)  # the clock is 6 s old when the fake starts: its first window ends at 16 s
    fake = FakeTelnyx(clock=clock, request_limit=RequestLimit(2, window=10))
    assert fake.request_limit == RequestLimit(2, window=10.0) and repr(fake.request_limit).endswith("window=10.0)")
    with _http(fake) as http:
        assert [_post(http).headers["x-ratelimit-reset"] for _ in range(2)] == ["10", "10"]
        assert _post(http).status_code == 429
        clock.advance(9.5)
        assert _post(http).headers["x-ratelimit-reset"] == "1"
        clock.advance(0.5)  # 16 s: a new window
        answer = _post(http)
        assert answer.status_code == 200 and answer.headers["x-ratelimit-reset"] == "10"


def test_the_client_reads_the_request_limit_as_a_rate_limit_error() -> None:
    fake = FakeTelnyx(clock=FakeClock(START), request_limit=RequestLimit(1))
    client = fake.client(max_retries=0)
    client.messages.send(to=US, from_=TOLL_FREE, text="Hi")
    with pytest.raises(RateLimitError) as caught:
        client.messages.send(to=US, from_=TOLL_FREE, text="Hi")
    assert caught.value.status_code == 429 and "10011" in str(caught.value)


# --- the spend limit ------------------------------------------------------------------------------


def test_past_the_spend_limit_sends_are_refused_with_40333_until_midnight_utc() -> None:
    clock = FakeClock(datetime.datetime(2026, 12, 7, 23, 59, 0, tzinfo=datetime.UTC))
    fake = FakeTelnyx(clock=clock, spend_limit=SpendLimit(messages=2))
    with _http(fake) as http:
        assert [_post(http).status_code for _ in range(2)] == [200, 200]
        refused = _post(http)
        assert refused.status_code == 429 and "retry-after" not in refused.headers
        error = refused.json()["errors"][0]
        assert error["code"] == "40333" and error["title"] == "Messaging profile spend limit reached"
        assert error["detail"] == (
            "the messaging profile has spent its daily limit (2 messages, the fake's spend_limit); "
            "sends are refused until 00:00 UTC (2026-12-08T00:00:00.000Z)"
        )
        assert http.get(f"/messages/{fake.sent[0].id}", headers=AUTHORIZED).status_code == 200  # sends only
        clock.advance(59.9)
        assert _post(http).status_code == 429
        clock.advance(0.1)  # 00:00 UTC
        assert [_post(http).status_code for _ in range(3)] == [200, 200, 429]
    assert len(fake.sent) == 4


def test_a_spend_limit_of_none_refuses_the_first_send() -> None:
    fake = FakeTelnyx(clock=FakeClock(START), spend_limit=SpendLimit(0))
    with _http(fake) as http:
        assert _post(http).json()["errors"][0]["code"] == "40333"
    assert fake.sent == [] and fake.waits == []


def _cost(answer: httpx2.Response) -> Any:
    return answer.json()["data"].get("cost")  # absent: no cost known


def test_with_a_price_each_message_costs_its_parts_and_without_one_its_cost_is_null() -> None:
    priced = FakeTelnyx(clock=FakeClock(START), price=Decimal("0.0051"))
    with _http(priced) as http:
        costs = [_cost(_post(http, text=text)) for text in ("Hi", "a" * 161, "Ж" * 71)]  # 1, 2 (GSM-7), 2 (UCS-2)
        mms = _cost(_post(http, text="a" * 400, media_urls=["https://example.com/a.png"]))  # an MMS: one part
    assert costs == [{"amount": "0.0051", "currency": "USD"}, *[{"amount": "0.0102", "currency": "USD"}] * 2]
    assert mms == {"amount": "0.0051", "currency": "USD"}
    assert [str(message.cost.amount) for message in priced.sent] == ["0.0051", "0.0102", "0.0102", "0.0051"]
    with _http(FakeTelnyx(clock=FakeClock(START))) as http:
        assert _cost(_post(http)) is None


def test_past_the_spend_amount_sends_are_refused_with_40333_until_midnight_utc() -> None:
    clock = FakeClock(datetime.datetime(2026, 12, 7, 23, 59, 0, tzinfo=datetime.UTC))
    fake = FakeTelnyx(clock=clock, price=Decimal("0.01"), spend_amount=Decimal("0.05"))
    two_parts = "a" * 161
    with _http(fake) as http:
        assert [_post(http, text=text).status_code for text in ("Hi", two_parts, "Hi")] == [200, 200, 200]  # 0.04
        refused = _post(http, text=two_parts)  # 0.06: past the amount
        assert refused.status_code == 429 and "retry-after" not in refused.headers
        error = refused.json()["errors"][0]
        assert error["code"] == "40333" and error["title"] == "Messaging profile spend limit reached"
        assert error["detail"] == (
            "the messaging profile has spent its daily limit (USD 0.04 of 0.05, the fake's spend_amount; this "
            "message's cost is 0.02); sends are refused until 00:00 UTC (2026-12-08T00:00:00.000Z)"
        )
        assert _post(http, text="Hi").status_code == 200  # 0.05: the amount reached, not exceeded
        assert _post(http, text="Hi").status_code == 429
        clock.advance(59.9)
        assert _post(http, text="Hi").status_code == 429
        clock.advance(0.1)  # 00:00 UTC: a new day's amount
        assert [_post(http, text=two_parts).status_code for _ in range(3)] == [200, 200, 429]
    assert len(fake.sent) == 6


@pytest.mark.parametrize(
    ("messages", "amount", "accepted", "reached"),
    [
        (3, Decimal("0.10"), 3, "3 messages, the fake's spend_limit"),
        (10, Decimal("0.025"), 2, "USD 0.02 of 0.025, the fake's spend_amount; this message's cost is 0.01"),
    ],
)
def test_with_a_spend_limit_and_a_spend_amount_the_first_reached_refuses(
    messages: int, amount: Decimal, accepted: int, reached: str
) -> None:
    fake = FakeTelnyx(
        clock=FakeClock(START), spend_limit=SpendLimit(messages), price=Decimal("0.01"), spend_amount=amount
    )
    with _http(fake) as http:
        answers = [_post(http) for _ in range(accepted + 1)]
    assert [answer.status_code for answer in answers] == [200] * accepted + [429]
    assert (
        answers[-1]
        .json()["errors"][0]["detail"]
        .startswith(f"the messaging profile has spent its daily limit ({reached}); ")
    )
    assert len(fake.sent) == accepted


def test_a_send_refused_past_its_queue_spends_nothing() -> None:
    throughput = Throughput(max_queue_seconds=1.0)
    fake = FakeTelnyx(clock=FakeClock(START), throughput=throughput, price=Decimal("0.01"), spend_amount=Decimal("0.5"))
    with _http(fake) as http:
        codes = [_post(http).json().get("errors", [{}])[0].get("code") for _ in range(60)]
    refused = codes.count("40318")
    assert refused > 0 and "40333" not in codes
    assert fake._spent[1] == Decimal("0.01") * (60 - refused) == Decimal("0.01") * len(fake.sent)


# --- settings refused -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: Throughput(account_mps={"SMS": -1}),
            ValueError,
            r"Throughput account_mps\['SMS'\] must be a positive",
        ),
        (lambda: Throughput(account_mps={"SMS": 0}), ValueError, r"Throughput account_mps\['SMS'\] must be a positive"),
        (
            lambda: Throughput(account_mps={"FAX": 1}),
            ValueError,
            r"account_mps takes the keys SMS, MMS, RCS, got 'FAX'",
        ),
        (lambda: Throughput(account_mps=5), TypeError, r"Throughput account_mps must be a mapping, got int"),
        (
            lambda: Throughput(sender_mps={"long_code": math.nan}),
            ValueError,
            r"\['long_code'\] must be a positive number of messages a second, got nan",
        ),
        (lambda: Throughput(sender_mps={"toll_free": math.inf}), ValueError, r"\['toll_free'\] must be a positive"),
        (
            lambda: Throughput(sender_mps={"toll_free": 0}),
            ValueError,
            r"^Throughput sender_mps\['toll_free'\] must be a positive number of messages a second, got 0$",
        ),
        (lambda: Throughput(sender_mps={"toll_free": True}), ValueError, r"\['toll_free'\] must be a positive"),
        (
            lambda: Throughput(sender_mps={"landline": 1}),
            ValueError,
            r"sender_mps takes the keys long_code, us_long_code, toll_free, short_code, alphanumeric, got 'landline'",
        ),
        (
            lambda: Throughput(number_mps={"": 1}),
            ValueError,
            r"Throughput number_mps keys are senders \(a `from`\), got ''",
        ),
        (
            lambda: Throughput(number_mps={TOLL_FREE: "1"}),
            ValueError,
            r"number_mps\['\+18445550001'\] must be a positive",
        ),
        (lambda: Throughput(number_mps=[]), TypeError, r"Throughput number_mps must be a mapping, got list"),
        (lambda: Throughput(max_queue_seconds=0), ValueError, r"Throughput max_queue_seconds must be a positive"),
        (lambda: RequestLimit(0), ValueError, r"RequestLimit limit must be an int >= 1 \(requests a window\), got 0"),
        (lambda: RequestLimit(1.5), ValueError, r"RequestLimit limit must be an int >= 1"),  # type: ignore[arg-type]
        (
            lambda: RequestLimit(1, window=0),
            ValueError,
            r"RequestLimit window must be a positive number of seconds, got 0",
        ),
        (lambda: RequestLimit(1, window=-1.0), ValueError, r"RequestLimit window must be a positive"),
        (
            lambda: RequestLimit(1, window="1"),
            ValueError,
            r"RequestLimit window must be a positive number of seconds, got '1'",
        ),  # type: ignore[arg-type]
        (
            lambda: RequestLimit(1, window=True),
            ValueError,
            r"RequestLimit window must be a positive number of seconds, got True",
        ),
        (
            lambda: SpendLimit("5"),
            ValueError,
            r"SpendLimit messages must be an int >= 0 \(messages a UTC day\), got '5'",
        ),  # type: ignore[arg-type]
        (
            lambda: SpendLimit(True),
            ValueError,
            r"SpendLimit messages must be an int >= 0 \(messages a UTC day\), got True",
        ),
        (lambda: SpendLimit(-1), ValueError, r"SpendLimit messages must be an int >= 0 \(messages a UTC day\), got -1"),
        (
            lambda: FakeTelnyx(clock=time),
            TypeError,
            r"FakeTelnyx clock must have now\(\) and utc\(\) \(a FakeClock\), got ",
        ),  # type: ignore[arg-type]
        (
            lambda: FakeTelnyx(throughput={"SMS": 1}),
            TypeError,
            r"FakeTelnyx throughput must be a Throughput or None, got ",
        ),  # type: ignore[arg-type]
        (
            lambda: FakeTelnyx(request_limit=10),
            TypeError,
            r"FakeTelnyx request_limit must be a RequestLimit or None, got 10",
        ),  # type: ignore[arg-type]
        (lambda: FakeTelnyx(spend_limit=10), TypeError, r"FakeTelnyx spend_limit must be a SpendLimit or None, got 10"),  # type: ignore[arg-type]
        (
            lambda: FakeTelnyx(price=0.01),  # type: ignore[arg-type]
            TypeError,
            r"FakeTelnyx price must be a Decimal of at least 0 \(USD\), or None, got 0\.01",
        ),
        (
            lambda: FakeTelnyx(price=Decimal(1), spend_amount=Decimal("-1")),
            TypeError,
            r"FakeTelnyx spend_amount must be a Decimal of at least 0 \(USD\), or None, got Decimal\('-1'\)",
        ),
        (
            lambda: FakeTelnyx(price=Decimal("NaN")),
            TypeError,
            r"FakeTelnyx price must be a Decimal of at least 0 \(USD\), or None, got Decimal\('NaN'\)",
        ),
        (
            lambda: FakeTelnyx(spend_amount=Decimal(1)),
            ValueError,
            r"FakeTelnyx spend_amount needs price= \(a message's cost is its parts times the price\)",
        ),
    ],
)
def test_a_bad_setting_is_refused_with_what_is_wrong(make: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()


# 2,000 sends (10,000 before: 10 s of CPU, the fake's spec checks ~1 ms a send): every wait is still
# the account's i / 50, the queue 40 s deep, and no real sleep (2,000 sends at ~1 ms of CPU each take
# a few seconds, not the 40 s the queue holds).
@pytest.mark.slow
def test_a_burst_of_two_thousand_waits_as_the_account_rate_says_and_never_really_sleeps() -> None:
    clock = FakeClock(START)
    fake = FakeTelnyx(clock=clock)
    senders = [f"+1844555{n:04d}" for n in range(5)]  # 5 toll-free numbers: 100 a second, past the account's 50
    started = time.monotonic()
    with _http(fake) as http:
        answers = [_post(http, **{"from": senders[i % 5]}) for i in range(2_000)]
    elapsed = time.monotonic() - started
    assert {answer.status_code for answer in answers} == {200} and len(fake.sent) == 2_000
    rate = ACCOUNT_MPS["SMS"]
    assert fake.waits == [i / rate for i in range(2_000)] and fake.max_wait_seconds == 1_999 / rate
    if "wait_seconds" in _message_fields(fake):
        assert [answer.json()["data"]["wait_seconds"] for answer in answers] == fake.waits
    assert clock.now() == 0.0 and elapsed < fake.max_wait_seconds  # the queue's 40 s are virtual


# --- what users get -------------------------------------------------------------------------------


def test_the_package_docstrings_pacing_example_runs_and_help_names_the_settings() -> None:
    doc = telnyx_messages.testing.__doc__ or ""
    example = doc.split("Pacing code is tested on virtual time:", 1)[1].split("\n\nThe fake queues", 1)[0]
    scope: dict[str, Any] = {}
    exec(textwrap.dedent(example), scope)  # the example as a user would paste it
    clock, fake = scope["clock"], scope["fake"]
    assert isinstance(clock, FakeClock) and isinstance(fake, FakeTelnyx) and fake.clock is clock
    with _http(fake) as http:
        first, second = _post(http), _post(http)
    assert first.headers["x-ratelimit-limit"] == "100" and second.headers["x-ratelimit-remaining"] == "98"
    assert fake.waits == [0.0, 1 / SENDER_MPS["toll_free"]]
    text = pydoc.render_doc(telnyx_messages.testing, renderer=pydoc.plaintext)
    for name in ("FakeClock", "Throughput", "RequestLimit", "SpendLimit", "ACCOUNT_MPS", "SENDER_MPS", "sender_type"):
        assert name in text, name
    # Each setting's help says what it is for and gives the documented defaults it overrides.
    throughput_help = pydoc.render_doc(Throughput, renderer=pydoc.plaintext)
    assert "FakeTelnyx(throughput=...)" in throughput_help and "toll_free 20" in throughput_help
    assert "FakeTelnyx(request_limit=...)" in pydoc.render_doc(RequestLimit, renderer=pydoc.plaintext)
    assert "FakeTelnyx(spend_limit=...)" in pydoc.render_doc(SpendLimit, renderer=pydoc.plaintext)
