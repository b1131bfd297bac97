"""telnyx_messages._response as units, on responses made here: the raw response's value semantics,
the streamed responses' readers, the size and deadline checks, and the errors met while a streamed
body is read. (The clients' use of them: test_streamed_responses.py, test_response_size.py,
test_timeouts.py.)"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2
import pytest
from telnyx_messages import APIConnectionError, APIResponseValidationError, APITimeoutError
from telnyx_messages import _response as response_module
from telnyx_messages._deadline import _bounded
from telnyx_messages._response import (
    APIResponse,
    AsyncAPIResponse,
    AsyncStreamedAPIResponse,
    BodyConsumedError,
    StreamedAPIResponse,
    _check_read,
    _streamed_failure,
    astreamed_chunks,
    streamed_chunks,
    with_content,
)

REQUEST = httpx2.Request("POST", "https://api.example:8443/v2/messages")


def _response(content: bytes = b"{}", headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(200, content=content, headers=headers, request=REQUEST)


def test_a_raw_response_counts_no_retries_unless_told_and_keeps_the_count_through_a_copy() -> None:
    http = _response()
    assert APIResponse(http, "parsed").retries_taken == 0
    raw = APIResponse(http, "parsed", 3)
    assert raw.retries_taken == 3
    copied = copy.copy(raw)
    assert type(copied) is APIResponse and copied.retries_taken == 3 and copied.parsed == "parsed"
    assert copy.deepcopy(AsyncAPIResponse(http, [1], 2)).retries_taken == 2


def test_a_raw_response_is_equal_to_one_of_its_class_with_the_same_response_and_result() -> None:
    http = _response()
    raw = APIResponse(http, {"a": 1})
    assert raw == APIResponse(http, {"a": 1})
    assert raw != APIResponse(http, {"a": 2})
    assert raw != APIResponse(_response(), {"a": 1})
    assert raw != AsyncAPIResponse(http, {"a": 1})
    assert raw.__eq__("text") is NotImplemented and raw != "text"


def test_a_raw_response_refuses_deleting_a_field_naming_it() -> None:
    raw = APIResponse(_response(), "parsed")
    with pytest.raises(AttributeError) as refused:
        del raw.parsed
    assert str(refused.value) == "APIResponse is read-only: cannot delete 'parsed'"


def test_a_streamed_body_is_read_as_lines_whatever_the_chunks_and_as_json() -> None:
    streamed = StreamedAPIResponse(_response(), iter([b"one\r", b"\ntw", b"o\n\nthree"]), bytes.decode)
    assert list(streamed.iter_lines()) == ["one", "two", "", "three"]
    streamed = StreamedAPIResponse(_response(), iter([b'{"a": ', b"[1]}"]), bytes.decode)
    assert streamed.json() == {"a": [1]}


async def _chunks(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_an_async_streamed_body_is_text_with_bad_bytes_replaced_in_chunks_of_the_size_asked() -> None:
    streamed: AsyncStreamedAPIResponse[Any] = AsyncStreamedAPIResponse(_response(), _chunks(b"ab\xff"), bytes.decode)
    assert await streamed.text() == "ab\ufffd"
    streamed = AsyncStreamedAPIResponse(_response(), _chunks(b"abc", b"d"), bytes.decode)
    assert [text async for text in streamed.iter_text(chunk_size=2)] == ["ab", "cd"]
    streamed = AsyncStreamedAPIResponse(_response(), _chunks(b"ok\xc3"), bytes.decode)  # cut inside a character
    assert [text async for text in streamed.iter_text()] == ["ok", "\ufffd"]


async def test_an_async_streamed_body_iterated_once_cannot_be_iterated_again() -> None:
    streamed = AsyncStreamedAPIResponse(_response(), _chunks(b"a"), bytes.decode)
    assert [chunk async for chunk in streamed.iter_bytes()] == [b"a"]
    with pytest.raises(BodyConsumedError) as refused:
        await streamed.read()
    assert str(refused.value) == "the body was already iterated over; it can be read once"


def test_content_set_from_chunks_is_the_chunks_joined() -> None:
    assert with_content(_response(b""), [b"a", b"b", b"c"]).content == b"abc"


def test_a_read_past_its_deadline_is_a_read_timeout_of_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    class Clock:
        now = 5.0

        def monotonic(self) -> float:
            return self.now

    clock = Clock()
    monkeypatch.setattr(response_module, "time", clock)
    http = _response()
    _check_read(http, 1, 10, 5.0)  # at the deadline: not past it
    _check_read(http, 1, 10, None)
    clock.now = 5.001
    with pytest.raises(httpx2.ReadTimeout) as late:
        _check_read(http, 1, 10, 5.0)
    assert str(late.value) == "the attempt took longer than its timeout" and late.value.request is REQUEST


def test_a_streamed_reads_errors_are_the_clients_with_the_calls_key() -> None:
    timeout = _streamed_failure(TimeoutError(), REQUEST, "key-1")
    assert isinstance(timeout, APITimeoutError) and timeout.idempotency_key == "key-1"
    assert str(timeout) == (
        "Request timed out (ReadTimeout) for POST api.example:8443: the attempt took longer than its timeout"
    )
    undecodable = _streamed_failure(httpx2.DecodingError("bad gzip", request=REQUEST), REQUEST, "key-2")
    assert isinstance(undecodable, APIResponseValidationError) and undecodable.idempotency_key == "key-2"
    assert "does not decode (DecodingError): bad gzip" in str(undecodable)
    assert undecodable.request is REQUEST
    redirects = _streamed_failure(httpx2.TooManyRedirects("loop", request=REQUEST), REQUEST, None)
    assert isinstance(redirects, APIConnectionError) and str(redirects) == "Request failed (TooManyRedirects): loop"
    other = ValueError("not the client's")
    assert _streamed_failure(other, REQUEST, "key-3") is other and not hasattr(other, "idempotency_key")


class _BoundedReads(httpx2.SyncByteStream):
    """A body whose every read asks what time it has, as the client's network streams do."""

    def __init__(self) -> None:
        self.bounds: list[float | None] = []

    def __iter__(self) -> Iterator[bytes]:
        for chunk in (b"a", b"b"):
            self.bounds.append(_bounded(None))
            yield chunk


def test_each_read_of_a_streamed_body_is_bounded_by_the_attempts_deadline() -> None:
    body = _BoundedReads()
    deadline = time.monotonic() + 30
    http = httpx2.Response(200, stream=body, request=REQUEST)
    assert list(streamed_chunks(http, 10, deadline, None)) == [b"a", b"b"]
    assert len(body.bounds) == 2
    assert all(bound is not None and 0 < bound <= 30 for bound in body.bounds)
    assert _bounded(None) is None  # the deadline holds only while a chunk is read


class _Stalls(httpx2.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"a"
        await asyncio.sleep(5)
        yield b"b"


async def test_an_async_streamed_read_past_the_deadline_is_the_clients_timeout_with_the_key() -> None:
    http = httpx2.Response(200, stream=_Stalls(), request=REQUEST)
    started = time.monotonic()
    chunks = []
    with pytest.raises(APITimeoutError) as late:
        async for chunk in astreamed_chunks(http, 10, started + 0.2, "key-4"):
            chunks.append(chunk)
    assert chunks == [b"a"] and time.monotonic() - started < 3
    assert late.value.idempotency_key == "key-4" and late.value.request is REQUEST
    assert isinstance(late.value.__cause__, TimeoutError) and http.is_closed
