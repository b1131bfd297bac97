"""AsyncTelnyx's streamed responses (telnyx_messages/_response.py): the twins of the sync ones that
tests/test_official_surface.py reads over a loopback server, without Prism."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest
from telnyx_messages import AsyncStreamedAPIResponse, BodyConsumedError, ResponseTooLargeError, StreamedAPIResponse

from .support import MESSAGE_ID
from .support.server import LoopbackServer, Reply, async_client_for
from .support.spec import message_example


async def test_an_async_streamed_response_gives_status_and_headers_before_the_body(server: LoopbackServer) -> None:
    server.reply(Reply(200, {"data": [message_example()]}, {"x-request-id": "req-1"}))
    async with async_client_for(server) as client:
        stream = client.messages.with_streaming_response.retrieve_group_messages
        async with stream(MESSAGE_ID) as response:
            assert isinstance(response, AsyncStreamedAPIResponse)
            assert response.status_code == 200 and response.request_id == "req-1" and not response.is_closed
            assert repr(response) == f"<AsyncStreamedAPIResponse [200] GET /messages/group/{MESSAGE_ID}>"
            group = await response.parse()
            assert group._request_id == "req-1"
            assert await response.parse() == group  # read once, parsed again from what was read
            assert (await response.json())["data"][0]["id"] == message_example()["id"]
        assert response.is_closed


async def test_async_text_lines_and_chunks_read_the_same_body(server: LoopbackServer) -> None:
    body = "first line\r\nsecond, caf\u00e9\nthird\rlast".encode()
    server.default = Reply(200, body, {"Content-Type": "text/plain; charset=utf-8"})
    async with async_client_for(server) as client:
        stream = client.messages.with_streaming_response.retrieve_group_messages
        async with stream(MESSAGE_ID) as response:
            lines = [line async for line in response.iter_lines()]
            assert lines == ["first line", "second, caf\u00e9", "third", "last"]
        async with stream(MESSAGE_ID) as response:
            assert "".join([text async for text in response.iter_text(chunk_size=3)]) == body.decode()
        async with stream(MESSAGE_ID) as response:
            chunks = [chunk async for chunk in response.iter_bytes(chunk_size=4)]
            assert b"".join(chunks) == body and {len(c) for c in chunks[:-1]} == {4} and len(chunks[-1]) <= 4
            with pytest.raises(BodyConsumedError, match="already iterated"):
                await response.read()
        async with stream(MESSAGE_ID) as response:
            assert await response.text() == body.decode() and await response.read() == body
            assert b"".join([chunk async for chunk in response.iter_bytes()]) == body  # from what was read
            await response.close()
            assert response.is_closed


async def _chunks_of(body: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


async def test_async_lines_split_across_chunks_are_joined() -> None:
    """iter_lines of one body however it arrives: a character, a CRLF or a line split between chunks."""
    body = "ab\r\ncd\u00e9\n\nlast".encode()
    request = httpx2.Request("GET", "http://127.0.0.1/")
    for size in range(1, len(body) + 1):
        response = httpx2.Response(200, request=request)
        streamed = AsyncStreamedAPIResponse(response, _chunks_of(body, size), lambda b: b)
        assert [line async for line in streamed.iter_lines()] == ["ab", "cd\u00e9", "", "last"], size


async def test_async_text_in_the_declared_charset() -> None:
    body = "caf\u00e9".encode("latin-1")
    request = httpx2.Request("GET", "http://127.0.0.1/")
    response = httpx2.Response(200, request=request, headers={"Content-Type": "text/plain; charset=latin-1"})
    streamed = AsyncStreamedAPIResponse(response, _chunks_of(body, 1), lambda b: b)
    assert "".join([text async for text in streamed.iter_text()]) == "caf\u00e9"
    streamed = AsyncStreamedAPIResponse(response, _chunks_of(body, 1), lambda b: b)
    assert await streamed.text() == "caf\u00e9"


@pytest.mark.parametrize("declared", [True, False])
async def test_an_async_streamed_body_is_held_to_the_size_limit(server: LoopbackServer, declared: bool) -> None:
    body = b"x" * 10_000
    if declared:
        server.default = Reply(200, body)
    else:  # a length that is not what the body inflates to: known only while reading
        server.default = Reply(200, gzip.compress(body), {"Content-Encoding": "gzip"})
    async with async_client_for(server, max_response_bytes=4096) as client:
        stream = client.messages.with_streaming_response.retrieve_group_messages
        if declared:  # refused before the block: its length says it is over
            with pytest.raises(ResponseTooLargeError, match=r"max_response_bytes \(4096\)"):
                async with stream(MESSAGE_ID):
                    pytest.fail("entered")
        else:
            async with stream(MESSAGE_ID) as response:
                with pytest.raises(ResponseTooLargeError, match=r"max_response_bytes \(4096\)") as caught:
                    await response.read()
                assert caught.value.idempotency_key is None
            assert response.is_closed


async def test_an_async_streamed_body_at_the_size_limit_is_read(server: LoopbackServer) -> None:
    server.default = Reply(200, gzip.compress(b"y" * 4096), {"Content-Encoding": "gzip"})
    async with async_client_for(server, max_response_bytes=4096) as client:
        stream = client.messages.with_streaming_response.retrieve_group_messages
        async with stream(MESSAGE_ID) as response:
            assert await response.read() == b"y" * 4096


# --- the reading of a streamed body, one function at a time ------------------------------------------


def _response(chunks: list[bytes], headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(200, headers=headers, content=iter(chunks), request=httpx2.Request("GET", "http://t/"))


def test_streamed_chunks_count_every_chunk_against_the_limit() -> None:
    from telnyx_messages._response import streamed_chunks

    assert b"".join(streamed_chunks(_response([b"x" * 1024] * 4), 4096, None, "k")) == b"x" * 4096  # at the limit
    over = streamed_chunks(_response([b"x" * 1024] * 5), 4096, None, "key-1")
    with pytest.raises(ResponseTooLargeError, match=r"max_response_bytes \(4096\)") as caught:
        b"".join(over)
    assert caught.value.idempotency_key == "key-1"


async def test_async_streamed_chunks_count_every_chunk_against_the_limit() -> None:
    from telnyx_messages._response import astreamed_chunks

    async def body(count: int) -> AsyncIterator[bytes]:
        for _ in range(count):
            yield b"x" * 1024

    def response(count: int) -> httpx2.Response:
        return httpx2.Response(200, content=body(count), request=httpx2.Request("GET", "http://t/"))

    assert b"".join([c async for c in astreamed_chunks(response(4), 4096, None, "k")]) == b"x" * 4096
    with pytest.raises(ResponseTooLargeError, match=r"max_response_bytes \(4096\)") as caught:
        [c async for c in astreamed_chunks(response(5), 4096, None, "key-1")]
    assert caught.value.idempotency_key == "key-1"


def test_streamed_chunks_stop_at_a_deadline_passed() -> None:
    import time

    from telnyx_messages import APITimeoutError
    from telnyx_messages._response import streamed_chunks

    with pytest.raises(APITimeoutError, match="the attempt took longer than its timeout") as caught:
        list(streamed_chunks(_response([b"a", b"b"]), 4096, time.monotonic() - 1, "key-1"))
    assert caught.value.idempotency_key == "key-1"


def test_rechunking_keeps_what_is_left_and_hands_a_full_chunk_at_once() -> None:
    from telnyx_messages._response import _rechunked

    assert list(_rechunked(iter([b"abc", b"def", b"g"]), 4)) == [b"abcd", b"efg"]
    assert list(_rechunked(iter([b"abc", b"def"]), None)) == [b"abc", b"def"]

    def then_fails() -> Iterator[bytes]:
        yield b"abcd"
        raise RuntimeError("the next read fails")

    assert next(_rechunked(then_fails(), 4)) == b"abcd"  # handed out before the next read


async def test_async_rechunking_keeps_what_is_left_and_hands_a_full_chunk_at_once() -> None:
    from telnyx_messages._response import _arechunked

    assert [c async for c in _arechunked(_chunks_of(b"abcdefg", 3), 4)] == [b"abcd", b"efg"]
    assert [c async for c in _arechunked(_chunks_of(b"abcdefg", 3), None)] == [b"abc", b"def", b"g"]

    async def then_fails() -> AsyncIterator[bytes]:
        yield b"abcd"
        raise RuntimeError("the next read fails")

    assert await anext(_arechunked(then_fails(), 4)) == b"abcd"


def test_a_bad_byte_reads_as_the_replacement_character_and_lines_lose_only_their_breaks() -> None:
    from telnyx_messages._response import _TextDecoder

    decoder = _TextDecoder("utf-8")
    assert decoder.text(b"a\xffb", final=True) == "a\ufffdb"
    decoder = _TextDecoder("utf-8")
    assert decoder.text(b"caf\xc3") == "caf" and decoder.text(b"", final=True) == "\ufffd"  # cut short: replaced
    assert _TextDecoder("utf-8").lines("x\n\ny  \r\nXX\n") == ["x", "", "y  ", "XX"]
    assert _TextDecoder("utf-8").lines("a\nb") == ["a"]  # "b" waits for its break
    streamed = StreamedAPIResponse(_response([b"caf\xc3"]), iter([b"caf\xc3"]), lambda b: b)
    assert streamed.text() == "caf\ufffd"
    streamed = StreamedAPIResponse(_response([b"caf\xc3"]), iter([b"caf\xc3"]), lambda b: b)
    assert list(streamed.iter_text(chunk_size=2)) == ["ca", "f", "\ufffd"]


def test_a_streamed_body_read_once_is_refused_a_second_iteration_by_name() -> None:
    streamed = StreamedAPIResponse(_response([b"ab"]), iter([b"ab"]), lambda b: b)
    assert streamed.retries_taken == 0  # by default
    assert list(streamed.iter_bytes()) == [b"ab"]
    with pytest.raises(BodyConsumedError, match=r"^the body was already iterated over; it can be read once$"):
        streamed.read()
    assert repr(streamed) == "<StreamedAPIResponse [200] GET />"


def test_a_streamed_body_reads_whole_in_its_declared_charset() -> None:
    body = "caf\u00e9".encode("latin-1")
    latin = {"Content-Type": "text/plain; charset=latin-1"}
    assert StreamedAPIResponse(_response([body], latin), iter([b"ca", b"f\xe9"]), lambda b: b).text() == "caf\u00e9"
    assert StreamedAPIResponse(_response([b""]), iter([b"a", b"b"]), lambda b: b).read() == b"ab"


async def test_an_async_streamed_body_reads_whole_and_counts_no_retries_by_default() -> None:
    streamed = AsyncStreamedAPIResponse(_response([b""]), _chunks_of(b"ab", 1), lambda b: b)
    assert streamed.retries_taken == 0
    assert await streamed.read() == b"ab"
