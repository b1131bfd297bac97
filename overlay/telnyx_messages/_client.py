"""Telnyx and AsyncTelnyx: thin shells around one core that prepares requests and reads responses.

The methods of `client.messages` are generated (telnyx_messages_api.api); each hands its operation,
its signature and its arguments to `_call` or `_call_raw` here.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Self, TypeVar
from urllib.parse import urlsplit

import httpx2
from telnyx_messages_api import models as _models
from telnyx_messages_api.api import (
    AsyncMessages,
    AsyncMessagesWithRawResponse,
    AsyncMessagesWithStreamingResponse,
    Messages,
    MessagesWithRawResponse,
    MessagesWithStreamingResponse,
)
from telnyx_messages_api.types import (
    NOT_GIVEN,
    APIResponse,
    AsyncAPIResponse,
    AsyncStreamedAPIResponse,
    CallOptions,
    NotGiven,
    Operation,
    StreamedAPIResponse,
    Timeout,
)

from . import _json
from ._deadline import attempt_deadline, transport_with_deadlines
from ._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    ClientClosedError,
    ResponseTooLargeError,
    TelnyxError,
    status_error,
)
from ._legacy_httpx import LegacyAsyncClient, LegacyClient, adopt_async_client, adopt_client, as_httpx2_timeout
from ._logging import logger, setup_logging
from ._request_building import IDEMPOTENCY_KEY, check_headers, prepare
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

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"
DEFAULT_TIMEOUT = httpx2.Timeout(60.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
# What a response body may decompress to before the client stops reading it (memory stays bounded).
DEFAULT_MAX_RESPONSE_BYTES = 32 << 20
USER_AGENT = "telnyx-messages-python"

T = TypeVar("T")
R = TypeVar("R")  # a resource form of client.messages
TimeoutTypes = Timeout


_IPV6_LOOPBACK = bytes(15) + b"\x01"


def _is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1. Read with socket, which httpx2 has loaded: importing ipaddress
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
    url = base_url or os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL
    if not isinstance(url, str):
        raise TypeError(f"base_url must be str, got {type(url).__name__}")
    url = url.rstrip("/")
    if not url.isascii() or not url.isprintable() or " " in url:
        raise ValueError(f"base_url must be a URL of printable ASCII, got {url!r}")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"base_url must be an http(s) URL, got {url!r}")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ValueError(f"base_url must not have a query or fragment (the path is appended to it), got {url!r}")
    try:
        parts.port  # noqa: B018  (raises on a port that is no number)
        httpx2.URL(url)
    except (ValueError, httpx2.InvalidURL) as exc:
        raise ValueError(f"base_url is not a valid URL: {exc}") from None
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ValueError(
            f"base_url {url!r} is plain http to a non-loopback host: the API key would cross the network "
            "in clear text. Use https, or pass allow_insecure_http=True if you mean it."
        )
    return url


class _Config(NamedTuple):
    """What a client and its `with_options` copies hold. The key is not here: it lives only in the
    headers given to httpx, which masks it in every repr. (A tuple: a dataclass costs the import.)"""

    base_url: str
    timeout: TimeoutTypes
    max_retries: int
    default_query: Mapping[str, object]
    max_response_bytes: int


H = TypeVar("H", httpx2.Client, httpx2.AsyncClient)
# What a caller may pass as http_client: an httpx2 client, or a legacy httpx one (_legacy_httpx).
U = TypeVar("U")


class _BaseClient(Generic[H, U]):
    """Everything but I/O: configuration, building requests, reading responses."""

    _config: _Config
    # The HTTP client the client sends with, made or given: close() closes it, and copies share it.
    _http: H | LegacyClient | LegacyAsyncClient
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
        http_client: H | U | None = None,
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
        _check_max_retries(max_retries)
        if not isinstance(max_response_bytes, int) or max_response_bytes < 1:
            raise ValueError(f"max_response_bytes must be a positive int, got {max_response_bytes!r}")
        self._allow_insecure_http = allow_insecure_http
        self._config = _Config(
            base_url=_resolve_base_url(base_url, allow_insecure_http),
            timeout=_checked_timeout(timeout),
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
            "Authorization": _authorization(api_key),
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

    def _adopt(self, http_client: H | U) -> H | LegacyClient | LegacyAsyncClient:
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
        for cached in ("messages", "with_raw_response", "with_streaming_response"):
            copy.__dict__.pop(cached, None)  # the resources of this client, cached
        if max_retries is not None:
            _check_max_retries(max_retries)
        copy._config = self._config._replace(
            base_url=self._config.base_url
            if base_url is None
            else _resolve_base_url(base_url, self._allow_insecure_http),
            timeout=self._config.timeout if isinstance(timeout, NotGiven) else _checked_timeout(timeout),
            max_retries=self._config.max_retries if max_retries is None else max_retries,
            default_query={**self._config.default_query, **(default_query or {})},
        )
        extra = dict(check_headers(default_headers or {}, "default_headers"))
        if api_key is not None:
            extra["Authorization"] = _authorization(api_key)
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
            _check_max_retries(options.max_retries)
        request = self._http.build_request(
            prepared.method,
            self._config.base_url + prepared.path,
            params=prepared.params or None,
            headers={**self._request_headers, **prepared.headers},
            content=prepared.content,
            timeout=self._config.timeout
            if isinstance(options.timeout, NotGiven)
            else _checked_timeout(options.timeout),
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
                raise _connection_error(outcome, request) from outcome
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

    def _refuse_declared_size(self, response: httpx2.Response) -> None:
        """Before reading: a body whose declared (uncompressed) length is over the limit."""
        declared = response.headers.get("content-length", "")
        compressed = "content-encoding" in response.headers  # then the length is not what it inflates to
        if declared.isdigit() and int(declared) > self._config.max_response_bytes and not compressed:
            raise self._too_large(response)

    def _within_limits(self, response: httpx2.Response, read: int, deadline: float | None) -> None:
        """While reading: raises once the body read is over the size limit or the attempt over the deadline."""
        if read > self._config.max_response_bytes:
            raise self._too_large(response)
        if deadline is not None and time.monotonic() > deadline:
            raise httpx2.ReadTimeout("the attempt took longer than its timeout", request=response.request)

    def _too_large(self, response: httpx2.Response) -> ResponseTooLargeError:
        limit = self._config.max_response_bytes
        return ResponseTooLargeError(response, f"is over the client's max_response_bytes ({limit}); not read further")

    @staticmethod
    def _body_read(response: httpx2.Response, chunks: list[bytes]) -> httpx2.Response:
        response._content = b"".join(chunks)  # what Response.read() sets: .content and .json() read it
        return response

    @staticmethod
    def _other_failure(exc: httpx2.HTTPError, request: httpx2.Request) -> TelnyxError:
        """An httpx error that is not a transport failure, in the hierarchy."""
        if isinstance(exc, httpx2.DecodingError):
            response = httpx2.Response(502, request=request)
            return APIResponseValidationError(response, f"does not decode ({type(exc).__name__}): {exc}")
        return APIConnectionError(f"Request failed ({type(exc).__name__}): {exc}", request=request)

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

    def _streamed_failure(self, exc: Exception, request: httpx2.Request) -> Exception:
        """An error met while a streamed body is read, in the hierarchy (the key set on it)."""
        if isinstance(exc, TimeoutError):
            exc = httpx2.ReadTimeout("the attempt took longer than its timeout", request=request)
        if isinstance(exc, httpx2.TransportError):
            return _connection_error(exc, request)
        if isinstance(exc, httpx2.HTTPError):
            return self._other_failure(exc, request)
        return exc


class _Retry(NamedTuple):
    """Try again after `delay` seconds, as retry `attempt` having waited out `waited` 409s (a 409 to
    a keyed request is not counted as a retry)."""

    delay: float
    attempt: int
    waited: int


def _authorization(api_key: str | None) -> str:
    """The Authorization header for a key, checked so that no later error (h11 refusing a newline,
    an encoder refusing a non-ASCII character) can quote it: messages here never hold the key."""
    key = api_key if api_key is not None else os.environ.get("TELNYX_API_KEY")
    if not key:
        raise TelnyxError("No API key: pass api_key= or set the TELNYX_API_KEY environment variable.")
    if not isinstance(key, str):
        raise TypeError(f"api_key must be str, got {type(key).__name__}")
    if key != key.strip():
        raise ValueError("api_key starts or ends with white space or a line break (read from a file? strip it)")
    if not key.isascii() or not key.isprintable():
        raise ValueError("api_key holds a character that is not printable ASCII; a Telnyx key never does")
    if key[:7].lower() == "bearer ":
        raise ValueError("api_key starts with 'Bearer ': pass the key alone (the client sends it as a Bearer token)")
    return f"Bearer {key}"


def _checked_timeout(timeout: object) -> TimeoutTypes:
    """A timeout as httpx2 takes it: None (no limit), seconds, or an httpx2/httpx Timeout whose parts
    are each None or seconds; seconds are finite and above 0 (a call with 0, a negative number or NaN
    could only time out)."""
    converted = as_httpx2_timeout(timeout)
    if converted is None:
        return None
    if isinstance(converted, httpx2.Timeout):
        for part, seconds in converted.as_dict().items():
            if seconds is not None and not _is_seconds(seconds):
                raise ValueError(f"timeout's {part} part must be None or a number of seconds > 0, got {seconds!r}")
        return converted
    if not _is_seconds(converted):
        raise ValueError(f"timeout must be None, a number of seconds > 0 or an httpx2.Timeout, got {timeout!r}")
    return float(converted)


def _is_seconds(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _check_max_retries(max_retries: int) -> None:
    if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
        raise ValueError(f"max_retries must be an int >= 0, got {max_retries!r}")


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


def _connection_error(exc: httpx2.TransportError, request: httpx2.Request) -> APIConnectionError:
    """The error of a call that got no response, naming where it went (method, host and port; the
    URL's path and query stay out, and no key is ever in them)."""
    url = request.url
    port = url.port or (443 if url.scheme == "https" else 80)
    where = f"{request.method} {url.host}:{port}"
    why = f": {exc}" if str(exc) else ""  # anyio's timeouts have no text
    if isinstance(exc, httpx2.TimeoutException):
        return APITimeoutError(f"Request timed out ({type(exc).__name__}) for {where}{why}", request=request)
    return APIConnectionError(f"Connection error ({type(exc).__name__}) for {where}{why}", request=request)


class Telnyx(_BaseClient[httpx2.Client, "httpx.Client"]):
    """The synchronous client. `client.messages` holds the operations."""

    _http: httpx2.Client | LegacyClient

    def _new_http_client(self, headers: dict[str, str]) -> httpx2.Client:
        # Its transport bounds each read by what is left of the attempt (see _deadline).
        return httpx2.Client(headers=headers, follow_redirects=False, transport=transport_with_deadlines())

    def _adopt(self, http_client: httpx2.Client | httpx.Client) -> httpx2.Client | LegacyClient:
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
            error.idempotency_key = policy.idempotency_key  # to retry later with, and still send once
            raise

    @contextlib.contextmanager
    def _call_streamed(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> Iterator[StreamedAPIResponse[T]]:
        request, policy, given_key = self._prepare(operation, method, arguments, options)
        try:
            response, retries, deadline = self._exchange(request, policy, given_key, stream=True)
        except TelnyxError as error:
            error.idempotency_key = policy.idempotency_key
            raise

        def chunks() -> Iterator[bytes]:
            read = 0
            iterator = response.iter_bytes()
            try:
                while True:
                    with attempt_deadline(deadline):
                        chunk = next(iterator, None)
                    if chunk is None:
                        return
                    read += len(chunk)
                    self._within_limits(response, read, deadline)
                    yield chunk
            except Exception as exc:
                failure = self._streamed_failure(exc, request)
                if isinstance(failure, TelnyxError):
                    failure.idempotency_key = policy.idempotency_key
                response.close()
                if failure is exc:
                    raise
                raise failure from exc

        def parse(content: bytes) -> T:
            return self._parse(operation, self._body_read(response, [content]))

        try:
            yield StreamedAPIResponse(response, chunks(), parse, retries)
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
                raise self._other_failure(exc, request) from exc
            step = self._after_attempt(request, policy, given_key, outcome, attempt, waited, started)
            if not isinstance(step, _Retry):
                return step, attempt + waited, deadline
            time.sleep(step.delay * self._retry_delay_scale)
            attempt, waited = step.attempt, step.waited

    def _attempt(self, request: httpx2.Request, deadline: float | None, stream: bool) -> httpx2.Response:
        """One request, its body read (decompressed) within the size limit and the deadline; a
        successful one's body left unread when `stream`."""
        with attempt_deadline(deadline):
            response = self._http.send(request, stream=True)
            try:
                self._refuse_declared_size(response)
                if stream and response.is_success:
                    return response
                chunks, read = [], 0
                for chunk in response.iter_bytes():
                    read += len(chunk)
                    self._within_limits(response, read, deadline)
                    chunks.append(chunk)
            except BaseException:
                response.close()
                raise
            response.close()
        return self._body_read(response, chunks)


class AsyncTelnyx(_BaseClient[httpx2.AsyncClient, "httpx.AsyncClient"]):
    """The asynchronous client. `client.messages` holds the operations, as coroutines."""

    _http: httpx2.AsyncClient | LegacyAsyncClient

    def _new_http_client(self, headers: dict[str, str]) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(headers=headers, follow_redirects=False)

    def _adopt(self, http_client: httpx2.AsyncClient | httpx.AsyncClient) -> httpx2.AsyncClient | LegacyAsyncClient:
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
            error.idempotency_key = policy.idempotency_key
            raise

    @contextlib.asynccontextmanager
    async def _call_streamed(
        self, operation: Operation[T], method: Callable[..., Any], arguments: dict[str, object], options: CallOptions
    ) -> AsyncIterator[AsyncStreamedAPIResponse[T]]:
        request, policy, given_key = self._prepare(operation, method, arguments, options)
        try:
            response, retries, deadline = await self._exchange(request, policy, given_key, stream=True)
        except TelnyxError as error:
            error.idempotency_key = policy.idempotency_key
            raise

        async def chunks() -> AsyncIterator[bytes]:
            read = 0
            iterator = response.aiter_bytes()
            try:
                while True:
                    async with _deadline_scope(deadline):
                        chunk = await anext(iterator, None)
                    if chunk is None:
                        return
                    read += len(chunk)
                    self._within_limits(response, read, None)
                    yield chunk
            except Exception as exc:
                failure = self._streamed_failure(exc, request)
                if isinstance(failure, TelnyxError):
                    failure.idempotency_key = policy.idempotency_key
                await response.aclose()
                if failure is exc:
                    raise
                raise failure from exc

        def parse(content: bytes) -> T:
            return self._parse(operation, self._body_read(response, [content]))

        try:
            yield AsyncStreamedAPIResponse(response, chunks(), parse, retries)
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
                raise self._other_failure(exc, request) from exc
            step = self._after_attempt(request, policy, given_key, outcome, attempt, waited, started)
            if not isinstance(step, _Retry):
                return step, attempt + waited, deadline
            await _sleep(step.delay * self._retry_delay_scale)
            attempt, waited = step.attempt, step.waited

    async def _attempt(self, request: httpx2.Request, deadline: float | None, stream: bool) -> httpx2.Response:
        """One request, its body read (decompressed) within the size limit; the whole attempt,
        headers included, cancelled at its deadline. A successful one's body left unread when `stream`."""
        try:
            async with _deadline_scope(deadline):
                response = await self._http.send(request, stream=True)
                try:
                    self._refuse_declared_size(response)
                    if stream and response.is_success:
                        return response
                    chunks, read = [], 0
                    async for chunk in response.aiter_bytes():
                        read += len(chunk)
                        self._within_limits(response, read, None)
                        chunks.append(chunk)
                except BaseException:
                    await response.aclose()
                    raise
                await response.aclose()
        except TimeoutError:
            raise httpx2.ReadTimeout("the attempt took longer than its timeout", request=request) from None
        return self._body_read(response, chunks)


class ClientLevelForm(Generic[R]):
    """`client.with_raw_response` / `client.with_streaming_response`: the official SDK's client-level
    forms, each the resource form of `client.messages` under another name."""

    def __init__(self, messages: Callable[[], R]) -> None:
        self._messages = messages

    @property
    def messages(self) -> R:
        return self._messages()


def _on_asyncio() -> bool:
    """Whether the running loop is asyncio's (else trio's, reached through anyio)."""
    import asyncio  # here, not at the top: importing asyncio costs a sync program's cold start

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _deadline_scope(deadline: float | None) -> Any:
    """An async scope that cancels its body at `deadline` (time.monotonic()): asyncio's own, cheap,
    on asyncio (its clock is time.monotonic); anyio's elsewhere."""
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


async def _sleep(seconds: float) -> None:
    if _on_asyncio():
        import asyncio

        await asyncio.sleep(seconds)
    else:
        import anyio

        await anyio.sleep(seconds)
