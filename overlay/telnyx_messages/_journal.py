"""A campaign's journal: one SQLite file (the standard library's sqlite3, WAL) recording the campaign
and, per row, what became of it. It is what a rerun continues from, and never holds the API key.

A row's states: pending (not sent yet, or answered without being taken: 429), sending (a request went
out, no answer taken yet: re-sent with the same Idempotency-Key, which the edge answers once),
accepted (the message id), failed (refused before sending, or by the API; never re-sent), unknown
(sent more than the edge's 24 hours ago, never confirmed: re-sent only when asked).

Writes are grouped in transactions: a `sending` mark is committed, with every write before it, before
its request leaves; what follows an answer is committed with the next, or within a second (commit_if_older).
A write lost to a crash is one a rerun redoes: a row not marked accepted is re-sent with its key, and
the edge answers it from what it stored. synchronous=NORMAL: a killed process loses no commit; a power
loss may lose the last ones (the file stays consistent), and a rerun within 24 hours still sends each
row once.

The schema is made by migrations (MIGRATIONS), steps that a later version of the package adds to and
never changes; PRAGMA user_version is the last step a file has. Opening a file of an older version
applies the steps it lacks in one BEGIN IMMEDIATE transaction (processes opening it at once migrate
it once; a step that fails applies none); a file of a later version is refused, left as it was.
apply_migrations is the engine the receiver's store (telnyx_messages._receipts) migrates with too.
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "STATES",
    "CampaignRecord",
    "Journal",
    "JournalError",
    "JournalRow",
    "Migration",
    "RowDelivery",
    "RowState",
]

RowState = Literal["pending", "sending", "accepted", "failed", "unknown"]
STATES: tuple[RowState, ...] = ("pending", "sending", "accepted", "failed", "unknown")

_APPLICATION_ID = 0x544E5843  # "TNXC": a file of this package's, not some other SQLite database


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of a schema: its version (1, 2, ... in order), what it does, its SQL statements."""

    version: int
    description: str
    statements: tuple[str, ...]


# The journal's schema, step by step; PRAGMA user_version of the file is the last step applied. A
# later version of the package adds steps (never changes one), and migrates an older file on opening.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "the campaign and its rows",
        (
            """CREATE TABLE campaign (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            )""",
            """CREATE TABLE rows (
                seq INTEGER PRIMARY KEY,
                identity TEXT NOT NULL UNIQUE,
                digest TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'accepted', 'failed', 'unknown')),
                idempotency_key TEXT NOT NULL,
                recipient TEXT,
                sender TEXT,
                message_id TEXT,
                wait_seconds REAL,
                error_code TEXT,
                error_detail TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                first_attempt_at REAL,
                last_attempt_at REAL
            )""",
            "CREATE INDEX rows_state ON rows (state)",
            f"PRAGMA application_id={_APPLICATION_ID}",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version

# The statements the journal runs, beside the schema they read and write.
# The file's version, application id and count of tables, read in one statement so from one snapshot:
# another process making the journal at that moment commits the three together (read one by one, a
# probe saw its id still 0 and then its tables, and refused the journal as another application's).
_HEADER = (
    "SELECT (SELECT user_version FROM pragma_user_version), (SELECT application_id FROM pragma_application_id),"
    " (SELECT count(*) FROM sqlite_master)"
)
_VERSION = "PRAGMA user_version"
_STAMP = "PRAGMA user_version={:d}"
# Wait for another writer's lock (set first: a migration takes the write lock); then WAL and
# synchronous=NORMAL (a killed process loses no commit), once the schema is made.
_WAIT = "PRAGMA busy_timeout=5000"
_SETTINGS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
_BEGIN = "BEGIN IMMEDIATE"
_COMMIT = "COMMIT"
_ROLLBACK = "ROLLBACK"
_CAMPAIGN = "SELECT key, value FROM campaign"
_SET = "INSERT OR REPLACE INTO campaign (key, value) VALUES (?, ?)"
_KNOWN = "SELECT state, digest, first_attempt_at, attempts FROM rows WHERE identity = ?"
_ADD = (
    "INSERT INTO rows (identity, digest, state, idempotency_key, recipient, sender, error_code, error_detail)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SENDING = (
    "UPDATE rows SET state = 'sending', attempts = attempts + 1, last_attempt_at = ?,"
    " first_attempt_at = coalesce(first_attempt_at, ?) WHERE identity = ?"
)
_ACCEPTED = (
    "UPDATE rows SET state = 'accepted', message_id = ?, wait_seconds = ?, error_code = NULL,"
    " error_detail = NULL WHERE identity = ?"
)
_FAILED = "UPDATE rows SET state = 'failed', error_code = ?, error_detail = ? WHERE identity = ?"
_PENDING = "UPDATE rows SET state = 'pending', error_code = ?, error_detail = ? WHERE identity = ?"
_UNANSWERED = "UPDATE rows SET error_code = ?, error_detail = ? WHERE identity = ?"
_UNKNOWN = "UPDATE rows SET state = 'unknown', error_detail = ? WHERE identity = ?"
_COUNTS = "SELECT state, count(*) FROM rows GROUP BY state"
_COLUMNS = (
    "rows.seq, rows.identity, rows.state, rows.idempotency_key, rows.recipient, rows.sender, rows.message_id,"
    " rows.wait_seconds, rows.error_code, rows.error_detail, rows.attempts, rows.first_attempt_at,"
    " rows.last_attempt_at"
)
_ROWS = f"SELECT {_COLUMNS} FROM rows ORDER BY seq"
# The receiver's table of outcomes (telnyx_messages._receipts), in the same file once a receiver ran
# on it: one row per message id and recipient.
_HAS_DELIVERIES = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'"
# Recipients of the campaign's messages by status (a message id once, however many rows name it).
_DELIVERY_COUNTS = (
    "SELECT status, count(*) FROM deliveries WHERE message_id IN"
    " (SELECT message_id FROM rows WHERE message_id IS NOT NULL) GROUP BY status"
)
# Each row with its recipient's outcome: the delivery of its message to its recipient, or, when the
# recipient is written otherwise than the API writes it (a row sends to one recipient), the message's
# one delivery. None (NULLs) for a row without a message id or without a delivery yet.
_ROWS_DELIVERED = (
    f"SELECT {_COLUMNS}, d.status, d.error_codes, d.errors, d.occurred_at FROM rows"
    " LEFT JOIN deliveries AS d ON d.rowid = (SELECT x.rowid FROM deliveries AS x WHERE x.message_id ="
    " rows.message_id AND (x.recipient = rows.recipient OR (SELECT count(*) FROM deliveries AS y WHERE"
    " y.message_id = rows.message_id) = 1) LIMIT 1) ORDER BY rows.seq"
)


class JournalError(Exception):
    """A journal that cannot be used: not a campaign journal, a newer schema, another campaign's."""


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    """What a journal records of its campaign: its id (the keys derive from it), its name, when it
    was made, and the parameters of its last run."""

    campaign_id: str
    name: str | None
    created_at: datetime.datetime
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One row as the journal holds it. Times are aware UTC datetimes."""

    seq: int
    identity: str
    state: RowState
    idempotency_key: str
    recipient: str | None
    sender: str | None
    message_id: str | None
    wait_seconds: float | None
    error_code: str | None
    error_detail: str | None
    attempts: int
    first_attempt_at: datetime.datetime | None
    last_attempt_at: datetime.datetime | None


@dataclass(frozen=True, slots=True)
class RowDelivery:
    """A row's recipient's outcome as the receiver recorded it (telnyx_messages.receiver): the latest
    status, as the API names it; the error codes, comma-separated, and the errors, a JSON array, as
    the event gave them (None without errors); when the event occurred (its ISO 8601 text)."""

    status: str
    error_codes: str | None
    errors: str | None
    occurred_at: str | None


@dataclass(frozen=True, slots=True)
class Known:
    """What the engine needs of a row already in the journal."""

    state: RowState
    digest: str
    first_attempt_at: float | None
    attempts: int


def _utc(epoch: float | None) -> datetime.datetime | None:
    return None if epoch is None else datetime.datetime.fromtimestamp(epoch, datetime.UTC)


_FIELDS = 13  # the columns of a JournalRow, first in what _ROWS and _ROWS_DELIVERED select


def _row(found: tuple[Any, ...]) -> JournalRow:
    seq, identity, state, key, recipient, sender, message_id, wait, code, detail, attempts, first, last = found[
        :_FIELDS
    ]
    return JournalRow(
        seq, identity, state, key, recipient, sender, message_id, wait, code, detail, attempts, _utc(first), _utc(last)
    )


def apply_migrations(
    db: sqlite3.Connection,
    migrations: Sequence[Migration],
    version: Callable[[sqlite3.Connection], int],
    stamp: Callable[[sqlite3.Connection, int], None],
    later: Callable[[int, int], Exception],
) -> list[int]:
    """Apply the steps of `migrations` (versions 1, 2, ... N) that a file lacks, in order, in one
    transaction that ends by stamping it N: the versions applied. `version` reads the file's version
    (0: none of the schema yet), `stamp` writes it. The transaction is BEGIN IMMEDIATE and the
    version is read again inside it, so processes opening an older file at once wait for each other
    and the first migrates it; a file already at N is only read. A file of a later version than N is
    refused with `later(its version, N)`, untouched; a step that fails applies nothing. `db` in
    autocommit mode (isolation_level=None), between transactions."""
    versions = [step.version for step in migrations]
    if not versions or versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migration versions must be 1, 2, ... in order, got {versions}")
    latest = versions[-1]
    if version(db) == latest:
        return []
    db.execute(_BEGIN)
    try:
        found = version(db)
        if found > latest:
            raise later(found, latest)
        for step in migrations[found:]:
            for statement in step.statements:
                db.execute(statement)
        stamp(db, latest)
        db.execute(_COMMIT)
    except BaseException:
        if db.in_transaction:
            db.execute(_ROLLBACK)
        raise
    return versions[found:]


def _later(path: str, found: int, latest: int) -> JournalError:
    return JournalError(
        f"{path} was written by a later telnyx-messages (journal schema {found}, this one reads up to {latest}): "
        "upgrade to continue it"
    )


def _user_version(db: sqlite3.Connection) -> int:
    return int(db.execute(_VERSION).fetchone()[0])


def _stamp(db: sqlite3.Connection, version: int) -> None:
    db.execute(_STAMP.format(version))


def migrate(db: sqlite3.Connection, path: str, migrations: Sequence[Migration] | None = None) -> list[int]:
    """Bring the journal at `path`, open as `db`, to the last of `migrations` (this package's
    MIGRATIONS unless given): its schema made in a new file, the steps an older one lacks applied
    (apply_migrations); the versions applied. JournalError naming both versions for a later one's."""
    steps = MIGRATIONS if migrations is None else migrations
    return apply_migrations(db, steps, _user_version, _stamp, lambda found, latest: _later(path, found, latest))


class Journal:
    """An open journal. `Journal(path)` opens one, made if it does not exist (create=False: it must)."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = os.fspath(path)
        self.committed_at = time.monotonic()
        exists = os.path.exists(self.path)
        if not create and not exists:
            raise FileNotFoundError(f"no campaign journal at {self.path}")
        # A file that is there is read first through a read-only connection: one refused is left as
        # it was (a read-write connection would write the schema into an empty file, and checkpoint
        # another application's write-ahead log when it closes).
        if exists:
            self._probe(create)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot open it as SQLite ({exc})") from None
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    def _probe(self, create: bool) -> None:
        """The file read without writing: a JournalError, having written nothing, if it is not a
        journal this package can continue or (create) make (a file without tables: made one)."""
        try:
            probe = sqlite3.connect(f"{Path(self.path).resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot open it as SQLite ({exc})") from None
        try:
            version, application, tables = probe.execute(_HEADER).fetchone()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path} is not a campaign journal ({exc})") from None
        finally:
            probe.close()
        if application not in (0, _APPLICATION_ID) or (tables and application != _APPLICATION_ID):
            raise JournalError(f"{self.path} is an SQLite file, but not a campaign journal")
        if not tables and not create:
            raise JournalError(
                f"{self.path} is an empty SQLite file, not a campaign journal (nothing was written to it)"
            )
        latest = MIGRATIONS[-1].version
        if version > latest:
            raise _later(self.path, version, latest)
        if tables and not version:
            raise JournalError(
                f"{self.path} has tables but no journal schema version: not a campaign journal this package "
                "wrote (nothing was written to it)"
            )

    def _open(self) -> None:
        self._db.execute(_WAIT)
        migrate(self._db, self.path)
        for setting in _SETTINGS:
            self._db.execute(setting)

    # --- the campaign ------------------------------------------------------------------------

    def campaign(self) -> CampaignRecord | None:
        values = dict(self._db.execute(_CAMPAIGN).fetchall())
        if "campaign_id" not in values:
            return None
        return CampaignRecord(
            campaign_id=values["campaign_id"],
            name=values.get("name") or None,
            created_at=datetime.datetime.fromisoformat(values["created_at"]),
            parameters=json.loads(values.get("parameters", "{}")),
        )

    def begin(self, name: str | None, parameters: Mapping[str, Any], now: datetime.datetime) -> CampaignRecord:
        """The journal's campaign, made on its first run; a later run's parameters recorded. A name
        other than the journal's is refused (a journal belongs to one campaign)."""
        record = self.campaign()
        if record is None:
            record = CampaignRecord(uuid.uuid4().hex, name, now, dict(parameters))
            self._set(
                campaign_id=record.campaign_id,
                name=name or "",
                created_at=now.isoformat(),
                parameters=json.dumps(dict(parameters), sort_keys=True),
            )
            return record
        if name is not None and record.name is not None and name != record.name:
            raise JournalError(
                f"{self.path} is the journal of campaign {record.name!r}, not {name!r}: "
                "give another journal for another campaign"
            )
        self._set(parameters=json.dumps(dict(parameters), sort_keys=True))
        return CampaignRecord(record.campaign_id, record.name or name, record.created_at, dict(parameters))

    def _set(self, **values: str) -> None:
        self._begin()
        self._db.executemany(_SET, values.items())
        self.commit()

    # --- transactions ----------------------------------------------------------------------------

    def _begin(self) -> None:
        if not self._db.in_transaction:
            self._db.execute(_BEGIN)

    def _write(self, sql: str, parameters: tuple[Any, ...]) -> None:
        self._begin()
        self._db.execute(sql, parameters)

    def commit(self) -> None:
        """Make the writes so far durable (a killed process keeps them)."""
        if self._db.in_transaction:
            self._db.execute(_COMMIT)
        self.committed_at = time.monotonic()

    def commit_if_older(self, seconds: float) -> None:
        """Commit, if the last commit is more than `seconds` old."""
        if self._db.in_transaction and time.monotonic() - self.committed_at > seconds:
            self.commit()

    # --- rows --------------------------------------------------------------------------------

    def known(self, identity: str) -> Known | None:
        found = self._db.execute(_KNOWN, (identity,)).fetchone()
        return None if found is None else Known(*found)

    def add(
        self,
        identity: str,
        digest: str,
        key: str,
        recipient: str | None,
        sender: str | None,
        *,
        state: RowState = "pending",
        error_code: str | None = None,
        error_detail: str | None = None,
    ) -> None:
        self._write(
            _ADD,
            (identity, digest, state, key, recipient, sender, error_code, error_detail),
        )

    def sending(self, identities: Iterable[str], at: float) -> None:
        """Requests for these rows are about to leave: committed (with every write before) before they do."""
        if isinstance(identities, str):
            raise TypeError("sending() takes the identities of the rows: a list, not one str")
        self._begin()
        self._db.executemany(
            _SENDING,
            [(at, at, identity) for identity in identities],
        )
        self.commit()

    def accepted(self, identity: str, message_id: str | None, wait_seconds: float | None) -> None:
        self._write(
            _ACCEPTED,
            (message_id, wait_seconds, identity),
        )

    def failed(self, identity: str, code: str | None, detail: str) -> None:
        self._write(_FAILED, (code, detail, identity))

    def pending(self, identity: str, code: str | None = None, detail: str | None = None) -> None:
        """Back to pending: the API answered without taking the message (a 429)."""
        self._write(_PENDING, (code, detail, identity))

    def unanswered(self, identity: str, code: str | None, detail: str) -> None:
        """A request that got no answer the engine could take (left `sending`): why, for the record."""
        self._write(_UNANSWERED, (code, detail, identity))

    def unknown(self, identity: str, detail: str) -> None:
        self._write(_UNKNOWN, (detail, identity))

    def counts(self) -> dict[RowState, int]:
        found = dict(self._db.execute(_COUNTS).fetchall())
        return {state: int(found.get(state, 0)) for state in STATES}

    def rows(self) -> Iterator[JournalRow]:
        """Every row, in the order the campaign first read them."""
        for found in self._db.execute(_ROWS):
            yield _row(found)

    def has_deliveries(self) -> bool:
        """Whether a receiver has run on this file (its table of outcomes is there)."""
        return bool(self._db.execute(_HAS_DELIVERIES).fetchone()[0])

    def delivery_counts(self) -> dict[str, int]:
        """How many recipients of the campaign's messages are at each status the receiver recorded
        (statuses as the API names them; none at a status: not listed). {} before any receiver ran."""
        if not self.has_deliveries():
            return {}
        return {str(status): int(count) for status, count in self._db.execute(_DELIVERY_COUNTS)}

    def rows_delivered(self) -> Iterator[tuple[JournalRow, RowDelivery | None]]:
        """Every row, as rows() gives them, each with its recipient's outcome (None: none recorded),
        read as they go (never the whole table at once)."""
        if not self.has_deliveries():
            for row in self.rows():
                yield row, None
            return
        for found in self._db.execute(_ROWS_DELIVERED):
            status, codes, errors, occurred = found[_FIELDS:]
            yield _row(found), None if status is None else RowDelivery(status, codes, errors, occurred)

    def close(self) -> None:
        try:
            self.commit()
        finally:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
