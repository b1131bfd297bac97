"""Test code that sends messages, without sending any: an in-process fake of the Messages API,
held to the pinned spec (`pip install 'telnyx-messages[testing]'`).

    from telnyx_messages.testing import FakeTelnyx

    fake = FakeTelnyx()
    client = fake.client()
    client.messages.send(to="+13125550002", from_="+18445550001", text="Hello")
    assert fake.sent[0].text == "Hello"

With pytest, the `telnyx_fake` fixture gives a fresh FakeTelnyx per test (`async_telnyx_fake` too,
for async tests). FakeTelnyxError: the fake made something its spec refuses (its fault, not the code
under test's).

Pacing code is tested on virtual time:

    from telnyx_messages.testing import FakeClock, FakeTelnyx, RequestLimit, SpendLimit, Throughput

    clock = FakeClock()  # virtual time: `await clock.sleep(s)` advances it at once
    fake = FakeTelnyx(clock=clock, request_limit=RequestLimit(100), spend_limit=SpendLimit(5_000))

The fake queues sends at Telnyx's documented rates (ACCOUNT_MPS by message type, SENDER_MPS by
sender_type() of the `from`; `Throughput` sets others), answers each message's `wait_seconds` (its
time in the queue; `fake.waits` lists them) and refuses one that would wait MAX_QUEUE_SECONDS or more
(429, 40318); RequestLimit answers 429 (10011) with the x-ratelimit-* headers, SpendLimit 429
(40333) until 00:00 UTC by the clock. Code under test sleeps on the same clock (a campaign:
`Campaign(..., clock=clock)`).

Delivery receipts: `fake.deliver_receipts(to)` sends the `message.sent` and `message.finalized`
webhooks of the messages it accepted, signed with its key (`fake.public_key`), to a URL or into an
ASGI or WSGI app called in process, with the outcomes the test sets, when the test calls it:

    from telnyx_messages.receiver import Receiver, WSGIReceiver
    from telnyx_messages.testing import Failure, FakeTelnyx, Outcomes

    fake = FakeTelnyx()
    for n in range(10):
        fake.client().messages.send(to=f"+1312555{n:04d}", from_="+18445550001", text="Shipped")
    receiver = Receiver(tmp_path / "receipts.db", public_key=fake.public_key)
    report = fake.deliver_receipts(
        WSGIReceiver(receiver),  # or an ASGI app, or a URL: "http://127.0.0.1:8000/webhooks"
        outcomes=Outcomes(failed={Failure("delivery_failed", 40008): 0.2}),  # 2 of the 10
        seed=1,  # which ones, and the duplicates and reorders: the same for the same seed
        duplicate=0.1,  # a share of the events posted twice
        reorder=0.1,  # a share of the messages: message.finalized before message.sent
    )
    assert report.ok and report.counts() == {"delivered": 8, "delivery_failed": 2}

Failure statuses are the spec's final ones (delivery_failed, sending_failed, delivery_unconfirmed,
expired). A try answered other than 2xx, or not within `timeout` seconds (Telnyx's 2), is tried
again, up to `tries` (Telnyx's 3) in all, each with its `meta.attempt`; `report.tries` lists every
POST and its answer, `report.outcomes` each recipient's final status and error codes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._clock import FakeClock as FakeClock
    from ._fake import FakeTelnyx as FakeTelnyx
    from ._fake import FakeTelnyxError as FakeTelnyxError
    from ._receipts import Failure as Failure
    from ._receipts import Outcomes as Outcomes
    from ._receipts import ReceiptEvent as ReceiptEvent
    from ._receipts import ReceiptReport as ReceiptReport
    from ._receipts import ReceiptTry as ReceiptTry
    from ._receipts import RecipientOutcome as RecipientOutcome
    from ._throughput import ACCOUNT_MPS as ACCOUNT_MPS
    from ._throughput import MAX_QUEUE_SECONDS as MAX_QUEUE_SECONDS
    from ._throughput import SENDER_MPS as SENDER_MPS
    from ._throughput import RequestLimit as RequestLimit
    from ._throughput import SenderType as SenderType
    from ._throughput import SpendLimit as SpendLimit
    from ._throughput import Throughput as Throughput
    from ._throughput import sender_type as sender_type

# In dir()'s order (plain sorted), which lists these names.
__all__ = [  # noqa: RUF022
    "ACCOUNT_MPS",
    "Failure",
    "FakeClock",
    "FakeTelnyx",
    "FakeTelnyxError",
    "MAX_QUEUE_SECONDS",
    "Outcomes",
    "ReceiptEvent",
    "ReceiptReport",
    "ReceiptTry",
    "RecipientOutcome",
    "RequestLimit",
    "SENDER_MPS",
    "SenderType",
    "SpendLimit",
    "Throughput",
    "sender_type",
]

# What the fake's own modules give: none of them needs the [testing] extra's packages.
_LIGHT = {
    "ACCOUNT_MPS": "_throughput",
    "MAX_QUEUE_SECONDS": "_throughput",
    "SENDER_MPS": "_throughput",
    "FakeClock": "_clock",
    "Failure": "_receipts",
    "Outcomes": "_receipts",
    "ReceiptEvent": "_receipts",
    "ReceiptReport": "_receipts",
    "ReceiptTry": "_receipts",
    "RecipientOutcome": "_receipts",
    "RequestLimit": "_throughput",
    "SenderType": "_throughput",
    "SpendLimit": "_throughput",
    "Throughput": "_throughput",
    "sender_type": "_throughput",
}


def __getattr__(name: str) -> Any:
    if name in _LIGHT:
        return getattr(importlib.import_module(f"{__name__}.{_LIGHT[name]}"), name)
    if name in __all__:
        try:
            fake = importlib.import_module(f"{__name__}._fake")
        except ImportError as exc:
            from .._exceptions import MissingDependencyError

            raise MissingDependencyError(
                f"telnyx_messages.testing needs jsonschema: pip install 'telnyx-messages[testing]' ({exc})"
            ) from None
        return getattr(fake, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
