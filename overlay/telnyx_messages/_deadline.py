"""An attempt's deadline for the sync client, down to each socket read and write.

httpcore2 gives every read the same timeout, so a server that sends its status line and headers one
byte at a time resets it at each byte. The client's own httpx2 transport gets a network backend
whose streams give each read and write at most the time left before the attempt's deadline (a
context variable the client sets around the attempt), and refuse once it has passed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore2
import httpx2

_deadline: ContextVar[float | None] = ContextVar("telnyx_messages_deadline", default=None)


def _bounded(timeout: float | None) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore2.ReadTimeout("the attempt took longer than its timeout")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore2.NetworkStream):
    def __init__(self, stream: httpcore2.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.NetworkStream:
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore2.NetworkBackend):
    def __init__(self, backend: httpcore2.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        stream = self._backend.connect_tcp(host, port, _bounded(timeout), local_address, socket_options)
        return _Stream(stream)

    # No connect_unix_socket or sleep: the client's transport has no `uds` and no connect retries,
    # so httpcore calls neither.


def transport_with_deadlines(**options: Any) -> httpx2.HTTPTransport:
    """httpx2's transport (made with `options`: verify, cert, limits, ...), its connection pool
    reading through the deadline-bounded streams."""
    transport = httpx2.HTTPTransport(**options)
    pool = transport._pool
    pool._network_backend = _Backend(pool._network_backend)
    return transport


@contextmanager
def attempt_deadline(deadline: float | None) -> Iterator[None]:
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)
