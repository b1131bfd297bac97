"""A LoopbackServer (tests/support/server.py) closed at the end of a `with` block, or of a test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from .server import LoopbackServer

__all__ = ["loopback", "serving"]


@contextlib.contextmanager
def loopback() -> Iterator[LoopbackServer]:
    """A LoopbackServer for the `with` block: `with loopback() as server: ...`."""
    server = LoopbackServer()
    try:
        yield server
    finally:
        server.close()


def serving() -> Iterator[LoopbackServer]:
    """The same as a fixture's body: `server = pytest.fixture(serving)` in a test module."""
    with loopback() as server:
        yield server
