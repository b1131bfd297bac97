"""Time as the campaign engine reads it: a Clock gives monotonic seconds, the UTC wall time, and an
async sleep. The real one is the system's; telnyx_messages.testing.FakeClock is a virtual one, so that
a paced campaign of hours runs in a test in a second."""

from __future__ import annotations

import datetime
import time
from typing import Protocol, runtime_checkable

from . import _event_loop

__all__ = ["REAL_CLOCK", "Clock", "RealClock"]


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float:
        """Seconds from an arbitrary start, never going back (time.monotonic's kind)."""
        ...

    def utc(self) -> datetime.datetime:
        """The wall time, aware, in UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` (0 or less: yield to the event loop once)."""
        ...


class RealClock:
    """The system's clock: time.monotonic, datetime.now(UTC), and the running loop's sleep (asyncio's,
    or anyio's under trio)."""

    def now(self) -> float:
        return time.monotonic()

    def utc(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    async def sleep(self, seconds: float) -> None:
        await _event_loop.sleep(max(seconds, 0.0))

    def __repr__(self) -> str:
        return "RealClock()"


REAL_CLOCK = RealClock()
