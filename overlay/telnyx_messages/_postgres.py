"""A campaign's journal and the receiver's store on PostgreSQL: one database that many senders and
receivers on many machines share (psycopg 3, the `postgres` extra, imported only when used).

The tables mirror the SQLite journal's (telnyx_messages._journal) and the receiver store's
(telnyx_messages._receipts), in a schema of their own, `telnyx_messages`, so that they sit in an
application's database without touching its tables:

- `schema_version`: one row per migration applied (version, description, when).
- `campaigns`: one row per campaign (a database holds many, each by its name): its id (the keys
  derive from it), name, creation time and its last run's parameters.
- `rows`: the SQLite journal's columns per row, with the campaign's id, the row's send arguments
  (so that any sender can send any row, whichever machine read it) and a lease (`lease_owner`,
  `lease_until`): the worker that holds the row, until when.
- `gates`: the campaign's rates, shared by its workers: per gate (a message type, a sender) its rate
  and the next free slot, and a hold (the request limit's reset, a sender's queue).
- `events` and `deliveries`: the receiver's, as in SQLite; `events.seq` numbers the events in the
  order they were recorded (PostgreSQL keeps no row order of its own, as SQLite's rowid).

Claiming: a worker takes rows not settled (`pending`, `sending`) whose lease is free or expired,
`FOR UPDATE SKIP LOCKED`, and leases them to itself until the database's clock passes `lease_until`.
Two workers never hold the same row; a worker killed holding rows costs their lease time: then
another claims them and sends them with the same Idempotency-Key (kept in the row), which the API's
edge answers once. Every time a lease is judged by is the database's (`clock_timestamp()`), never a
worker's.

The rate: each gate holds the time of its next free slot; taking a slot through gates reserves the
latest of their next slots (and holds, and now), and moves each gate's next slot 1/rate later, all
in one transaction under the gates' row locks: every worker's sends through a gate are 1/rate apart,
whatever the number of workers. The time of a slot is told to the taker as a delay from the
database's now, so that workers' clocks need not agree.

Migrations: ordered steps, each applied in a transaction under an advisory lock, and recorded in
`schema_version`: processes starting at once migrate once; a database migrated by a later version of
the package is refused (JournalError), never written by an older one.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import json
import math
import os
import socket
import time
import urllib.parse
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, LiteralString, Protocol

from ._journal import STATES, CampaignRecord, JournalError, JournalRow, Known, RowState
from ._receipts import Incoming, StatusOrder, epoch

if TYPE_CHECKING:
    import psycopg  # type: ignore[import-not-found, unused-ignore]  # the postgres extra: Any without it

    from ._journal import Journal

__all__ = [
    "DEFAULT_LEASE",
    "GIVEN_UP_ATTEMPTS",
    "MIGRATIONS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "CampaignJournal",
    "Claimed",
    "Migration",
    "NewRow",
    "PostgresJournal",
    "Slots",
    "connect",
    "is_postgres_url",
    "journal_row",
    "migrate",
    "record_events",
    "redacted",
    "schema_version",
]

SCHEMA: Final = "telnyx_messages"
# How long a worker holds the rows it claims unless it renews them (seconds): what a worker killed
# outright costs, since no other may send its rows before then.
DEFAULT_LEASE = 30.0
# pg_advisory_xact_lock's key for migrations: "TNXM" (one lock, whatever the database).
_MIGRATION_LOCK = 0x544E584D
# Rows attempted this many times are not waited for by others_sending (the campaign engine gives a row
# up after as many attempts in a run, its MAX_ATTEMPTS: left for the next run, as one sender leaves them).
GIVEN_UP_ATTEMPTS = 6
_INSTALL = "pip install 'telnyx-messages[postgres]'"


# --- the interface the SQLite journal and this one share --------------------------------------------


class CampaignJournal(Protocol):
    """What the campaign engine asks of a journal, SQLite's (telnyx_messages._journal.Journal) or
    PostgreSQL's (PostgresJournal). `path` names it in messages (never with a password)."""

    path: str

    def campaign(self) -> CampaignRecord | None: ...

    def begin(self, name: str | None, parameters: Mapping[str, Any], now: datetime.datetime) -> CampaignRecord: ...

    def commit(self) -> None: ...

    def commit_if_older(self, seconds: float) -> None: ...

    def known(self, identity: str) -> Known | None: ...

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
    ) -> None: ...

    def sending(self, identities: Iterable[str], at: float) -> Collection[str] | None:
        """Mark rows `sending` (committed before their requests leave); the ones marked, None: all."""
        ...

    def accepted(self, identity: str, message_id: str | None, wait_seconds: float | None) -> None: ...

    def failed(self, identity: str, code: str | None, detail: str) -> None: ...

    def pending(self, identity: str, code: str | None = None, detail: str | None = None) -> None: ...

    def unanswered(self, identity: str, code: str | None, detail: str) -> None: ...

    def unknown(self, identity: str, detail: str) -> None: ...

    def counts(self) -> dict[RowState, int]: ...

    def rows(self) -> Iterator[JournalRow]: ...

    def close(self) -> None: ...


if TYPE_CHECKING:

    def _sqlite_journal_is_one(journal: Journal) -> CampaignJournal:
        """mypy checks here that the SQLite journal keeps to the shared interface."""
        return journal


# --- connecting ------------------------------------------------------------------------------------


def is_postgres_url(text: str | os.PathLike[str]) -> bool:
    """Whether a journal given as `text` is a PostgreSQL URL (postgresql:// or postgres://), not a file."""
    return isinstance(text, str) and text.split(":", 1)[0].lower() in ("postgresql", "postgres") and "://" in text


def redacted(url: str) -> str:
    """The URL with its password (if any) replaced by ***: how messages name a journal."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _psycopg() -> Any:
    """psycopg, imported when a PostgreSQL journal is first used (the package imports without it)."""
    try:
        return importlib.import_module("psycopg")
    except ImportError as exc:
        raise ImportError(f"a PostgreSQL journal needs psycopg 3 ({exc}): {_INSTALL}") from None


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A connection to the database at `url`, its schema migrated to this package's version
    (JournalError if a later version's). Errors name the URL without its password."""
    pg = _psycopg()
    try:
        db: psycopg.Connection[Any] = pg.connect(url, autocommit=True, application_name="telnyx-messages")
    except pg.Error as exc:
        raise JournalError(f"{redacted(url)}: cannot connect to PostgreSQL ({_first_line(exc)})") from None
    try:
        migrate(db)
        db.autocommit = autocommit
    except BaseException:
        db.close()
        raise
    return db


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --- migrations --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: its version (1, 2, ... in order), what it does, its SQL statements."""

    version: int
    description: str
    statements: tuple[LiteralString, ...]


_STATE_CHECK: Final = "state IN ('pending', 'sending', 'accepted', 'failed', 'unknown')"

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "the campaign journal (campaigns, rows with leases, gates) and the receiver's events and deliveries",
        (
            f"""CREATE TABLE {SCHEMA}.campaigns (
                campaign_id text PRIMARY KEY,
                name text NOT NULL UNIQUE,
                created_at timestamptz NOT NULL,
                parameters jsonb NOT NULL DEFAULT '{{}}'
            )""",
            f"""CREATE TABLE {SCHEMA}.rows (
                campaign_id text NOT NULL REFERENCES {SCHEMA}.campaigns ON DELETE CASCADE,
                seq bigint GENERATED ALWAYS AS IDENTITY,
                identity text NOT NULL,
                digest text NOT NULL,
                state text NOT NULL CHECK ({_STATE_CHECK}),
                idempotency_key text NOT NULL,
                recipient text,
                sender text,
                arguments jsonb,
                message_id text,
                wait_seconds double precision,
                error_code text,
                error_detail text,
                attempts integer NOT NULL DEFAULT 0,
                first_attempt_at timestamptz,
                last_attempt_at timestamptz,
                lease_owner text,
                lease_until timestamptz,
                PRIMARY KEY (campaign_id, identity)
            )""",
            f"CREATE INDEX rows_order ON {SCHEMA}.rows (campaign_id, seq)",
            f"CREATE INDEX rows_open ON {SCHEMA}.rows (campaign_id, seq) WHERE state IN ('pending', 'sending')",
            f"CREATE INDEX rows_state ON {SCHEMA}.rows (campaign_id, state)",
            f"""CREATE TABLE {SCHEMA}.gates (
                campaign_id text NOT NULL REFERENCES {SCHEMA}.campaigns ON DELETE CASCADE,
                gate text NOT NULL,
                rate double precision CHECK (rate > 0),
                next_at double precision NOT NULL DEFAULT 0,
                held_until double precision NOT NULL DEFAULT 0,
                PRIMARY KEY (campaign_id, gate)
            )""",
            f"""CREATE TABLE {SCHEMA}.events (
                event_id text PRIMARY KEY,
                event_type text,
                message_id text,
                occurred_at text,
                attempt integer,
                received_at timestamptz NOT NULL,
                body bytea NOT NULL
            )""",
            f"CREATE INDEX events_message ON {SCHEMA}.events (message_id)",
            f"""CREATE TABLE {SCHEMA}.deliveries (
                message_id text NOT NULL,
                recipient text NOT NULL,
                status text NOT NULL,
                occurred_at text,
                event_id text NOT NULL,
                event_type text,
                error_codes text,
                errors text,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (message_id, recipient)
            )""",
        ),
    ),
    Migration(
        2,
        "the receiver's events numbered in the order recorded (seq), those recorded before in their stored order",
        (
            # IF NOT EXISTS: a database whose receiver added the column itself before this step (the
            # receiver did, before migrations held it) keeps its numbers.
            f"ALTER TABLE {SCHEMA}.events ADD COLUMN IF NOT EXISTS seq bigint GENERATED ALWAYS AS IDENTITY",
            f"CREATE UNIQUE INDEX IF NOT EXISTS events_order ON {SCHEMA}.events (seq)",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version

_VERSION_TABLE: Final = f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version (
    version integer PRIMARY KEY,
    description text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


def schema_version(db: psycopg.Connection[Any]) -> int:
    """The version of the database's schema (0: none yet)."""
    found = db.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.schema_version",)).fetchone()
    if found is None or not found[0]:
        return 0
    row = db.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.schema_version").fetchone()
    return int(row[0]) if row is not None else 0


def migrate(
    db: psycopg.Connection[Any], migrations: Sequence[Migration] = MIGRATIONS, *, lock_timeout: float = 10.0
) -> list[int]:
    """Apply the steps of `migrations` (versions 1, 2, ... N) the database lacks, in order, in one
    transaction under an advisory lock (a second process waits, then finds them applied); the
    versions applied. A database of a later version than the last step is refused (JournalError),
    untouched. A lock waited for longer than `lock_timeout` seconds (a step altering a table that
    an older worker's open transaction reads) is a JournalError, nothing applied. `db` in
    autocommit mode (between transactions)."""
    versions = [step.version for step in migrations]
    if versions != list(range(1, len(versions) + 1)) or not versions:
        raise ValueError(f"migration versions must be 1, 2, ... in order, got {versions}")
    latest = versions[-1]
    try:
        with db.transaction():
            db.execute("SELECT set_config('lock_timeout', %s, true)", (f"{round(lock_timeout * 1000)}ms",))
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            db.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            db.execute(_VERSION_TABLE)
            applied = _migrate(db, migrations, latest)
    except _psycopg().errors.LockNotAvailable:
        raise JournalError(
            f"the journal's schema could not be migrated: a lock was held more than {lock_timeout:g} s (another "
            "process has the tables open: an older telnyx-messages still running?); nothing was changed"
        ) from None
    return applied


def _migrate(db: psycopg.Connection[Any], migrations: Sequence[Migration], latest: int) -> list[int]:
    """The steps the database lacks, applied (in migrate's transaction, under its lock)."""
    current = schema_version(db)
    if current > latest:
        raise JournalError(
            f"the database was migrated by a later telnyx-messages (schema {current}, this one knows up to "
            f"{latest}): upgrade to use it"
        )
    applied: list[int] = []
    for step in migrations[current:]:
        for statement in step.statements:
            db.execute(statement)
        db.execute(
            f"INSERT INTO {SCHEMA}.schema_version (version, description) VALUES (%s, %s)",
            (step.version, step.description),
        )
        applied.append(step.version)
    return applied


# --- the campaign journal ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row a worker holds (its lease): what sending it takes. `arguments`: the send's arguments as
    the row was added (None for a row added without them); `first_attempt_at` in UTC epoch seconds."""

    seq: int
    identity: str
    state: RowState
    idempotency_key: str
    digest: str
    recipient: str | None
    sender: str | None
    arguments: Mapping[str, Any] | None
    attempts: int
    first_attempt_at: float | None


@dataclass(frozen=True, slots=True)
class NewRow:
    """A row to add (add_many): add()'s arguments."""

    identity: str
    digest: str
    key: str
    recipient: str | None
    sender: str | None
    state: RowState = "pending"
    error_code: str | None = None
    error_detail: str | None = None
    arguments: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Slots:
    """Send times taken through gates: the first `delay` seconds after the take (by the database's
    clock), each next `spacing` seconds after the one before; `count` of them. `at` and `now`: the
    first slot and the take, in epoch seconds by the database's clock (a sender that maps that clock
    to its own places each slot to within its best round trip, not its last one)."""

    delay: float
    spacing: float
    count: int
    at: float = 0.0
    now: float = 0.0

    def delays(self) -> list[float]:
        return [self.delay + n * self.spacing for n in range(self.count)]


# The parameters kept as "no limit" (math.inf): JSON, and so jsonb, has no infinity. Each is left out
# of the stored parameters and named under this key, read back as math.inf.
_NO_LIMIT: Final = "no_limit"


def _kept_parameters(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as stored: a value of math.inf (a rate of no limit) left out, named under
    "no_limit". Another value JSON cannot hold (NaN, -inf) is a ValueError naming it."""
    kept: dict[str, Any] = {}
    unlimited: list[str] = []
    for key, value in parameters.items():
        if key == _NO_LIMIT:
            raise ValueError(f"a parameter may not be named {_NO_LIMIT!r} (the journal's own key)")
        if isinstance(value, float) and value == math.inf:
            unlimited.append(key)
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"parameter {key!r} is {value!r}: a PostgreSQL journal keeps finite numbers and inf")
        else:
            kept[key] = value
    if unlimited:
        kept[_NO_LIMIT] = sorted(unlimited)
    return kept


def _read_parameters(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as begin() was given them (those of no limit math.inf again)."""
    parameters = {key: value for key, value in stored.items() if key != _NO_LIMIT}
    parameters.update({key: math.inf for key in stored.get(_NO_LIMIT, ())})
    return parameters


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


_ROW_COLUMNS: Final = (
    "seq, identity, state, idempotency_key, recipient, sender, message_id, wait_seconds, error_code, error_detail,"
    " attempts, extract(epoch FROM first_attempt_at)::float8, extract(epoch FROM last_attempt_at)::float8"
)
_CLAIMED_COLUMNS: Final = (
    "r.seq, r.identity, r.state, r.idempotency_key, r.digest, r.recipient, r.sender, r.arguments, r.attempts,"
    " extract(epoch FROM r.first_attempt_at)::float8"
)
# A row no other worker's live lease holds (claim() also leaves out this worker's own: held already).
_EXPIRED: Final = "(lease_until IS NULL OR lease_until < clock_timestamp())"
_FREE: Final = "(lease_until IS NULL OR lease_until < clock_timestamp() OR lease_owner = %(worker)s)"


class PostgresJournal:
    """A campaign's journal in a PostgreSQL database (`url`), shared by many workers: the
    CampaignJournal interface, and the many-worker part (claim, renew, release, gates, take, hold).

    A database holds many campaigns, each by its name: `name` picks one (begin() may name it
    instead). `worker`: this worker's id in leases (default: host, process id and a random part);
    `lease`: how long its claims hold (seconds). Writes are grouped in a transaction as SQLite's are:
    `sending` commits them before requests leave, `commit_if_older` at most a second later."""

    def __init__(
        self,
        url: str,
        name: str | None = None,
        *,
        worker: str | None = None,
        lease: float = DEFAULT_LEASE,
    ) -> None:
        if not isinstance(url, str) or not is_postgres_url(url):
            raise ValueError(f"a PostgreSQL journal is a postgresql:// URL, got {url!r}")
        if not lease > 0:
            raise ValueError(f"lease must be a number of seconds above 0, got {lease!r}")
        self.path = redacted(url)
        self.name = name
        self.worker = worker or _worker_id()
        self.lease = float(lease)
        self.committed_at = time.monotonic()
        self._url = url
        self._campaign_id: str | None = None
        # Outcome writes, sent together (pipelined) before the next read or commit.
        self._writes: list[tuple[LiteralString, tuple[Any, ...]]] = []
        self._db = connect(url)
        self._gates_db: psycopg.Connection[Any] | None = None

    def __repr__(self) -> str:
        return f"PostgresJournal({self.path!r}, name={self.name!r}, worker={self.worker!r})"

    # --- the campaign ----------------------------------------------------------------------------

    def _named(self, name: str | None) -> str:
        chosen = name if name is not None else self.name
        if not chosen:
            raise JournalError(f"{self.path} can hold many campaigns: name the campaign to run or read")
        return chosen

    def campaign(self) -> CampaignRecord | None:
        """The record of the campaign this journal was opened for (None if it is not there yet)."""
        if self.name is None:
            return None
        found = self._db.execute(
            f"SELECT campaign_id, name, created_at, parameters FROM {SCHEMA}.campaigns WHERE name = %s",
            (self.name,),
        ).fetchone()
        if found is None:
            return None
        self._campaign_id = found[0]
        return CampaignRecord(found[0], found[1], found[2].astimezone(datetime.UTC), _read_parameters(found[3]))

    def begin(self, name: str | None, parameters: Mapping[str, Any], now: datetime.datetime) -> CampaignRecord:
        """The campaign `name` (or the journal's), made on its first run, joined by every later run
        and every other worker; the run's parameters recorded. A name other than the journal's is
        refused."""
        if name is not None and self.name is not None and name != self.name:
            raise JournalError(f"{self.path} was opened for campaign {self.name!r}, not {name!r}")
        self.name = self._named(name)
        encoded = json.dumps(_kept_parameters(parameters), sort_keys=True, allow_nan=False)
        self._db.execute(
            f"INSERT INTO {SCHEMA}.campaigns (campaign_id, name, created_at, parameters) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET parameters = EXCLUDED.parameters",
            (uuid.uuid4().hex, self.name, now, encoded),
        )
        self.commit()
        record = self.campaign()
        assert record is not None
        return record

    def _id(self) -> str:
        if self._campaign_id is None:
            raise JournalError(f"{self.path}: begin() the campaign first")
        return self._campaign_id

    # --- transactions ------------------------------------------------------------------------------

    def _write(self, sql: LiteralString, parameters: tuple[Any, ...]) -> None:
        self._writes.append((sql, parameters))

    def flush(self) -> None:
        """Send the writes held back, in one pipeline (one round trip, not one each); not committed.
        Every read and commit flushes first (a subclass holding writes of its own sends them here)."""
        writes, self._writes = self._writes, []
        if writes:
            with self._pipeline():
                for sql, parameters in writes:
                    self._db.execute(sql, parameters)

    def _pipeline(self) -> contextlib.AbstractContextManager[object]:
        """A pipeline for the commands sent next: the one open (commit's, sending's) if there is one,
        so that they go in its round trip, not a Sync of their own."""
        if self._db.pgconn.pipeline_status != _psycopg().pq.PipelineStatus.OFF:
            return contextlib.nullcontext()
        return self._db.pipeline()

    def commit(self) -> None:
        """Make the writes so far durable: the writes held back and the COMMIT in one round trip."""
        if self._writes:
            with self._pipeline():
                self.flush()
                self._db.commit()
        else:
            self.flush()
            self._db.commit()
        self.committed_at = time.monotonic()

    def commit_if_older(self, seconds: float) -> None:
        if time.monotonic() - self.committed_at > seconds:
            self.commit()

    # --- rows ----------------------------------------------------------------------------------------

    def known(self, identity: str) -> Known | None:
        self.flush()
        found = self._db.execute(
            f"SELECT state, digest, extract(epoch FROM first_attempt_at)::float8, attempts FROM {SCHEMA}.rows"
            " WHERE campaign_id = %s AND identity = %s",
            (self._id(), identity),
        ).fetchone()
        return None if found is None else Known(found[0], found[1], found[2], found[3])

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
        arguments: Mapping[str, Any] | None = None,
    ) -> None:
        """Add a row (another worker that added it first wins: the row is left as it is)."""
        self.add_many([NewRow(identity, digest, key, recipient, sender, state, error_code, error_detail, arguments)])

    def add_many(self, rows: Iterable[NewRow]) -> None:
        """Add rows in one round trip (pipelined); a row another worker added first is left as it is."""
        self.flush()
        campaign_id = self._id()
        with self._db.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {SCHEMA}.rows (campaign_id, identity, digest, state, idempotency_key, recipient, sender,"
                " error_code, error_detail, arguments) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (campaign_id, identity) DO NOTHING",
                [
                    (
                        campaign_id,
                        row.identity,
                        row.digest,
                        row.state,
                        row.key,
                        row.recipient,
                        row.sender,
                        row.error_code,
                        row.error_detail,
                        None if row.arguments is None else json.dumps(dict(row.arguments), sort_keys=True, default=str),
                    )
                    for row in rows
                ],
            )

    def known_many(self, identities: Iterable[str]) -> dict[str, Known]:
        """known() of many rows in one query: those in the journal, by identity."""
        self.flush()
        found = self._db.execute(
            f"SELECT identity, state, digest, extract(epoch FROM first_attempt_at)::float8, attempts FROM {SCHEMA}.rows"
            " WHERE campaign_id = %s AND identity = ANY(%s)",
            (self._id(), _listed(identities)),
        ).fetchall()
        return {identity: Known(state, digest, first, attempts) for identity, state, digest, first, attempts in found}

    def claim(self, limit: int, *, resend_unknown: bool = False) -> list[Claimed]:
        """Up to `limit` rows to send, in the campaign's order, leased to this worker for `lease`
        seconds: rows not settled (and `unknown` ones with resend_unknown) that no live lease holds.
        Rows another worker is claiming at the same instant are skipped, not waited for."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be an int of at least 1, got {limit!r}")
        self.commit()  # this worker's own uncommitted writes hold row locks the claim would skip
        states = ["pending", "sending", *(["unknown"] if resend_unknown else [])]
        found = self._db.execute(
            f"""WITH picked AS (
                SELECT identity FROM {SCHEMA}.rows
                WHERE campaign_id = %(campaign)s AND state = ANY(%(states)s) AND {_EXPIRED}
                ORDER BY seq LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED
            )
            UPDATE {SCHEMA}.rows AS r
            SET lease_owner = %(worker)s, lease_until = clock_timestamp() + make_interval(secs => %(lease)s)
            FROM picked WHERE r.campaign_id = %(campaign)s AND r.identity = picked.identity
            RETURNING {_CLAIMED_COLUMNS}""",
            {"campaign": self._id(), "states": states, "limit": limit, "worker": self.worker, "lease": self.lease},
        ).fetchall()
        self.commit()
        return sorted((Claimed(*row) for row in found), key=lambda claimed: claimed.seq)

    def others_sending(self, attempts_below: int = GIVEN_UP_ATTEMPTS) -> bool:
        """Whether rows of the campaign are still to be sent by some worker: not settled (`pending`,
        `sending`), with their send arguments, attempted fewer than `attempts_below` times (a row
        attempted that often was given up on in its run: left for the next run), and either under
        another worker's live lease (its sends in flight) or under none (free: claim() takes them).
        A worker done with its own rows waits while this holds. Commits first."""
        self.commit()
        found = self._db.execute(
            f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.rows WHERE campaign_id = %(campaign)s"
            " AND state IN ('pending', 'sending') AND arguments IS NOT NULL AND attempts < %(attempts)s"
            f" AND (lease_owner IS DISTINCT FROM %(worker)s OR {_EXPIRED}))",
            {"campaign": self._id(), "worker": self.worker, "attempts": attempts_below},
        ).fetchone()
        self.commit()
        return bool(found is not None and found[0])

    def renew(self) -> int:
        """Extend this worker's leases by `lease` from now (while its sends are in flight); how many."""
        self.commit()
        cursor = self._db.execute(
            f"UPDATE {SCHEMA}.rows SET lease_until = clock_timestamp() + make_interval(secs => %s)"
            " WHERE campaign_id = %s AND lease_owner = %s AND lease_until >= clock_timestamp()",
            (self.lease, self._id(), self.worker),
        )
        self.commit()
        return int(cursor.rowcount)

    def release(self, identities: Iterable[str] | None = None) -> int:
        """Give back this worker's leases (of `identities`; None: all), for others to claim now; how many."""
        self.commit()
        if identities is None:
            cursor = self._db.execute(
                f"UPDATE {SCHEMA}.rows SET lease_owner = NULL, lease_until = NULL"
                " WHERE campaign_id = %s AND lease_owner = %s",
                (self._id(), self.worker),
            )
        else:
            cursor = self._db.execute(
                f"UPDATE {SCHEMA}.rows SET lease_owner = NULL, lease_until = NULL"
                " WHERE campaign_id = %s AND lease_owner = %s AND identity = ANY(%s)",
                (self._id(), self.worker, _listed(identities)),
            )
        self.commit()
        return int(cursor.rowcount)

    def sending(self, identities: Iterable[str], at: float) -> list[str]:
        """Requests for these rows are about to leave: each marked `sending` (attempts + 1) and leased
        to this worker, if no other worker's live lease holds it; committed, with every write before,
        before they leave. The identities marked: send only those."""
        listed = _listed(identities)
        if not listed:
            self.commit()
            return []
        campaign_id = self._id()
        # The rows added and the outcomes held back, the marks and the COMMIT: one round trip.
        with self._pipeline():
            self.flush()
            cursor = self._db.execute(
                f"UPDATE {SCHEMA}.rows SET state = 'sending', attempts = attempts + 1,"
                " last_attempt_at = to_timestamp(%(at)s),"
                " first_attempt_at = coalesce(first_attempt_at, to_timestamp(%(at)s)), lease_owner = %(worker)s,"
                " lease_until = greatest(lease_until, clock_timestamp() + make_interval(secs => %(lease)s))"
                f" WHERE campaign_id = %(campaign)s AND identity = ANY(%(identities)s) AND {_FREE}"
                " AND state IN ('pending', 'sending', 'unknown') RETURNING identity",
                {"at": at, "worker": self.worker, "lease": self.lease, "campaign": campaign_id, "identities": listed},
            )
            self._db.commit()
        self.committed_at = time.monotonic()
        marked = {row[0] for row in cursor.fetchall()}
        return [identity for identity in listed if identity in marked]

    def accepted(self, identity: str, message_id: str | None, wait_seconds: float | None) -> None:
        """The API took the message: whoever sent it with the row's key, it is the row's outcome."""
        self._write(
            f"UPDATE {SCHEMA}.rows SET state = 'accepted', message_id = %s, wait_seconds = %s, error_code = NULL,"
            " error_detail = NULL, lease_owner = NULL, lease_until = NULL WHERE campaign_id = %s AND identity = %s",
            (message_id, wait_seconds, self._id(), identity),
        )

    def failed(self, identity: str, code: str | None, detail: str) -> None:
        """Refused (before sending, or by the API); an accepted row stays accepted."""
        self._write(
            f"UPDATE {SCHEMA}.rows SET state = 'failed', error_code = %s, error_detail = %s, lease_owner = NULL,"
            " lease_until = NULL WHERE campaign_id = %s AND identity = %s AND state <> 'accepted'",
            (code, detail, self._id(), identity),
        )

    def pending(self, identity: str, code: str | None = None, detail: str | None = None) -> None:
        """Back to pending (a 429: the message was not taken), unless settled meanwhile; the lease
        is kept (this worker sends it again): release() gives it back."""
        self._write(
            f"UPDATE {SCHEMA}.rows SET state = 'pending', error_code = %s, error_detail = %s"
            " WHERE campaign_id = %s AND identity = %s AND state IN ('pending', 'sending')",
            (code, detail, self._id(), identity),
        )

    def unanswered(self, identity: str, code: str | None, detail: str) -> None:
        self._write(
            f"UPDATE {SCHEMA}.rows SET error_code = %s, error_detail = %s"
            " WHERE campaign_id = %s AND identity = %s AND state IN ('pending', 'sending')",
            (code, detail, self._id(), identity),
        )

    def unknown(self, identity: str, detail: str) -> None:
        self._write(
            f"UPDATE {SCHEMA}.rows SET state = 'unknown', error_detail = %s, lease_owner = NULL, lease_until = NULL"
            " WHERE campaign_id = %s AND identity = %s AND state IN ('pending', 'sending')",
            (detail, self._id(), identity),
        )

    def counts(self) -> dict[RowState, int]:
        self.flush()
        found = dict(
            self._db.execute(
                f"SELECT state, count(*) FROM {SCHEMA}.rows WHERE campaign_id = %s GROUP BY state", (self._id(),)
            ).fetchall()
        )
        return {state: int(found.get(state, 0)) for state in STATES}

    def rows(self) -> Iterator[JournalRow]:
        """Every row, in the order the campaign first read them."""
        campaign_id = self._id()
        self.commit()
        # A server-side cursor: a campaign of millions of rows is read a batch at a time.
        with self._db.cursor(name=f"rows_{uuid.uuid4().hex[:8]}") as cursor:
            cursor.execute(
                f"SELECT {_ROW_COLUMNS} FROM {SCHEMA}.rows WHERE campaign_id = %s ORDER BY seq", (campaign_id,)
            )
            for found in cursor:
                yield journal_row(found)
        self.commit()

    # --- the campaign's rates, shared by its workers --------------------------------------------------

    def _gates(self) -> psycopg.Connection[Any]:
        """The connection for gates: its own, in autocommit mode, so that taking a slot commits
        nothing of the journal's writes and waits for none of their locks."""
        if self._gates_db is None:
            self._gates_db = connect(self._url, autocommit=True)
        return self._gates_db

    def set_gate(self, gate: str, rate: float | None) -> None:
        """A gate of the campaign and its rate (messages per second; None: none of its own). The
        rate is the campaign's: the last worker to set it sets it for all."""
        if rate is not None and (isinstance(rate, bool) or not rate > 0):
            raise ValueError(f"a gate's rate must be above 0 (or None), got {rate!r}")
        self._gates().execute(
            f"INSERT INTO {SCHEMA}.gates (campaign_id, gate, rate) VALUES (%s, %s, %s)"
            " ON CONFLICT (campaign_id, gate) DO UPDATE SET rate = EXCLUDED.rate",
            (self._id(), gate, rate),
        )

    def take(self, gates: Sequence[str], count: int = 1) -> Slots:
        """Reserve `count` send slots through every one of `gates` (set_gate first): the first at the
        latest of their next free slots, their holds and now; then 1/rate of the slowest gate apart.
        Each gate's next free slot moves to 1/rate after the last. Atomic across workers: the gates'
        rows are locked in one order for the take."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be an int of at least 1, got {count!r}")
        names = sorted(set(gates))
        # One statement, so one round trip (autocommit: its own transaction): the gates' rows locked
        # in one order, the database's clock read once they are (the aggregate's value comes after its
        # rows), each gate's next free slot moved only if every gate named is there.
        found = (
            self._gates()
            .execute(
                f"""WITH locked AS (
                SELECT gate, rate, next_at, held_until FROM {SCHEMA}.gates
                WHERE campaign_id = %(campaign)s AND gate = ANY(%(gates)s) ORDER BY gate FOR UPDATE
            ),
            taken AS (
                SELECT max(next_at) AS next_at, max(held_until) AS held_until,
                       coalesce(max(1.0 / rate), 0.0)::float8 AS spacing, array_agg(gate) AS found,
                       extract(epoch FROM clock_timestamp())::float8 AS t
                FROM locked
            ),
            slot AS (SELECT greatest(next_at, held_until, t) AS at, t, spacing, found FROM taken),
            moved AS (
                UPDATE {SCHEMA}.gates AS g SET next_at = slot.at + (%(count)s - 1) * slot.spacing + 1.0 / g.rate
                FROM slot WHERE g.campaign_id = %(campaign)s AND g.gate = ANY(%(gates)s) AND g.rate IS NOT NULL
                AND cardinality(slot.found) = %(named)s
            )
            SELECT slot.at, slot.t, slot.spacing, slot.found FROM slot""",
                {"campaign": self._id(), "gates": names, "count": count, "named": len(names)},
            )
            .fetchone()
        )
        assert found is not None
        at, now, spacing, locked = found
        if len(locked or ()) != len(names):
            missing = sorted(set(names) - set(locked or ()))
            raise JournalError(f"{self.path}: no gate {missing} in campaign {self.name!r} (set_gate first)")
        return Slots(max(0.0, at - now), spacing, count, at, now)

    def hold(self, seconds: float, gates: Sequence[str] | None = None) -> None:
        """No slot through `gates` (None: every gate of the campaign) before `seconds` from the
        database's now: the request limit's reset, a sender's queue."""
        db = self._gates()
        query = (
            f"UPDATE {SCHEMA}.gates SET held_until = greatest(held_until,"
            " extract(epoch FROM clock_timestamp())::float8 + %s) WHERE campaign_id = %s"
        )
        if gates is None:
            db.execute(query, (seconds, self._id()))
        else:
            db.execute(query + " AND gate = ANY(%s)", (seconds, self._id(), sorted(set(gates))))

    # --- closing ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Commit, give back this worker's leases (a clean stop costs others no lease time), close."""
        try:
            if not self._db.closed:
                self.commit()
                if self._campaign_id is not None:
                    self.release()
        finally:
            self._db.close()
            if self._gates_db is not None:
                self._gates_db.close()

    def __enter__(self) -> PostgresJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _listed(identities: Iterable[str]) -> list[str]:
    if isinstance(identities, str):
        raise TypeError("takes the identities of the rows: a list, not one str")
    return list(identities)


def _utc(epoch_seconds: float | None) -> datetime.datetime | None:
    return None if epoch_seconds is None else datetime.datetime.fromtimestamp(epoch_seconds, datetime.UTC)


def journal_row(found: Sequence[Any]) -> JournalRow:
    """A `JournalRow` from the first 13 values of a row read by `_ROW_COLUMNS`, its times made UTC."""
    seq, identity, state, key, recipient, sender, message_id, wait, code, detail, attempts, first, last = found[:13]
    return JournalRow(
        seq, identity, state, key, recipient, sender, message_id, wait, code, detail, attempts, _utc(first), _utc(last)
    )


# --- the receiver's store ------------------------------------------------------------------------------

# Transactions a lock conflict aborted (another worker's lock order): tried again, this many times.
_RECORD_ATTEMPTS = 5


def record_events(db: psycopg.Connection[Any], items: Sequence[Incoming], order: StatusOrder, now: float) -> list[bool]:
    """Record events in one transaction, as telnyx_messages._receipts.record does in SQLite: for
    each, whether it is new (False: its id was recorded before, by this worker or any other, and
    nothing is written of it). Many workers record at once: an event id arriving at two is inserted
    by one (`ON CONFLICT (event_id) DO NOTHING`; the other waits for the first to commit, then finds
    it); locks are taken in one order (events by id, then deliveries by message and recipient), so
    that two batches never wait on each other in a circle. `db` in autocommit mode."""
    psycopg = _psycopg()
    for attempt in range(1, _RECORD_ATTEMPTS + 1):
        try:
            with db.transaction():
                return _record(db, items, order, now)
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
            if attempt == _RECORD_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _record(db: psycopg.Connection[Any], items: Sequence[Incoming], order: StatusOrder, now: float) -> list[bool]:
    new = [False] * len(items)
    by_id = sorted(range(len(items)), key=lambda index: items[index].event_id)
    for index in by_id:
        item = items[index]
        inserted = db.execute(
            f"INSERT INTO {SCHEMA}.events (event_id, event_type, message_id, occurred_at, attempt, received_at, body)"
            " VALUES (%s, %s, %s, %s, %s, to_timestamp(%s), %s) ON CONFLICT (event_id) DO NOTHING RETURNING 1",
            (item.event_id, item.event_type, item.message_id, item.occurred_at, item.attempt, now, item.body),
        ).fetchone()
        new[index] = inserted is not None
    # The outcomes of the new events, by (message, recipient), each key's in the order received.
    outcomes = [
        (item, outcome)
        for index, item in enumerate(items)
        if new[index] and item.message_id is not None
        for outcome in item.outcomes
    ]
    outcomes.sort(key=lambda pair: (pair[0].message_id or "", pair[1].recipient))
    for item, outcome in outcomes:
        _outcome(db, item, outcome.recipient, outcome.status, outcome.error_codes, outcome.errors, order, now)
    return new


def _outcome(
    db: psycopg.Connection[Any],
    item: Incoming,
    recipient: str,
    status: str,
    error_codes: str | None,
    errors: str | None,
    order: StatusOrder,
    now: float,
) -> None:
    values = (item.message_id, recipient, status, item.occurred_at, item.event_id, item.event_type, error_codes, errors)
    inserted = db.execute(
        f"INSERT INTO {SCHEMA}.deliveries (message_id, recipient, status, occurred_at, event_id, event_type,"
        " error_codes, errors, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, to_timestamp(%s))"
        " ON CONFLICT (message_id, recipient) DO NOTHING RETURNING 1",
        (*values, now),
    ).fetchone()
    if inserted is not None:
        return
    found = db.execute(
        f"SELECT status, occurred_at FROM {SCHEMA}.deliveries WHERE message_id = %s AND recipient = %s FOR UPDATE",
        (item.message_id, recipient),
    ).fetchone()
    assert found is not None  # inserted by another transaction, committed: rows are never deleted
    if not order.replaces(status, epoch(item.occurred_at), found[0], epoch(found[1])):
        return
    db.execute(
        f"UPDATE {SCHEMA}.deliveries SET status = %s, occurred_at = %s, event_id = %s, event_type = %s,"
        " error_codes = %s, errors = %s, updated_at = to_timestamp(%s) WHERE message_id = %s AND recipient = %s",
        (
            status,
            item.occurred_at,
            item.event_id,
            item.event_type,
            error_codes,
            errors,
            now,
            item.message_id,
            recipient,
        ),
    )
