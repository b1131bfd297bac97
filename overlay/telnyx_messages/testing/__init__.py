"""Test code that sends messages, without sending any: an in-process fake of the Messages API,
held to the pinned spec (`pip install 'telnyx-messages[testing]'`).

    from telnyx_messages.testing import FakeTelnyx

    fake = FakeTelnyx()
    client = fake.client()
    client.messages.send(to="+13125550002", from_="+18445550001", text="Hello")
    assert fake.sent[0].text == "Hello"

With pytest, the `telnyx_fake` fixture gives a fresh FakeTelnyx per test (`async_telnyx_fake` too,
for async tests). FakeTelnyxError: the fake made something its spec refuses (its fault, not the code
under test's).

Pacing code is tested on virtual time: `FakeTelnyx(clock=FakeClock())` queues sends at Telnyx's
documented rates (`Throughput` sets others), reporting each message's `wait_seconds`, and can answer
the request limit (`RequestLimit`: 429, 10011) and the daily spend limit (`SpendLimit`: 429, 40333);
`await clock.sleep(s)` advances the clock at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._clock import FakeClock as FakeClock
    from ._fake import FakeTelnyx as FakeTelnyx
    from ._fake import FakeTelnyxError as FakeTelnyxError
    from ._throughput import RequestLimit as RequestLimit
    from ._throughput import SenderType as SenderType
    from ._throughput import SpendLimit as SpendLimit
    from ._throughput import Throughput as Throughput

__all__ = ["FakeClock", "FakeTelnyx", "FakeTelnyxError", "RequestLimit", "SenderType", "SpendLimit", "Throughput"]

# What the fake's own modules give; the rest needs none of the [testing] extra's packages.
_LIGHT = {
    "FakeClock": "_clock",
    "RequestLimit": "_throughput",
    "SenderType": "_throughput",
    "SpendLimit": "_throughput",
    "Throughput": "_throughput",
}


def __getattr__(name: str) -> Any:
    if name in _LIGHT:
        return getattr(importlib.import_module(f"{__name__}.{_LIGHT[name]}"), name)
    if name in __all__:
        try:
            fake = importlib.import_module(f"{__name__}._fake")
        except ImportError as exc:
            from .._exceptions import MissingDependencyError

            raise MissingDependencyError(
                f"telnyx_messages.testing needs jsonschema: pip install 'telnyx-messages[testing]' ({exc})"
            ) from None
        return getattr(fake, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
