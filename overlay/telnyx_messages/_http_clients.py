"""The HTTP clients the official SDK exports, with this package's defaults, for programs that give
the client their own (proxies, certificates, limits): `Telnyx(http_client=DefaultHttpxClient(proxy=...))`.

Each is an httpx2 client that keeps what the package's own client has: no redirects followed (a
redirected POST would carry the key and the message elsewhere), and, for the sync one, the transport
whose reads stop at the attempt's deadline. DefaultAioHttpClient sends through aiohttp (the `aiohttp`
extra, the httpx-aiohttp transport the official SDK uses).
"""

from __future__ import annotations

import functools
import os
import ssl
from typing import Any, Literal, Protocol

import httpx2

from ._deadline import transport_with_deadlines
from ._exceptions import MissingDependencyError

__all__ = ["AsyncHTTPClient", "DefaultAioHttpClient", "DefaultAsyncHttpxClient", "DefaultHttpxClient", "SyncHTTPClient"]
_CERTIFICATE_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")


class _BuildsRequests(Protocol):
    @property
    def is_closed(self) -> bool: ...

    def build_request(
        self, method: str, url: str, *, params: Any = ..., headers: Any = ..., content: Any = ..., timeout: Any = ...
    ) -> httpx2.Request: ...


class SyncHTTPClient(_BuildsRequests, Protocol):
    """What Telnyx uses of its HTTP client: an httpx2.Client, or a user's httpx.Client adapted
    (_legacy_httpx.LegacyClient)."""

    def send(self, request: httpx2.Request, *, stream: Literal[True]) -> httpx2.Response: ...

    def close(self) -> None: ...


class AsyncHTTPClient(_BuildsRequests, Protocol):
    """What AsyncTelnyx uses of its HTTP client: an httpx2.AsyncClient, or a user's httpx.AsyncClient
    adapted (_legacy_httpx.LegacyAsyncClient)."""

    async def send(self, request: httpx2.Request, *, stream: Literal[True]) -> httpx2.Response: ...

    async def aclose(self) -> None: ...


def default_ssl_context() -> ssl.SSLContext:
    """What the package's own clients verify servers with: httpx2's default (the system's
    certificates, or those SSL_CERT_FILE or SSL_CERT_DIR name), loaded once per process for each
    setting of those variables and shared by the clients made with it. httpx2 loads them anew for
    every client, about 40 ms of CPU each."""
    return _ssl_context(*(os.environ.get(name) for name in _CERTIFICATE_VARIABLES))


@functools.cache
def _ssl_context(*certificates: str | None) -> ssl.SSLContext:
    return httpx2.create_ssl_context()  # reads the variables `certificates` holds


# What httpx2's transport takes of a client's keyword arguments when the client makes it.
_TRANSPORT_OPTIONS = ("verify", "cert", "trust_env", "http1", "http2", "limits")
AIOHTTP_INSTALL = "pip install 'telnyx-messages[aiohttp]'"


class DefaultHttpxClient(httpx2.Client):
    """httpx2.Client with the package's defaults; takes httpx2.Client's keyword arguments."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("follow_redirects", False)
        if "transport" not in kwargs:
            options = {name: kwargs[name] for name in _TRANSPORT_OPTIONS if name in kwargs}
            kwargs["transport"] = transport_with_deadlines(**options)
        super().__init__(**kwargs)


class DefaultAsyncHttpxClient(httpx2.AsyncClient):
    """httpx2.AsyncClient with the package's defaults; takes httpx2.AsyncClient's keyword arguments."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("follow_redirects", False)
        super().__init__(**kwargs)


class DefaultAioHttpClient(httpx2.AsyncClient):
    """An httpx2.AsyncClient that sends through aiohttp: `AsyncTelnyx(http_client=DefaultAioHttpClient())`.
    Needs the `aiohttp` extra; without it, making one raises MissingDependencyError naming it."""

    def __init__(self, **kwargs: Any) -> None:
        try:
            from ._aiohttp import aiohttp_transport
        except ImportError as exc:
            raise MissingDependencyError(
                f"DefaultAioHttpClient needs aiohttp and httpx-aiohttp: {AIOHTTP_INSTALL} ({exc})"
            ) from None
        kwargs.setdefault("follow_redirects", False)
        if "transport" not in kwargs:
            options = {name: kwargs[name] for name in _TRANSPORT_OPTIONS if name in kwargs}
            kwargs["transport"] = aiohttp_transport(**options)
        super().__init__(**kwargs)
