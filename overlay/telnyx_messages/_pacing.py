"""When the campaign engine may send the next message: rates and holds, decisions only, no I/O.

Telnyx queues what arrives faster than a sender's throughput and drops what would wait more than 4
hours. Its documented rates: per account SMS 50/s and MMS 15/s; per sender a short code 1,000/s, a
toll-free number 20/s, an alphanumeric sender ID 0.1/s, a long code 0.1/s to other countries (a US
long code has its 10DLC campaign's rate, which the API does not tell: no default here, the queue
feedback below holds it). Each gate spaces its sends 1/rate apart, so that any 1 s window holds the
rate's number of sends; a hold stops a gate until a time: the queue's answer (`wait_seconds` over
`max_queue_wait`: the sender waits until its queue is back under it) or the request limit (10011:
every gate, until the limit's reset).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "DEFAULT_MAX_QUEUE_WAIT",
    "DEFAULT_TYPE_RATES",
    "SENDER_KIND_RATES",
    "ClockOffset",
    "Gate",
    "Pacer",
    "SenderKind",
    "sender_kind",
]

MessageType = Literal["SMS", "MMS"]
SenderKind = Literal["short_code", "toll_free", "alphanumeric", "us_long_code", "long_code", "profile"]

# The account's documented rates per message type (messages per second).
DEFAULT_TYPE_RATES: dict[MessageType, float] = {"SMS": 50.0, "MMS": 15.0}
# The documented rate of each kind of sender; None: none of its own (a US long code's is its 10DLC
# campaign's; a messaging profile's number pool spreads over its numbers).
SENDER_KIND_RATES: dict[SenderKind, float | None] = {
    "short_code": 1000.0,
    "toll_free": 20.0,
    "alphanumeric": 0.1,
    "long_code": 0.1,
    "us_long_code": None,
    "profile": None,
}
# The queue wait a sender is held under: 24 times below the 4 hours after which Telnyx drops a
# message, so that messages already on their way when an answer reports the queue (up to the
# engine's in-flight window) cannot push it near the drop. Once a sender's queue holds this, the
# engine sends at the queue's own pace: a lower value would not finish a campaign sooner.
DEFAULT_MAX_QUEUE_WAIT = 600.0

_TOLL_FREE_AREA_CODES = frozenset({"800", "833", "844", "855", "866", "877", "888"})
_DIGITS = re.compile(r"\+?[0-9]+").fullmatch


def sender_kind(from_: str | None) -> SenderKind:
    """The kind of a `from` address: a 5 or 6 digit short code (with a + or without), a North American toll-free number
    (+1 800, 833, 844, 855, 866, 877, 888), an alphanumeric sender ID (any letter), a US (+1) long
    code, another long code; None (the messaging profile picks the number): "profile"."""
    if from_ is None:
        return "profile"
    if not _DIGITS(from_):
        return "alphanumeric"
    digits = from_.removeprefix("+")
    if digits.startswith("1") and len(digits) == 11:
        return "toll_free" if digits[1:4] in _TOLL_FREE_AREA_CODES else "us_long_code"
    if 5 <= len(digits) <= 6:
        return "short_code"
    return "long_code"


@dataclass(slots=True)
class Gate:
    """One rate (messages per second; None: no limit of its own) and one hold: sends through it are
    1/rate apart, none before `held_until`."""

    rate: float | None
    next_at: float = -math.inf
    held_until: float = -math.inf
    planned: int = 0  # a dry run's count of the messages through it

    def ready_at(self) -> float:
        return max(self.next_at, self.held_until)

    def take(self, at: float) -> None:
        """A send through the gate at `at`: the next is 1/rate later. A send due at next_at and late
        by at most half an interval (the event loop's lag) does not push the ones after it: the
        schedule keeps its rate; after a longer gap it starts again from the send."""
        if self.rate is not None:
            interval = 1.0 / self.rate
            on_time = at <= self.next_at + interval / 2
            self.next_at = (self.next_at if on_time else at) + interval

    def hold(self, until: float) -> None:
        self.held_until = max(self.held_until, until)


@dataclass(slots=True)
class Pacer:
    """The gates of a campaign: one per message type (the account's rate, or `rate` for every type),
    one per sender (its kind's rate, or `sender_rate`). `rate`/`sender_rate` math.inf: no limit."""

    rate: float | None = None
    sender_rate: float | None = None
    max_queue_wait: float = DEFAULT_MAX_QUEUE_WAIT
    _types: dict[str, Gate] = field(default_factory=dict)
    _senders: dict[str, Gate] = field(default_factory=dict)

    def type_gate(self, message_type: MessageType) -> Gate:
        key = "all" if self.rate is not None else message_type
        gate = self._types.get(key)
        if gate is None:
            rate = DEFAULT_TYPE_RATES[message_type] if self.rate is None else self.rate
            gate = self._types[key] = Gate(None if math.isinf(rate) else rate)
        return gate

    def sender_gate(self, sender: str | None) -> Gate:
        """The gate of a `from` address (None: the messaging profile picks the number)."""
        gate = self._senders.get(sender or "")
        if gate is None:
            rate = SENDER_KIND_RATES[sender_kind(sender)] if self.sender_rate is None else self.sender_rate
            gate = self._senders[sender or ""] = Gate(None if rate is None or math.isinf(rate) else rate)
        return gate

    def gates(self, message_type: MessageType, sender: str | None) -> tuple[Gate, Gate]:
        return self.type_gate(message_type), self.sender_gate(sender)

    def all_gates(self) -> list[Gate]:
        return [*self._types.values(), *self._senders.values()]

    def hold_all(self, until: float) -> None:
        """The request limit (429 10011): nothing goes out before `until`."""
        for gate in self._types.values():
            gate.hold(until)

    def queue_wait(self, sender: str | None, wait_seconds: float, now: float) -> bool:
        """An answer for `sender` at `now` reported `wait_seconds` in its queue. Over max_queue_wait,
        the sender is held until its queue is back down to it (the message leaves the queue at
        now + wait_seconds); True when it was held."""
        if wait_seconds <= self.max_queue_wait:
            return False
        self.sender_gate(sender).hold(now + wait_seconds - self.max_queue_wait)
        return True


@dataclass(slots=True)
class ClockOffset:
    """How far another clock (a database's, whose slots many senders share) is ahead of this
    process's (time.monotonic's kind), from exchanges with it: a reading of the other clock taken
    between `sent` and `received` by this one puts the offset between other - received and
    other - sent. The readings' intervals are intersected (the narrowest exchanges decide, whatever
    the slow ones), widened by `drift` (seconds per second: the clocks' rates may differ a little)
    since the last; a reading outside them (a clock set, or drift past the allowance) starts over
    from it. Slots then map to this clock to within half the narrowest exchange, not a whole slow
    answer's time late."""

    drift: float = 1e-4
    low: float = -math.inf
    high: float = math.inf
    at: float | None = None

    def observe(self, sent: float, other: float, received: float) -> None:
        if received < sent:
            raise ValueError(f"an answer received ({received}) before it was asked ({sent})")
        low, high = other - received, other - sent
        if self.at is not None:
            allowance = self.drift * (received - self.at)
            low, high = max(low, self.low - allowance), min(high, self.high + allowance)
            if low > high:  # no offset fits both: this reading's alone
                low, high = other - received, other - sent
        self.low, self.high, self.at = low, high, received

    @property
    def offset(self) -> float:
        """The other clock's reading less this one's (the middle of what the exchanges allow)."""
        if self.at is None:
            raise ValueError("no exchange observed yet")
        return (self.low + self.high) / 2

    def local(self, other: float) -> float:
        """The time `other` (by the other clock) is by this one."""
        return other - self.offset


def ready_at(gates: Iterable[Gate]) -> float:
    return max(gate.ready_at() for gate in gates)


def take(gates: Iterable[Gate], at: float) -> None:
    for gate in gates:
        gate.take(at)


def implied_seconds(gates: Iterable[Gate]) -> float:
    """How long a dry run's planned sends take at their rates: a gate's `planned` messages take
    planned / rate seconds, and the slowest gate sets the pace (a gate without a rate: no time)."""
    return max((gate.planned / gate.rate for gate in gates if gate.rate is not None), default=0.0)
