"""Telnyx's throughput, as the fake keeps it: the rates of the account (by message type) and of each
sender (by the type of its `from`), the queue that holds what arrives faster, the API's request
limit and the messaging profile's daily spend limit.

Defaults are Telnyx's documented ones (developers.telnyx.com, "SMS messaging rate limits"): the
account sends 50 SMS, 15 MMS, 1 RCS a second; a long code 0.1 a second to non-US destinations, a
toll-free number 20, a short code 1,000, an alphanumeric sender ID 0.1. A US long code sending to a
US number gets its 10DLC campaign's throughput instead, set by the carriers: the fake's default is
AT&T's lowest standard class (E/F: 240 SMS a minute, 4 a second). Each queue holds 4 hours of its
throughput (the documented maximum queue lengths: 720,000 SMS for the account, 1,440 for a long
code); a message that would wait longer is refused at once (429, code 40318, "Message queue full").
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, get_args

__all__ = [
    "ACCOUNT_MPS",
    "MAX_QUEUE_SECONDS",
    "SENDER_MPS",
    "QueueFull",
    "Queues",
    "RequestCounter",
    "RequestLimit",
    "SenderType",
    "SpendLimit",
    "Spending",
    "Throughput",
    "sender_type",
]

SenderType = Literal["long_code", "us_long_code", "toll_free", "short_code", "alphanumeric"]
SENDER_TYPES: tuple[str, ...] = get_args(SenderType)

ACCOUNT_MPS: Mapping[str, float] = MappingProxyType({"SMS": 50.0, "MMS": 15.0, "RCS": 1.0})
SENDER_MPS: Mapping[str, float] = MappingProxyType(
    {"long_code": 0.1, "us_long_code": 4.0, "toll_free": 20.0, "short_code": 1000.0, "alphanumeric": 0.1}
)
MAX_QUEUE_SECONDS = 4 * 3600.0
SENDER_QUEUED = ("SMS", "MMS")  # the message types the sender rates are documented for

_SHORT_CODE = re.compile(r"\d{5,6}")
_TOLL_FREE = re.compile(r"\+18(00|33|44|55|66|77|88)\d{7}")  # the NANP's toll-free codes
_NANP = re.compile(r"\+1\d{10}")
_NUMBER = re.compile(r"\+\d{2,15}")


def sender_type(sender: str, destination: str | None = None) -> SenderType:
    """The type of a `from`: a short code (5 or 6 digits), a toll-free number (+1 8XX), a long code
    (another E.164 number: `us_long_code` when it is a +1 number sending to a +1 number, held by
    10DLC), else an alphanumeric sender ID."""
    if _SHORT_CODE.fullmatch(sender):
        return "short_code"
    if _TOLL_FREE.fullmatch(sender):
        return "toll_free"
    if _NANP.fullmatch(sender) and destination is not None and _NANP.fullmatch(destination):
        return "us_long_code"
    if _NUMBER.fullmatch(sender):
        return "long_code"
    return "alphanumeric"


def _rate(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive number of messages a second, got {value!r}")
    return float(value)


def _rates(given: Mapping[str, float], defaults: Mapping[str, float], what: str) -> Mapping[str, float]:
    """`defaults` with `given` over them, each a positive finite rate; a key the defaults lack refused."""
    if not isinstance(given, Mapping):
        raise TypeError(f"{what} must be a mapping, got {type(given).__name__}")
    merged = dict(defaults)
    for key, value in given.items():
        if key not in defaults:
            raise ValueError(f"{what} takes the keys {', '.join(defaults)}, got {key!r}")
        merged[key] = _rate(value, f"{what}[{key!r}]")
    return MappingProxyType(merged)


@dataclass(frozen=True)
class Throughput:
    """The rates the fake's queues send at, in messages a second, for `FakeTelnyx(throughput=...)`.

    `account_mps` by message type (ACCOUNT_MPS: SMS 50, MMS 15, RCS 1) and `sender_mps` by sender
    type (SENDER_MPS: long_code 0.1, us_long_code 4, toll_free 20, short_code 1000, alphanumeric 0.1;
    see sender_type()) override those defaults for the keys they give: `Throughput(sender_mps=
    {"toll_free": 5})`; the attributes hold the merged rates. `number_mps` sets one sender's own rate
    (its `from`, as sent). A message waits the longest of its queues (the account's for its type, its
    sender's for an SMS or MMS); one that would wait `max_queue_seconds` (MAX_QUEUE_SECONDS, 4 hours)
    or more is refused. A rate must be a positive finite number."""

    account_mps: Mapping[str, float] = field(default_factory=dict)
    sender_mps: Mapping[str, float] = field(default_factory=dict)
    number_mps: Mapping[str, float] = field(default_factory=dict)
    max_queue_seconds: float = MAX_QUEUE_SECONDS

    def __post_init__(self) -> None:
        object.__setattr__(self, "account_mps", _rates(self.account_mps, ACCOUNT_MPS, "Throughput account_mps"))
        object.__setattr__(self, "sender_mps", _rates(self.sender_mps, SENDER_MPS, "Throughput sender_mps"))
        if not isinstance(self.number_mps, Mapping):
            raise TypeError(f"Throughput number_mps must be a mapping, got {type(self.number_mps).__name__}")
        numbers = {}
        for sender, value in self.number_mps.items():
            if not isinstance(sender, str) or not sender:
                raise ValueError(f"Throughput number_mps keys are senders (a `from`), got {sender!r}")
            numbers[sender] = _rate(value, f"Throughput number_mps[{sender!r}]")
        object.__setattr__(self, "number_mps", MappingProxyType(numbers))
        # A queue of at least one message: under a second of any rate holds none.
        _rate(self.max_queue_seconds, "Throughput max_queue_seconds")  # positive and finite
        object.__setattr__(self, "max_queue_seconds", float(self.max_queue_seconds))

    def sender_rate(self, sender: str, destination: str | None) -> float:
        """The rate, in messages a second, of the queue of `sender` (a `from`) sending to
        `destination`: its own in `number_mps`, else its sender type's."""
        if sender in self.number_mps:
            return self.number_mps[sender]
        return self.sender_mps[sender_type(sender, destination)]


class QueueFull(Exception):
    """A message would wait past the queue's maximum: which queue, and how long it would wait."""

    def __init__(self, queue: str, wait: float) -> None:
        super().__init__(f"{queue}: {wait:.1f} s")
        self.queue, self.wait = queue, wait


class Queues:
    """The queues of the account and of each sender: each sends at its rate, in arrival order. A
    message's wait is the longest of its queues' (the time until each has sent those ahead of it)."""

    def __init__(self, throughput: Throughput) -> None:
        self.throughput = throughput
        # queue -> (when its busy spell began, the messages queued since): its n-th message leaves at
        # begin + n / rate (counted, not summed: no drift over a long queue)
        self._busy: dict[str, tuple[float, int]] = {}

    def admit(self, now: float, message_type: str, sender: str | None, destination: str | None) -> float:
        """Queue one message arriving at `now` and return its wait; QueueFull (nothing queued) when
        one of its queues would hold it `max_queue_seconds` or more."""
        throughput = self.throughput
        queues: list[tuple[str, float]] = []
        if message_type in throughput.account_mps:
            queues.append((f"the account's {message_type} queue", throughput.account_mps[message_type]))
        if sender and message_type in SENDER_QUEUED:
            queues.append((f"the queue of sender {sender}", throughput.sender_rate(sender, destination)))
        places: list[tuple[str, float, int, float]] = []
        for name, rate in queues:
            begin, count = self._busy.get(name, (now, 0))
            wait = begin + count / rate - now
            if wait <= 0:  # the queue has emptied: a new busy spell
                begin, count, wait = now, 0, 0.0
            if wait >= throughput.max_queue_seconds:
                raise QueueFull(name, wait)
            places.append((name, begin, count, wait))
        for name, begin, count, _ in places:
            self._busy[name] = (begin, count + 1)
        return max((wait for *_, wait in places), default=0.0)


@dataclass(frozen=True)
class RequestLimit:
    """The API's request limit, for `FakeTelnyx(request_limit=...)`: `limit` requests in each
    `window` seconds (fixed windows from the fake's start, on its clock); past it, 429 with code
    10011 until the window ends. Every answer then carries x-ratelimit-limit, x-ratelimit-remaining
    and x-ratelimit-reset (whole seconds until the window ends, rounded up)."""

    limit: int
    window: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"RequestLimit limit must be an int >= 1 (requests a window), got {self.limit!r}")
        window = self.window
        if isinstance(window, bool) or not isinstance(window, (int, float)) or not math.isfinite(window) or window <= 0:
            raise ValueError(f"RequestLimit window must be a positive number of seconds, got {window!r}")
        object.__setattr__(self, "window", float(window))


@dataclass(frozen=True)
class SpendLimit:
    """A messaging profile's daily spend limit, as a count, for `FakeTelnyx(spend_limit=...)`: after
    `messages` messages accepted in a UTC day (by the fake's clock), sends are refused (429, code
    40333) until the next 00:00 UTC."""

    messages: int

    def __post_init__(self) -> None:
        if isinstance(self.messages, bool) or not isinstance(self.messages, int) or self.messages < 0:
            raise ValueError(f"SpendLimit messages must be an int >= 0 (messages a UTC day), got {self.messages!r}")


class RequestCounter:
    """The requests of each window of a RequestLimit, and the x-ratelimit-* headers of an answer."""

    def __init__(self, limit: RequestLimit, origin: float) -> None:
        self.limit, self.origin = limit, origin
        self._window, self._used = 0, 0

    def count(self, now: float) -> tuple[bool, dict[str, str]]:
        """Count a request at `now`: whether it is over the limit (then it is not counted), and the
        headers (x-ratelimit-reset: whole seconds until the window ends, rounded up)."""
        limit, window = self.limit.limit, self.limit.window
        index = math.floor((now - self.origin) / window)
        if index != self._window:
            self._window, self._used = index, 0
        over = self._used >= limit
        if not over:
            self._used += 1
        reset = self.origin + (index + 1) * window - now
        headers = {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(limit - self._used),
            "x-ratelimit-reset": str(math.ceil(reset)),
        }
        return over, headers


class Spending:
    """The messages accepted in the current UTC day, against a SpendLimit."""

    def __init__(self, limit: SpendLimit) -> None:
        self.limit = limit
        self._day: datetime.date | None = None
        self._count = 0

    def reached(self, today: datetime.date) -> bool:
        """Whether the day's limit is reached (a new day starts the count again)."""
        if today != self._day:
            self._day, self._count = today, 0
        return self._count >= self.limit.messages

    def spend(self) -> None:
        self._count += 1
