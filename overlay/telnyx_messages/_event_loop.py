"""The async client's waits and deadlines on the running event loop: asyncio's own where it runs
(cheap: asyncio's clock is time.monotonic), anyio's elsewhere (trio)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["deadline_scope", "sleep"]


def _on_asyncio() -> bool:
    """Whether the running loop is asyncio's (else trio's, reached through anyio)."""
    import asyncio  # here, not at the top: importing asyncio costs a sync program's cold start

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def deadline_scope(deadline: float | None) -> Any:
    """An async scope that cancels its body at `deadline` (time.monotonic()), raising TimeoutError."""
    if _on_asyncio():
        import asyncio

        return asyncio.timeout_at(deadline)
    return _anyio_deadline_scope(deadline)


@contextlib.asynccontextmanager
async def _anyio_deadline_scope(deadline: float | None) -> AsyncIterator[None]:
    import anyio

    # A plain context manager, unlike asyncio's; it raises TimeoutError as asyncio's does.
    with anyio.fail_after(None if deadline is None else max(deadline - time.monotonic(), 0)):
        yield


async def sleep(seconds: float) -> None:
    if _on_asyncio():
        import asyncio

        await asyncio.sleep(seconds)
    else:
        import anyio

        await anyio.sleep(seconds)
