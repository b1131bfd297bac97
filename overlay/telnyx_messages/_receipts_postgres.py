"""The receiver's store on PostgreSQL: many receiver workers (several uvicorn workers, several hosts)
recording into one database (telnyx_messages._postgres: its schema, migrations and
record_events), each event once whichever worker it reaches, each recipient's latest status by the
API's order.

`Receiver("postgresql://user@host/db", ...)` opens two of these (a reader and the writer thread's),
each with a connection of its own in autocommit mode; each worker keeps its own group commit (one
transaction per batch of what queued up). A lock waited for longer than `lock_timeout` (another
worker's transaction on the same event, a migration) and a connection lost are `unavailable`: the
batch is answered 503, for Telnyx to deliver it again, and the next batch connects again.

The events' order: PostgreSQL keeps no row order of its own (SQLite's rowid), so `events` has an
identity column, `seq`, numbered as the events are inserted (the schema's migration 2, which numbers
the events of a database made before it in their stored order); event_ids() reads by it. A worker's
batch committed after another's may hold lower numbers than that one's (numbers are taken at insert,
not at commit): a reading that runs while events are recorded may miss those, as a reading of the
deliveries may miss one recorded while it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from . import _postgres
from ._journal import JournalError
from ._postgres import SCHEMA
from ._receipts import DeliveryRow, Incoming, StatusOrder, StoreError

if TYPE_CHECKING:
    import psycopg  # type: ignore[import-not-found, unused-ignore]  # the postgres extra: Any without it

__all__ = ["ORDER_COLUMN", "PostgresStore"]

# The events' identity column (migration 2): the order they were recorded in.
ORDER_COLUMN: Final = "seq"


class PostgresStore:
    """The store in the PostgreSQL database at `url` (its schema migrated on opening; StoreError if
    it cannot be reached or is a later version's). `lock_timeout`: the seconds a write waits for a
    lock before the batch is given up (503)."""

    def __init__(self, url: str, *, lock_timeout: float = 1.0) -> None:
        self.name = _postgres.redacted(url)
        self._url = url
        self._lock_timeout = lock_timeout
        psycopg = _postgres._psycopg()
        self.unavailable: tuple[type[Exception], ...] = (psycopg.OperationalError, StoreError)
        self._db = self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            db = _postgres.connect(self._url, autocommit=True)
        except JournalError as exc:
            raise StoreError(str(exc)) from None
        try:
            db.execute("SELECT set_config('lock_timeout', %s, false)", (f"{round(self._lock_timeout * 1000)}ms",))
        except BaseException:
            db.close()
            raise
        return db

    def _live(self) -> psycopg.Connection[Any]:
        """The connection; a new one if it was lost (the server restarted, the backend ended: psycopg
        then calls it closed)."""
        if self._db.closed:
            self._db.close()
            self._db = self._connect()
        return self._db

    def record(self, items: Sequence[Incoming], order: StatusOrder, now: float) -> list[bool]:
        return _postgres.record_events(self._live(), items, order, now)

    def deliveries(self, after: tuple[str, str], message_id: str | None, limit: int) -> list[DeliveryRow]:
        only, chosen = (" AND message_id = %s", (message_id,)) if message_id is not None else ("", ())
        rows: list[DeliveryRow] = (
            self._live()
            .execute(
                "SELECT message_id, recipient, status, error_codes, errors, occurred_at, event_id, event_type,"
                f" extract(epoch FROM updated_at)::float8 FROM {SCHEMA}.deliveries"
                f" WHERE (message_id, recipient) > (%s, %s){only} ORDER BY message_id, recipient LIMIT %s",
                (*after, *chosen, limit),
            )
            .fetchall()
        )
        return rows

    def delivery_counts(self) -> list[tuple[str, int]]:
        rows: list[tuple[str, int]] = (
            self._live().execute(f"SELECT status, count(*) FROM {SCHEMA}.deliveries GROUP BY status").fetchall()
        )
        return rows

    def event_ids(self, after: int, limit: int) -> list[tuple[int, str]]:
        rows: list[tuple[int, str]] = (
            self._live()
            .execute(
                f"SELECT {ORDER_COLUMN}, event_id FROM {SCHEMA}.events WHERE {ORDER_COLUMN} > %s"
                f" ORDER BY {ORDER_COLUMN} LIMIT %s",
                (after, limit),
            )
            .fetchall()
        )
        return rows

    def close(self) -> None:
        self._db.close()
