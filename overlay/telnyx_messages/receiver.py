"""Receive Telnyx's delivery receipts: a webhook receiver that verifies each event, records it in an
SQLite file, then answers, so that what Telnyx delivers is kept once and never lost.

    receiver = Receiver("receipts.db", public_key=KEY, on_event=print)   # or TELNYX_PUBLIC_KEY
    app = ASGIReceiver(receiver)        # uvicorn, Starlette, FastAPI (app.mount("/webhooks/telnyx", app))
    wsgi = WSGIReceiver(receiver)       # Flask, Django, any WSGI server
    answer = receiver.receive(body, headers)   # or the core alone, from any framework's handler
    for delivery in receiver.deliveries():     # each recipient's outcome (Delivery), read a page at a time

Each request: the signature and the timestamp are checked on the raw body (webhooks.verify): 401 for
a signature or a timestamp that fails, 400 for a request not in a webhook's form, never stored. A
verified event is recorded (its id, type, message id, when it occurred, the attempt, the body as
delivered) and only then answered 200; an id recorded before is answered 200 and not recorded again
(Telnyx delivers some events more than once); 503 when it cannot be recorded within `answer_within`
seconds (the file locked or failing), so that Telnyx delivers it again.

Delivery updates (`message.sent`, `message.finalized`: the event types of the spec's delivery-update
webhook) also set each recipient's outcome in `deliveries`: its status (DELIVERY_STATUSES, in the
spec's order; a status never goes back in that order when events arrive out of order), the errors
and their codes, when it occurred. Events of other types are kept too.

`on_event` is called with each new event (its typed model, as webhooks.unwrap gives it) on a thread of
its own once the event is stored: it never delays an answer or turns it into an error (a failure is
logged, on the `telnyx_messages.receiver` logger). It is called at most once per event: an event
stored just before the process stops may miss it; the store is the record.

The store may be a campaign journal (telnyx_messages.campaign): the receiver's tables go beside the
journal's in the same file, `deliveries.message_id` matching the journal's rows.

The store may be PostgreSQL instead: `Receiver("postgresql://user@host/db", ...)` (or postgres://;
psycopg 3, `pip install 'telnyx-messages[postgres]'`) records into the tables of the schema
`telnyx_messages` there, so that many receiver workers (several uvicorn workers, several hosts) share
one store: an event that reaches two workers at once is recorded by one, a duplicate to the other.
Each worker has its own connections and group commit; a lock held past 2/3 of `answer_within` or a
lost connection is a 503 (the next write connects again). `synchronous` is SQLite's: PostgreSQL's
durability is the server's (`synchronous_commit`). Needs PyNaCl
(`pip install 'telnyx-messages[webhooks]'`); servers are the user's (`[receiver]` installs uvicorn).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import json
import logging
import math
import os
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol, TypeVar

from . import _receipts, webhooks
from ._postgres import is_postgres_url
from ._receipts import StoreClosedError, StoreError, Synchronous
from .webhooks import HeadersLike, WebhookEvent

__all__ = [
    "DELIVERY_STATUSES",
    "FINAL_STATUSES",
    "ASGIReceiver",
    "Answer",
    "Delivery",
    "Receiver",
    "StoreClosedError",
    "StoreError",
    "WSGIReceiver",
]

logger = logging.getLogger("telnyx_messages.receiver")

# The statuses a delivery update gives a recipient, in the order of the spec the package ships; the
# final ones: those after `sent`.
DELIVERY_STATUSES: tuple[str, ...] = _receipts.status_order().statuses
FINAL_STATUSES: frozenset[str] = _receipts.status_order().final

MAX_BODY = 1 << 20  # far above any event Telnyx delivers
# The rows deliveries() and event_ids() read at a time: what they hold, however large the store.
_PAGE_ROWS = 500
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Answer:
    """What to answer a webhook request: the HTTP status and a short text. `event_id` is the event's,
    once verified; `new` whether it was recorded now (False: recorded before)."""

    status: int
    text: str
    event_id: str | None = None
    new: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class Delivery:
    """A recipient's latest outcome: the status (one of DELIVERY_STATUSES, or one a later API added),
    whether it is final, the errors the event gave (`errors`, as delivered; `error_codes` their codes),
    when the event occurred, which event it was, and when it was recorded (aware UTC datetimes)."""

    message_id: str
    recipient: str
    status: str
    final: bool
    error_codes: tuple[str, ...]
    errors: tuple[Mapping[str, Any], ...]
    occurred_at: datetime.datetime | None
    event_id: str
    event_type: str | None
    recorded_at: datetime.datetime


def _typed(document: Any) -> WebhookEvent:
    """A verified event's model, as webhooks.unwrap reads it; one its model refuses (it is Telnyx's,
    and kept as delivered) as an UnknownWebhookEvent."""
    try:
        return webhooks._event(document)
    except webhooks.MalformedWebhookError as exc:
        # Only an event of a type the spec lists fails to parse: its data and event type are there.
        logger.warning("a verified event does not parse as its model, kept as delivered: %s", exc)
        return webhooks.UnknownWebhookEvent(document["data"]["event_type"], document)


def _copy(done: concurrent.futures.Future[bool], waiter: asyncio.Future[bool]) -> None:
    """On the loop: the writer's outcome to the request waiting for it (unless it gave up)."""
    if not waiter.done():
        error = done.exception()
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(done.result())


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


def _open(path: str, synchronous: Synchronous, wait: float) -> _receipts.Store:
    """The store at `path`: PostgreSQL's for a postgresql:// (or postgres://) URL, else an SQLite file."""
    if is_postgres_url(path):
        from ._receipts_postgres import PostgresStore

        return PostgresStore(path, lock_timeout=wait)
    return _receipts.SQLiteStore(path, synchronous=synchronous, busy_timeout=wait)


def _utc(epoch: float | None) -> datetime.datetime | None:
    return None if epoch is None else datetime.datetime.fromtimestamp(epoch, datetime.UTC)


class Receiver:
    """The receiver's core: `receive(body, headers)` (or `await receive_async(...)` on an event loop)
    verifies, records and says what to answer. `store` is the SQLite file (made if missing; a
    campaign journal may be given), or a postgresql:// URL (the module's docstring). The public key,
    `public_key` or else TELNYX_PUBLIC_KEY, is checked here: PublicKeyError if missing or malformed,
    MissingDependencyError without PyNaCl; StoreError for a file that cannot be a store, or a
    database that cannot be reached (named without its password). `tolerance`: the seconds a timestamp may be off;
    `answer_within`: the seconds a request waits for its event to be stored before it is answered
    503 (Telnyx waits 2 s); `synchronous`: SQLite's, FULL (an acknowledged event survives a power
    loss) or NORMAL (it survives the process being killed)."""

    def __init__(
        self,
        store: str | os.PathLike[str],
        *,
        public_key: str | None = None,
        tolerance: int = 300,
        on_event: Callable[[WebhookEvent], object] | None = None,
        answer_within: float = 1.5,
        synchronous: Synchronous = "FULL",
    ) -> None:
        webhooks.require_verifier(public_key)
        self._public_key: str = public_key if public_key is not None else os.environ[webhooks.PUBLIC_KEY_ENV]
        if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 0:
            raise ValueError(f"tolerance must be an int of seconds >= 0, got {tolerance!r}")
        if (
            isinstance(answer_within, bool)
            or not isinstance(answer_within, int | float)
            or not 0 < answer_within < math.inf
        ):
            raise ValueError(f"answer_within must be a number of seconds > 0, got {answer_within!r}")
        if on_event is not None and not callable(on_event):
            raise TypeError(f"on_event must be callable, got {type(on_event).__name__}")
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be 'FULL' or 'NORMAL', got {synchronous!r}")
        path = _receipts.store_path(store)
        self.tolerance = tolerance
        self.answer_within = float(answer_within)
        self._order = _receipts.status_order()
        # Waiting on the store's locks takes part of the answer's time, never all of it.
        wait = self.answer_within * 2 / 3
        reader = _open(path, synchronous, wait)
        self.path = reader.name
        self._read_lock = threading.Lock()
        self._reader = reader
        try:
            writer_store = _open(path, synchronous, wait)
        except BaseException:
            reader.close()
            raise
        self._callbacks = (
            _receipts.Callbacks(lambda document: on_event(_typed(document))) if on_event is not None else None
        )
        self._writer = _receipts.Writer(writer_store, self._order, self._new)
        self._writer_db = writer_store
        self._closed = False

    def __repr__(self) -> str:
        return f"<Receiver {self.path!r}>"

    # --- requests --------------------------------------------------------------------------------

    def _check(self, body: bytes, headers: HeadersLike) -> Answer | _receipts.Incoming:
        """The event to record, or the answer refusing the request."""
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError(f"body must be the raw bytes of the request, got {type(body).__name__}")
        raw = bytes(body)
        try:
            document = webhooks.verify(raw, headers, key=self._public_key, tolerance=self.tolerance)
        except (webhooks.InvalidSignatureError, webhooks.TimestampOutOfToleranceError) as exc:
            logger.info("refused a webhook: %s", exc)
            return Answer(401, str(exc))
        except webhooks.WebhookVerificationError as exc:
            logger.info("refused a webhook: %s", exc)
            return Answer(400, str(exc))
        return _receipts.incoming(document, raw, self._order)

    def receive(self, body: bytes, headers: HeadersLike) -> Answer:
        """Verify, record and answer one webhook request (blocking: for threads, as WSGI servers
        run; on an event loop, `await receive_async`)."""
        checked = self._check(body, headers)
        if isinstance(checked, Answer):
            return checked
        try:
            future = self._writer.submit(checked)
            new = future.result(timeout=self.answer_within)
        except Exception as exc:
            return self._unrecorded(checked, exc)
        return self._recorded(checked, new)

    async def receive_async(self, body: bytes, headers: HeadersLike) -> Answer:
        """receive(), on an asyncio event loop: the loop is never blocked by the store."""
        checked = self._check(body, headers)
        if isinstance(checked, Answer):
            return checked
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        timer = loop.call_later(self.answer_within, _expire, waiter)
        try:
            self._writer.submit(checked).add_done_callback(lambda done: loop.call_soon_threadsafe(_copy, done, waiter))
            new = await waiter
        except Exception as exc:
            return self._unrecorded(checked, exc)
        finally:
            timer.cancel()
        return self._recorded(checked, new)

    @staticmethod
    def _recorded(item: _receipts.Incoming, new: bool) -> Answer:
        return Answer(200, "recorded" if new else "duplicate: recorded before", item.event_id, new)

    @staticmethod
    def _unrecorded(item: _receipts.Incoming, exc: Exception) -> Answer:
        if isinstance(exc, TimeoutError | concurrent.futures.TimeoutError):
            logger.warning(
                "event %s not recorded in time: answered 503 (Telnyx delivers it again)", _receipts.shown(item.event_id)
            )
        else:
            logger.warning("event %s not recorded (%s): answered 503", _receipts.shown(item.event_id), exc)
        return Answer(503, "not recorded: deliver it again", item.event_id)

    def _new(self, item: _receipts.Incoming) -> None:
        if self._callbacks is not None:
            self._callbacks.put(item)

    # --- what was recorded -------------------------------------------------------------------------

    def _read(self, read: Callable[[_receipts.Store], list[_T]]) -> list[_T]:
        with self._read_lock:
            if self._closed:
                raise StoreClosedError("the receiver is closed")
            return read(self._reader)

    def deliveries(self, message_id: str | None = None) -> Iterator[Delivery]:
        """Each recipient's latest outcome (of one message, or of all), by message id and recipient.
        An iterator that reads the store as it goes, 500 rows at a time (its memory does not
        grow with the table; `list()` keeps them all): each recipient comes once, and one recorded
        while it runs may or may not come. StoreClosedError if the receiver is closed before a page
        is read."""
        # Below every key: a delivery is recorded only for a message id and a recipient that are not empty.
        last: tuple[str, str] = ("", "")
        # Each lambda is called at once, under the read lock (B023 warns of a later call).
        while rows := self._read(lambda store: store.deliveries(last, message_id, _PAGE_ROWS)):  # noqa: B023
            for row in rows:
                yield self._delivery(*row)
            last = (rows[-1][0], rows[-1][1])

    def _delivery(
        self,
        message_id: str,
        recipient: str,
        status: str,
        codes: str | None,
        errors: str | None,
        occurred: str | None,
        event_id: str,
        event_type: str | None,
        updated: float,
    ) -> Delivery:
        recorded = _utc(updated)
        assert recorded is not None
        return Delivery(
            message_id=message_id,
            recipient=recipient,
            status=status,
            final=self._order.is_final(status),
            error_codes=tuple(codes.split(",")) if codes else (),
            errors=tuple(json.loads(errors)) if errors else (),
            occurred_at=_utc(_receipts.epoch(occurred)),
            event_id=event_id,
            event_type=event_type,
            recorded_at=recorded,
        )

    def delivery_counts(self) -> dict[str, int]:
        """How many recipients are at each status: every one of DELIVERY_STATUSES (0 if none), then
        any other status recorded."""
        found = dict(self._read(lambda store: store.delivery_counts()))
        counts = {status: int(found.pop(status, 0)) for status in DELIVERY_STATUSES}
        return counts | {str(status): int(count) for status, count in sorted(found.items())}

    def event_ids(self) -> Iterator[str]:
        """The id of every event recorded, in the order recorded: read as deliveries() reads, a page
        at a time."""
        last = 0  # below every place: SQLite numbers a table's rows from 1, PostgreSQL's identity too
        while rows := self._read(lambda store: store.event_ids(last, _PAGE_ROWS)):  # noqa: B023
            for _, event_id in rows:
                yield event_id
            last = rows[-1][0]

    # --- closing ---------------------------------------------------------------------------------

    def close(self, callback_timeout: float | None = 5.0) -> None:
        """Record what is queued, wait up to `callback_timeout` seconds for the callbacks of what was
        recorded, and close the file. Requests after this are answered 503."""
        if self._closed:
            return
        self._writer.close()
        if self._callbacks is not None:
            self._callbacks.close(callback_timeout)
        with self._read_lock:
            self._closed = True
            self._reader.close()
        self._writer_db.close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- ASGI -----------------------------------------------------------------------------------------

# The ASGI types, as Starlette and FastAPI write them: an ASGIReceiver mounts where they take an app.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _matches(path: str | None, scope: Scope) -> bool:
    """Whether a request is to `path` (None: any): its path, or (mounted, or served under a root
    path) its path below the root path."""
    found = scope.get("path")
    return path is None or found == path or found == scope.get("root_path", "") + path


def _checked_path(path: str | None) -> str | None:
    if path is not None and (not isinstance(path, str) or not path.startswith("/")):
        raise ValueError(f"path must start with '/', got {path!r}")
    return path


def _checked_max_body(max_body: int) -> int:
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body <= 0:
        raise ValueError(f"max_body must be an int of bytes > 0, got {max_body!r}")
    return max_body


class _Mounted:
    """What the ASGI and WSGI apps hold: the receiver, the one path they answer and the body limit."""

    def __init__(self, receiver: Receiver, *, path: str | None = None, max_body: int = MAX_BODY) -> None:
        if not isinstance(receiver, Receiver):
            raise TypeError(f"receiver must be a Receiver, got {type(receiver).__name__}")
        self.receiver = receiver
        self.path = _checked_path(path)
        self.max_body = _checked_max_body(max_body)


class ASGIReceiver(_Mounted):
    """The receiver as an ASGI app: run it with uvicorn (`uvicorn module:app`), or mount it in
    Starlette or FastAPI (`app.mount("/webhooks/telnyx", ASGIReceiver(receiver))`). POST only (405
    else); `path`: the one path it answers (404 elsewhere; None: any, as when mounted); a body over
    `max_body` bytes is answered 413. Closes the receiver at the server's shutdown (its lifespan)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            raise RuntimeError(f"the Telnyx webhook receiver serves HTTP, not {kind!r}")
        if not _matches(self.path, scope):
            await _send(send, Answer(404, "not found"))
            return
        if scope.get("method") != "POST":
            await _send(send, Answer(405, "POST only"), [(b"allow", b"POST")])
            return
        body = await self._body(receive)
        if body is None:
            await _send(send, Answer(413, f"the body is over {self.max_body} bytes"))
            return
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope.get("headers", ())]
        await _send(send, await self.receiver.receive_async(body, _Pairs(headers)))

    async def _body(self, receive: Receive) -> bytes | None:
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()  # http.request (an http.disconnect has no body: what came is it)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(None, self.receiver.close)
                await send({"type": "lifespan.shutdown.complete"})
                return


class _Pairs:
    """Headers as (name, value) pairs: what webhooks.verify reads (items())."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def items(self) -> Iterable[tuple[str, str]]:
        return self._pairs


async def _send(send: Send, answer: Answer, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = answer.text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


# --- WSGI -----------------------------------------------------------------------------------------


class StartResponse(Protocol):
    """WSGI's start_response, as far as the receiver calls it."""

    def __call__(self, status: str, headers: list[tuple[str, str]], /) -> object: ...


class WSGIReceiver(_Mounted):
    """The receiver as a WSGI app: serve it with any WSGI server (waitress, gunicorn), or mount it
    beside a Flask or Django app (werkzeug's DispatcherMiddleware), or call `receiver.receive` from a
    view. POST only (405 else); `path`: the one path it answers (404 elsewhere; None: any); a body
    over `max_body` bytes is answered 413."""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        answer, extra = self._answer(environ)
        body = answer.text.encode()
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body))), *extra]
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
        return [body]

    def _answer(self, environ: dict[str, Any]) -> tuple[Answer, list[tuple[str, str]]]:
        if self.path is not None and (environ.get("PATH_INFO") or "/") != self.path:
            return Answer(404, "not found"), []
        if environ.get("REQUEST_METHOD") != "POST":
            return Answer(405, "POST only"), [("Allow", "POST")]
        length_text = str(environ.get("CONTENT_LENGTH") or "0")  # none: no body (servers dechunk and count)
        length = int(length_text) if length_text.isdigit() else 0
        if length > self.max_body:
            return Answer(413, f"the body is over {self.max_body} bytes"), []
        body = environ["wsgi.input"].read(length)
        headers = [(key[5:].replace("_", "-"), value) for key, value in environ.items() if key.startswith("HTTP_")]
        return self.receiver.receive(body, _Pairs(headers)), []


def __dir__() -> list[str]:
    return list(__all__)
