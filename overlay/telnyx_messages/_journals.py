"""The journal a campaign runs on, chosen from what `journal=` names: an SQLite file (one sender, the
default) or a PostgreSQL URL (`postgresql://` or `postgres://`: many senders share the campaign).

Both journals keep to one interface (CampaignJournal): the SQLite journal's methods as the engine
calls them, and the few that many senders need, which the SQLite journal answers as one sender
would (every row marked for sending is this sender's, no rows to claim from others, no rates shared
beyond its own process):

- `sending(identities, at)`: the rows marked `sending`, leased to this sender (None: all of them).
  A row another sender's live lease holds is left out: that sender sends it.
- `slots(rows)`: how long each send of a batch waits for its turn under the campaign's rates,
  kept across every sender through the database's gates (SQLite: no wait beyond the engine's own
  pacing, which paces one process).
- `hold(seconds, sender)`: a hold on the campaign's gates (the request limit's reset: every gate,
  sender None) or on one sender's (its queue), seen by every sender.
- `claim(limit, resend_unknown)`: rows left to send once this sender has read all of its own (a dead
  sender's, after its lease); `others_sending()`: whether rows are still to be sent, in another
  sender's hands or free again (then this sender waits, and claims what comes free).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from . import _pacing, _postgres
from ._journal import Journal, JournalError, Known
from ._postgres import CampaignJournal as _Base
from ._postgres import Claimed, NewRow, PostgresJournal

__all__ = ["CampaignJournal", "SQLiteCampaignJournal", "SharedCampaignJournal", "open_existing", "open_journal"]

# How long a sender holds the rows it sends unless it renews them (seconds; renewed each second
# while it runs): what a sender killed outright costs, before another sends its rows.
LEASE = _postgres.DEFAULT_LEASE
# Seconds between commits of the outcomes: their row locks hold back another sender's marks.
_COMMIT_EVERY = 0.1


class CampaignJournal(_Base, Protocol):
    """What the campaign engine asks of a journal: the SQLite journal's methods, and the shared ones."""

    def add(
        self,
        identity: str,
        digest: str,
        key: str,
        recipient: str | None,
        sender: str | None,
        *,
        state: Any = "pending",
        error_code: str | None = None,
        error_detail: str | None = None,
        arguments: Mapping[str, Any] | None = None,
    ) -> None: ...

    @property
    def read_ahead(self) -> int:
        """How many rows the engine reads before admitting them (their journal rows looked up at once)."""
        ...

    def expect(self, identities: Sequence[str]) -> None:
        """The rows the engine is about to admit: their journal rows looked up together."""
        ...

    @property
    def batch(self) -> int:
        """How many requests the engine frees before it starts more (marks them and takes their slots)."""
        ...

    def pacer(self, rate: float | None, sender_rate: float | None, max_queue_wait: float) -> _pacing.Pacer: ...

    def slots(self, rows: Sequence[tuple[_pacing.MessageType, str | None]]) -> list[float] | None:
        """Each row's wait (seconds from now) for its slot under the campaign's shared rates; None:
        the engine's own gates pace the campaign (one sender)."""
        ...

    def hold(self, seconds: float, sender: str | None = None, *, everyone: bool = True) -> None: ...

    def claim(self, limit: int, *, resend_unknown: bool = False) -> list[Claimed]: ...

    def release(self, identities: Iterable[str] | None = None) -> int: ...

    def others_sending(self) -> bool: ...

    def __enter__(self) -> CampaignJournal: ...

    def __exit__(self, *exc: object) -> None: ...


class SQLiteCampaignJournal(Journal):
    """The SQLite journal as the engine's: one sender, so every row is its own and its pacing the
    campaign's."""

    def add(
        self,
        identity: str,
        digest: str,
        key: str,
        recipient: str | None,
        sender: str | None,
        *,
        state: Any = "pending",
        error_code: str | None = None,
        error_detail: str | None = None,
        arguments: Mapping[str, Any] | None = None,
    ) -> None:
        """A row added (its arguments are not kept: only this process sends its rows)."""
        super().add(
            identity, digest, key, recipient, sender, state=state, error_code=error_code, error_detail=error_detail
        )

    read_ahead = 1  # a row at a time: SQLite answers in the process
    batch = 1  # each request as soon as one is free

    def expect(self, identities: Sequence[str]) -> None:
        """Nothing: each row is looked up as it is admitted."""

    def pacer(self, rate: float | None, sender_rate: float | None, max_queue_wait: float) -> _pacing.Pacer:
        return _pacing.Pacer(rate, sender_rate, max_queue_wait)

    def slots(self, rows: Sequence[tuple[_pacing.MessageType, str | None]]) -> list[float] | None:
        return None

    def hold(self, seconds: float, sender: str | None = None, *, everyone: bool = True) -> None:
        """Nothing: the engine's own gates hold the one sender."""

    def claim(self, limit: int, *, resend_unknown: bool = False) -> list[Claimed]:
        return []

    def release(self, identities: Iterable[str] | None = None) -> int:
        return 0

    def others_sending(self) -> bool:
        return False

    def __enter__(self) -> SQLiteCampaignJournal:
        return self


class SharedCampaignJournal(PostgresJournal):
    """The PostgreSQL journal as the engine's: the rows shared among senders by leases, the rates kept
    in the database's gates (the engine's own gates in this process then pace nothing)."""

    def __init__(self, url: str, name: str | None = None) -> None:
        super().__init__(url, name, lease=LEASE)
        self._expected: dict[str, Known | None] = {}
        self._adds: list[NewRow] = []
        self._rates = _pacing.Pacer()
        self._gates_set: set[str] = set()
        self._renewed = time.monotonic()
        self._clock = _pacing.ClockOffset()  # the database's clock, as this process's (time.monotonic)

    # --- rows read in chunks: one round trip per chunk, not per row --------------------------------

    read_ahead = 100
    batch = 8  # a mark and a slot taking are round trips to the database: for 8 requests at a time

    def expect(self, identities: Sequence[str]) -> None:
        """Look up the rows about to be admitted at once (known() answers them from here). The rows
        added before are committed first: another sender adding the same rows waits for them."""
        self.commit()
        found = self.known_many(identities)
        self._expected = {identity: found.get(identity) for identity in identities}

    def known(self, identity: str) -> Known | None:
        if identity in self._expected:
            return self._expected[identity]
        return super().known(identity)

    def add(
        self,
        identity: str,
        digest: str,
        key: str,
        recipient: str | None,
        sender: str | None,
        *,
        state: Any = "pending",
        error_code: str | None = None,
        error_detail: str | None = None,
        arguments: Mapping[str, Any] | None = None,
    ) -> None:
        """Added with the next write that goes to the database (before any read or commit)."""
        self._adds.append(NewRow(identity, digest, key, recipient, sender, state, error_code, error_detail, arguments))
        self._expected[identity] = Known(state, digest, None, 0)

    def flush(self) -> None:
        """The rows added since the last write, then the writes held back (PostgresJournal.flush)."""
        adds, self._adds = self._adds, []
        if adds:
            self.add_many(adds)
        super().flush()

    def pacer(self, rate: float | None, sender_rate: float | None, max_queue_wait: float) -> _pacing.Pacer:
        """The engine's gates in this process: no rate of their own (the database's gates pace the
        campaign), holds as the answers say."""
        self._rates = _pacing.Pacer(rate, sender_rate, max_queue_wait)
        return _pacing.Pacer(math.inf, math.inf, max_queue_wait)

    def _gate_names(self, message_type: _pacing.MessageType, sender: str | None) -> list[str]:
        names = []
        rates = self._rates
        for name, gate in (
            ("type:all" if rates.rate is not None else f"type:{message_type}", rates.type_gate(message_type)),
            (f"sender:{sender or ''}", rates.sender_gate(sender)),
        ):
            if name not in self._gates_set:
                self.set_gate(name, gate.rate)
                self._gates_set.add(name)
            names.append(name)
        return names

    def slots(self, rows: Sequence[tuple[_pacing.MessageType, str | None]]) -> list[float]:
        """Each row's wait (seconds from the return, time.monotonic's) for its slot through the
        campaign's gates, taken for the batch. The slots are the database's times, mapped to this
        process's clock (ClockOffset): a slow answer does not shift them late, bunched with the
        other senders' on time."""
        delays = [0.0] * len(rows)
        groups: dict[tuple[_pacing.MessageType, str | None], list[int]] = {}
        for index, row in enumerate(rows):
            groups.setdefault(row, []).append(index)
        for (message_type, sender), indexes in groups.items():
            names = self._gate_names(message_type, sender)
            asked = time.monotonic()
            taken = self.take(names, len(indexes))
            answered = time.monotonic()
            self._clock.observe(asked, taken.now, answered)
            # A slot of a free gate is the take's own moment: sent on the answer, not counted late by it.
            first = self._clock.local(taken.at) - answered if taken.at > taken.now else 0.0
            for index, n in zip(indexes, range(taken.count), strict=True):
                delays[index] = first + n * taken.spacing
        return delays

    def hold(self, seconds: float, sender: str | None = None, *, everyone: bool = True) -> None:  # type: ignore[override]
        """Every gate held (everyone), else the sender's gate."""
        if everyone:
            super().hold(seconds)
        else:
            super().hold(seconds, [f"sender:{sender or ''}"])

    def commit_if_older(self, seconds: float) -> None:
        """Commit at most every _COMMIT_EVERY seconds (the outcomes' row locks would hold other
        senders' marks back), and renew this sender's leases at most every `seconds`."""
        super().commit_if_older(min(seconds, _COMMIT_EVERY))
        if time.monotonic() - self._renewed > seconds:
            self.renew()
            self._renewed = time.monotonic()

    def __enter__(self) -> SharedCampaignJournal:
        return self


def open_journal(journal: str | Any, name: str | None) -> CampaignJournal:
    """The journal `journal` names: a PostgreSQL URL's (the campaign `name` in it), else an SQLite file."""
    if _postgres.is_postgres_url(journal):
        return SharedCampaignJournal(journal, name)
    return SQLiteCampaignJournal(journal)


def open_existing(journal: str | Any, name: str | None) -> Journal | PostgresJournal:
    """A journal to read: an SQLite file that must exist (FileNotFoundError), or the campaign `name`
    in a PostgreSQL URL's database (JournalError without a name)."""
    if _postgres.is_postgres_url(journal):
        if not name:
            raise JournalError(f"{_postgres.redacted(journal)} can hold many campaigns: name the campaign to read")
        opened = PostgresJournal(journal, name)
        if opened.campaign() is None:
            opened.close()
            raise JournalError(f"{opened.path} holds no campaign {name!r}")
        return opened
    return Journal(journal, create=False)
