"""Delivery receipts from the fake: `FakeTelnyx.deliver_receipts` makes the `message.sent` and
`message.finalized` webhooks of the messages it accepted, with each recipient's outcome as the test
sets it (Outcomes, Failure), signs them with the fake's key, and delivers them as Telnyx does: to a
URL, or into an ASGI or WSGI app called in process, redelivered when not acknowledged in time.

The rules, as Telnyx documents them and the fake keeps them:

- A message's `message.sent` gives each recipient the status `sent` (its `sent_at`: when the fake's
  queue sent it, its acceptance plus its wait, on the fake's clock); its `message.finalized` gives
  each recipient's final status, with the errors of those that failed in the payload's `errors`
  (its `completed_at`: `final_after` seconds later). Statuses are the spec's: a Failure names one
  the spec lists after `sent` (every status of a delivery update is the spec's, in its order).
- A delivery is acknowledged by a 2xx answer within `timeout` seconds (Telnyx: 2); another answer,
  none, or one too late is a failed try, tried again up to `tries` in all (Telnyx: 3), then at the
  failover. Tries go in rounds: every delivery's first try in order, then the second tries of
  those that failed, and so on: a retry comes after the deliveries behind it. Each try's body is
  the event with `meta.attempt` (and `meta.delivered_to`, a URL's) for that try, signed anew.
- Outcomes are apportioned exactly: of N recipients, a share s of them is round(s * N) (largest
  remainders, so that every recipient has one), which ones drawn by the seed; duplicates and
  reorders too. Same messages, same settings, same seed: the same statuses, the same order.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import inspect
import io
import math
import random
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple
from urllib.parse import urlsplit

from .._receipts import FINALIZED_EVENT, SENT_STATUS, StatusOrder, status_order

if TYPE_CHECKING:
    from ._fake import FakeTelnyx

__all__ = [
    "ASGIApp",
    "Failure",
    "Kept",
    "Outcomes",
    "ReceiptEvent",
    "ReceiptReport",
    "ReceiptTry",
    "RecipientOutcome",
    "WSGIApp",
    "deliver",
]

SENT_EVENT = "message.sent"
DELIVERED: Final = "delivered"  # the API's status of a recipient the message reached

# An ASGI app (Starlette, FastAPI, telnyx_messages.receiver.ASGIReceiver) and a WSGI app (Flask,
# Django, WSGIReceiver), as far as the fake calls them.
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


def _share(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{what} must be a share from 0 to 1, got {value!r}")
    return float(value)


def _final(status: object, order: StatusOrder, what: str) -> str:
    """`status`, refused unless a final status of `order` (the spec's)."""
    finals = [s for s in order.statuses if s in order.final]
    if not isinstance(status, str) or status not in order.statuses:
        raise ValueError(f"{what} {status!r} is not a recipient status the spec lists (final: {', '.join(finals)})")
    if status not in order.final:
        raise ValueError(
            f"{what} {status!r} is not a final status: a message.finalized gives one of {', '.join(finals)}"
        )
    return status


@dataclass(frozen=True)
class Failure:
    """A recipient's failed outcome, for `Outcomes(failed={Failure(...): share})`: its final status
    (one the spec lists after `sent` other than `delivered`: delivery_failed, sending_failed,
    delivery_unconfirmed, expired), and the error the finalized event gives in `errors[]`: its
    `code` (Telnyx's, as 40008 or "40008"; None: no error), `title` (default: the status in
    words) and `detail`."""

    status: str
    code: int | str | None = None
    title: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.status == DELIVERED:
            raise ValueError(
                "Failure status 'delivered' is not a failure: the share delivered is Outcomes(delivered=...)"
            )
        _final(self.status, status_order(), "Failure status")
        code = self.code
        if code is not None:
            text = "" if isinstance(code, bool) else str(code)  # True is no code, though an int
            if not (text.isascii() and text.isdigit()):
                raise ValueError(f"Failure code must be Telnyx's error code, digits (40008), got {code!r}")
            object.__setattr__(self, "code", text)
        for name in ("title", "detail"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"Failure {name} must be a str or None, got {value!r}")

    def errors(self) -> list[dict[str, Any]]:
        """The entries this failure gives the payload's `errors` (none without a code)."""
        if self.code is None:
            return []
        error: dict[str, Any] = {"code": self.code, "title": self.title or self.status.replace("_", " ").capitalize()}
        if self.detail is not None:
            error["detail"] = self.detail
        return [error]


Outcome = Failure | Literal["delivered"]


@dataclass(frozen=True)
class Outcomes:
    """What becomes of the recipients of the messages, for `deliver_receipts(outcomes=...)`:
    `failed` maps each Failure to its share of them (0 to 1), `delivered` is the share delivered
    (default: the rest; given, the shares must add up to 1). `numbers` sets the outcome of a
    recipient by its number (a Failure or "delivered"), over the shares, which share out the
    others. `final_after`: seconds from a message's sending to its final status."""

    failed: Mapping[Failure, float] = field(default_factory=dict)
    delivered: float | None = None
    numbers: Mapping[str, Outcome] = field(default_factory=dict)
    final_after: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.failed, Mapping):
            raise TypeError(f"Outcomes failed must map each Failure to its share, got {type(self.failed).__name__}")
        failed = {}
        for failure, share in self.failed.items():
            if not isinstance(failure, Failure):
                raise TypeError(f"Outcomes failed keys must be Failures, got {failure!r}")
            failed[failure] = _share(share, f"Outcomes failed[{failure!r}]")
        total = math.fsum(failed.values())
        if total > 1 + 1e-9:
            raise ValueError(f"Outcomes failed shares add up to {total:g}, more than 1")
        if self.delivered is None:
            delivered = max(0.0, 1 - total)
        else:
            delivered = _share(self.delivered, "Outcomes delivered")
            if abs(delivered + total - 1) > 1e-9:
                raise ValueError(
                    f"Outcomes shares add up to {delivered + total:g} (delivered {delivered:g}, failed {total:g}):"
                    " they must make 1 (leave delivered out for the rest)"
                )
        if not isinstance(self.numbers, Mapping):
            raise TypeError(f"Outcomes numbers must map numbers to outcomes, got {type(self.numbers).__name__}")
        for number, outcome in self.numbers.items():
            if not isinstance(number, str) or not number:
                raise TypeError(f"Outcomes numbers keys must be phone numbers (str), got {number!r}")
            if outcome != DELIVERED and not isinstance(outcome, Failure):
                raise TypeError(f"Outcomes numbers[{number!r}] must be a Failure or 'delivered', got {outcome!r}")
        after = self.final_after
        if isinstance(after, bool) or not isinstance(after, (int, float)) or not 0 <= after < math.inf:
            raise ValueError(f"Outcomes final_after must be a number of seconds >= 0, got {after!r}")
        object.__setattr__(self, "failed", MappingProxyType(failed))
        object.__setattr__(self, "delivered", delivered)
        object.__setattr__(self, "numbers", MappingProxyType(dict(self.numbers)))
        object.__setattr__(self, "final_after", float(after))

    def assign(self, numbers: list[str], chance: random.Random) -> list[Outcome]:
        """An outcome for each recipient (by its number), in their order: `numbers`' own, and the
        shares apportioned exactly over the others, drawn by `chance`."""
        free = [number for number in numbers if number not in self.numbers]
        kinds: list[Outcome] = [DELIVERED, *self.failed]
        assert self.delivered is not None  # set in __post_init__
        counts = _apportion([self.delivered, *self.failed.values()], len(free))
        pool = [kind for kind, count in zip(kinds, counts, strict=True) for _ in range(count)]
        chance.shuffle(pool)
        drawn = iter(pool)
        return [self.numbers[number] if number in self.numbers else next(drawn) for number in numbers]


def _apportion(shares: list[float], total: int) -> list[int]:
    """`total` split by `shares` (adding up to 1) in whole counts that add up to `total`: each its
    share's floor, and one more to those with the largest remainders (the first of equals)."""
    exact = [share * total for share in shares]
    counts = [math.floor(value) for value in exact]
    rest = total - sum(counts)
    ranked = sorted(range(len(shares)), key=lambda index: (counts[index] - exact[index], index))
    for index in ranked[:rest]:
        counts[index] += 1
    return counts


# --- what a delivery reports -----------------------------------------------------------------------


class RecipientOutcome(NamedTuple):
    """A recipient's final status and the codes of its own errors (its Failure's). The finalized
    event's `errors` are the message's: those of all its recipients, each once (a receiver that
    gives each recipient the message's errors reads a group message's codes on all of them)."""

    status: str
    error_codes: tuple[str, ...]


@dataclass(frozen=True)
class ReceiptEvent:
    """An event delivered: its id, type and message, when it occurred (the fake's clock), and each
    recipient's status in it."""

    event_id: str
    event_type: str
    message_id: str
    occurred_at: datetime.datetime
    statuses: Mapping[str, str]


@dataclass(frozen=True)
class ReceiptTry:
    """One POST of an event: its `attempt` (meta.attempt), where it went (`target`: the URL, or
    "asgi:/path" / "wsgi:/path" for an app), the status answered (None: no answer), the seconds
    it took, and why it failed (None if acknowledged)."""

    event_id: str
    event_type: str
    message_id: str
    attempt: int
    target: str
    status: int | None
    seconds: float
    error: str | None

    @property
    def ok(self) -> bool:
        """Acknowledged: 2xx within the timeout."""
        return self.error is None


@dataclass(frozen=True)
class ReceiptReport:
    """What deliver_receipts did: `events` (each distinct event, in the order first posted),
    `tries` (every POST, in order), `outcomes` ((message id, recipient number) -> its final status
    and error codes, as the finalized events give them)."""

    events: tuple[ReceiptEvent, ...]
    tries: tuple[ReceiptTry, ...]
    outcomes: Mapping[tuple[str, str], RecipientOutcome]

    @property
    def acknowledged(self) -> frozenset[str]:
        """The ids of the events some try of which was acknowledged."""
        return frozenset(attempt.event_id for attempt in self.tries if attempt.ok)

    @property
    def unacknowledged(self) -> tuple[str, ...]:
        """The ids of the events no try of which was acknowledged, in the order of `events`."""
        acknowledged = self.acknowledged
        return tuple(event.event_id for event in self.events if event.event_id not in acknowledged)

    @property
    def ok(self) -> bool:
        """Every event acknowledged."""
        return not self.unacknowledged

    def tries_of(self, event_id: str) -> list[ReceiptTry]:
        """The tries of one event, in order (of each of its copies, where it was duplicated)."""
        return [attempt for attempt in self.tries if attempt.event_id == event_id]

    def counts(self) -> dict[str, int]:
        """How many recipients ended at each final status (those with any), as the spec orders them."""
        found: dict[str, int] = {}
        for outcome in self.outcomes.values():
            found[outcome.status] = found.get(outcome.status, 0) + 1
        order = status_order().statuses  # every status a recipient ends at is one of them
        return dict(sorted(found.items(), key=lambda item: order.index(item[0])))


# --- the events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kept:
    """The receipts made for one message (made once: delivered again, they are the same events):
    its events in the order they occurred, each with its schema, and its recipients' outcomes."""

    events: tuple[tuple[Any, dict[str, Any]], ...]  # (the event's schema, the event)
    outcomes: Mapping[str, RecipientOutcome]


def _addressed(recipient: object) -> bool:
    """A recipient as the message lists it: an object with its phone_number (and a status)."""
    return isinstance(recipient, Mapping) and isinstance(recipient.get("phone_number"), str)


def _numbers(document: Mapping[str, Any]) -> list[str]:
    """The numbers of the message's recipients, in order."""
    recipients = document.get("to")
    return [r["phone_number"] for r in recipients if _addressed(r)] if isinstance(recipients, list) else []


def _with_statuses(document: dict[str, Any], statuses: list[str]) -> dict[str, Any]:
    """The message with each recipient (in the order of _numbers) at its status."""
    document = dict(document)  # its `to` replaced, not changed: the caller's stays as it was
    given = iter(statuses)
    if isinstance(document.get("to"), list):
        document["to"] = [{**r, "status": next(given)} if _addressed(r) else r for r in document["to"]]
    return document


def _stamp(moment: datetime.datetime) -> str:
    moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _make(fake: FakeTelnyx, message_id: str, outcomes: list[Outcome], final_after: float) -> Kept:
    """A message's receipts: its message.sent and message.finalized, and the message as the fake
    keeps it afterwards (its recipients' final statuses, errors, sent_at and completed_at)."""
    from ._fake import _out_of_queue

    with fake._lock:
        stored = dict(fake._messages[message_id])  # read, never changed: its `to` is replaced
        accepted, wait, _ = fake._accepted[message_id]
    stored = _out_of_queue(stored, ())
    numbers = _numbers(stored)
    sent_at = accepted + datetime.timedelta(seconds=wait)
    final_at = sent_at + datetime.timedelta(seconds=final_after)
    statuses = [outcome.status if isinstance(outcome, Failure) else DELIVERED for outcome in outcomes]
    errors: list[dict[str, Any]] = []
    for outcome in outcomes:
        for error in outcome.errors() if isinstance(outcome, Failure) else []:
            if error not in errors:
                errors.append(error)
    on_its_way = _with_statuses(stored, [SENT_STATUS] * len(numbers))
    final = _with_statuses(stored, statuses)
    for name, document in (("sent_at", on_its_way), ("sent_at", final), ("completed_at", final)):
        if name in document:
            document[name] = _stamp(sent_at if name == "sent_at" else final_at)
    if "errors" in final:
        final["errors"] = errors
    kept = Kept(
        events=(fake._event(SENT_EVENT, on_its_way, sent_at), fake._event(FINALIZED_EVENT, final, final_at)),
        outcomes={
            number: RecipientOutcome(
                status, tuple(e["code"] for e in outcome.errors()) if isinstance(outcome, Failure) else ()
            )
            for number, status, outcome in zip(numbers, statuses, outcomes, strict=True)
        },
    )
    with fake._lock:
        fake._messages[message_id] = {
            **fake._messages[message_id],
            **{name: final[name] for name in ("to", "errors", "sent_at", "completed_at") if name in final},
        }
    return kept


def _chosen(fake: FakeTelnyx, messages: Iterable[Any] | None, order: StatusOrder) -> list[str]:
    """The ids of the messages to deliver receipts of, checked."""
    for event_type in (SENT_EVENT, FINALIZED_EVENT):
        if event_type not in order.event_types:
            raise ValueError(f"the fake's spec lists no delivery update {event_type!r}: it cannot make receipts")
    with fake._lock:
        if messages is None:
            return [
                message_id
                for message_id, (_, _, scheduled) in fake._accepted.items()
                if not scheduled and message_id not in fake._receipts
            ]
        if isinstance(messages, (str, bytes)):
            raise TypeError("messages must be a list of messages (or ids), not one str")
        chosen = []
        for message in messages:
            message_id = message if isinstance(message, str) else getattr(message, "id", None)
            if not isinstance(message_id, str) or message_id not in fake._accepted:
                raise ValueError(f"messages: the fake accepted no message {message!r}")
            if fake._accepted[message_id][2]:
                raise ValueError(
                    f"messages: {message_id} is scheduled (send_at): the fake never sends it, so no receipts"
                )
            if message_id not in chosen:
                chosen.append(message_id)
        return chosen


# --- where they go --------------------------------------------------------------------------------


@dataclass
class _Answer:
    status: int | None
    seconds: float
    error: str | None


class _URL:
    """POSTs over HTTP, as Telnyx makes them."""

    def __init__(self, url: str, timeout: float) -> None:
        import httpx2

        self.name = self.url = url
        self.timeout = timeout
        self._client = httpx2.Client(timeout=timeout, follow_redirects=False)

    def post(self, body: bytes, headers: dict[str, str]) -> _Answer:
        import httpx2

        started = time.perf_counter()
        try:
            answer = self._client.post(self.url, content=body, headers=headers)
            answer.read()
        except httpx2.TimeoutException:
            return _Answer(None, time.perf_counter() - started, f"no answer within {self.timeout:g} s")
        except httpx2.HTTPError as exc:
            return _Answer(None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
        return _checked(answer.status_code, time.perf_counter() - started, self.timeout)

    def close(self) -> None:
        self._client.close()


def _checked(status: int, seconds: float, timeout: float) -> _Answer:
    if seconds > timeout:
        return _Answer(status, seconds, f"answered {status} after {seconds:.3f} s, past the {timeout:g} s timeout")
    if not 200 <= status < 300:
        return _Answer(status, seconds, f"answered {status}")
    return _Answer(status, seconds, None)


class _InProcess:
    """An app called in process; a call not answered within the timeout is left to finish (as a
    server goes on with a request its client dropped) and waited for at close()."""

    def __init__(self, kind: str, path: str, timeout: float) -> None:
        self.name = f"{kind}:{path}"
        self.url: str | None = None
        self.path = path
        self.timeout = timeout
        self._left: list[concurrent.futures.Future[tuple[int | None, str | None]]] = []

    def _wait(self, future: concurrent.futures.Future[tuple[int | None, str | None]], started: float) -> _Answer:
        try:
            status, error = future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            self._left.append(future)
            return _Answer(None, time.perf_counter() - started, f"no answer within {self.timeout:g} s")
        seconds = time.perf_counter() - started
        if status is None:
            return _Answer(None, seconds, error)
        return _checked(status, seconds, self.timeout)

    def _finish(self) -> None:
        concurrent.futures.wait(self._left, timeout=10 * self.timeout + 5)


def _written(data: bytes) -> None:
    """WSGI's write(), for an app that writes its body: not read (the status is the answer)."""


def _failed(exc: BaseException) -> tuple[None, str]:
    return None, f"the app raised {type(exc).__name__}: {exc}"


class _WSGI(_InProcess):
    def __init__(self, app: WSGIApp, path: str, timeout: float) -> None:
        super().__init__("wsgi", path, timeout)
        self.app = app

    def post(self, body: bytes, headers: dict[str, str]) -> _Answer:
        started = time.perf_counter()
        future: concurrent.futures.Future[tuple[int | None, str | None]] = concurrent.futures.Future()
        # A thread of its own (a daemon: an app that never answers keeps no process from ending).
        threading.Thread(target=lambda: future.set_result(self._call(body, headers)), daemon=True).start()
        return self._wait(future, started)

    def _call(self, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": self.path,
            "QUERY_STRING": "",
            "CONTENT_TYPE": headers["content-type"],  # the fake's headers always give it
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "443",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            if key != "CONTENT_TYPE":  # (the fake's headers give no content-length: CONTENT_LENGTH is counted)
                environ[f"HTTP_{key}"] = value
        started: list[str] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status]
            return _written

        try:
            result = self.app(environ, start_response)
            try:
                for _ in result:
                    pass
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception as exc:
            return _failed(exc)
        if not started:
            return None, "the app answered no status (start_response was not called)"
        return int(started[0].partition(" ")[0]), None

    def close(self) -> None:
        self._finish()


class _ASGI(_InProcess):
    def __init__(self, app: ASGIApp, path: str, timeout: float) -> None:
        super().__init__("asgi", path, timeout)
        self.app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def post(self, body: bytes, headers: dict[str, str]) -> _Answer:
        started = time.perf_counter()
        return self._wait(asyncio.run_coroutine_threadsafe(self._call(body, headers), self._loop), started)

    async def _call(self, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "https",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                *((name.lower().encode(), value.encode()) for name, value in headers.items()),  # all ASCII
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 0),
            "server": ("127.0.0.1", 443),
        }
        done = asyncio.Event()
        request = [{"type": "http.request", "body": body, "more_body": False}]  # given once
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            if request:
                return request.pop()
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Mapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            return _failed(exc)
        finally:
            done.set()
        if not status:
            return None, "the app answered no status (no http.response.start)"
        return status[0], None

    def close(self) -> None:
        self._finish()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self._loop.close()


def _target(
    to: object, path: str, interface: Literal["asgi", "wsgi"] | None, timeout: float, what: str
) -> _URL | _WSGI | _ASGI:
    if isinstance(to, str):
        parts = urlsplit(to)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{what} must be an http(s) URL or an ASGI or WSGI app, got {to!r}")
        return _URL(to, timeout)
    if not callable(to):
        raise TypeError(f"{what} must be an http(s) URL or an ASGI or WSGI app, got {type(to).__name__}")
    if interface == "asgi" or (interface is None and _asynchronous(to)):
        return _ASGI(to, path, timeout)
    return _WSGI(to, path, timeout)


def _asynchronous(app: Callable[..., Any]) -> bool:
    """An app told ASGI by its call: a coroutine function, or an object whose __call__ is one."""
    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(type(app).__call__)


# --- delivering -----------------------------------------------------------------------------------


def _checked_settings(
    seed: object, duplicate: object, reorder: object, timeout: object, tries: object, path: object, interface: object
) -> tuple[float, float, float]:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    shares = _share(duplicate, "duplicate"), _share(reorder, "reorder")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    if isinstance(tries, bool) or not isinstance(tries, int) or tries < 1:
        raise ValueError(f"tries must be an int >= 1, got {tries!r}")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"path must start with '/', got {path!r}")
    if interface not in (None, "asgi", "wsgi"):
        raise ValueError(f"interface must be 'asgi', 'wsgi' or None (guessed), got {interface!r}")
    return *shares, float(timeout)


def _for_try(event: dict[str, Any], schema: Any, attempt: int, url: str | None) -> dict[str, Any]:
    """The event as one try delivers it: `meta.attempt` and `meta.delivered_to` where its schema has
    them (delivered_to: the URL; none for an app)."""
    fields = ((schema.get("properties") or {}).get("meta") or {}).get("properties") or {}
    if not fields:
        return event
    meta = dict(event.get("meta") or {})
    if "attempt" in fields:
        meta["attempt"] = attempt
    if "delivered_to" in fields:
        if url is None:
            meta.pop("delivered_to", None)
        else:
            meta["delivered_to"] = url
    return {**event, "meta": meta}


def deliver(
    fake: FakeTelnyx,
    to: str | ASGIApp | WSGIApp,
    *,
    outcomes: Outcomes | None,
    messages: Iterable[Any] | None,
    seed: int,
    duplicate: float,
    reorder: float,
    timeout: float,
    tries: int,
    failover: str | ASGIApp | WSGIApp | None,
    path: str,
    interface: Literal["asgi", "wsgi"] | None,
) -> ReceiptReport:
    """FakeTelnyx.deliver_receipts (its docstring says what each setting does, and gives the
    defaults: every setting is passed here)."""
    duplicate, reorder, timeout = _checked_settings(seed, duplicate, reorder, timeout, tries, path, interface)
    if outcomes is None:
        outcomes = Outcomes()
    elif not isinstance(outcomes, Outcomes):
        raise TypeError(f"outcomes must be an Outcomes, got {type(outcomes).__name__}")
    order = StatusOrder.of(fake.spec.document)
    for failure in [*outcomes.failed, *(o for o in outcomes.numbers.values() if isinstance(o, Failure))]:
        _final(failure.status, order, "Failure status")
    _final(DELIVERED, order, "the delivered status")
    chosen = _chosen(fake, messages, order)
    targets = [_target(to, path, interface, timeout, "to")]
    if failover is not None:
        try:
            targets.append(_target(failover, path, interface, timeout, "failover"))
        except BaseException:
            targets[0].close()
            raise

    # The receipts: those made before kept, the others made now (their outcomes drawn together).
    with fake._lock:
        new = [message_id for message_id in chosen if message_id not in fake._receipts]
        numbers = {message_id: _numbers(fake._messages[message_id]) for message_id in new}
    drawn = iter(
        outcomes.assign([n for message_id in new for n in numbers[message_id]], random.Random(f"{seed}:outcomes"))
    )
    for message_id in new:
        kept = _make(fake, message_id, [next(drawn) for _ in numbers[message_id]], outcomes.final_after)
        with fake._lock:
            fake._receipts.setdefault(message_id, kept)
    with fake._lock:
        receipts = {message_id: fake._receipts[message_id] for message_id in chosen}

    # Their order: as they occurred; a share of the messages' finalized first; a share twice.
    timed = sorted(
        (
            (event["data"]["occurred_at"], index, message_id, schema, event)
            for index, (message_id, kept) in enumerate(receipts.items())
            for schema, event in kept.events
        ),
        key=lambda item: (item[0], item[1]),
    )
    sequence = [(message_id, schema, event) for _, _, message_id, schema, event in timed]
    chance = random.Random(f"{seed}:order")
    for message_id in chance.sample(list(receipts), round(reorder * len(receipts))):
        first, second = (i for i, item in enumerate(sequence) if item[0] == message_id)
        sequence[first], sequence[second] = sequence[second], sequence[first]
    chance = random.Random(f"{seed}:duplicates")
    for item in chance.sample(list(sequence), round(duplicate * len(sequence))):
        place = next(i for i, other in enumerate(sequence) if other is item)
        sequence.insert(chance.randint(place + 1, len(sequence)), item)

    tried: list[ReceiptTry] = []
    attempts = [0] * len(sequence)
    pending = list(range(len(sequence)))
    try:
        for target in targets:
            for _ in range(tries):
                failed = []
                for index in pending:
                    message_id, schema, event = sequence[index]
                    attempts[index] += 1
                    body, headers = fake._signed(_for_try(event, schema, attempts[index], target.url))
                    answer = target.post(body, headers)
                    data = event["data"]
                    tried.append(
                        ReceiptTry(
                            data["id"],
                            data["event_type"],
                            message_id,
                            attempts[index],
                            target.name,
                            answer.status,
                            answer.seconds,
                            answer.error,
                        )
                    )
                    if answer.error is not None:
                        failed.append(index)
                pending = failed
    finally:
        for target in targets:
            target.close()

    seen: dict[str, ReceiptEvent] = {}
    for message_id, _, event in sequence:
        data = event["data"]
        if data["id"] not in seen:
            # Each recipient with a number has its status (_with_statuses gave it one).
            statuses = {r["phone_number"]: r["status"] for r in data["payload"].get("to") or [] if _addressed(r)}
            occurred = datetime.datetime.fromisoformat(data["occurred_at"])
            seen[data["id"]] = ReceiptEvent(data["id"], data["event_type"], message_id, occurred, statuses)
    results = {
        (message_id, number): outcome
        for message_id, kept in receipts.items()
        for number, outcome in kept.outcomes.items()
    }
    return ReceiptReport(tuple(seen.values()), tuple(tried), MappingProxyType(results))
