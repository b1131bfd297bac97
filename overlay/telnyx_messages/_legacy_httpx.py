"""A user's own legacy `httpx` client, used through the httpx2 objects the rest of the client reads.

The package runs on httpx2 (httpx's maintained continuation: same API, a connection pool that
stays linear under load). A program that already holds an `httpx.Client` or `httpx.AsyncClient`,
with its proxies, certificates or transports, may pass it as `http_client=`; this module is the one
place that knows the two libraries apart. It never imports `httpx`: a program that holds such a
client has imported it, so it is read from `sys.modules`.

The adapters take and give httpx2 objects: a request is built by the user's client (its headers,
cookies, params and auth apply), sent by it, and its response handed on as an httpx2 response whose
body is the legacy response's raw bytes (httpx2 decompresses them, as for its own). Legacy errors
become the httpx2 errors of the same name, so retries, deadlines, the size limit and the exception
hierarchy see one library.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import httpx2

if TYPE_CHECKING:
    import httpx

__all__ = ["LegacyAsyncClient", "LegacyClient", "adopt_async_client", "adopt_client", "as_httpx2_timeout"]


def _legacy_module() -> ModuleType | None:
    return sys.modules.get("httpx")


def _is_legacy(value: object, class_name: str) -> bool:
    module = _legacy_module()
    return module is not None and isinstance(value, getattr(module, class_name))


def as_httpx2_timeout(value: Any) -> Any:
    """A legacy `httpx.Timeout` as the httpx2 one (both take the same four parts); anything else as given."""
    if _is_legacy(value, "Timeout"):
        return httpx2.Timeout(**value.as_dict())
    return value


def _translated(exc: Exception, request: httpx2.Request | None) -> Exception:
    """A legacy httpx request error as the httpx2 error of the same name (the nearest class both
    define); anything else as it is."""
    module = _legacy_module()
    if module is None or not isinstance(exc, module.RequestError):
        return exc
    # The nearest class with a twin: RequestError itself at the furthest, which httpx2 has too.
    twin = next(getattr(httpx2, cls.__name__) for cls in type(exc).__mro__ if _has_twin(cls.__name__))
    translated: Exception = twin(str(exc), request=request)
    return translated


def _has_twin(name: str) -> bool:
    twin = getattr(httpx2, name, None)
    return isinstance(twin, type) and issubclass(twin, httpx2.RequestError)


def _legacy_request(module: ModuleType, request: httpx2.Request) -> Any:
    return module.Request(
        request.method,
        str(request.url),
        headers=request.headers.raw,
        content=request.content,
        extensions=request.extensions,
    )


def _httpx2_request(legacy: Any) -> httpx2.Request:
    return httpx2.Request(
        legacy.method,
        str(legacy.url),
        headers=legacy.headers.raw,
        content=legacy.content,
        extensions=dict(legacy.extensions),
    )


def _httpx2_response(legacy: Any, request: httpx2.Request, stream: Any) -> httpx2.Response:
    return httpx2.Response(
        legacy.status_code,
        headers=legacy.headers.raw,
        stream=stream,
        request=request,
        extensions=legacy.extensions,
    )


class _RawBody(httpx2.SyncByteStream):
    """A legacy response's body as sent (httpx2 decodes it), its errors translated (httpx2's
    response sets their request as they pass, as it does for its own streams)."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_raw()
        except Exception as exc:
            raise _translated(exc, None) from exc

    def close(self) -> None:
        self._response.close()


class _AsyncRawBody(httpx2.AsyncByteStream):
    def __init__(self, response: Any) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except Exception as exc:
            raise _translated(exc, None) from exc

    async def aclose(self) -> None:
        await self._response.aclose()


class _LegacyBase:
    def __init__(self, client: Any, module: ModuleType) -> None:
        self._client = client
        self._module = module

    @property
    def is_closed(self) -> bool:
        return bool(self._client.is_closed)

    def build_request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        timeout: Any = None,
    ) -> httpx2.Request:
        """Built by the user's client (its own headers, cookies and params merged in)."""
        if isinstance(timeout, httpx2.Timeout):
            timeout = self._module.Timeout(**timeout.as_dict())
        legacy = self._client.build_request(
            method, url, params=params, headers=headers, content=content, timeout=timeout
        )
        return _httpx2_request(legacy)


class LegacyClient(_LegacyBase):
    """A user's `httpx.Client`, seen as the part of an `httpx2.Client` that Telnyx uses."""

    def send(self, request: httpx2.Request, *, stream: Literal[True]) -> httpx2.Response:
        """Sent by the user's client; the body is read by the caller (the client streams every body)."""
        try:
            legacy = self._client.send(_legacy_request(self._module, request), stream=True)
        except Exception as exc:
            raise _translated(exc, request) from exc
        return _httpx2_response(legacy, request, _RawBody(legacy))

    def close(self) -> None:
        self._client.close()


class LegacyAsyncClient(_LegacyBase):
    """A user's `httpx.AsyncClient`, seen as the part of an `httpx2.AsyncClient` that AsyncTelnyx uses."""

    async def send(self, request: httpx2.Request, *, stream: Literal[True]) -> httpx2.Response:
        try:
            legacy = await self._client.send(_legacy_request(self._module, request), stream=True)
        except Exception as exc:
            raise _translated(exc, request) from exc
        return _httpx2_response(legacy, request, _AsyncRawBody(legacy))

    async def aclose(self) -> None:
        await self._client.aclose()


def _adopt(http_client: Any, own: type[Any], legacy_name: str, adapter: type[_LegacyBase]) -> Any:
    if isinstance(http_client, own):
        return http_client
    if _is_legacy(http_client, legacy_name):
        return adapter(http_client, sys.modules["httpx"])
    got = f"{type(http_client).__module__}.{type(http_client).__name__}"
    raise TypeError(f"http_client must be an httpx2.{legacy_name} or an httpx.{legacy_name}, got {got}")


def adopt_client(http_client: httpx2.Client | httpx.Client) -> httpx2.Client | LegacyClient:
    """A sync client's http_client as the client uses it; another type is refused naming the accepted ones."""
    adopted: httpx2.Client | LegacyClient = _adopt(http_client, httpx2.Client, "Client", LegacyClient)
    return adopted


def adopt_async_client(http_client: httpx2.AsyncClient | httpx.AsyncClient) -> httpx2.AsyncClient | LegacyAsyncClient:
    adopted: httpx2.AsyncClient | LegacyAsyncClient = _adopt(
        http_client, httpx2.AsyncClient, "AsyncClient", LegacyAsyncClient
    )
    return adopted
