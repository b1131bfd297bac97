"""httpx-aiohttp's transport for httpx2, its errors told apart as the retry rules need.

httpx-aiohttp maps every aiohttp.ClientConnectionError to ConnectTimeout, a server that closed the
connection after the request went out included: read that way, a POST without an idempotency key
would be retried and its message sent twice. Here the error says what happened: ConnectError or
ConnectTimeout only when aiohttp could not connect, ReadTimeout for a read that timed out, ReadError
for a connection lost once the request may have been sent. Imported only by DefaultAioHttpClient.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx2
from httpx_aiohttp.httpx2 import AiohttpTransport

__all__ = ["aiohttp_transport"]


def _refined(exc: httpx2.TransportError) -> httpx2.TransportError:
    cause = exc.__cause__
    kind: type[httpx2.TransportError]
    if isinstance(cause, aiohttp.ClientConnectorError):
        kind = httpx2.ConnectError
    elif isinstance(cause, aiohttp.ConnectionTimeoutError):
        kind = httpx2.ConnectTimeout
    elif isinstance(cause, aiohttp.ServerTimeoutError):
        kind = httpx2.ReadTimeout
    elif isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout):
        kind = httpx2.ReadError  # connected, so the request may have gone out
    else:
        return exc
    if type(exc) is kind:
        return exc
    refined = kind(str(exc) or type(cause).__name__)
    refined.__cause__ = cause
    return refined


class _RefinedStream(httpx2.AsyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except httpx2.TransportError as exc:
            raise _refined(exc) from exc.__cause__

    async def aclose(self) -> None:
        await self._stream.aclose()


class _Transport(AiohttpTransport):
    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx2.TransportError as exc:
            raise _refined(exc) from exc.__cause__
        response.stream = _RefinedStream(response.stream)
        return response


def aiohttp_transport(**options: Any) -> httpx2.AsyncBaseTransport:
    return _Transport(**options)
