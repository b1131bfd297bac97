"""The receiver's store and its writer (telnyx_messages.receiver is the public side).

The store is an SQLite file (the standard library's sqlite3, WAL) with tables of its own: `events`,
one row per webhook event by its id (a redelivered event is not recorded again), with the raw body as
delivered; `deliveries`, one row per message and recipient with the latest outcome by the API's order
of statuses; and `receiver`, the store's schema version. A campaign journal (telnyx_messages._journal)
can be the store: these tables sit beside the journal's, and `deliveries.message_id` joins
`rows.message_id`. The tables are made by migrations (MIGRATIONS, applied by the journal's engine,
telnyx_messages._journal.apply_migrations): a store or journal made before them, or by an older
version of the package, gets the steps it lacks when a receiver opens it; one of a later version is
refused.

The delivery statuses and their order are read from the spec the package ships (its `webhooks:`): the
statuses the delivery update lists for a recipient, in the spec's order; those up to `sent` are a
message on its way, each later in the order than the one before, and every status after `sent` (or
not listed) is final. A status never moves back in that order; between two final ones (or two
events of the same status) the event that occurred later wins.

One writer thread does every write: it takes what has queued up since its last commit and records it
in one transaction (a group commit), so that the store keeps up with many concurrent requests while
each commit is made durable (synchronous=FULL by default) before any of its events is acknowledged.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import functools
import hashlib
import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, Protocol

from . import _spec_refs
from ._journal import _APPLICATION_ID as JOURNAL_APPLICATION_ID
from ._journal import Migration, apply_migrations

logger = logging.getLogger("telnyx_messages.receiver")

RECEIVER_APPLICATION_ID = 0x544E5852  # "TNXR": a receiver store of this package's
# The API's name of the update that ends a message's delivery: the webhooks whose event types list it
# are the delivery updates.
FINALIZED_EVENT = "message.finalized"
# The last status of a message on its way: the statuses the spec lists after it are final.
SENT_STATUS = "sent"

Synchronous = Literal["FULL", "NORMAL"]

# The receiver's schema, step by step (telnyx_messages._journal.Migration); its version is the row
# schema_version of its table `receiver` (in a journal's file, PRAGMA user_version is the journal's).
# A later version of the package adds steps (never changes one), and migrates an older store on opening.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "the receiver's version, its events and its deliveries",
        (
            """CREATE TABLE receiver (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            )""",
            """CREATE TABLE events (
                event_id TEXT PRIMARY KEY,
                event_type TEXT,
                message_id TEXT,
                occurred_at TEXT,
                attempt INTEGER,
                received_at REAL NOT NULL,
                body BLOB NOT NULL
            )""",
            "CREATE INDEX events_message ON events (message_id)",
            """CREATE TABLE deliveries (
                message_id TEXT NOT NULL,
                recipient TEXT NOT NULL,
                status TEXT NOT NULL,
                occurred_at TEXT,
                event_id TEXT NOT NULL,
                event_type TEXT,
                error_codes TEXT,
                errors TEXT,
                updated_at REAL NOT NULL,
                PRIMARY KEY (message_id, recipient)
            )""",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version
_HAS_VERSION = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'receiver'"
_VERSION = "SELECT coalesce(max(CAST(value AS INTEGER)), 0) FROM receiver WHERE key = 'schema_version'"
_STAMP = "INSERT OR REPLACE INTO receiver (key, value) VALUES ('schema_version', ?)"


class StoreError(Exception):
    """A store that cannot be used: not SQLite, another program's database, a later schema."""


# --- the spec's statuses ----------------------------------------------------------------------


def _spec() -> Any:
    text = resources.files("telnyx_messages._api").joinpath("spec.json").read_text(encoding="utf-8")
    return json.loads(text)


def _delivery_webhooks(document: Any) -> list[tuple[list[str], list[str]]]:
    """(event types, recipient statuses) of each webhook of `document` that delivers the delivery
    updates: the one whose event types name FINALIZED_EVENT."""
    found = []
    for item in (document.get("webhooks") or {}).values():
        for operation in item.values():
            if not isinstance(operation, Mapping):
                continue
            try:
                resolve = functools.partial(_spec_refs.resolve, document)
                schema = resolve(resolve(operation["requestBody"])["content"]["application/json"]["schema"])
                data = resolve(schema["properties"]["data"])
                types = [str(t) for t in resolve(data["properties"]["event_type"]).get("enum", [])]
                payload = resolve(data["properties"]["payload"])
                to = resolve(resolve(payload["properties"]["to"])["items"])
                statuses = [str(s) for s in resolve(to["properties"]["status"]).get("enum", [])]
            except (KeyError, TypeError):
                continue
            if FINALIZED_EVENT in types:
                found.append((types, statuses))
    return found


@dataclass(frozen=True, slots=True)
class StatusOrder:
    """The delivery statuses of a spec, in its order, and the event types that carry them."""

    statuses: tuple[str, ...]
    event_types: frozenset[str]

    @classmethod
    def of(cls, document: Any) -> StatusOrder:
        statuses: list[str] = []
        event_types: set[str] = set()
        for types, listed in _delivery_webhooks(document):
            event_types.update(types)
            statuses += [status for status in listed if status not in statuses]
        return cls(tuple(statuses), frozenset(event_types))

    @property
    def _final_rank(self) -> int:
        return self.statuses.index(SENT_STATUS) + 1 if SENT_STATUS in self.statuses else 0

    @property
    def final(self) -> frozenset[str]:
        """The statuses listed after `sent`: a message's delivery is over."""
        return frozenset(status for status in self.statuses if self.is_final(status))

    def rank(self, status: str) -> int:
        """A status's place in the order; every final one (and one the spec does not list) the last."""
        place = self.statuses.index(status) if status in self.statuses else len(self.statuses)
        return min(place, self._final_rank)

    def is_final(self, status: str) -> bool:
        return self.rank(status) == self._final_rank

    def replaces(self, status: str, occurred: float | None, old_status: str, old_occurred: float | None) -> bool:
        """Whether an outcome replaces the one recorded: a later status in the order, or one as late
        that occurred after it."""
        new_rank, old_rank = self.rank(status), self.rank(old_status)
        if new_rank != old_rank:
            return new_rank > old_rank
        return occurred is not None and (old_occurred is None or occurred > old_occurred)


@functools.cache
def status_order() -> StatusOrder:
    """The order of the spec the package ships."""
    return StatusOrder.of(_spec())


# --- an event, as recorded ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a delivery update says of one recipient."""

    recipient: str
    status: str
    error_codes: str | None
    errors: str | None


@dataclass(frozen=True, slots=True)
class Incoming:
    """A verified event, ready to record; `document`, its body decoded (what the callback is made from)."""

    event_id: str
    event_type: str | None
    message_id: str | None
    occurred_at: str | None
    attempt: int | None
    body: bytes
    outcomes: tuple[Outcome, ...]
    document: Any


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def epoch(text: str | None) -> float | None:
    """An ISO 8601 time as seconds since the epoch (naive read as UTC); None if it is not one."""
    if text is None:
        return None
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


def incoming(document: Any, body: bytes, order: StatusOrder) -> Incoming:
    """What to record of a verified event's document: read leniently (an event the spec's model
    refuses is still kept); its outcomes only for a delivery update's event type."""
    data = document.get("data") if isinstance(document, Mapping) else None
    data = data if isinstance(data, Mapping) else {}
    meta = document.get("meta") if isinstance(document, Mapping) else None
    attempt = meta.get("attempt") if isinstance(meta, Mapping) else None
    payload = data.get("payload")
    payload = payload if isinstance(payload, Mapping) else {}
    event_type = _text(data.get("event_type"))
    message_id = _text(payload.get("id"))
    event_id = _text(data.get("id")) or "sha256:" + hashlib.sha256(body).hexdigest()
    outcomes: list[Outcome] = []
    if event_type in order.event_types and message_id is not None:
        errors = payload.get("errors")
        errors = [e for e in errors if isinstance(e, Mapping)] if isinstance(errors, list) else []
        codes = ",".join(str(e["code"]) for e in errors if e.get("code") is not None) or None
        listed = json.dumps(errors) if errors else None  # as delivered, its keys in their order
        recipients = payload.get("to")
        for recipient in recipients if isinstance(recipients, list) else []:
            if isinstance(recipient, Mapping):
                number, status = _text(recipient.get("phone_number")), _text(recipient.get("status"))
                if number is not None and status is not None:
                    outcomes.append(Outcome(number, status, codes, listed))
    return Incoming(
        event_id=event_id,
        event_type=event_type,
        message_id=message_id,
        occurred_at=_text(data.get("occurred_at")),
        attempt=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else None,
        body=body,
        outcomes=tuple(outcomes),
        document=document,
    )


# --- the store ----------------------------------------------------------------------------------


def connect(path: str, *, synchronous: Synchronous = "FULL", busy_timeout: float = 1.0) -> sqlite3.Connection:
    """A connection to a store (made if missing), its tables checked and made; StoreError naming
    what is wrong with a file that cannot be one."""
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open it as SQLite ({exc})") from None
    try:
        _prepare(db, path, synchronous, busy_timeout)
    except BaseException:
        db.close()
        raise
    return db


def _prepare(db: sqlite3.Connection, path: str, synchronous: Synchronous, busy_timeout: float) -> None:
    db.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
    try:
        application = db.execute("PRAGMA application_id").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a receiver store or campaign journal ({exc})") from None
    if tables and application not in (RECEIVER_APPLICATION_ID, JOURNAL_APPLICATION_ID):
        raise StoreError(f"{path} is an SQLite file, but neither a receiver store nor a campaign journal")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    migrate(db, path)


def schema_version(db: sqlite3.Connection) -> int:
    """The version of the receiver's schema in a file (0: none of its tables yet)."""
    if not db.execute(_HAS_VERSION).fetchone()[0]:
        return 0
    return int(db.execute(_VERSION).fetchone()[0])


def _stamp(db: sqlite3.Connection, version: int) -> None:
    # A file without an application id has had no tables (_prepare refused any other file with
    # tables): it is a receiver store. A journal's file stays the journal's.
    if not db.execute("PRAGMA application_id").fetchone()[0]:
        db.execute(f"PRAGMA application_id={RECEIVER_APPLICATION_ID}")
    db.execute(_STAMP, (str(version),))


def migrate(db: sqlite3.Connection, path: str, migrations: Sequence[Migration] | None = None) -> list[int]:
    """Bring the receiver's tables in the file at `path`, open as `db`, to the last of `migrations`
    (MIGRATIONS unless given), as telnyx_messages._journal.apply_migrations does: the versions
    applied. StoreError naming both versions for a later one's."""

    def later(found: int, latest: int) -> StoreError:
        return StoreError(
            f"{path} was written by a later telnyx-messages (receiver schema {found}, this one reads up to "
            f"{latest}): upgrade to use it"
        )

    return apply_migrations(db, MIGRATIONS if migrations is None else migrations, schema_version, _stamp, later)


def record(db: sqlite3.Connection, items: Iterable[Incoming], order: StatusOrder, now: float) -> list[bool]:
    """Record events in one transaction: for each, whether it is new (False: its id was recorded
    before, and nothing is written of it)."""
    new: list[bool] = []
    db.execute("BEGIN IMMEDIATE")
    try:
        for item in items:
            inserted = db.execute(
                "INSERT OR IGNORE INTO events (event_id, event_type, message_id, occurred_at, attempt, received_at,"
                " body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (item.event_id, item.event_type, item.message_id, item.occurred_at, item.attempt, now, item.body),
            ).rowcount
            new.append(inserted == 1)
            if inserted == 1:
                _outcomes(db, item, order, now)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return new


def _outcomes(db: sqlite3.Connection, item: Incoming, order: StatusOrder, now: float) -> None:
    occurred = epoch(item.occurred_at)
    for outcome in item.outcomes:
        found = db.execute(
            "SELECT status, occurred_at FROM deliveries WHERE message_id = ? AND recipient = ?",
            (item.message_id, outcome.recipient),
        ).fetchone()
        if found is not None and not order.replaces(outcome.status, occurred, found[0], epoch(found[1])):
            continue
        db.execute(
            "INSERT OR REPLACE INTO deliveries (message_id, recipient, status, occurred_at, event_id, event_type,"
            " error_codes, errors, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item.message_id,
                outcome.recipient,
                outcome.status,
                item.occurred_at,
                item.event_id,
                item.event_type,
                outcome.error_codes,
                outcome.errors,
                now,
            ),
        )


# A delivery as a store reads it: message id, recipient, status, error codes, errors, when it
# occurred (the event's text), event id, event type, when recorded (epoch seconds).
DeliveryRow = tuple[str, str, str, str | None, str | None, str | None, str, str | None, float]


class Store(Protocol):
    """What the receiver asks of its store, SQLite's (SQLiteStore) or PostgreSQL's
    (telnyx_messages._receipts_postgres.PostgresStore): one connection each, used by one thread at a
    time. `unavailable`: the errors that mean the store cannot take a write now (locked, busy, gone):
    the whole batch is answered 503, for Telnyx to deliver it again."""

    name: str  # how messages name it (a URL without its password)
    unavailable: tuple[type[Exception], ...]

    def record(self, items: Sequence[Incoming], order: StatusOrder, now: float) -> list[bool]:
        """Record events in one transaction: for each, whether it is new."""
        ...

    def deliveries(self, after: tuple[str, str], message_id: str | None, limit: int) -> list[DeliveryRow]:
        """Up to `limit` deliveries after the key `after` (message id, recipient), in key order."""
        ...

    def delivery_counts(self) -> list[tuple[str, int]]:
        """How many recipients are at each status recorded."""
        ...

    def event_ids(self, after: int, limit: int) -> list[tuple[int, str]]:
        """Up to `limit` (place, event id) recorded after the place `after` (0: from the first), in
        the order recorded."""
        ...

    def close(self) -> None: ...


class SQLiteStore:
    """The store in an SQLite file (connect(), record())."""

    unavailable: tuple[type[Exception], ...] = (sqlite3.OperationalError,)

    def __init__(self, path: str, *, synchronous: Synchronous, busy_timeout: float) -> None:
        self.name = path
        self.db = connect(path, synchronous=synchronous, busy_timeout=busy_timeout)

    def record(self, items: Sequence[Incoming], order: StatusOrder, now: float) -> list[bool]:
        return record(self.db, items, order, now)

    def deliveries(self, after: tuple[str, str], message_id: str | None, limit: int) -> list[DeliveryRow]:
        only, chosen = (" AND message_id = ?", (message_id,)) if message_id is not None else ("", ())
        return self.db.execute(
            "SELECT message_id, recipient, status, error_codes, errors, occurred_at, event_id, event_type, updated_at"
            f" FROM deliveries WHERE (message_id, recipient) > (?, ?){only} ORDER BY message_id, recipient LIMIT ?",
            (*after, *chosen, limit),
        ).fetchall()

    def delivery_counts(self) -> list[tuple[str, int]]:
        return self.db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()

    def event_ids(self, after: int, limit: int) -> list[tuple[int, str]]:
        return self.db.execute(
            "SELECT rowid, event_id FROM events WHERE rowid > ? ORDER BY rowid LIMIT ?", (after, limit)
        ).fetchall()

    def close(self) -> None:
        self.db.close()


# --- the writer ---------------------------------------------------------------------------------

_Job = tuple[Incoming, "concurrent.futures.Future[bool]"]


class StoreClosedError(RuntimeError):
    """The receiver was closed: nothing more is recorded."""


class Writer:
    """The one thread that writes: each batch of what has queued up is one transaction. A new
    event's `event` goes to `on_new` (the callbacks' thread) once its transaction is committed."""

    def __init__(
        self,
        store: Store,
        order: StatusOrder,
        on_new: Callable[[Incoming], None],
        *,
        max_batch: int = 512,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._order = order
        self._on_new = on_new
        self._max_batch = max_batch
        self._clock = clock
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="telnyx-receiver-writer", daemon=True)
        self._thread.start()

    def submit(self, item: Incoming) -> concurrent.futures.Future[bool]:
        """Queue an event: the future is its being new (True) or a duplicate, once committed; or
        the error that kept it from being recorded."""
        future: concurrent.futures.Future[bool] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise StoreClosedError("the receiver is closed")
            self._queue.put((item, future))
        return future

    def close(self) -> None:
        """Record what is queued, then stop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._write(batch)

    def _write(self, batch: list[_Job]) -> None:
        try:
            results = self._store.record([item for item, _ in batch], self._order, self._clock())
        except self._store.unavailable as exc:  # busy, locked, I/O, full, gone: the same for every event
            logger.warning("could not record %d event(s): %s", len(batch), exc)
            for _, future in batch:
                _settle(future, exc=exc)
            return
        except Exception as exc:
            if len(batch) > 1:  # one event's fault: the others recorded without it
                for job in batch:
                    self._write([job])
                return
            logger.exception("could not record event %s", shown(batch[0][0].event_id))
            _settle(batch[0][1], exc=exc)
            return
        for (item, future), new in zip(batch, results, strict=True):
            if new:
                self._on_new(item)
            _settle(future, result=new)


def shown(text: str | None) -> str | None:
    """`text` as a log line can carry it: a lone surrogate (JSON allows one in an event's id; UTF-8 has
    none, and a handler writing UTF-8 would drop the line) escaped as `\\ud800`; other text unchanged."""
    return None if text is None else text.encode("utf-8", "backslashreplace").decode("utf-8")


def _settle(future: concurrent.futures.Future[bool], *, result: bool = False, exc: BaseException | None = None) -> None:
    """Settle a future unless its waiter already gave up on it (cancelled)."""
    if future.set_running_or_notify_cancel():
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)


class Callbacks:
    """The thread the user's callback runs on, given each new event's document, one after another,
    after each is stored: never in a request's way. Its failures are logged."""

    def __init__(self, callback: Callable[[Any], object]) -> None:
        self._callback = callback
        self._queue: queue.SimpleQueue[Incoming | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="telnyx-receiver-callbacks", daemon=True)
        self._thread.start()

    def put(self, item: Incoming) -> None:
        self._queue.put(item)

    def close(self, timeout: float | None = None) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            try:
                self._callback(item.document)
            except Exception:
                logger.exception(
                    "the receiver's callback failed on event %s (%s)", shown(item.event_id), shown(item.event_type)
                )


def store_path(path: str | os.PathLike[str]) -> str:
    if isinstance(path, bytes) or not isinstance(path, str | os.PathLike):
        raise TypeError(f"the store is a file path (str or os.PathLike), got {type(path).__name__}")
    text = os.fspath(path)
    if not text:
        raise ValueError("the store path is empty")
    return text
