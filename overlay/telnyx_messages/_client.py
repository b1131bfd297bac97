"""Telnyx and AsyncTelnyx: thin shells around one core that prepares requests and reads responses.

The methods of `client.messages` are generated (telnyx_messages_api.api); each hands its operation,
its signature and its arguments to `_call` or `_call_raw` here.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from functools import cached_property
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import urlsplit

import attrs
import httpx
from telnyx_messages_api import models as _models
from telnyx_messages_api.api import AsyncMessages, Messages
from telnyx_messages_api.types import NOT_GIVEN, APIResponse, CallOptions, NotGiven, Operation, Timeout

from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    TelnyxError,
    status_error,
)
from ._logging import logger, setup_logging
from ._request_building import check_headers, prepare
from ._retries import RetryPolicy

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "APIResponse", "AsyncTelnyx", "Telnyx"]

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
USER_AGENT = "telnyx-messages-python"

T = TypeVar("T")
TimeoutTypes = Timeout


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
    default_query: Mapping[str, object]


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
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        http_client: H | None = None,
        allow_insecure_http: bool = False,
    ) -> None:
        setup_logging()
        _check_max_retries(max_retries)
        self._allow_insecure_http = allow_insecure_http
        self._config = _Config(
            base_url=_resolve_base_url(base_url, allow_insecure_http),
            timeout=timeout,
            max_retries=max_retries,
            default_query=dict(default_query or {}),
        )
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **check_headers(default_headers or {}, "default_headers"),
            "Authorization": _authorization(api_key),
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

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
    ) -> Self:
        """A copy with other options, sharing this client's connection pool (the pool is closed by
        the client that made it). Headers given here replace this client's of the same name."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.__dict__.pop("messages", None)  # the resources of this client, cached
        if max_retries is not None:
            _check_max_retries(max_retries)
        copy._config = attrs.evolve(
            self._config,
            base_url=self._config.base_url
            if base_url is None
            else _resolve_base_url(base_url, self._allow_insecure_http),
            timeout=self._config.timeout if isinstance(timeout, NotGiven) else timeout,
            max_retries=self._config.max_retries if max_retries is None else max_retries,
            default_query={**self._config.default_query, **(default_query or {})},
        )
        extra = dict(check_headers(default_headers or {}, "default_headers"))
        if api_key is not None:
            extra["Authorization"] = _authorization(api_key)
        copy._request_headers = {**self._request_headers, **extra}
        copy._owns_http = False
        return copy

    copy = with_options

    def _prepare(
        self,
        operation: Operation[Any],
        method: Callable[..., Any],
        arguments: Mapping[str, object],
        options: CallOptions,
    ) -> tuple[httpx.Request, RetryPolicy]:
        prepared = prepare(operation, method, arguments, options, self._config.default_query)
        if options.max_retries is not None:
            _check_max_retries(options.max_retries)
        request = self._http.build_request(
            prepared.method,
            self._config.base_url + prepared.path,
            params=prepared.params or None,
            headers={**self._request_headers, **prepared.headers},
            content=prepared.content,
            timeout=self._config.timeout if isinstance(options.timeout, NotGiven) else options.timeout,
        )
        policy = RetryPolicy(
            max_retries=self._config.max_retries if options.max_retries is None else options.max_retries,
            replayable=operation.method != "POST" or options.idempotency_key is not None,
        )
        return request, policy

    def _after_attempt(
        self,
        operation: Operation[T],
        request: httpx.Request,
        policy: RetryPolicy,
        outcome: httpx.Response | httpx.TransportError,
        attempt: int,
        started: float,
    ) -> APIResponse[T] | float:
        """The call's result, or the seconds to wait before trying again; raises on failure."""
        if logger.isEnabledFor(logging.INFO):
            what = outcome.status_code if isinstance(outcome, httpx.Response) else type(outcome).__name__
            elapsed_ms = (time.monotonic() - started) * 1000
            logger.info("%s %s -> %s in %.0f ms", request.method, request.url.path, what, elapsed_ms)
        if isinstance(outcome, httpx.Response):
            delay = policy.after_response(outcome, attempt)
            if delay is None:
                return self._finish(operation, outcome)
        else:
            delay = policy.after_exception(outcome, attempt)
            if delay is None:
                raise _connection_error(outcome, request) from outcome
        logger.info("retrying %s %s (retry %d) in %.2f s", request.method, request.url.path, attempt + 1, delay)
        return delay

    @staticmethod
    def _finish(operation: Operation[T], response: httpx.Response) -> APIResponse[T]:
        if not response.is_success:
            raise status_error(response)
        try:
            document = response.json()
            parsed = document if operation.result is None else getattr(_models, operation.result).from_dict(document)
        except Exception as exc:  # any malformed body, whatever the parser tripped on
            raise APIResponseValidationError(response, f"{type(exc).__name__}: {exc}") from exc
        return APIResponse(http_response=response, parsed=parsed)


def _authorization(api_key: str | None) -> str:
    key = api_key if api_key is not None else os.environ.get("TELNYX_API_KEY")
    if not key:
        raise TelnyxError("No API key: pass api_key= or set the TELNYX_API_KEY environment variable.")
    return f"Bearer {key}"


def _check_max_retries(max_retries: int) -> None:
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise ValueError(f"max_retries must be an int >= 0, got {max_retries!r}")


def _connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"Request timed out ({type(exc).__name__})", request=request)
    return APIConnectionError(f"Connection error ({type(exc).__name__}): {exc}", request=request)


class Telnyx(_BaseClient[httpx.Client]):
    """The synchronous client. `client.messages` holds the operations."""

    def _new_http_client(self, headers: dict[str, str]) -> httpx.Client:
        return httpx.Client(headers=headers, follow_redirects=False)

    @cached_property
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

    def _call(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> T:
        return self._call_raw(operation, method, arguments, options).parsed

    def _call_raw(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> APIResponse[T]:
        request, policy = self._prepare(operation, method, arguments, options)
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                outcome: httpx.Response | httpx.TransportError = self._http.send(request)
            except httpx.TransportError as exc:
                outcome = exc
            result_or_delay = self._after_attempt(operation, request, policy, outcome, attempt, started)
            if not isinstance(result_or_delay, float):
                return result_or_delay
            time.sleep(result_or_delay)
            attempt += 1


class AsyncTelnyx(_BaseClient[httpx.AsyncClient]):
    """The asynchronous client. `client.messages` holds the operations, as coroutines."""

    def _new_http_client(self, headers: dict[str, str]) -> httpx.AsyncClient:
        return httpx.AsyncClient(headers=headers, follow_redirects=False)

    @cached_property
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

    async def _call(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> T:
        return (await self._call_raw(operation, method, arguments, options)).parsed

    async def _call_raw(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> APIResponse[T]:
        request, policy = self._prepare(operation, method, arguments, options)
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                outcome: httpx.Response | httpx.TransportError = await self._http.send(request)
            except httpx.TransportError as exc:
                outcome = exc
            result_or_delay = self._after_attempt(operation, request, policy, outcome, attempt, started)
            if not isinstance(result_or_delay, float):
                return result_or_delay
            await _sleep(result_or_delay)
            attempt += 1


async def _sleep(seconds: float) -> None:
    import asyncio  # here, not at the top: importing asyncio costs a sync program's cold start

    await asyncio.sleep(seconds)
