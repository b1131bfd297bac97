"""Telnyx and AsyncTelnyx: thin shells around one core that prepares requests and reads responses."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping
from contextvars import ContextVar
from types import ModuleType, TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar
from urllib.parse import urlsplit

import attrs
import httpx

from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    TelnyxError,
    status_error,
)
from ._logging import logger, setup_logging
from ._request_building import build_request_kwargs
from ._retries import RetryPolicy

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "APIResponse", "AsyncTelnyx", "Telnyx"]

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
USER_AGENT = "telnyx-messages-python"

T = TypeVar("T")


class _Model(Protocol):
    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self: ...


M = TypeVar("M", bound=_Model)


class _NotGiven:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()
TimeoutTypes = float | httpx.Timeout | None


@attrs.frozen
class APIResponse(Generic[T]):
    """A parsed result together with the HTTP response it came from."""

    http_response: httpx.Response = attrs.field(repr=False)
    parsed: T

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    def parse(self) -> T:
        return self.parsed


# Set by `with_raw_response` wrappers for the duration of one call: where the core leaves the
# APIResponse it made, so that the wrapper can return it instead of the parsed model.
raw_response_sink: ContextVar[list[APIResponse[Any]] | None] = ContextVar("raw_response_sink", default=None)


_IPV6_LOOPBACK = bytes(15) + b"\x01"


def _is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1. Read with socket, which httpx has loaded: importing ipaddress
    would add milliseconds to every cold start."""
    if host == "localhost":
        return True
    try:
        return socket.inet_pton(socket.AF_INET, host)[0] == 127
    except OSError:
        pass
    try:
        return socket.inet_pton(socket.AF_INET6, host) == _IPV6_LOOPBACK
    except OSError:
        return False


def _resolve_base_url(base_url: str | None, allow_insecure_http: bool) -> str:
    url = (base_url or os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"base_url must be an http(s) URL, got {url!r}")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ValueError(
            f"base_url {url!r} is plain http to a non-loopback host: the API key would cross the network "
            "in clear text. Use https, or pass allow_insecure_http=True if you mean it."
        )
    return url


@attrs.frozen
class _Config:
    """What a client and its `with_options` copies hold. The key is not here: it lives only in the
    headers given to httpx, which masks it in every repr."""

    base_url: str
    timeout: TimeoutTypes
    max_retries: int


H = TypeVar("H", httpx.Client, httpx.AsyncClient)


class _BaseClient(Generic[H]):
    """Everything but I/O: configuration, building requests, reading responses."""

    _config: _Config
    _http: H
    _owns_http: bool
    _request_headers: dict[str, str]  # what each request adds to the HTTP client's own headers

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: dict[str, str] | None = None,
        http_client: H | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        setup_logging()
        key = api_key if api_key is not None else os.environ.get("TELNYX_API_KEY")
        if not key:
            raise TelnyxError("No API key: pass api_key= or set the TELNYX_API_KEY environment variable.")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self._config = _Config(
            base_url=_resolve_base_url(base_url, allow_insecure_http), timeout=timeout, max_retries=max_retries
        )
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **(default_headers or {}),
            "Authorization": f"Bearer {key}",
        }
        self._owns_http = http_client is None
        if http_client is None:
            # Given once to a client of our own: merged into every request by httpx at no cost,
            # where headers given per request replace its defaults one slow deletion at a time.
            self._http = self._new_http_client(headers)
            self._request_headers = {}
        else:
            self._http = http_client
            self._request_headers = headers

    def _new_http_client(self, headers: dict[str, str]) -> H:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def timeout(self) -> TimeoutTypes:
        return self._config.timeout

    @property
    def max_retries(self) -> int:
        return self._config.max_retries

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"

    def with_options(self, *, timeout: TimeoutTypes = NOT_GIVEN, max_retries: int | None = None) -> Self:
        """A copy with other defaults, sharing this client's connection pool."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._config = attrs.evolve(
            self._config,
            timeout=self._config.timeout if timeout is NOT_GIVEN else timeout,
            max_retries=self._config.max_retries if max_retries is None else max_retries,
        )
        copy._owns_http = False
        return copy

    def _prepare(
        self,
        operation: ModuleType,
        path: dict[str, object],
        params: dict[str, object] | None,
        *,
        method_name: str,
        timeout: TimeoutTypes,
        max_retries: int | None,
        idempotency_key: str | None,
    ) -> tuple[httpx.Request, RetryPolicy]:
        kwargs = build_request_kwargs(operation, path, params, method_name=method_name)
        headers = {**self._request_headers, **kwargs.pop("headers", {})}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        request = self._http.build_request(
            kwargs.pop("method"),
            self._config.base_url + kwargs.pop("url"),
            headers=headers,
            timeout=self._config.timeout if timeout is NOT_GIVEN else timeout,
            **kwargs,
        )
        policy = RetryPolicy(
            max_retries=self._config.max_retries if max_retries is None else max_retries,
            replayable=operation.METHOD != "POST" or idempotency_key is not None,
        )
        return request, policy

    def _after_attempt(
        self,
        result: type[M],
        request: httpx.Request,
        policy: RetryPolicy,
        outcome: httpx.Response | httpx.TransportError,
        attempt: int,
        started: float,
    ) -> M | float:
        """The call's result, or the seconds to wait before trying again; raises on failure."""
        if logger.isEnabledFor(logging.INFO):
            what = outcome.status_code if isinstance(outcome, httpx.Response) else type(outcome).__name__
            elapsed_ms = (time.monotonic() - started) * 1000
            logger.info("%s %s -> %s in %.0f ms", request.method, request.url.path, what, elapsed_ms)
        if isinstance(outcome, httpx.Response):
            delay = policy.after_response(outcome, attempt)
            if delay is None:
                return self._finish(result, outcome)
        else:
            delay = policy.after_exception(outcome, attempt)
            if delay is None:
                raise _connection_error(outcome, request) from outcome
        logger.info("retrying %s %s (retry %d) in %.2f s", request.method, request.url.path, attempt + 1, delay)
        return delay

    @staticmethod
    def _finish(result: type[M], response: httpx.Response) -> M:
        if not response.is_success:
            raise status_error(response)
        try:
            parsed = result.from_dict(response.json())
        except Exception as exc:  # any malformed body, whatever the parser tripped on
            raise APIResponseValidationError(response, f"{type(exc).__name__}: {exc}") from exc
        sink = raw_response_sink.get()
        if sink is not None:
            sink.append(APIResponse(http_response=response, parsed=parsed))
        return parsed


def _connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"Request timed out ({type(exc).__name__})", request=request)
    return APIConnectionError(f"Connection error ({type(exc).__name__}): {exc}", request=request)


class Telnyx(_BaseClient[httpx.Client]):
    """The synchronous client. `client.messages` holds the operations."""

    def _new_http_client(self, headers: dict[str, str]) -> httpx.Client:
        return httpx.Client(headers=headers, follow_redirects=False)

    @property
    def messages(self) -> Messages:
        return Messages(self)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _request(
        self,
        operation: ModuleType,
        path: dict[str, object],
        params: dict[str, object] | None = None,
        *,
        result: type[M],
        method_name: str,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        idempotency_key: str | None = None,
    ) -> M:
        request, policy = self._prepare(
            operation,
            path,
            params,
            method_name=method_name,
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                outcome: httpx.Response | httpx.TransportError = self._http.send(request)
            except httpx.TransportError as exc:
                outcome = exc
            parsed_or_delay = self._after_attempt(result, request, policy, outcome, attempt, started)
            if not isinstance(parsed_or_delay, float):
                return parsed_or_delay
            time.sleep(parsed_or_delay)
            attempt += 1


class AsyncTelnyx(_BaseClient[httpx.AsyncClient]):
    """The asynchronous client. `client.messages` holds the operations, as coroutines."""

    def _new_http_client(self, headers: dict[str, str]) -> httpx.AsyncClient:
        return httpx.AsyncClient(headers=headers, follow_redirects=False)

    @property
    def messages(self) -> AsyncMessages:
        return AsyncMessages(self)

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _request(
        self,
        operation: ModuleType,
        path: dict[str, object],
        params: dict[str, object] | None = None,
        *,
        result: type[M],
        method_name: str,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        idempotency_key: str | None = None,
    ) -> M:
        request, policy = self._prepare(
            operation,
            path,
            params,
            method_name=method_name,
            timeout=timeout,
            max_retries=max_retries,
            idempotency_key=idempotency_key,
        )
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                outcome: httpx.Response | httpx.TransportError = await self._http.send(request)
            except httpx.TransportError as exc:
                outcome = exc
            parsed_or_delay = self._after_attempt(result, request, policy, outcome, attempt, started)
            if not isinstance(parsed_or_delay, float):
                return parsed_or_delay
            await _sleep(parsed_or_delay)
            attempt += 1


async def _sleep(seconds: float) -> None:
    import asyncio  # here, not at the top: importing asyncio costs a sync program's cold start

    await asyncio.sleep(seconds)


from ._resources import AsyncMessages, Messages  # noqa: E402  (the resources refer back to the clients)
