"""Telnyx and AsyncTelnyx: thin shells around one core that prepares requests and sends them,
with retries, until one succeeds or the call fails.

The methods of `client.messages` are generated (telnyx_messages._api.api); each hands its operation,
its signature and its arguments to `_call`, `_call_raw` or `_call_streamed` here. The options are
checked in _config, a response's body read in _response.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Self, TypeVar

import httpx2

from telnyx_messages._api import models as _models
from telnyx_messages._api.api import (
    AsyncMessages,
    AsyncMessagesWithRawResponse,
    AsyncMessagesWithStreamingResponse,
    Messages,
    MessagesWithRawResponse,
    MessagesWithStreamingResponse,
)

from . import _event_loop, _json
from ._calls import NOT_GIVEN, CallOptions, NotGiven, Operation, Timeout
from ._config import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    USER_AGENT,
    Config,
    authorization,
    check_max_response_bytes,
    check_max_retries,
    checked_timeout,
    resolve_base_url,
)
from ._deadline import attempt_deadline, transport_with_deadlines
from ._exceptions import (
    APIResponseValidationError,
    ClientClosedError,
    TelnyxError,
    connection_error,
    keyed,
    other_http_failure,
    status_error,
)
from ._http_clients import AsyncHTTPClient, SyncHTTPClient, default_ssl_context
from ._legacy_httpx import adopt_async_client, adopt_client
from ._logging import logger, setup_logging
from ._request_building import IDEMPOTENCY_KEY, check_headers, prepare
from ._response import (
    APIResponse,
    AsyncAPIResponse,
    AsyncStreamedAPIResponse,
    StreamedAPIResponse,
    aread_body,
    astreamed_chunks,
    read_body,
    streamed_chunks,
    with_content,
)
from ._retries import RetryPolicy

if TYPE_CHECKING:
    import httpx

    from .webhooks import Webhooks

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "APIResponse",
    "AsyncTelnyx",
    "Telnyx",
]

T = TypeVar("T")
R = TypeVar("R")  # a resource form of client.messages
TimeoutTypes = Timeout
_connection_error = connection_error  # its name here before it moved to _exceptions


# What the client sends with (a protocol: an httpx2 client, or a legacy httpx one adapted).
H = TypeVar("H", SyncHTTPClient, AsyncHTTPClient)
# What a caller may pass as http_client: an httpx2 client, or a legacy httpx one (_legacy_httpx).
U = TypeVar("U")


_CACHED_PROPERTIES: dict[type, tuple[str, ...]] = {}


def _cached_properties(cls: type) -> tuple[str, ...]:
    """The names of a client class's cached properties (its resources, subclasses' too): a copy made
    by with_options makes its own, on its own options."""
    names = _CACHED_PROPERTIES.get(cls)
    if names is None:
        found = (
            name for klass in cls.__mro__ for name, value in vars(klass).items() if isinstance(value, cached_property)
        )
        names = _CACHED_PROPERTIES[cls] = tuple(found)
    return names


class _BaseClient(Generic[H, U]):
    """Everything but I/O: configuration, building requests, reading responses."""

    _config: Config
    # The HTTP client the client sends with, made or given: close() closes it, and copies share it.
    _http: H
    _request_headers: dict[str, str]  # what each request adds to the HTTP client's own headers
    # What the waits between attempts are multiplied by: 0 on telnyx_messages.testing's clients, whose
    # tests do not wait out backoffs.
    _retry_delay_scale: float = 1.0

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        http_client: U | None = None,
        allow_insecure_http: bool = False,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        public_key: str | None = None,
    ) -> None:
        setup_logging()
        if public_key is not None:  # a client set up to verify webhooks: a well-formed key, and PyNaCl
            from .webhooks import PublicKeyError, require_verifier

            try:
                require_verifier(public_key)
            except PublicKeyError as exc:
                raise PublicKeyError(f"public_key of {type(self).__name__}: {exc}") from None
        self._public_key = public_key  # for client.webhooks; else TELNYX_PUBLIC_KEY when used
        check_max_retries(max_retries)
        check_max_response_bytes(max_response_bytes)
        self._allow_insecure_http = allow_insecure_http
        self._config = Config(
            base_url=resolve_base_url(base_url, allow_insecure_http),
            timeout=checked_timeout(timeout),
            max_retries=max_retries,
            default_query=dict(default_query or {}),
            max_response_bytes=max_response_bytes,
        )
        if http_client is not None:
            adopted = self._adopt(http_client)  # refuses another type before anything else is made
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **check_headers(default_headers or {}, "default_headers"),
            "Authorization": authorization(api_key),
        }
        if http_client is None:
            # Given once to a client of our own: merged into every request by httpx at no cost,
            # where headers given per request replace its defaults one slow deletion at a time.
            self._http = self._new_http_client(headers)
            self._request_headers = {}
        else:
            self._http = adopted
            self._request_headers = headers

    def _new_http_client(self, headers: dict[str, str]) -> H:
        raise NotImplementedError

    def _adopt(self, http_client: U) -> H:
        raise NotImplementedError

    @cached_property
    def webhooks(self) -> Webhooks:
        """Verify and read the webhooks Telnyx delivers (signature checks need the `webhooks` extra)."""
        from .webhooks import Webhooks

        return Webhooks(self._public_key)

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
        """A copy with other options, sharing this client's HTTP client, as the official SDK's copies
        do: closing the copy or this client closes it for both (close the client you made, once done
        with it and its copies). Headers given here replace this client's of the same name."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        for cached in _cached_properties(type(self)):
            copy.__dict__.pop(cached, None)  # this client's resources, made on its options
        if max_retries is not None:
            check_max_retries(max_retries)
        copy._config = self._config._replace(
            base_url=self._config.base_url
            if base_url is None
            else resolve_base_url(base_url, self._allow_insecure_http),
            timeout=self._config.timeout if isinstance(timeout, NotGiven) else checked_timeout(timeout),
            max_retries=self._config.max_retries if max_retries is None else max_retries,
            default_query={**self._config.default_query, **(default_query or {})},
        )
        extra = dict(check_headers(default_headers or {}, "default_headers"))
        if api_key is not None:
            extra["Authorization"] = authorization(api_key)
        copy._request_headers = {**self._request_headers, **extra}
        return copy

    copy = with_options

    def _prepare(
        self,
        operation: Operation[Any],
        method: Callable[..., Any],
        arguments: Mapping[str, object],
        options: CallOptions,
    ) -> tuple[httpx2.Request, RetryPolicy, str | None]:
        """The request, its retry rules, and its Idempotency-Key where the caller gave it (see _given_key)."""
        prepared = prepare(operation, method, arguments, options, self._config.default_query)
        if options.max_retries is not None:
            check_max_retries(options.max_retries)
        request = self._http.build_request(
            prepared.method,
            self._config.base_url + prepared.path,
            params=prepared.params or None,
            headers={**self._request_headers, **prepared.headers},
            content=prepared.content,
            timeout=self._config.timeout if isinstance(options.timeout, NotGiven) else checked_timeout(options.timeout),
        )
        policy = RetryPolicy(
            max_retries=self._config.max_retries if options.max_retries is None else options.max_retries,
            replayable=operation.method != "POST",
            idempotency_key=prepared.idempotency_key,
        )
        return request, policy, _given_key(operation, arguments, options, prepared.idempotency_key)

    def _after_attempt(
        self,
        request: httpx2.Request,
        policy: RetryPolicy,
        given_key: str | None,
        outcome: httpx2.Response | httpx2.TransportError,
        attempt: int,
        waited: int,
        started: float,
    ) -> httpx2.Response | _Retry:
        """The successful response, or when to try again; raises on failure."""
        if logger.isEnabledFor(logging.INFO):
            what = outcome.status_code if isinstance(outcome, httpx2.Response) else type(outcome).__name__
            elapsed_ms = (time.monotonic() - started) * 1000
            logger.info("%s %s -> %s in %.0f ms", request.method, request.url.path, what, elapsed_ms)
        in_progress = False
        if isinstance(outcome, httpx2.Response):
            in_progress = policy.in_progress(outcome)
            delay = (
                policy.after_in_progress(outcome, waited) if in_progress else policy.after_response(outcome, attempt)
            )
            if delay is None:
                if not outcome.is_success:
                    raise status_error(outcome, given_key)
                return outcome
        else:
            delay = policy.after_exception(outcome, attempt)
            if delay is None:
                raise connection_error(outcome, request) from outcome
        if logger.isEnabledFor(logging.INFO):
            what = f"the same key in progress, wait {waited + 1}" if in_progress else f"retry {attempt + 1}"
            key = f", Idempotency-Key {policy.idempotency_key}" if policy.keyed else ""
            logger.info("retrying %s %s (%s%s) in %.2f s", request.method, request.url.path, what, key, delay)
        return _Retry(delay, attempt, waited + 1) if in_progress else _Retry(delay, attempt + 1, waited)

    def _deadline(self, request: httpx2.Request) -> float | None:
        """When this attempt must be over: its timeout bounds connect, send and every read together."""
        timeout: dict[str, float | None] = request.extensions["timeout"]  # build_request always sets it
        parts = [v for v in timeout.values() if v is not None]
        return time.monotonic() + max(parts) if parts else None

    def _check_open(self) -> None:
        if self._http.is_closed:
            raise ClientClosedError(f"{type(self).__name__} is closed: make a new client, or call before close()")

    @staticmethod
    def _parse(operation: Operation[T], response: httpx2.Response) -> T:
        """A successful response's body as the operation's result model, which keeps the API's id
        of the request (`_request_id`, as the official SDK's results)."""
        try:
            document = _json.loads(response.content)
            if operation.result is None:
                return document
            parsed: T = getattr(_models, operation.result).from_dict(document)
        except Exception as exc:  # any malformed body, whatever the parser tripped on
            raise APIResponseValidationError(response, f"does not parse: {type(exc).__name__}: {exc}") from exc
        parsed._x_request_id = response.headers.get("x-request-id")  # type: ignore[attr-defined]
        return parsed


class _Retry(NamedTuple):
    """Try again after `delay` seconds, as retry `attempt` having waited out `waited` 409s (a 409 to
    a keyed request is not counted as a retry)."""

    delay: float
    attempt: int
    waited: int


def _given_key(
    operation: Operation[Any], arguments: Mapping[str, object], options: CallOptions, key: str | None
) -> str | None:
    """The call's Idempotency-Key where the caller gave it (the argument, or the header in
    extra_headers); None where the client made it. A made key is new to the call, so a 422 to it
    cannot be the key's reuse with another request: status errors hint at reuse only for a given one."""
    if key is None or arguments.get(IDEMPOTENCY_KEY, NOT_GIVEN) is not NOT_GIVEN:
        return key
    header = next(p.header.lower() for p in operation.header_parameters if p.argument == IDEMPOTENCY_KEY)
    return key if any(name.lower() == header for name in options.extra_headers or {}) else None


class Telnyx(_BaseClient[SyncHTTPClient, "httpx2.Client | httpx.Client"]):
    """The synchronous client. `client.messages` holds the operations."""

    def _new_http_client(self, headers: dict[str, str]) -> SyncHTTPClient:
        # Its transport bounds each read by what is left of the attempt (see _deadline).
        transport = transport_with_deadlines(verify=default_ssl_context())
        return httpx2.Client(headers=headers, follow_redirects=False, transport=transport)

    def _adopt(self, http_client: httpx2.Client | httpx.Client) -> SyncHTTPClient:
        return adopt_client(http_client)

    @cached_property
    def messages(self) -> Messages:
        return Messages(self)

    @cached_property
    def with_raw_response(self) -> ClientLevelForm[MessagesWithRawResponse]:
        """`client.with_raw_response.messages.send(...)`: the official SDK's client-level form of
        `client.messages.with_raw_response`."""
        return ClientLevelForm(lambda: self.messages.with_raw_response)

    @cached_property
    def with_streaming_response(self) -> ClientLevelForm[MessagesWithStreamingResponse]:
        """`client.with_streaming_response.messages.send(...)`, as `client.messages.with_streaming_response`."""
        return ClientLevelForm(lambda: self.messages.with_streaming_response)

    def close(self) -> None:
        """Closes the HTTP client this client holds, given as http_client or made, as the official
        SDK does; `with Telnyx(...)` closes it on leaving. Copies (`with_options`, `copy`) share it:
        after close() none of them can send (ClientClosedError)."""
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
        request, policy, given_key = self._prepare(operation, method, arguments, options)
        try:
            response, retries, _ = self._exchange(request, policy, given_key, stream=False)
            return APIResponse(response, self._parse(operation, response), retries)
        except TelnyxError as error:
            keyed(error, policy.idempotency_key)
            raise

    @contextlib.contextmanager
    def _call_streamed(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> Iterator[StreamedAPIResponse[T]]:
        request, policy, given_key = self._prepare(operation, method, arguments, options)
        try:
            response, retries, deadline = self._exchange(request, policy, given_key, stream=True)
        except TelnyxError as error:
            keyed(error, policy.idempotency_key)
            raise
        chunks = streamed_chunks(response, self._config.max_response_bytes, deadline, policy.idempotency_key)

        def parse(content: bytes) -> T:
            return self._parse(operation, with_content(response, [content]))

        try:
            yield StreamedAPIResponse(response, chunks, parse, retries)
        finally:
            response.close()

    def _exchange(
        self, request: httpx2.Request, policy: RetryPolicy, given_key: str | None, *, stream: bool
    ) -> tuple[httpx2.Response, int, float | None]:
        """Attempts until one succeeds: its response (the body read, or left to read when `stream`),
        the retries it took, and its attempt's deadline; raises on failure."""
        attempt = waited = 0
        while True:
            self._check_open()
            started = time.monotonic()
            deadline = self._deadline(request)
            try:
                outcome: httpx2.Response | httpx2.TransportError = self._attempt(request, deadline, stream)
            except httpx2.TransportError as exc:
                outcome = exc
            except httpx2.HTTPError as exc:
                raise other_http_failure(exc, request) from exc
            step = self._after_attempt(request, policy, given_key, outcome, attempt, waited, started)
            if not isinstance(step, _Retry):
                return step, attempt + waited, deadline
            time.sleep(step.delay * self._retry_delay_scale)
            attempt, waited = step.attempt, step.waited

    def _attempt(self, request: httpx2.Request, deadline: float | None, stream: bool) -> httpx2.Response:
        """One request, its body read within the size limit and the deadline (unread: a successful one's
        when `stream`)."""
        with attempt_deadline(deadline):
            response = self._http.send(request, stream=True)
            return read_body(response, self._config.max_response_bytes, deadline, stream)


class AsyncTelnyx(_BaseClient[AsyncHTTPClient, "httpx2.AsyncClient | httpx.AsyncClient"]):
    """The asynchronous client. `client.messages` holds the operations, as coroutines."""

    def _new_http_client(self, headers: dict[str, str]) -> AsyncHTTPClient:
        return httpx2.AsyncClient(headers=headers, follow_redirects=False, verify=default_ssl_context())

    def _adopt(self, http_client: httpx2.AsyncClient | httpx.AsyncClient) -> AsyncHTTPClient:
        return adopt_async_client(http_client)

    @cached_property
    def messages(self) -> AsyncMessages:
        return AsyncMessages(self)

    @cached_property
    def with_raw_response(self) -> ClientLevelForm[AsyncMessagesWithRawResponse]:
        """`client.with_raw_response.messages.send(...)`, as `client.messages.with_raw_response`."""
        return ClientLevelForm(lambda: self.messages.with_raw_response)

    @cached_property
    def with_streaming_response(self) -> ClientLevelForm[AsyncMessagesWithStreamingResponse]:
        """`client.with_streaming_response.messages.send(...)`, as `client.messages.with_streaming_response`."""
        return ClientLevelForm(lambda: self.messages.with_streaming_response)

    async def close(self) -> None:
        """Closes the HTTP client this client holds, given as http_client or made (a
        DefaultAioHttpClient's aiohttp session with it), as the official SDK does; `async with
        AsyncTelnyx(...)` closes it on leaving. Copies share it: after close() none of them can send."""
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
    ) -> AsyncAPIResponse[T]:
        request, policy, given_key = self._prepare(operation, method, arguments, options)
        try:
            response, retries, _ = await self._exchange(request, policy, given_key, stream=False)
            return AsyncAPIResponse(response, self._parse(operation, response), retries)
        except TelnyxError as error:
            keyed(error, policy.idempotency_key)
            raise

    @contextlib.asynccontextmanager
    async def _call_streamed(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> AsyncIterator[AsyncStreamedAPIResponse[T]]:
        request, policy, given_key = self._prepare(operation, method, arguments, options)
        try:
            response, retries, deadline = await self._exchange(request, policy, given_key, stream=True)
        except TelnyxError as error:
            keyed(error, policy.idempotency_key)
            raise
        chunks = astreamed_chunks(response, self._config.max_response_bytes, deadline, policy.idempotency_key)

        def parse(content: bytes) -> T:
            return self._parse(operation, with_content(response, [content]))

        try:
            yield AsyncStreamedAPIResponse(response, chunks, parse, retries)
        finally:
            await response.aclose()

    async def _exchange(
        self, request: httpx2.Request, policy: RetryPolicy, given_key: str | None, *, stream: bool
    ) -> tuple[httpx2.Response, int, float | None]:
        """Attempts until one succeeds: its response (the body read, or left to read when `stream`),
        the retries it took, and its attempt's deadline; raises on failure."""
        attempt = waited = 0
        while True:
            self._check_open()
            started = time.monotonic()
            deadline = self._deadline(request)
            try:
                outcome: httpx2.Response | httpx2.TransportError = await self._attempt(request, deadline, stream)
            except httpx2.TransportError as exc:
                outcome = exc
            except httpx2.HTTPError as exc:
                raise other_http_failure(exc, request) from exc
            step = self._after_attempt(request, policy, given_key, outcome, attempt, waited, started)
            if not isinstance(step, _Retry):
                return step, attempt + waited, deadline
            await _event_loop.sleep(step.delay * self._retry_delay_scale)
            attempt, waited = step.attempt, step.waited

    async def _attempt(self, request: httpx2.Request, deadline: float | None, stream: bool) -> httpx2.Response:
        """One request, its body read within the size limit (unread: a successful one's when `stream`);
        the whole attempt, headers included, cancelled at its deadline."""
        try:
            async with _event_loop.deadline_scope(deadline):
                response = await self._http.send(request, stream=True)
                return await aread_body(response, self._config.max_response_bytes, stream)
        except TimeoutError:
            raise httpx2.ReadTimeout("the attempt took longer than its timeout", request=request) from None


class ClientLevelForm(Generic[R]):
    """`client.with_raw_response` / `client.with_streaming_response`: the official SDK's client-level
    forms, each the resource form of `client.messages` under another name."""

    def __init__(self, messages: Callable[[], R]) -> None:
        self._messages = messages

    @property
    def messages(self) -> R:
        return self._messages()
