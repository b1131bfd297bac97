"""Time for the fake: FakeClock, virtual time a test moves (sleeps advance it at once); the fake's
default is the system's clock (SystemClock, the campaign engine's RealClock)."""

from __future__ import annotations

import datetime
import math
import threading

from .._clock import RealClock as SystemClock  # the fake's default: the system's clock, as the engine's
from .._event_loop import _on_asyncio

__all__ = ["FakeClock", "SystemClock"]


def _seconds(seconds: float, what: str) -> float:
    """`seconds` as a float, refused unless a finite number."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise ValueError(f"{what} takes a finite number of seconds, got {seconds!r}")
    return float(seconds)


class FakeClock:
    """Virtual time: `now()` (seconds, from 0.0) and `utc()` (the wall time, from `start`, an aware
    datetime; default: now) move only when `advance()` or a sleep moves them. `await sleep(s)`
    advances s seconds and yields to the event loop once (asyncio, or trio through anyio);
    `sleep_sync(s)` is the same for sync code. Neither ever really waits: give the clock to the fake
    (`FakeTelnyx(clock=clock)`) and to the code under test, and hours of pacing pass in a moment.
    Thread-safe."""

    __slots__ = ("_elapsed", "_lock", "_start")

    def __init__(self, start: datetime.datetime | None = None) -> None:
        if start is None:
            start = datetime.datetime.now(datetime.UTC)
        elif not isinstance(start, datetime.datetime) or start.utcoffset() is None:
            raise ValueError(f"FakeClock start must be an aware datetime (with a tzinfo), got {start!r}")
        self._start = start.astimezone(datetime.UTC)
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FakeClock(now={self._elapsed!r}, utc={self.utc().isoformat()!r})"

    def now(self) -> float:
        """Seconds since the clock was made (virtual: moved by advance() and the sleeps)."""
        return self._elapsed

    def utc(self) -> datetime.datetime:
        """The wall time (aware, UTC): `start` plus now()."""
        return self._start + datetime.timedelta(seconds=self._elapsed)

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` (>= 0)."""
        seconds = _seconds(seconds, "FakeClock.advance")
        if seconds < 0:
            raise ValueError(f"FakeClock.advance cannot go back in time, got {seconds!r}")
        with self._lock:
            self._elapsed += seconds

    def sleep_sync(self, seconds: float) -> None:
        """A sleep for sync code: advances `seconds` (a negative one: none, as time.sleep would refuse
        and asyncio.sleep returns at once) and returns at once."""
        self.advance(max(_seconds(seconds, "FakeClock.sleep"), 0.0))

    async def sleep(self, seconds: float) -> None:
        """Advance `seconds` (a negative one: none, as asyncio.sleep), then let the event loop run its
        other tasks once."""
        self.sleep_sync(seconds)
        await _checkpoint()


async def _checkpoint() -> None:
    """Yield to the running event loop once."""
    if _on_asyncio():
        import asyncio

        await asyncio.sleep(0)
    else:
        import anyio.lowlevel

        await anyio.lowlevel.checkpoint()
