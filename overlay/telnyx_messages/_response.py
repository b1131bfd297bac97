"""The response forms a call returns, and the reading of a response's body, in one place: the size
limit, the attempt's deadline, and the errors met while reading, for the whole body (read before the
call returns) and for a streamed one (`with_streaming_response`: read by the caller).

APIResponse / AsyncAPIResponse: the parsed result with its HTTP response (`with_raw_response`).
StreamedAPIResponse / AsyncStreamedAPIResponse: status and headers at once, the body as it is read.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar

import httpx2

from ._deadline import attempt_deadline
from ._event_loop import deadline_scope
from ._exceptions import ResponseTooLargeError, TelnyxError, connection_error, keyed, other_http_failure

if TYPE_CHECKING:
    from ._rate_limits import RateLimit

__all__ = [
    "APIResponse",
    "AsyncAPIResponse",
    "AsyncStreamedAPIResponse",
    "AsyncStreamedResponseContext",
    "BodyConsumedError",
    "StreamedAPIResponse",
    "StreamedResponseContext",
    "aread_body",
    "astreamed_chunks",
    "read_body",
    "streamed_chunks",
    "with_content",
]

T = TypeVar("T")


class _ResponseFacts:
    """What every response form tells of its HTTP exchange, read from `http_response`."""

    __slots__ = ()
    http_response: httpx2.Response
    retries_taken: int

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx2.Headers:
        return self.http_response.headers

    @property
    def http_request(self) -> httpx2.Request:
        return self.http_response.request

    @property
    def url(self) -> httpx2.URL:
        return self.http_response.url

    @property
    def request_id(self) -> str | None:
        """The API's id of this request (its `x-request-id` header), for support requests."""
        return self.http_response.headers.get("x-request-id")

    @property
    def elapsed(self) -> timedelta:
        """The time from sending the request to the end of its body (known once the body is read)."""
        return self.http_response.elapsed

    @property
    def is_closed(self) -> bool:
        return self.http_response.is_closed

    @property
    def idempotency_key(self) -> str | None:
        """The Idempotency-Key the call sent (the same on every attempt), or None."""
        return self.http_response.request.headers.get("Idempotency-Key")

    @property
    def replayed(self) -> bool:
        """True when the API answered with the stored response of an earlier attempt with the same
        key (`Idempotent-Replayed: true`): the message was accepted once, before this attempt."""
        return self.http_response.headers.get("Idempotent-Replayed", "").lower() == "true"

    @property
    def rate_limit(self) -> RateLimit | None:
        """The API's request limit as this response reports it (its `x-ratelimit-*` headers parsed:
        limit, remaining, seconds until reset); None when it sent none."""
        from ._rate_limits import RateLimit

        return RateLimit.from_headers(self.http_response.headers)

    def __repr__(self) -> str:
        request = self.http_response.request
        return f"<{type(self).__name__} [{self.status_code}] {request.method} {request.url.path}>"


class _ResponseWithResult(_ResponseFacts, Generic[T]):
    """Made on every call, so written out rather than a frozen dataclass (slower to make, and to build
    at import); read-only all the same."""

    __slots__ = ("http_response", "parsed", "retries_taken")
    parsed: T

    def __init__(self, http_response: httpx2.Response, parsed: T, retries_taken: int = 0) -> None:
        object.__setattr__(self, "http_response", http_response)
        object.__setattr__(self, "parsed", parsed)
        object.__setattr__(self, "retries_taken", retries_taken)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is read-only: cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"{type(self).__name__} is read-only: cannot delete {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        # copy and pickle would set the slots one by one, which __setattr__ refuses: rebuilt instead.
        return type(self), (self.http_response, self.parsed, self.retries_taken)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _ResponseWithResult) or other.__class__ is not self.__class__:
            return NotImplemented
        return (self.http_response, self.parsed) == (other.http_response, other.parsed)

    __hash__ = None  # type: ignore[assignment]  # compared by value, and what it holds may be mutable

    @property
    def text(self) -> str:
        return self.http_response.text

    def json(self) -> Any:
        return self.http_response.json()

    def read(self) -> bytes:
        """The body (already read)."""
        return self.http_response.content


class APIResponse(_ResponseWithResult[T]):
    """A parsed result together with the HTTP response it came from (the body is read)."""

    def parse(self) -> T:
        return self.parsed


class AsyncAPIResponse(_ResponseWithResult[T]):
    """APIResponse of AsyncTelnyx: parse() is awaited, as in the official SDK."""

    async def parse(self) -> T:
        return self.parsed


class BodyConsumedError(RuntimeError):
    """The streamed body was already iterated over, so it cannot be read again."""


def _rechunked(chunks: Iterator[bytes], size: int | None) -> Iterator[bytes]:
    if size is None:
        yield from chunks
        return
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield buffer[:size]
            buffer = buffer[size:]
    if buffer:
        yield buffer


class _TextDecoder:
    """Bytes to text, a chunk at a time (a character may be split across chunks), and text to lines
    (a line may be too; `\\r\\n` split across chunks is one break)."""

    def __init__(self, encoding: str) -> None:
        import codecs

        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._pending = ""

    def text(self, chunk: bytes, final: bool = False) -> str:
        return self._decoder.decode(chunk, final)

    def lines(self, text: str, final: bool = False) -> list[str]:
        text = self._pending + text
        lines = text.splitlines(keepends=True)
        self._pending = ""
        if lines and not final and (not lines[-1].endswith(("\n", "\r")) or lines[-1].endswith("\r")):
            self._pending = lines.pop()
        return [line.rstrip("\r\n") for line in lines]


def _encoding(response: httpx2.Response) -> str:
    return response.charset_encoding or "utf-8"


class StreamedAPIResponse(_ResponseFacts, Generic[T]):
    """A response handed over before its body is read (`with client.messages.with_streaming_response
    .send(...) as response:`): status and headers now; the body through read(), text(), json(),
    parse() or iter_bytes()/iter_text()/iter_lines(), held to the client's size limit and the call's
    deadline; closed, its connection back in the pool, when the block ends."""

    __slots__ = ("_chunks", "_content", "_iterated", "_parse", "http_response", "retries_taken")

    def __init__(
        self,
        http_response: httpx2.Response,
        chunks: Iterator[bytes],
        parse: Callable[[bytes], T],
        retries_taken: int = 0,
    ) -> None:
        self.http_response = http_response
        self.retries_taken = retries_taken
        self._chunks = chunks
        self._parse = parse
        self._content: bytes | None = None
        self._iterated = False

    def _body(self) -> Iterator[bytes]:
        if self._content is not None:
            yield self._content
            return
        if self._iterated:
            raise BodyConsumedError("the body was already iterated over; it can be read once")
        self._iterated = True
        yield from self._chunks

    def read(self) -> bytes:
        if self._content is None:
            self._content = b"".join(self._body())
        return self._content

    def text(self) -> str:
        return self.read().decode(_encoding(self.http_response), errors="replace")

    def json(self) -> Any:
        import json

        return json.loads(self.read())

    def parse(self) -> T:
        return self._parse(self.read())

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        yield from _rechunked(self._body(), chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        decoder = _TextDecoder(_encoding(self.http_response))
        for chunk in self.iter_bytes(chunk_size):
            if text := decoder.text(chunk):
                yield text
        if text := decoder.text(b"", final=True):
            yield text

    def iter_lines(self) -> Iterator[str]:
        decoder = _TextDecoder(_encoding(self.http_response))
        for text in self.iter_text():
            yield from decoder.lines(text)
        yield from decoder.lines("", final=True)

    def close(self) -> None:
        self.http_response.close()


async def _arechunked(chunks: AsyncIterator[bytes], size: int | None) -> AsyncIterator[bytes]:
    if size is None:
        async for chunk in chunks:
            yield chunk
        return
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield buffer[:size]
            buffer = buffer[size:]
    if buffer:
        yield buffer


class AsyncStreamedAPIResponse(_ResponseFacts, Generic[T]):
    """StreamedAPIResponse of AsyncTelnyx (`async with ... as response:`): read(), text(), json(),
    parse() and close() are awaited, iter_bytes()/iter_text()/iter_lines() iterated with `async for`."""

    __slots__ = ("_chunks", "_content", "_iterated", "_parse", "http_response", "retries_taken")

    def __init__(
        self,
        http_response: httpx2.Response,
        chunks: AsyncIterator[bytes],
        parse: Callable[[bytes], T],
        retries_taken: int = 0,
    ) -> None:
        self.http_response = http_response
        self.retries_taken = retries_taken
        self._chunks = chunks
        self._parse = parse
        self._content: bytes | None = None
        self._iterated = False

    async def _body(self) -> AsyncIterator[bytes]:
        if self._content is not None:
            yield self._content
            return
        if self._iterated:
            raise BodyConsumedError("the body was already iterated over; it can be read once")
        self._iterated = True
        async for chunk in self._chunks:
            yield chunk

    async def read(self) -> bytes:
        if self._content is None:
            self._content = b"".join([chunk async for chunk in self._body()])
        return self._content

    async def text(self) -> str:
        return (await self.read()).decode(_encoding(self.http_response), errors="replace")

    async def json(self) -> Any:
        import json

        return json.loads(await self.read())

    async def parse(self) -> T:
        return self._parse(await self.read())

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        async for chunk in _arechunked(self._body(), chunk_size):
            yield chunk

    async def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        decoder = _TextDecoder(_encoding(self.http_response))
        async for chunk in self.iter_bytes(chunk_size):
            if text := decoder.text(chunk):
                yield text
        if text := decoder.text(b"", final=True):
            yield text

    async def iter_lines(self) -> AsyncIterator[str]:
        decoder = _TextDecoder(_encoding(self.http_response))
        async for text in self.iter_text():
            for line in decoder.lines(text):
                yield line
        for line in decoder.lines("", final=True):
            yield line

    async def close(self) -> None:
        await self.http_response.aclose()


# What a with_streaming_response method returns: `with` (sync) or `async with` (async) it.
StreamedResponseContext = AbstractContextManager
AsyncStreamedResponseContext = AbstractAsyncContextManager


def _refuse_declared_size(response: httpx2.Response, max_bytes: int) -> None:
    """Before reading: a body whose declared (uncompressed) length is over the limit."""
    declared = response.headers.get("content-length", "")
    compressed = "content-encoding" in response.headers  # then the length is not what it inflates to
    if declared.isdigit() and int(declared) > max_bytes and not compressed:
        raise _too_large(response, max_bytes)


def _check_read(response: httpx2.Response, read: int, max_bytes: int, deadline: float | None) -> None:
    """While reading: raises once the body read is over the size limit or the attempt over the deadline."""
    if read > max_bytes:
        raise _too_large(response, max_bytes)
    if deadline is not None and time.monotonic() > deadline:
        raise httpx2.ReadTimeout("the attempt took longer than its timeout", request=response.request)


def _too_large(response: httpx2.Response, max_bytes: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(response, f"is over the client's max_response_bytes ({max_bytes}); not read further")


def with_content(response: httpx2.Response, chunks: list[bytes]) -> httpx2.Response:
    """`response` with its body read as `chunks`."""
    response._content = b"".join(chunks)  # what Response.read() sets: .content and .json() read it
    return response


def read_body(response: httpx2.Response, max_bytes: int, deadline: float | None, stream: bool) -> httpx2.Response:
    """The body read (decompressed) within the size limit and the deadline, the response closed; a
    successful one's body left unread when `stream` (its reader: streamed_chunks)."""
    try:
        _refuse_declared_size(response, max_bytes)
        if stream and response.is_success:
            return response
        chunks, read = [], 0
        for chunk in response.iter_bytes():
            read += len(chunk)
            _check_read(response, read, max_bytes, deadline)
            chunks.append(chunk)
    except BaseException:
        response.close()
        raise
    response.close()
    return with_content(response, chunks)


async def aread_body(response: httpx2.Response, max_bytes: int, stream: bool) -> httpx2.Response:
    """read_body of the async client, whose deadline is a scope around it (its reader: astreamed_chunks)."""
    try:
        _refuse_declared_size(response, max_bytes)
        if stream and response.is_success:
            return response
        chunks, read = [], 0
        async for chunk in response.aiter_bytes():
            read += len(chunk)
            _check_read(response, read, max_bytes, None)
            chunks.append(chunk)
    except BaseException:
        await response.aclose()
        raise
    await response.aclose()
    return with_content(response, chunks)


def _streamed_failure(exc: Exception, request: httpx2.Request, idempotency_key: str | None) -> Exception:
    """An error met while a streamed body is read, in the hierarchy, with the call's key."""
    if isinstance(exc, TimeoutError):
        exc = httpx2.ReadTimeout("the attempt took longer than its timeout", request=request)
    if isinstance(exc, httpx2.TransportError):
        exc = connection_error(exc, request)
    elif isinstance(exc, httpx2.HTTPError):
        exc = other_http_failure(exc, request)
    return keyed(exc, idempotency_key) if isinstance(exc, TelnyxError) else exc


def streamed_chunks(
    response: httpx2.Response, max_bytes: int, deadline: float | None, idempotency_key: str | None
) -> Iterator[bytes]:
    """A streamed body's chunks as the caller reads them, within the size limit and the attempt's
    deadline; a failure closes the response and is raised in the hierarchy."""
    read = 0
    iterator = response.iter_bytes()
    try:
        while True:
            with attempt_deadline(deadline):
                chunk = next(iterator, None)
            if chunk is None:
                return
            read += len(chunk)
            _check_read(response, read, max_bytes, deadline)
            yield chunk
    except Exception as exc:
        failure = _streamed_failure(exc, response.request, idempotency_key)
        response.close()
        if failure is exc:
            raise
        raise failure from exc


async def astreamed_chunks(
    response: httpx2.Response, max_bytes: int, deadline: float | None, idempotency_key: str | None
) -> AsyncIterator[bytes]:
    """streamed_chunks of the async client: each read cancelled at the attempt's deadline."""
    read = 0
    iterator = response.aiter_bytes()
    try:
        while True:
            async with deadline_scope(deadline):
                chunk = await anext(iterator, None)
            if chunk is None:
                return
            read += len(chunk)
            _check_read(response, read, max_bytes, None)
            yield chunk
    except Exception as exc:
        failure = _streamed_failure(exc, response.request, idempotency_key)
        await response.aclose()
        if failure is exc:
            raise
        raise failure from exc
