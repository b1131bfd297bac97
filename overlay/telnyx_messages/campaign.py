"""Campaigns: send a list of messages within Telnyx's throughput, each once across crashes.

    from telnyx_messages import AsyncTelnyx
    from telnyx_messages.campaign import Campaign

    rows = ({"id": n, "to": to, "from": "+18445550001", "text": "Your code is 1234"} for n, to in ...)
    async with AsyncTelnyx() as client:
        report = await Campaign(client, rows, journal="reminders.db").run()
    print(report.accepted, "accepted,", report.failed, "failed,", report.pending, "pending")

Rows are the keyword arguments of `client.messages.send` (`from` or `from_`, `to`, `text`,
`media_urls`, `messaging_profile_id`, ...) with an optional `id`; any iterable or async iterable,
read as the sends go (a bounded window of rows is held at a time: a list of millions never sits in
memory). Each row is checked before anything is sent (the client's own checks of the arguments,
`to` as E.164, the text's parts) and a refused row is `failed` with its reason.

The journal (an SQLite file) records every row: its identity (its `id`, else its content), state,
Idempotency-Key, message id, `wait_seconds`, error, attempts and times. The keys derive from the
campaign and the row's identity, so that a rerun after a crash (SIGKILL, power loss) sends what was
in flight with the same key, and the API's edge answers it from what it stored instead of sending it
again: run the same campaign with the same journal, and each row is accepted once. A row sent more
than the edge's 24 hours ago and never confirmed becomes `unknown`, re-sent only with
`resend_unknown=True`.

Pacing: the account's rate per message type (SMS 50/s, MMS 15/s; `rate=` instead), each sender's
(by the kind of its `from`: short code 1,000/s, toll-free 20/s, alphanumeric and non-US long code
0.1/s, a US long code none of its own; `sender_rate=` instead); a sender whose answers report
`wait_seconds` over `max_queue_wait` is held until its queue is back under it. The request limit
(429, code 10011) holds the whole campaign until its reset; the messaging profile's daily spend
limit (429, code 40333) stops it, the rows left `pending` for a rerun after 00:00 UTC.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import functools
import hashlib
import json
import math
import os
import re
import signal
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import anyio.abc
import anyio.lowlevel
import anyio.to_thread

from telnyx_messages._api.api import OPERATIONS, Messages

from . import _pacing
from ._calls import NOT_GIVEN
from ._client import AsyncTelnyx, Telnyx
from ._clock import REAL_CLOCK, Clock, RealClock
from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
)
from ._exceptions import _midnight_after as midnight_after
from ._journal import CampaignRecord, JournalError, JournalRow, Known, RowState
from ._journals import CampaignJournal, open_existing, open_journal
from ._parts import count_parts
from ._request_building import IDEMPOTENCY_KEY, MAX_BODY_BYTES, signature_of
from ._request_building import _check_text_parts as check_text_parts
from ._request_building import _encode_argument as encode_argument
from ._retries import header_seconds

__all__ = [
    "DEFAULT_MAX_IN_FLIGHT",
    "DEFAULT_MAX_QUEUE_WAIT",
    "DEFAULT_WINDOW",
    "DUPLICATES_TRACKED",
    "MAX_ATTEMPTS",
    "REPLAY_WINDOW",
    "Campaign",
    "CampaignError",
    "Clock",
    "JournalError",
    "JournalRow",
    "LocatedRow",
    "Plan",
    "Progress",
    "Refusal",
    "Report",
    "RowConflictError",
    "RowState",
    "Status",
    "Stop",
    "idempotency_key",
    "journal_rows",
    "status",
]

DEFAULT_MAX_QUEUE_WAIT = _pacing.DEFAULT_MAX_QUEUE_WAIT
# Rows read ahead of the sends (queued per sender, or in flight): what the engine holds in memory.
DEFAULT_WINDOW = 1000
# Requests at once.
DEFAULT_MAX_IN_FLIGHT = 100
# How long the API's edge answers a key from what it stored; a row first sent longer ago than this
# less REPLAY_MARGIN (clocks differ; the row may wait its turn) is not re-sent blindly.
REPLAY_WINDOW = 24 * 3600.0
REPLAY_MARGIN = 15 * 60.0
# Attempts of one row in one run after failures that leave its fate open (no answer, 5xx): the row
# stays `sending`, re-sent with its key by the next run.
MAX_ATTEMPTS = 6
_BACKOFF_FIRST, _BACKOFF_MOST = 0.5, 30.0
# The request limit's wait when its answer gives no reset (seconds).
_DEFAULT_LIMIT_WAIT = 1.0
_COMMIT_EVERY = 1.0  # seconds: what follows the answers is in the file this soon
# seconds: a shared slot a send missed by more than this is given up for another (the rate held in every
# second across the senders, within a few percent: not a burst of late sends after a pause). Checked
# just before the request leaves (in its thread, for a synchronous client).
_LATE = 0.035
# seconds: a synchronous client's request is handed to its thread this long before its slot.
_HANDOFF = 0.1
# seconds: a sender takes shared slots for its next batch once the last it took is less than this
# far ahead; then a sender held up holds few slots (its late ones given up), and the campaign's
# schedule runs only a little ahead of now.
_AHEAD = 0.05
_OTHERS_POLL = 0.2  # seconds: how often a sender done with its rows looks for rows other senders left
_RATE_SPAN = 5.0  # Progress.rate: the sends of the last this many seconds
_REFUSALS_KEPT = 20  # a dry run's refusals listed (all are counted)
# A dry run counts the rows repeating the identity of one of this many first rows (more would hold
# every identity of a long list in memory; a run sends each identity once all the same).
DUPLICATES_TRACKED = 1000

SPEND_LIMIT_CODE = "40333"
# A message refused because its queue holds 4 hours already (429): its sender is held this long
# (or max_queue_wait, if shorter), then tried again.
QUEUE_FULL_CODE = "40318"
QUEUE_FULL_HOLD = 60.0

_E164 = re.compile(r"\+[1-9][0-9]{1,14}").fullmatch
_SEND = OPERATIONS["send"]
_SEND_NAMES = {wire: name for name, wire in _SEND.body_parameters}
_ARGUMENTS = frozenset(_SEND_NAMES.values())
_EMPTY_ARGUMENTS: dict[str, object] = {name: NOT_GIVEN for name in _ARGUMENTS}


class CampaignError(Exception):
    """A campaign that cannot run as given (its parameters, or a row that contradicts its journal)."""


class RowConflictError(CampaignError):
    """A row whose `id` the journal holds with other content: a journal belongs to one list."""


@dataclass(frozen=True, slots=True)
class Stop:
    """Why a run stopped before every row was settled. `reason`: "spend_limit" (the messaging
    profile's daily spend limit; `resets_at` is the next 00:00 UTC) or "interrupted" (stop())."""

    reason: Literal["spend_limit", "interrupted"]
    message: str
    resets_at: datetime.datetime | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """A run's outcome. The counts are the journal's, over every run of the campaign: `pending`
    holds the rows not sent yet and those sent without an answer taken (a rerun re-sends them with
    their key); after an interruption, the rows not read yet are in no count (after the spend
    limit they are read and counted `pending`). `sent`/`accepted_now`: this run's requests and
    acceptances; `max_wait_seconds`: the largest queue wait the API reported in this run."""

    campaign_id: str
    name: str | None
    rows: int
    accepted: int
    pending: int
    failed: int
    unknown: int
    stop: Stop | None
    elapsed: float
    sent: int
    accepted_now: int
    max_wait_seconds: float | None

    @property
    def complete(self) -> bool:
        """Every row of the journal settled: accepted or failed."""
        return self.pending == 0 and self.unknown == 0 and self.stop is None


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a run is, given to the `progress` callback as it changes. `done`: rows read and settled
    in this run (accepted, failed, already done by an earlier run, skipped); `total`: the rows to go
    through if known (len(rows), or total=); `rate`: sends per second over the last few seconds;
    `held_until`: the seconds left (by the campaign's clock) while the request limit holds the
    campaign, else None."""

    done: int
    total: int | None
    accepted: int
    failed: int
    rate: float
    max_wait_seconds: float | None
    elapsed: float
    held_until: float | None = None


class LocatedRow(dict[str, Any]):
    """A row that says where it was read: its refusals name it by `where` ("line 7", for a row of a
    CSV file that starts on the file's line 7) instead of its index among the rows ("row 7"). The
    CLI gives its CSV rows this way; the row's content and identity are its items alone."""

    __slots__ = ("where",)

    def __init__(self, arguments: Mapping[str, Any], where: str) -> None:
        super().__init__(arguments)
        self.where = where


@dataclass(frozen=True, slots=True)
class Refusal:
    """A row refused before sending: its place in the input (1 = the first row), identity and why.
    `where` names the row as its reason does: "row 3" (the third row given), or a LocatedRow's own
    words ("line 7")."""

    position: int
    identity: str
    reason: str
    where: str


@dataclass(frozen=True, slots=True)
class Plan:
    """What a dry run found: rows read, messages that would be sent, refused rows (all counted, the
    first few listed; a row repeating an earlier row's id with other content among them: a run
    stops there with RowConflictError), duplicates (rows repeating one of the first
    DUPLICATES_TRACKED rows: sent once, so not among the messages), SMS parts (an MMS counts one),
    messages by type, messages per sender (`from`, or "messaging profile <id>"), and the seconds the
    pacing implies at the set rates (a sender with no rate of its own, held only by its queue, may
    take longer)."""

    rows: int
    messages: int
    refused: int
    refusals: tuple[Refusal, ...]
    duplicates: int
    parts: int
    by_type: Mapping[str, int]
    senders: Mapping[str, int]
    seconds: float


@dataclass(frozen=True, slots=True)
class Status:
    """A journal's campaign and counts (what `telnyx-messages campaign status` prints)."""

    campaign_id: str
    name: str | None
    created_at: datetime.datetime
    parameters: Mapping[str, Any]
    rows: int
    accepted: int
    pending: int
    failed: int
    unknown: int


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


@dataclass(slots=True)
class _Row:
    where: str  # "row 7" (its index among the rows), or a LocatedRow's where ("line 7")
    identity: str
    digest: str
    arguments: dict[str, Any]
    message_type: _pacing.MessageType
    sender: str | None
    recipient: str | None
    key: str = ""
    gates: tuple[_pacing.Gate, ...] = ()
    not_before: float = -math.inf
    attempts: int = 0  # this run's
    first_attempt_at: float | None = None  # UTC epoch seconds, from the journal or this run


def _canonical(arguments: Mapping[str, Any]) -> str:
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def idempotency_key(campaign_id: str, identity: str) -> str:
    """The key of a row: the same for the same campaign and row on every run, unlike any other's.
    A UUID's form (RFC 9562 version 8: its bits from SHA-256), which the API's key pattern takes."""
    digits = hashlib.sha256(f"{campaign_id}\n{identity}".encode()).hexdigest()[:32]
    variant = "89ab"[int(digits[16], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-8{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:32]}"


def _sender_name(row: _Row) -> str:
    if row.sender is not None:
        return row.sender
    profile = row.arguments.get("messaging_profile_id")
    return f"messaging profile {profile}" if profile is not None else "(no sender)"


def _check_arguments(given: dict[str, Any]) -> None:
    """The client's own checks of a send's arguments, as a call makes them before sending (the
    spec's types and values, required ones not empty, the text's parts): TypeError or ValueError."""
    signature = signature_of(Messages.send)
    if missing := sorted(signature.required - given.keys()):
        raise TypeError(f"{signature.name}(): missing the required arguments {missing}")
    for name, value in given.items():
        encode_argument(signature, name, value)
    if _SEND.max_text_parts is not None:
        check_text_parts(signature, _SEND, {**_EMPTY_ARGUMENTS, **given}, _SEND.max_text_parts)


def _where(row: object, position: int) -> str:
    """How a row's messages name it: a LocatedRow by its own words, any other by its index."""
    return row.where if isinstance(row, LocatedRow) else f"row {position}"


def check_row(row: object, position: int) -> _Row:
    """A row as the engine sends it, checked as the client checks a send's arguments (the spec's
    types, the text's parts) and `to` as E.164; raises _Refused with the reason, which names the row
    as _where does."""
    where = _where(row, position)
    if not isinstance(row, Mapping):
        raise _Refused(f"{where} is a {type(row).__name__}, not a dict of send arguments")
    given: dict[str, Any] = {}
    row_id: object = None
    for name, value in row.items():
        if name == "id":
            row_id = value
            continue
        if not isinstance(name, str):
            raise _Refused(f"{where} has a column {name!r} that is not text")
        argument = _SEND_NAMES.get(name, name)
        if argument not in _ARGUMENTS:
            if name in (IDEMPOTENCY_KEY, "extra_headers", "extra_query", "extra_body", "timeout", "max_retries"):
                raise _Refused(f"{where}: {name} is set by the campaign, not by a row")
            raise _Refused(f"{where}: messages.send() takes no argument {name!r}")
        if argument in given:
            raise _Refused(f"{where} gives {argument} twice ({name!r} and its other name)")
        given[argument] = value
    if row_id is not None and (isinstance(row_id, bool) or not isinstance(row_id, str | int) or row_id == ""):
        raise _Refused(f"{where}: id must be non-empty text or an integer, got {row_id!r}")
    content = _canonical(given).encode()
    if len(content) > MAX_BODY_BYTES:
        raise _Refused(f"{where} is {len(content):,} bytes of JSON, over the {MAX_BODY_BYTES:,} the client sends")
    digest = "sha256:" + hashlib.sha256(content).hexdigest()
    identity = digest if row_id is None else str(row_id)
    to = given.get("to")
    if to is None:
        raise _Refused(f"{where} has no `to`")
    if isinstance(to, str) and not _E164(to):
        raise _Refused(f"{where}: to must be an E.164 number (+ and up to 15 digits), got {to!r}")
    try:
        _check_arguments(given)
    except (TypeError, ValueError) as exc:
        raise _Refused(f"{where}: {exc}") from None
    media = given.get("media_urls")
    message_type: _pacing.MessageType = "MMS" if given.get("type") == "MMS" or media else "SMS"
    sender = given.get("from_")
    return _Row(where, identity, digest, given, message_type, sender, to)


async def _rows_of(rows: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]]) -> AsyncIterator[object]:
    """An async iterator over rows given either way (a sync iterable yields to the event loop now
    and then, so that sends go on while it is read)."""
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
        return
    for count, row in enumerate(rows, 1):
        yield row
        if count % 256 == 0:
            await anyio.lowlevel.checkpoint()


def _limit_wait(error: APIStatusError) -> float:
    """Seconds until the request limit resets: the answer's x-ratelimit-reset (its rate_limit, read
    as the client's retries read it), else its Retry-After in seconds; else a second."""
    limit = error.rate_limit
    seconds = limit.reset if limit is not None else None
    if seconds is None:
        seconds = header_seconds(error.headers.get("retry-after"))
    return _DEFAULT_LIMIT_WAIT if seconds is None else seconds


def _error_code(error: APIStatusError) -> str | None:
    return error.errors[0].code if error.errors else None


def _backoff(attempt: int) -> float:
    return float(min(_BACKOFF_FIRST * 2 ** (attempt - 1), _BACKOFF_MOST))


def _checked_rate(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a number of messages per second above 0 (math.inf: no limit), got {value!r}")
    return float(value)


def _checked_count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int of at least 1, got {value!r}")
    return value


@dataclass(slots=True)
class _Counters:
    done: int = 0
    accepted: int = 0
    failed: int = 0
    sent: int = 0
    duplicates: int = 0
    max_wait: float | None = None
    sends: collections.deque[float] = field(default_factory=collections.deque)


class Campaign:
    """One run of a campaign over `rows`, recorded in `journal` (a file path; made if missing).

    `client`: an AsyncTelnyx (or a Telnyx, whose sends run in worker threads). `name`: the
    campaign's, kept in the journal (a journal of another name is refused). `rate`: messages per
    second over the campaign (default: the account's 50 SMS/s and 15 MMS/s); `sender_rate`: per
    sender (default: by the kind of `from`); math.inf for either: no limit. `max_queue_wait`: the
    queue wait (seconds) a sender is held under. `resend_unknown`: re-send rows left `unknown`.
    `total`: the number of rows, for progress (default len(rows) where it has one). `progress`:
    called with a Progress each time a row is settled (in the run's event loop, so it should be
    quick: a progress bar's update; it may call stop()). `clock`: the engine's time
    (telnyx_messages.testing's FakeClock in tests). `window`, `max_in_flight`: rows held at once,
    requests at once.

    `await campaign.run()` (or `campaign.run_sync()`) sends and returns a Report; `dry_run()` (or
    `dry_run_sync()`) reads the rows and returns a Plan, sending nothing and touching no journal.
    A Campaign reads its rows once: for another run, make another with the same journal.

    Interrupting: stop() (from the event loop: a progress callback, a task, a loop signal handler)
    ends a run cleanly: the requests in flight are answered and recorded, the rows left stay
    `pending`, and the Report's stop says "interrupted". run_sync() does that on Ctrl-C itself.
    Cancelling run() (or a second Ctrl-C) leaves the journal consistent too: rows whose requests
    were in flight stay `sending`, and the next run re-sends them with their key."""

    def __init__(
        self,
        client: AsyncTelnyx | Telnyx | None,
        rows: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]],
        journal: str | os.PathLike[str] | None = None,
        *,
        name: str | None = None,
        rate: float | None = None,
        sender_rate: float | None = None,
        max_queue_wait: float = DEFAULT_MAX_QUEUE_WAIT,
        resend_unknown: bool = False,
        total: int | None = None,
        progress: Callable[[Progress], object] | None = None,
        clock: Clock | None = None,
        window: int = DEFAULT_WINDOW,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    ) -> None:
        if client is not None and not isinstance(client, AsyncTelnyx | Telnyx):
            raise TypeError(f"client must be an AsyncTelnyx or a Telnyx, got {type(client).__name__}")
        if not isinstance(rows, Iterable | AsyncIterable) or isinstance(rows, str | bytes | Mapping):
            raise TypeError(f"rows must be an iterable of dicts of send arguments, got {type(rows).__name__}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str, got {type(name).__name__}")
        if isinstance(max_queue_wait, bool) or not isinstance(max_queue_wait, int | float) or not max_queue_wait > 0:
            raise ValueError(f"max_queue_wait must be a number of seconds above 0, got {max_queue_wait!r}")
        if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 0):
            raise ValueError(f"total must be an int of at least 0, got {total!r}")
        self._client = client
        self._rows = rows
        self._journal_path = journal
        self._name = name
        self._rate = _checked_rate("rate", rate)
        self._sender_rate = _checked_rate("sender_rate", sender_rate)
        self._max_queue_wait = float(max_queue_wait)
        self._resend_unknown = bool(resend_unknown)
        if total is None:
            try:
                total = len(rows)  # type: ignore[arg-type]
            except TypeError:
                total = None
        self._total = total
        self._progress = progress
        self._clock: Clock = REAL_CLOCK if clock is None else clock
        self._window = _checked_count("window", window)
        self._max_in_flight = _checked_count("max_in_flight", max_in_flight)
        self._used = False
        self._stop: Stop | None = None
        self._fatal: BaseException | None = None
        self._wake: anyio.Event | None = None
        self._sleep_scope: anyio.CancelScope | None = None

    def parameters(self) -> dict[str, Any]:
        """The settings a journal records of a run."""
        return {
            "rate": self._rate,
            "sender_rate": self._sender_rate,
            "max_queue_wait": self._max_queue_wait,
            "resend_unknown": self._resend_unknown,
        }

    def _take_rows(self) -> Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]]:
        if self._used:
            raise CampaignError("a Campaign reads its rows once: make another (with the same journal) to run again")
        self._used = True
        return self._rows

    # --- stopping ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the run: nothing more is sent, the requests in flight finish and are recorded, and
        run() returns a Report whose stop says "interrupted" (the rows left are `pending`). Call it
        from the run's event loop (a signal handler of the loop, a task)."""
        self._halt(Stop("interrupted", "interrupted: the rows not sent are pending; run again to send them"))

    def _halt(self, stop: Stop) -> None:
        if self._stop is None:
            self._stop = stop
        if self._sleep_scope is not None:
            self._sleep_scope.cancel()
        self._changed()

    def _changed(self) -> None:
        if self._wake is not None:
            self._wake.set()
            self._wake = anyio.Event()

    # --- dry run -----------------------------------------------------------------------------

    async def dry_run(self) -> Plan:
        """Read every row and check it as a run would; count messages, SMS parts, senders and the
        time the pacing implies. Nothing is sent, no journal is read or written; memory stays bounded
        (the rows are read one at a time; duplicates are looked for among the first
        DUPLICATES_TRACKED identities only)."""
        pacer = _pacing.Pacer(self._rate, self._sender_rate, self._max_queue_wait)
        rows = messages = refused = parts = duplicates = 0
        seen: dict[int, int] = {}  # hash(identity): hash(digest), for the first DUPLICATES_TRACKED
        refusals: list[Refusal] = []
        by_type: collections.Counter[str] = collections.Counter()
        senders: collections.Counter[str] = collections.Counter()
        async for given in _rows_of(self._take_rows()):
            rows += 1
            try:
                row = check_row(given, rows)
            except _Refused as refusal:
                refused += 1
                if len(refusals) < _REFUSALS_KEPT:
                    refusals.append(Refusal(rows, _identity_of(given), refusal.reason, _where(given, rows)))
                continue
            digest = seen.get(hash(row.identity))
            if digest is None and len(seen) < DUPLICATES_TRACKED:
                seen[hash(row.identity)] = hash(row.digest)
            elif digest == hash(row.digest):
                duplicates += 1
                continue
            elif digest is not None:
                refused += 1
                if len(refusals) < _REFUSALS_KEPT:
                    reason = (
                        f"{row.where}: id {row.identity!r} was given before with other content "
                        "(a run stops at it: RowConflictError)"
                    )
                    refusals.append(Refusal(rows, row.identity, reason, row.where))
                continue
            messages += 1
            by_type[row.message_type] += 1
            senders[_sender_name(row)] += 1
            text = row.arguments.get("text")
            parts += count_parts(text).parts if row.message_type == "SMS" and isinstance(text, str) else 1
            for gate in pacer.gates(row.message_type, row.sender):
                gate.planned += 1
        return Plan(
            rows=rows,
            messages=messages,
            refused=refused,
            refusals=tuple(refusals),
            duplicates=duplicates,
            parts=parts,
            by_type=dict(by_type),
            senders=dict(senders),
            seconds=_pacing.implied_seconds(pacer.all_gates()),
        )

    def dry_run_sync(self) -> Plan:
        """dry_run() from synchronous code (runs its own event loop)."""
        return asyncio.run(self.dry_run())

    # --- run ---------------------------------------------------------------------------------

    def run_sync(self, *, stop_on_interrupt: bool = True) -> Report:
        """run() from synchronous code (runs its own event loop).

        Ctrl-C (SIGINT, in the main thread) stops the run as stop() does: nothing more is sent, the
        requests in flight finish and are recorded, and the Report's stop says "interrupted" (the rows
        left `pending`; a rerun with the same journal sends them). A second Ctrl-C does not wait for
        the requests in flight: KeyboardInterrupt, the journal consistent all the same (rows in flight
        stay `sending`, re-sent with their key by the next run). stop_on_interrupt=False: Ctrl-C is
        the second kind at once."""
        return asyncio.run(self._run_interruptible() if stop_on_interrupt else self.run())

    async def _run_interruptible(self) -> Report:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        presses = 0

        def interrupted() -> None:
            nonlocal presses
            presses += 1
            if presses == 1:
                self.stop()
            elif task is not None:
                task.cancel()

        try:
            loop.add_signal_handler(signal.SIGINT, interrupted)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread; no such handlers (Windows)
            return await self.run()
        try:
            return await self.run()
        except asyncio.CancelledError:
            if presses > 1:
                raise KeyboardInterrupt from None
            raise
        finally:
            loop.remove_signal_handler(signal.SIGINT)

    async def run(self) -> Report:
        """Send every row not yet settled in the journal, paced; return the Report. Cancelling it
        leaves the journal consistent, as stop() does, without a Report."""
        if self._client is None:
            raise CampaignError("a run needs a client (only dry_run() goes without one)")
        if self._journal_path is None:
            raise CampaignError("a run needs a journal: a file path, made if it does not exist")
        rows = self._take_rows()
        started = self._clock.now()
        with open_journal(self._journal_path, self._name) as journal:
            record = journal.begin(self._name, self.parameters(), self._clock.utc())
            run = _Run(self, journal, record, started)
            await run.go(rows)
            counts = journal.counts()
        if self._fatal is not None:
            raise self._fatal
        return Report(
            campaign_id=record.campaign_id,
            name=record.name,
            rows=sum(counts.values()),
            accepted=counts["accepted"],
            pending=counts["pending"] + counts["sending"],
            failed=counts["failed"],
            unknown=counts["unknown"],
            stop=self._stop,
            elapsed=self._clock.now() - started,
            sent=run.counters.sent,
            accepted_now=run.counters.accepted,
            max_wait_seconds=run.counters.max_wait,
        )


def _identity_of(given: object) -> str:
    if isinstance(given, Mapping) and given.get("id") not in (None, ""):
        return str(given["id"])
    try:
        return "sha256:" + hashlib.sha256(_canonical(dict(given)).encode()).hexdigest()  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "(not a row)"


class _Run:
    """One run's state: the rows read and not settled, queued per sender or in flight."""

    def __init__(self, campaign: Campaign, journal: CampaignJournal, record: CampaignRecord, started: float) -> None:
        self.campaign = campaign
        self.journal = journal
        self.record = record
        self.clock = campaign._clock
        self.started = started
        self.pacer = journal.pacer(campaign._rate, campaign._sender_rate, campaign._max_queue_wait)
        self.queues: dict[str, collections.deque[_Row]] = {}
        self.active: set[str] = set()  # identities queued or in flight
        self.held = 0  # rows queued or in flight
        self.in_flight = 0
        self.counters = _Counters()
        self.position = 0
        self.hold_until: float | None = None
        self.slots_until = -math.inf  # the last shared slot taken (the campaign's clock)

    # --- reading -------------------------------------------------------------------------------

    def admit(self, given: object) -> None:
        """A row read: settled at once (refused, already done, a duplicate) or queued to send."""
        self.position += 1
        journal = self.journal
        try:
            row = check_row(given, self.position)
        except _Refused as refusal:
            identity = _identity_of(given)
            known = journal.known(identity)
            if known is None:
                recipient = given.get("to") if isinstance(given, Mapping) else None
                journal.add(
                    identity,
                    identity,
                    idempotency_key(self.record.campaign_id, identity),
                    recipient if isinstance(recipient, str) else None,
                    None,
                    state="failed",
                    error_code="refused",
                    error_detail=refusal.reason,
                )
                self.counters.failed += 1
            self.settled()
            return
        row.key = idempotency_key(self.record.campaign_id, row.identity)
        known = journal.known(row.identity)
        if known is not None and known.digest != row.digest:  # an earlier row of this list's, or a rerun's
            raise RowConflictError(
                f"{row.where}: the journal {journal.path} holds row id {row.identity!r} with other content; "
                "a journal belongs to one list of rows (give the changed row another id, or use another journal)"
            )
        if row.identity in self.active:
            self.counters.duplicates += 1
            self.settled()
            return
        if known is None:
            journal.add(row.identity, row.digest, row.key, row.recipient, row.sender, arguments=row.arguments)
        elif not self.to_send(known):
            self.settled()
            return
        else:
            row.first_attempt_at = known.first_attempt_at
        self.enqueue(row)

    def to_send(self, known: Known) -> bool:
        if known.state in ("pending", "sending"):
            return True
        return known.state == "unknown" and self.campaign._resend_unknown

    def enqueue(self, row: _Row, *, front: bool = False) -> None:
        if not row.gates:
            row.gates = self.pacer.gates(row.message_type, row.sender)
            self.active.add(row.identity)
            self.held += 1
        queue = self.queues.get(row.sender or "")
        if queue is None:
            queue = self.queues[row.sender or ""] = collections.deque()
        if front:
            queue.appendleft(row)
        else:
            queue.append(row)

    def settled(self, row: _Row | None = None) -> None:
        """A row's fate for this run is known."""
        if row is not None:
            self.active.discard(row.identity)
            self.held -= 1
        self.counters.done += 1
        self.journal.commit_if_older(_COMMIT_EVERY)
        self.report_progress()

    def report_progress(self) -> None:
        callback = self.campaign._progress
        if callback is None:
            return
        now = self.clock.now()
        sends = self.counters.sends
        while sends and sends[0] < now - _RATE_SPAN:
            sends.popleft()
        span = min(_RATE_SPAN, now - self.started)
        held = self.hold_until - now if self.hold_until is not None and self.hold_until > now else None
        callback(
            Progress(
                done=self.counters.done,
                total=self.campaign._total,
                accepted=self.counters.accepted,
                failed=self.counters.failed,
                rate=len(sends) / span if span > 0 else 0.0,
                max_wait_seconds=self.counters.max_wait,
                elapsed=now - self.started,
                held_until=held,
            )
        )

    # --- the loop ------------------------------------------------------------------------------

    async def go(self, rows: Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]]) -> None:
        campaign = self.campaign
        campaign._wake = anyio.Event()
        reader = _rows_of(rows).__aiter__()
        failure: Exception | None = None
        try:
            async with anyio.create_task_group() as tasks:
                try:
                    exhausted = await self.dispatch(reader, tasks)
                except Exception as exc:  # a row conflict, a journal error: raised once the sends in flight end
                    failure = exc
                    exhausted = True
                while self.in_flight:
                    await self.wait_change()
            if failure is not None:
                raise failure
            if campaign._stop is not None and campaign._stop.reason == "spend_limit" and not exhausted:
                await self.record_rest(reader)
        finally:
            campaign._wake = None

    async def dispatch(self, reader: AsyncIterator[object], tasks: anyio.abc.TaskGroup) -> bool:
        """Read rows into the window and start their sends as the gates let them go, until the rows
        are done or the campaign stops; whether every row was read."""
        campaign = self.campaign
        exhausted = False
        while campaign._stop is None:
            while not exhausted and self.held < campaign._window and campaign._stop is None:
                chunk: list[object] = []
                try:
                    while len(chunk) < min(self.journal.read_ahead, campaign._window - self.held):
                        chunk.append(await reader.__anext__())
                except StopAsyncIteration:
                    exhausted = True
                self.journal.expect([_identity_of(given) for given in chunk])
                for given in chunk:
                    if campaign._stop is not None:  # stopped by an earlier row of the chunk: the rest is not read
                        break
                    self.admit(given)
            if campaign._stop is not None:
                break
            head = self.earliest()
            if head is None:
                if exhausted and self.in_flight == 0:
                    if not await self.more():
                        break
                    continue
                await self.wait_change()
                continue
            _, at = head
            now = self.clock.now()
            if at > now:
                await self.sleep(at - now)
                continue
            if self.in_flight > campaign._max_in_flight - min(self.journal.batch, campaign._max_in_flight):
                await self.wait_change()  # a batch's worth of requests free first: one mark, one slot taking each
                continue
            if self.slots_until - _AHEAD > now:  # the shared slots taken last are still well ahead
                await self.sleep(self.slots_until - _AHEAD - now)
                continue
            self.start(self.ready(now), tasks)
            # The sends run up to their requests before the clock moves on (a virtual clock's sleep
            # advances time at once: a send started before it must leave at its own time).
            await anyio.lowlevel.checkpoint()
        return exhausted

    def ready(self, now: float) -> list[_Row]:
        """The rows the gates let go at `now`, each taken through its gates, up to the free requests."""
        batch: list[_Row] = []
        room = self.campaign._max_in_flight - self.in_flight
        while len(batch) < room:
            head = self.earliest()
            if head is None or head[1] > now:
                break
            row = head[0]
            self.queues[row.sender or ""].popleft()
            if self.expired(row):
                continue
            _pacing.take(row.gates, now)
            batch.append(row)
        return batch

    def start(self, batch: list[_Row], tasks: anyio.abc.TaskGroup) -> None:
        """The sends of `batch`, started once the journal holds them `sending`."""
        if not batch:
            return
        at_utc = self.clock.utc().timestamp()
        marked = self.journal.sending([row.identity for row in batch], at_utc)  # in the file before the requests leave
        if marked is not None:  # the rows another sender holds are that sender's to send
            kept = set(marked)
            for row in batch:
                if row.identity not in kept:
                    self.dropped(row)
            batch = [row for row in batch if row.identity in kept]
        delays = self.journal.slots([(row.message_type, row.sender) for row in batch])
        now = self.clock.now()
        if delays:
            self.slots_until = now + max(delays)
        for index, row in enumerate(batch):
            if row.first_attempt_at is None:
                row.first_attempt_at = at_utc
            row.attempts += 1
            self.counters.sent += 1
            self.in_flight += 1
            tasks.start_soon(self.send, row, None if delays is None else now + delays[index])

    def dropped(self, row: _Row) -> None:
        """A row another sender holds: out of this run's window, that sender sends it."""
        self.active.discard(row.identity)
        self.held -= 1

    async def more(self) -> bool:
        """Every row read and none in flight: the rows other senders left (a dead one's, once its
        lease is over) queued to send; whether the run goes on (rows queued, or rows still in another
        sender's hands, waited for)."""
        journal = self.journal
        claimed = journal.claim(self.campaign._window, resend_unknown=self.campaign._resend_unknown)
        for found in claimed:
            self.position += 1
            if found.arguments is None:  # recorded without its arguments (not a sender's): left to its lease
                continue
            try:
                row = check_row(dict(found.arguments), self.position)
            except _Refused as refusal:
                journal.failed(found.identity, "refused", refusal.reason)
                self.counters.failed += 1
                self.counters.done += 1
                continue
            row.identity, row.digest, row.key = found.identity, found.digest, found.idempotency_key
            row.first_attempt_at = found.first_attempt_at
            self.enqueue(row)
        if self.held:
            return True
        if not journal.others_sending():
            return False
        journal.commit_if_older(_COMMIT_EVERY)
        await self.sleep(_OTHERS_POLL)
        return True

    def earliest(self) -> tuple[_Row, float] | None:
        best: tuple[_Row, float] | None = None
        for queue in self.queues.values():
            if queue:
                row = queue[0]
                at = max(_pacing.ready_at(row.gates), row.not_before)
                if best is None or at < best[1]:
                    best = (row, at)
        return best

    def expired(self, row: _Row) -> bool:
        """A row first sent longer ago than the edge keeps keys (less a margin) is not re-sent
        blindly: `unknown`, unless the campaign resends those."""
        if row.first_attempt_at is None or self.campaign._resend_unknown:
            return False
        age = self.clock.utc().timestamp() - row.first_attempt_at
        if age <= REPLAY_WINDOW - REPLAY_MARGIN:
            return False
        hours = age / 3600
        self.journal.unknown(
            row.identity,
            f"first sent {hours:.1f} hours ago and never confirmed; the API's edge keeps a key 24 hours, so a "
            "new send could double it: re-sent only with resend_unknown",
        )
        self.settled(row)
        return True

    async def wait_change(self) -> None:
        wake = self.campaign._wake
        assert wake is not None
        await wake.wait()

    async def sleep(self, seconds: float) -> None:
        with anyio.CancelScope() as scope:
            self.campaign._sleep_scope = scope
            try:
                await self.clock.sleep(seconds)
            finally:
                self.campaign._sleep_scope = None

    async def record_rest(self, reader: Any) -> None:
        """After the spend limit: the rows not read yet recorded (pending, or failed if refused), so
        that the journal counts what is left."""
        while True:
            try:
                given = await reader.__anext__()
            except StopAsyncIteration:
                return
            self.position += 1
            try:
                row = check_row(given, self.position)
            except _Refused as refusal:
                identity = _identity_of(given)
                if self.journal.known(identity) is None:
                    key = idempotency_key(self.record.campaign_id, identity)
                    self.journal.add(
                        identity,
                        identity,
                        key,
                        None,
                        None,
                        state="failed",
                        error_code="refused",
                        error_detail=refusal.reason,
                    )
                continue
            if self.journal.known(row.identity) is None:
                key = idempotency_key(self.record.campaign_id, row.identity)
                self.journal.add(row.identity, row.digest, key, row.recipient, row.sender, arguments=row.arguments)

    # --- one send ------------------------------------------------------------------------------

    async def send(self, row: _Row, at: float | None = None) -> None:
        try:
            try:
                result = await self.request(row, at)
            except APIStatusError as error:
                self.refused(row, error)
            except (APIConnectionError, APIResponseValidationError) as error:
                self.unanswered(row, None, str(error))
            else:
                data = result.data
                message_id = None if data is None or data.id is None else str(data.id)
                wait = None if data is None else data.wait_seconds
                self.journal.accepted(row.identity, message_id, wait)
                now = self.clock.now()
                self.counters.accepted += 1
                self.counters.sends.append(now)
                if wait is not None:
                    if self.counters.max_wait is None or wait > self.counters.max_wait:
                        self.counters.max_wait = wait
                    if self.pacer.queue_wait(row.sender, wait, now):
                        self.journal.hold(wait - self.campaign._max_queue_wait, row.sender, everyone=False)
                self.settled(row)
        finally:
            self.in_flight -= 1
            self.campaign._changed()

    async def request(self, row: _Row, at: float | None) -> Any:
        """The row's request, sent in its slot under the rates the campaign's senders share (`at`,
        by the campaign's clock; None: the engine's own gates paced it). A slot missed by more than
        _LATE (this process was held up) is not used late, bunched with the other senders' sends
        on time: the row takes another, as often as it takes (a late send on top of the others' is
        what would put a second over the rate: a send never leaves more than _LATE after its slot).
        A synchronous client's thread is started _HANDOFF before the slot and waits for it there: a
        thread's start is late under load, its timer is not."""
        client = self.campaign._client
        while True:
            if at is not None:
                lead = _HANDOFF if isinstance(client, Telnyx) and isinstance(self.clock, RealClock) else 0.0
                now = self.clock.now()
                if at - lead > now:
                    await self.clock.sleep(at - lead - now)
                if self.clock.now() - at > _LATE:
                    at = self.retake(row)
                    continue
            if isinstance(client, AsyncTelnyx):
                return await client.messages.send(**row.arguments, idempotency_key=row.key, max_retries=0)
            assert client is not None
            result = await anyio.to_thread.run_sync(functools.partial(self.request_in_thread, client, row, at))
            if result is not None:
                return result
            at = self.retake(row)

    def request_in_thread(self, client: Telnyx, row: _Row, due: float | None) -> Any:
        """A synchronous client's request at its slot (`due`; None: at once), unless the slot is
        missed by more than _LATE (None: then another is taken)."""
        if due is not None:
            wait = due - self.clock.now()
            if wait > 0 and isinstance(self.clock, RealClock):
                time.sleep(wait)
            if self.clock.now() - due > _LATE:
                return None
        return client.messages.send(**row.arguments, idempotency_key=row.key, max_retries=0)

    def retake(self, row: _Row) -> float | None:
        """Another shared slot for a row that missed its own (by the campaign's clock)."""
        taken = self.journal.slots([(row.message_type, row.sender)])
        return None if taken is None else self.clock.now() + taken[0]

    def refused(self, row: _Row, error: APIStatusError) -> None:
        code = _error_code(error)
        detail = str(error)
        status = error.status_code
        if status == 429:
            self.journal.pending(row.identity, code, detail)  # a 429 is an answer: the message was not taken
            if code == SPEND_LIMIT_CODE:
                resets = midnight_after(self.clock.utc())  # by the campaign's clock (a FakeClock's in tests)
                self.campaign._halt(
                    Stop(
                        "spend_limit",
                        "the messaging profile's daily spend limit is reached; it resets at 00:00 UTC "
                        f"({resets:%Y-%m-%d %H:%M} UTC): run again then to send the rows left",
                        resets,
                    )
                )
                self.settled(row)
                return
            now = self.clock.now()
            if code == QUEUE_FULL_CODE:  # the sender's queue holds 4 hours: it waits, the others go on
                held = min(self.campaign._max_queue_wait, QUEUE_FULL_HOLD)
                self.pacer.sender_gate(row.sender).hold(now + held)
                self.journal.hold(held, row.sender, everyone=False)
            else:  # the request limit (10011), or a 429 of no code this knows: every send waits
                until = now + _limit_wait(error)
                self.hold_until = until if self.hold_until is None else max(self.hold_until, until)
                self.pacer.hold_all(until)
                self.journal.hold(until - now)
            self.enqueue(row, front=True)
            return
        if isinstance(error, AuthenticationError):
            self.journal.pending(row.identity, code, detail)
            self.campaign._fatal = error
            self.campaign._halt(Stop("interrupted", f"stopped: {detail}"))
            self.settled(row)
            return
        if status in (408, 409) or status >= 500:
            self.unanswered(row, code, detail)
            return
        self.journal.failed(row.identity, code, detail)
        self.counters.failed += 1
        self.settled(row)

    def unanswered(self, row: _Row, code: str | None, detail: str) -> None:
        """No answer that settles the row (no response, a 5xx, a 409 that outlasted the client's
        waits): tried again after a backoff with the same key, up to MAX_ATTEMPTS in a run; then
        left `sending` for the next run."""
        self.journal.unanswered(row.identity, code, detail)
        if row.attempts >= MAX_ATTEMPTS or self.campaign._stop is not None:
            self.settled(row)
            return
        row.not_before = self.clock.now() + _backoff(row.attempts)
        self.enqueue(row, front=True)


# --- reading a journal ---------------------------------------------------------------------------


def status(journal: str | os.PathLike[str], *, name: str | None = None) -> Status:
    """The campaign and counts of a journal (FileNotFoundError if there is none; JournalError if the
    file is not one). `pending` counts rows sent without an answer taken too (`sending`). A
    PostgreSQL URL holds many campaigns: `name` picks one."""
    with open_existing(journal, name) as opened:
        record = opened.campaign()
        if record is None:
            raise JournalError(f"{opened.path} holds no campaign yet")
        counts = opened.counts()
    return Status(
        campaign_id=record.campaign_id,
        name=record.name,
        created_at=record.created_at,
        parameters=record.parameters,
        rows=sum(counts.values()),
        accepted=counts["accepted"],
        pending=counts["pending"] + counts["sending"],
        failed=counts["failed"],
        unknown=counts["unknown"],
    )


def journal_rows(journal: str | os.PathLike[str], *, name: str | None = None) -> Iterator[JournalRow]:
    """Every row of a journal, in the order the campaign first read them (for an export); `name`:
    the campaign's, in a PostgreSQL URL's journal."""
    with open_existing(journal, name) as opened:
        yield from opened.rows()


def __dir__() -> list[str]:
    return list(__all__)
